using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Retail.Indexing;
using Retail.Query;
using Retail.Sinks.DuckDb;

namespace Retail;

/// <summary>Registers the DuckDB query engine and the DuckDB upsert index.</summary>
public static class DuckDbRetailBuilderExtensions
{
    /// <summary>
    /// Registers the embedded DuckDB engine (the one <see cref="DuckDbFactory.CreateQueryEngine"/> makes) as <see cref="IQueryEngine"/> (a singleton), configured by
    /// <paramref name="configure"/>; <see cref="DuckDbQueryOptions.LakePath"/> is required. Options are
    /// validated on start. Calling it again adds no second engine (the options of every call apply, in order).
    /// </summary>
    public static IRetailBuilder AddDuckDbQueries(this IRetailBuilder builder, Action<DuckDbQueryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        UseBuilderLake(services);
        AddOptions(services, Options.DefaultName, configure, o => o.Validate());
        services.TryAddSingleton(sp => CreateEngine(sp, Options.DefaultName));
        services.TryAddSingleton<IQueryEngine>(sp => sp.GetRequiredService<DuckDbQueryEngine>());
        return builder;
    }

    /// <summary>
    /// Registers a named embedded DuckDB engine as the keyed service <see cref="IQueryEngine"/>
    /// (key <paramref name="name"/>), with named options validated on start. Its
    /// dependencies are its options of that name (the lake it reads is <see cref="DuckDbQueryOptions.LakePath"/>).
    /// Calling it again with the same name adds no second engine.
    /// </summary>
    public static IRetailBuilder AddDuckDbQueries(this IRetailBuilder builder, string name, Action<DuckDbQueryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        UseBuilderLake(services);
        AddOptions(services, name, configure, o => o.Validate());
        services.TryAddKeyedSingleton(name, (sp, _) => CreateEngine(sp, name));
        services.TryAddKeyedSingleton<IQueryEngine>(name, (sp, key) => sp.GetRequiredKeyedService<DuckDbQueryEngine>(key));
        return builder;
    }

    /// <summary>
    /// Registers the embedded DuckDB index (the one <see cref="DuckDbFactory.CreateUpsertIndex"/> makes) as <see cref="IUpsertIndex"/> (a singleton), configured by
    /// <paramref name="configure"/>; set <see cref="DuckDbIndexOptions.DatabasePath"/> or
    /// <see cref="DuckDbIndexOptions.LakePath"/>. The same instance is also the <see cref="ISpeedLayerView"/> (unless one is
    /// registered already), so the dashboard reads it while it is written. Options are validated on start. Calling it again adds no second
    /// index (the options of every call apply, in order).
    /// </summary>
    public static IRetailBuilder AddDuckDbUpsertIndex(this IRetailBuilder builder, Action<DuckDbIndexOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddOptions(services, Options.DefaultName, configure, o => o.Validate());
        services.TryAddSingleton(sp => CreateIndex(sp, Options.DefaultName));
        services.TryAddSingleton<IUpsertIndex>(sp => sp.GetRequiredService<DuckDbUpsertIndex>());
        services.TryAddSingleton<ISpeedLayerView>(sp => sp.GetRequiredService<DuckDbUpsertIndex>());
        return builder;
    }

    /// <summary>
    /// Registers a named embedded DuckDB index as the keyed service <see cref="IUpsertIndex"/>
    /// (key <paramref name="name"/>), and the same instance as the keyed <see cref="ISpeedLayerView"/> of that name, with
    /// named options validated on start. Calling it again with the same name adds no second index.
    /// </summary>
    public static IRetailBuilder AddDuckDbUpsertIndex(this IRetailBuilder builder, string name, Action<DuckDbIndexOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        AddOptions(services, name, configure, o => o.Validate());
        services.TryAddKeyedSingleton(name, (sp, _) => CreateIndex(sp, name));
        services.TryAddKeyedSingleton<IUpsertIndex>(name, (sp, key) => sp.GetRequiredKeyedService<DuckDbUpsertIndex>(key));
        services.TryAddKeyedSingleton<ISpeedLayerView>(name, (sp, key) => sp.GetRequiredKeyedService<DuckDbUpsertIndex>(key));
        return builder;
    }

    private static DuckDbQueryEngine CreateEngine(IServiceProvider sp, string name) =>
        new(sp.GetRequiredService<IOptionsMonitor<DuckDbQueryOptions>>().Get(name), sp.GetService<ILogger<DuckDbQueryEngine>>());

    private static DuckDbUpsertIndex CreateIndex(IServiceProvider sp, string name) =>
        new(sp.GetRequiredService<IOptionsMonitor<DuckDbIndexOptions>>().Get(name), sp.GetService<ILogger<DuckDbUpsertIndex>>());

    /// <summary>
    /// The query options, of every name, start from the builder's one lake (<see cref="RetailLakeBuilderExtensions.ConfigureLake"/>);
    /// the caller's changes follow. Registered once, so a second call never resets what the first configured.
    /// </summary>
    private static void UseBuilderLake(IServiceCollection services) =>
        services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<DuckDbQueryOptions>, QueryLakeDefaults>());

    private sealed class QueryLakeDefaults(IOptions<Retail.Storage.RetailLakeDefinition> lake) : IConfigureNamedOptions<DuckDbQueryOptions>
    {
        public void Configure(DuckDbQueryOptions options) => options.Lake = lake.Value.Clone();

        public void Configure(string? name, DuckDbQueryOptions options) => Configure(options);
    }

    /// <summary>Named options, configured, validated on start by the options class's own <c>Validate()</c>.</summary>
    private static void AddOptions<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services, string name, Action<TOptions>? configure, Func<TOptions, IReadOnlyList<string>> validate) where TOptions : class
    {
        var options = services.AddOptions<TOptions>(name);
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new OptionsListValidator<TOptions>(validate)));
    }
}
