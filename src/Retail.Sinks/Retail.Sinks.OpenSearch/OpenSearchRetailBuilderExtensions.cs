using Amazon;
using Amazon.Runtime.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Retail.Indexing;
using Retail.Sinks.OpenSearch;

namespace Retail;

/// <summary>Adds an OpenSearch domain as the speed layer's <see cref="IUpsertIndex"/> to a Retail pipeline.</summary>
public static class OpenSearchRetailBuilderExtensions
{
    /// <summary>The HttpClient name of the OpenSearch index registered under an options name (<c>Retail.OpenSearch.{name}</c>), for adding handlers to it.</summary>
    public static string OpenSearchHttpClientName(string? name = null) => "Retail.OpenSearch." + (name ?? Options.DefaultName);

    /// <summary>
    /// The OpenSearch index as the <see cref="IUpsertIndex"/> and, the same instance, the <see cref="ISpeedLayerView"/> the
    /// dashboard reads (each unless one is registered already), over an HttpClient
    /// from <c>IHttpClientFactory</c> (<see cref="OpenSearchHttpClientName"/>; SigV4 with the SDK's default credential
    /// chain when <see cref="OpenSearchOptions.Auth"/> is SigV4, no redirects, no retries). Options are validated at
    /// start-up, naming each bad setting.
    /// </summary>
    public static IRetailBuilder AddOpenSearchUpsert(this IRetailBuilder builder, Action<OpenSearchOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        Add(builder.Services, Options.DefaultName, configure);
        builder.Services.TryAddSingleton(sp => Create(sp, Options.DefaultName));
        builder.Services.TryAddSingleton<IUpsertIndex>(sp => sp.GetRequiredService<OpenSearchUpsertIndex>());
        builder.Services.TryAddSingleton<ISpeedLayerView>(sp => sp.GetRequiredService<OpenSearchUpsertIndex>());
        return builder;
    }

    /// <summary>A named OpenSearch index: the keyed <see cref="IUpsertIndex"/> and <see cref="ISpeedLayerView"/> (one instance) with key <paramref name="name"/>, with its own options and HttpClient.</summary>
    public static IRetailBuilder AddOpenSearchUpsert(this IRetailBuilder builder, string name, Action<OpenSearchOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        Add(builder.Services, name, configure);
        builder.Services.TryAddKeyedSingleton(name, (sp, _) => Create(sp, name));
        builder.Services.TryAddKeyedSingleton<IUpsertIndex>(name, (sp, key) => sp.GetRequiredKeyedService<OpenSearchUpsertIndex>(key));
        builder.Services.TryAddKeyedSingleton<ISpeedLayerView>(name, (sp, key) => sp.GetRequiredKeyedService<OpenSearchUpsertIndex>(key));
        return builder;
    }

    private static void Add(IServiceCollection services, string name, Action<OpenSearchOptions> configure)
    {
        services.AddOptions<OpenSearchOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OpenSearchOptions>>(new OptionsListValidator<OpenSearchOptions>(o => o.Validate())));
        services.AddHttpClient(OpenSearchHttpClientName(name), (sp, http) => http.Timeout = Get(sp, name).RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(OpenSearchClientFactory.Transport)
            .AddHttpMessageHandler(sp =>
            {
                var o = Get(sp, name);
                return o.Auth == OpenSearchAuth.SigV4
                    ? AwsHttp.CreateFactorySigner(o.SigningService, o.Region)
                    : new PassThrough();
            });
    }

    private static OpenSearchOptions Get(IServiceProvider sp, string name) => sp.GetRequiredService<IOptionsMonitor<OpenSearchOptions>>().Get(name);

    private static OpenSearchUpsertIndex Create(IServiceProvider sp, string name)
    {
        var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(OpenSearchHttpClientName(name));
        return OpenSearchClientFactory.CreateIndex(http, Get(sp, name), sp.GetService<TimeProvider>(), sp.GetService<ILoggerFactory>());
    }

    /// <summary>The handler in the signer's place when requests are not signed (basic authentication is added per request by the index).</summary>
    private sealed class PassThrough : DelegatingHandler;
}
