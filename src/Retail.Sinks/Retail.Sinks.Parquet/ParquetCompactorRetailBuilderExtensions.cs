using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Retail.Compaction;
using Retail.Sinks.Parquet;
using Retail.Storage;

namespace Retail;

/// <summary>Adds the Parquet compactor to a Retail pipeline.</summary>
public static class ParquetCompactorRetailBuilderExtensions
{
    /// <summary>
    /// Registers Parquet compactor as the <see cref="IHourlyCompactor"/>, over the
    /// <see cref="IObjectStore"/> registered in the container. Options are validated at start-up; the messages
    /// name each bad setting and its value. Calling it again adds no second compactor (the options of every call
    /// apply, in order).
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="configure">Changes to the default <see cref="ParquetCompactorOptions"/>.</param>
    public static IRetailBuilder AddParquetCompactor(this IRetailBuilder builder, Action<ParquetCompactorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder.Services, Options.DefaultName, configure);
        builder.Services.TryAddSingleton<IHourlyCompactor>(sp => Create(sp, sp.GetRequiredService<IObjectStore>(), Options.DefaultName));
        return builder;
    }

    /// <summary>
    /// Registers a named Parquet compactor as a keyed <see cref="IHourlyCompactor"/> (key
    /// <paramref name="name"/>) with its own named options, so that two compactors can serve two tables or two lakes.
    /// It compacts the keyed <see cref="IObjectStore"/> of the same name (e.g. <c>AddLocalLake(name, …)</c> or
    /// <c>AddS3Lake(name, …)</c>), never the unnamed one; without that registration the start-up validation fails,
    /// naming it (and so does resolving the compactor). Calling it again with the same name adds no second compactor.
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="name">The options name and service key, and the key of the object store it compacts.</param>
    /// <param name="configure">Changes to the default <see cref="ParquetCompactorOptions"/>.</param>
    public static IRetailBuilder AddParquetCompactor(this IRetailBuilder builder, string name, Action<ParquetCompactorOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        AddOptions(builder.Services, name, configure);
        builder.Services.TryAddKeyedSingleton<IHourlyCompactor>(name, (sp, _) => Create(sp,
            HasStore(sp, name) ? sp.GetRequiredKeyedService<IObjectStore>(name) : throw new InvalidOperationException(MissingStore(name)), name));
        return builder;
    }

    private static bool HasStore(IServiceProvider sp, string name) =>
        sp.GetService<IServiceProviderIsService>() is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(typeof(IObjectStore), name);

    /// <summary>On start: every compactor registered here has its object store (the keyed one of its name, or the unnamed one).</summary>
    private sealed class StoreValidator(IServiceProvider services) : IValidateOptions<ParquetCompactorOptions>
    {
        public ValidateOptionsResult Validate(string? name, ParquetCompactorOptions options)
        {
            if (services.GetService<IServiceProviderIsService>() is not IServiceProviderIsKeyedService registered) return ValidateOptionsResult.Skip;
            if (string.IsNullOrEmpty(name))
            {
                return !registered.IsService(typeof(IHourlyCompactor)) || registered.IsService(typeof(IObjectStore))
                    ? ValidateOptionsResult.Success
                    : ValidateOptionsResult.Fail("The Parquet compactor compacts the registered IObjectStore, and none is registered: add AddLocalLake(…) or AddS3Lake(…) (or an IObjectStore service).");
            }
            return !registered.IsKeyedService(typeof(IHourlyCompactor), name) || registered.IsKeyedService(typeof(IObjectStore), name)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(MissingStore(name));
        }
    }

    private static string MissingStore(string name) =>
        $"The Parquet compactor '{name}' compacts the object store of its name, and no IObjectStore is registered with the key '{name}': " +
        $"add AddLocalLake(\"{name}\", …) or AddS3Lake(\"{name}\", …) (or a keyed IObjectStore '{name}'), or use the unnamed AddParquetCompactor(…) for the unnamed store.";

    private static void AddOptions(IServiceCollection services, string name, Action<ParquetCompactorOptions>? configure)
    {
        // The builder's one lake first, then the caller's changes (registered once, for every name, so that a second
        // call never resets what the first configured).
        services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<ParquetCompactorOptions>, LakeDefaults>());
        var options = services.AddOptions<ParquetCompactorOptions>(name);
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParquetCompactorOptions>>(new OptionsListValidator<ParquetCompactorOptions>(o => o.Validate())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParquetCompactorOptions>, StoreValidator>());
    }

    private static ParquetHourlyCompactor Create(IServiceProvider sp, IObjectStore store, string name) => new(
        store,
        sp.GetRequiredService<IOptionsMonitor<ParquetCompactorOptions>>().Get(name),
        sp.GetService<TimeProvider>(),
        sp.GetService<ILoggerFactory>()?.CreateLogger<ParquetHourlyCompactor>(),
        sp.GetService<IMeterFactory>());

    /// <summary>Every compactor's options start from the builder's lake (<see cref="RetailLakeBuilderExtensions.ConfigureLake"/>).</summary>
    private sealed class LakeDefaults(IOptions<RetailLakeDefinition> lake) : IConfigureNamedOptions<ParquetCompactorOptions>
    {
        public void Configure(ParquetCompactorOptions options) => options.UseLake(lake.Value);

        public void Configure(string? name, ParquetCompactorOptions options) => Configure(options);
    }
}
