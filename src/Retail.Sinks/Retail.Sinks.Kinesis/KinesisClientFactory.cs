using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>
/// Creates the Kinesis and Firehose clients without dependency injection. Every client signs its requests with SigV4
/// (AWSSDK.Core's <c>SigV4SigningHandler</c>), takes its credentials from the SDK's default chain unless given some,
/// and does not retry: Retail's producer and consumer own the retries.
/// </summary>
public static class KinesisClientFactory
{
    /// <summary>
    /// The stream <see cref="KinesisOptions.StreamName"/> as Retail's <see cref="IRecordStream"/> (dispose it, it is
    /// <see cref="IDisposable"/>, to release its HTTP connections).
    /// </summary>
    /// <param name="options">Where the stream is.</param>
    /// <param name="credentials">Credentials; null (the normal case) for the SDK's default chain (environment, profile, container or instance role).</param>
    /// <param name="transport">The HTTP handler below the signer (a proxy, a test's fault injector), which the caller keeps owning (it is not disposed with the client); null for a plain one that follows no redirects.</param>
    /// <param name="timeProvider">The clock of the readers' pacing (default: the system clock).</param>
    /// <param name="loggerFactory">Logs (requests at Trace, without credentials).</param>
    /// <exception cref="ArgumentException">An option is not valid; the message names each bad setting.</exception>
    public static IRecordStream CreateStream(KinesisOptions options, AWSCredentials? credentials = null, HttpMessageHandler? transport = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ThrowIfInvalid(options?.Validate() ?? throw new ArgumentNullException(nameof(options)), nameof(options));
        var http = AwsHttp.CreateClient("kinesis", options.Region, credentials, transport, options.RequestTimeout);
        return new KinesisRecordStream(http, ownsClient: true, options, timeProvider ?? TimeProvider.System, Logger(loggerFactory, typeof(KinesisRecordStream)));
    }

    /// <summary>
    /// The stream over an <see cref="HttpClient"/> the caller made and keeps owning (from <c>IHttpClientFactory</c>):
    /// its handler chain must sign for the service <c>kinesis</c> (a <c>SigV4SigningHandler</c>) and must not retry.
    /// </summary>
    public static IRecordStream CreateStream(HttpClient signedClient, KinesisOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(signedClient);
        ThrowIfInvalid(options?.Validate() ?? throw new ArgumentNullException(nameof(options)), nameof(options));
        return new KinesisRecordStream(signedClient, ownsClient: false, options, timeProvider ?? TimeProvider.System, Logger(loggerFactory, typeof(KinesisRecordStream)));
    }

    /// <summary>A manager for creating, describing and resharding streams at <paramref name="options"/>' endpoint (its stream name is not used).</summary>
    public static KinesisStreamManager CreateManager(KinesisOptions options, AWSCredentials? credentials = null, HttpMessageHandler? transport = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ThrowIfInvalid(options?.Validate(requireStreamName: false) ?? throw new ArgumentNullException(nameof(options)), nameof(options));
        var http = AwsHttp.CreateClient("kinesis", options.Region, credentials, transport, options.RequestTimeout);
        return new KinesisStreamManager(http, options, timeProvider ?? TimeProvider.System, Logger(loggerFactory, typeof(KinesisStreamManager)));
    }

    /// <summary>
    /// The Firehose delivery stream <see cref="FirehoseOptions.DeliveryStreamName"/> as a put target for
    /// <see cref="StreamProducer"/> (dispose it, it is <see cref="IDisposable"/>).
    /// </summary>
    public static IRecordPutTarget CreateFirehose(FirehoseOptions options, AWSCredentials? credentials = null, HttpMessageHandler? transport = null, ILoggerFactory? loggerFactory = null)
    {
        ThrowIfInvalid(options?.Validate() ?? throw new ArgumentNullException(nameof(options)), nameof(options));
        var http = AwsHttp.CreateClient("firehose", options.Region, credentials, transport, options.RequestTimeout);
        return new FirehoseDeliveryStream(http, ownsClient: true, options, Logger(loggerFactory, typeof(FirehoseDeliveryStream)));
    }

    private static ILogger Logger(ILoggerFactory? factory, Type type) => factory?.CreateLogger(type.FullName!) ?? NullLogger.Instance;

    private static void ThrowIfInvalid(IReadOnlyList<string> errors, string name)
    {
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), name);
    }
}
