using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>Every Kinesis and Firehose request is signed (SigV4 through AWSSDK.Core), and no log carries a secret.</summary>
[Collection(KinesaliteCollection.Name)]
public sealed class KinesisSigningTests(KinesaliteFixture fixture)
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string Token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789abcdef";
    private static readonly SessionAWSCredentials Session = new("AKIDSESSIONEXAMPLE", Secret, Token);

    /// <summary>Records the headers of every request that reaches the transport (below the signer).</summary>
    private sealed class Recorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<(string Target, Dictionary<string, string> Headers)> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
            lock (Requests) Requests.Add((headers.GetValueOrDefault("X-Amz-Target", ""), headers));
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class CapturingLogger(List<string> lines) : ILogger, ILoggerProvider
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines) lines.Add($"{logLevel} {formatter(state, exception)} {exception}");
        }
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
    }

    [Fact]
    public async Task EveryOperation_SessionCredentials_SignedWithDateAndTokenAndNoSecretInTraceLogs()
    {
        var logs = new List<string>();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturingLogger(logs)));
        var recorder = new Recorder(new SocketsHttpHandler());
        string name = KinesisEmulatorFixture.FreshStreamName();
        var options = KinesisTestStreams.Options(fixture, name);
        using (var manager = KinesisClientFactory.CreateManager(options, Session, recorder, loggerFactory: loggers))
            await manager.CreateStreamAsync(name, 1);
        var stream = KinesisClientFactory.CreateStream(options, Session, recorder, loggerFactory: loggers);
        await KinesisPipeline.ProduceAsync(stream, KinesisPipeline.Lines(20, seed: 1));
        var shards = await stream.ListShardsAsync();
        await using (var reader = await stream.OpenShardReaderAsync(shards[0].ShardId, StartPosition.TrimHorizon))
            Assert.Equal(20, (await reader.ReadAsync(100, TimeSpan.FromSeconds(2))).Records.Count);

        var targets = recorder.Requests.Select(r => r.Target).Distinct().ToList();
        foreach (var op in new[] { "CreateStream", "DescribeStreamSummary", "PutRecords", "ListShards", "GetShardIterator", "GetRecords" })
            Assert.Contains("Kinesis_20131202." + op, targets);
        Assert.All(recorder.Requests, r =>
        {
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDSESSIONEXAMPLE/", r.Headers["Authorization"], StringComparison.Ordinal);
            Assert.Contains("/us-east-1/kinesis/aws4_request", r.Headers["Authorization"], StringComparison.Ordinal);
            Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", r.Headers["X-Amz-Date"]);
            Assert.Equal(Token, r.Headers["X-Amz-Security-Token"]);
            Assert.Equal("application/x-amz-json-1.1", r.Headers["Content-Type"]);
        });
        Assert.Contains(logs, l => l.StartsWith("Trace", StringComparison.Ordinal) && l.Contains("PutRecords", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains(Secret, StringComparison.Ordinal) || l.Contains(Token, StringComparison.Ordinal));
        ((IDisposable)stream).Dispose();
    }

    [Fact]
    public async Task Firehose_PutRecordBatch_SignedForFirehoseWithToken()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync("retail-delivery");
        var target = KinesisClientFactory.CreateFirehose(new FirehoseOptions { DeliveryStreamName = "retail-delivery", ServiceUrl = fake.ServiceUrl, Region = "eu-west-1" }, Session);
        await KinesisPipeline.ProduceAsync(target, KinesisPipeline.Lines(10, seed: 2));
        var headers = Assert.Single(fake.RequestHeaders);
        Assert.Contains("/eu-west-1/firehose/aws4_request", headers["Authorization"], StringComparison.Ordinal);
        Assert.Equal(Token, headers["X-Amz-Security-Token"]);
        Assert.Equal(10, fake.Records("retail-delivery").Count);
    }
}
