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
    /// Registers <see cref="DuckDbQueryEngine"/> as <see cref="IQueryEngine"/> (a singleton), configured by
    /// <paramref name="configure"/>; <see cref="DuckDbQueryOptions.LakePath"/> is required. Options are
    /// validated on start.
    /// </summary>
    public static IRetailBuilder AddDuckDbQueries(this IRetailBuilder builder, Action<DuckDbQueryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddOptions(services, Options.DefaultName, configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DuckDbQueryOptions>, DuckDbQueryOptionsValidator>());
        services.TryAddSingleton(sp => new DuckDbQueryEngine(
            sp.GetRequiredService<IOptions<DuckDbQueryOptions>>().Value, sp.GetService<ILogger<DuckDbQueryEngine>>()));
        services.AddSingleton<IQueryEngine>(sp => sp.GetRequiredService<DuckDbQueryEngine>());
        return builder;
    }

    /// <summary>
    /// Registers a named <see cref="DuckDbQueryEngine"/> as the keyed services <see cref="DuckDbQueryEngine"/>
    /// and <see cref="IQueryEngine"/> (key <paramref name="name"/>), with named options validated on start.
    /// </summary>
    public static IRetailBuilder AddDuckDbQueries(this IRetailBuilder builder, string name, Action<DuckDbQueryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        AddOptions(services, name, configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DuckDbQueryOptions>, DuckDbQueryOptionsValidator>());
        services.TryAddKeyedSingleton(name, (sp, _) => new DuckDbQueryEngine(
            sp.GetRequiredService<IOptionsMonitor<DuckDbQueryOptions>>().Get(name), sp.GetService<ILogger<DuckDbQueryEngine>>()));
        services.AddKeyedSingleton<IQueryEngine>(name, (sp, key) => sp.GetRequiredKeyedService<DuckDbQueryEngine>(key));
        return builder;
    }

    /// <summary>
    /// Registers <see cref="DuckDbUpsertIndex"/> as <see cref="IUpsertIndex"/> (a singleton), configured by
    /// <paramref name="configure"/>; set <see cref="DuckDbIndexOptions.DatabasePath"/> or
    /// <see cref="DuckDbIndexOptions.LakePath"/>. Options are validated on start.
    /// </summary>
    public static IRetailBuilder AddDuckDbUpsertIndex(this IRetailBuilder builder, Action<DuckDbIndexOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddOptions(services, Options.DefaultName, configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DuckDbIndexOptions>, DuckDbIndexOptionsValidator>());
        services.TryAddSingleton(sp => new DuckDbUpsertIndex(
            sp.GetRequiredService<IOptions<DuckDbIndexOptions>>().Value, sp.GetService<ILogger<DuckDbUpsertIndex>>()));
        services.AddSingleton<IUpsertIndex>(sp => sp.GetRequiredService<DuckDbUpsertIndex>());
        return builder;
    }

    /// <summary>
    /// Registers a named <see cref="DuckDbUpsertIndex"/> as the keyed services <see cref="DuckDbUpsertIndex"/>
    /// and <see cref="IUpsertIndex"/> (key <paramref name="name"/>), with named options validated on start.
    /// </summary>
    public static IRetailBuilder AddDuckDbUpsertIndex(this IRetailBuilder builder, string name, Action<DuckDbIndexOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        AddOptions(services, name, configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DuckDbIndexOptions>, DuckDbIndexOptionsValidator>());
        services.TryAddKeyedSingleton(name, (sp, _) => new DuckDbUpsertIndex(
            sp.GetRequiredService<IOptionsMonitor<DuckDbIndexOptions>>().Get(name), sp.GetService<ILogger<DuckDbUpsertIndex>>()));
        services.AddKeyedSingleton<IUpsertIndex>(name, (sp, key) => sp.GetRequiredKeyedService<DuckDbUpsertIndex>(key));
        return builder;
    }

    private static void AddOptions<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IServiceCollection services, string name, Action<TOptions>? configure) where TOptions : class
    {
        var options = services.AddOptions<TOptions>(name);
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
    }
}
