using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// Creates the OpenSearch index of the speed layer without dependency injection. SigV4 requests are signed with
/// AWSSDK.Core's <c>SigV4SigningHandler</c> (credentials from the SDK's default chain unless given some); basic
/// authentication sends <see cref="OpenSearchOptions.Username"/> and <see cref="OpenSearchOptions.Password"/>. The
/// client does not retry and follows no redirects: Retail's speed-layer processor owns the retries.
/// </summary>
public static class OpenSearchClientFactory
{
    /// <summary>The index at <see cref="OpenSearchOptions.Endpoint"/> (dispose it to release its HTTP connections).</summary>
    /// <param name="options">Where the domain is and how to write to it.</param>
    /// <param name="credentials">SigV4 credentials; null (the normal case) for the SDK's default chain (environment, profile, container or instance role, Lambda's role).</param>
    /// <param name="transport">The HTTP handler below the signer (a proxy, a test's fault injector), which the caller keeps owning; null for a plain one that follows no redirects.</param>
    /// <param name="timeProvider">The clock (default: the system clock).</param>
    /// <param name="loggerFactory">Logs (requests at Trace; never credentials).</param>
    /// <exception cref="ArgumentException">An option is not valid; the message names each bad setting.</exception>
    public static OpenSearchUpsertIndex CreateIndex(OpenSearchOptions options, AWSCredentials? credentials = null, HttpMessageHandler? transport = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        HttpClient http = options.Auth == OpenSearchAuth.SigV4
            ? AwsHttp.CreateClient(options.SigningService, options.Region, credentials, transport, options.RequestTimeout)
            : transport is null
                ? new HttpClient(Transport(), disposeHandler: true) { Timeout = options.RequestTimeout }
                : new HttpClient(transport, disposeHandler: false) { Timeout = options.RequestTimeout };
        return new OpenSearchUpsertIndex(http, ownsClient: true, options, timeProvider ?? TimeProvider.System, Logger(loggerFactory));
    }

    /// <summary>
    /// The index over an <see cref="HttpClient"/> the caller made and keeps owning (from <c>IHttpClientFactory</c>): for
    /// <see cref="OpenSearchAuth.SigV4"/> its handler chain must sign for <see cref="OpenSearchOptions.SigningService"/>;
    /// it must not retry. Basic authentication is added per request from the options.
    /// </summary>
    public static OpenSearchUpsertIndex CreateIndex(HttpClient client, OpenSearchOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        return new OpenSearchUpsertIndex(client, ownsClient: false, options, timeProvider ?? TimeProvider.System, Logger(loggerFactory));
    }

    internal static SocketsHttpHandler Transport() => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    };

    private static ILogger Logger(ILoggerFactory? factory) => factory?.CreateLogger(typeof(OpenSearchUpsertIndex).FullName!) ?? NullLogger.Instance;
}
