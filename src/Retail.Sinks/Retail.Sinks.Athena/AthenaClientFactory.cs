using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Query;

namespace Retail.Sinks.Athena;

/// <summary>Creates Retail's Athena clients without dependency injection.</summary>
public static class AthenaClientFactory
{
    /// <summary>
    /// Athena as Retail's <see cref="IQueryEngine"/>: each call starts one query (with a client request token), waits for
    /// it, and reads every page of its results as typed values. A query that fails throws <see cref="AthenaQueryException"/>.
    /// </summary>
    /// <param name="options">Where Athena is.</param>
    /// <param name="credentials">Credentials; null for the SDK's default chain.</param>
    /// <param name="transport">The HTTP handler below the signer (kept by the caller), or null.</param>
    /// <param name="timeProvider">The clock of the polls (default: the system clock).</param>
    /// <param name="loggerFactory">Logs, or null.</param>
    /// <exception cref="ArgumentException">An option is not valid; the message names each bad setting and its value.</exception>
    public static IQueryEngine CreateQueryEngine(AthenaOptions options, AWSCredentials? credentials = null, HttpMessageHandler? transport = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        var http = AwsHttp.CreateClient("athena", options.Region, credentials, transport, options.RequestTimeout);
        var logger = loggerFactory?.CreateLogger("Retail.Sinks.Athena.AthenaQueryEngine") ?? NullLogger.Instance;
        var client = new AwsJsonClient(http, AwsHttp.Endpoint("athena", options.Region, options.ServiceUrl), "Athena", "AmazonAthena", logger, (op, code, message, status, id) => new AthenaServiceException(op, code, message, status, id));
        var copy = options.Clone();
        return new AthenaQueryEngine(http, client, copy, timeProvider ?? TimeProvider.System, logger);
    }
}
