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
    /// Registers <see cref="ParquetHourlyCompactor"/> as the <see cref="IHourlyCompactor"/>, over the
    /// <see cref="IObjectStore"/> registered in the container. Options are validated at start-up; the messages
    /// name each bad setting and its value.
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="configure">Changes to the default <see cref="ParquetCompactorOptions"/>.</param>
    public static IRetailBuilder AddParquetCompactor(this IRetailBuilder builder, Action<ParquetCompactorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder.Services, Options.DefaultName, configure);
        builder.Services.AddSingleton<IHourlyCompactor>(sp => Create(sp, Options.DefaultName));
        return builder;
    }

    /// <summary>
    /// Registers a named <see cref="ParquetHourlyCompactor"/> as a keyed <see cref="IHourlyCompactor"/> (key
    /// <paramref name="name"/>) with its own named options, so that two compactors can serve two tables.
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="name">The options name and service key.</param>
    /// <param name="configure">Changes to the default <see cref="ParquetCompactorOptions"/>.</param>
    public static IRetailBuilder AddParquetCompactor(this IRetailBuilder builder, string name, Action<ParquetCompactorOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        AddOptions(builder.Services, name, configure);
        builder.Services.AddKeyedSingleton<IHourlyCompactor>(name, (sp, _) => Create(sp, name));
        return builder;
    }

    private static void AddOptions(IServiceCollection services, string name, Action<ParquetCompactorOptions>? configure)
    {
        var options = services.AddOptions<ParquetCompactorOptions>(name);
        options.Configure<IOptions<RetailLakeDefinition>>((o, lake) => o.UseLake(lake.Value)); // the builder's one lake, then the caller's changes
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParquetCompactorOptions>>(new OptionsListValidator<ParquetCompactorOptions>(o => o.Validate())));
    }

    private static ParquetHourlyCompactor Create(IServiceProvider sp, string name) => new(
        sp.GetRequiredService<IObjectStore>(),
        sp.GetRequiredService<IOptionsMonitor<ParquetCompactorOptions>>().Get(name),
        sp.GetService<TimeProvider>(),
        sp.GetService<ILoggerFactory>()?.CreateLogger<ParquetHourlyCompactor>(),
        sp.GetService<IMeterFactory>());
}
