using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>The runtime loop in process (JIT), against the Runtime API fake; DeliverToS3 writes to a local folder lake.</summary>
public sealed class LambdaHostTests
{
    private const string Stream = "retail-trans";
    private const string Shard = "shardId-000000000000";

    private sealed class Run : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        public required LambdaRuntimeApiFake Fake { get; init; }
        public required LambdaRuntimeClient Client { get; init; }
        public required Task<int> Loop { get; init; }
        public required StringWriter Log { get; init; }
        public CancellationTokenSource Stop => _stop;

        public async ValueTask DisposeAsync()
        {
            Fake.StopServing();
            await Loop.WaitAsync(TimeSpan.FromSeconds(30));
            Client.Dispose();
            await Fake.DisposeAsync();
            _stop.Dispose();
        }
    }

    private static async Task<Run> StartAsync(Func<LambdaLogging, IInvocationHandler> handler, TimeSpan? margin = null)
    {
        var fake = await LambdaRuntimeApiFake.StartAsync();
        var client = new LambdaRuntimeClient(fake.RuntimeApi);
        var log = new StringWriter();
        var logs = new LambdaLogging(LogLevel.Information, TextWriter.Synchronized(log));
        var stop = new CancellationTokenSource();
        var host = new LambdaHost(client, handler(logs), left => margin ?? TimeSpan.FromSeconds(1), TimeProvider.System, logs.CreateLogger("test"));
        return new Run { Fake = fake, Client = client, Loop = Task.Run(() => host.RunAsync(stop.Token)), Log = log };
    }

    private static LambdaSettings DeliverSettings() => LambdaSettings.FromEnvironment(k => k switch
    {
        "_HANDLER" => "DeliverToS3",
        "RETAIL_LAKE" => "s3://retail-lake",
        _ => null,
    });

    private static Func<LambdaLogging, IInvocationHandler> Deliver(IObjectStore store) =>
        logs => LambdaHandlers.Create(DeliverSettings(), _ => null, logs, TimeProvider.System, store);

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_DeliverToS3_DeliversEveryRecordExactlyOnceAlsoWhenTheEventIsDeliveredAgain()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var sales = TestEvents.Sales(500);
        string first = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Take(300).ToList(), first: 1));
        // A retry of the first event, then an event overlapping it (Lambda retrying from a reported failure), then the rest.
        string overlap = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Skip(200).Take(200).ToList(), first: 201));
        string rest = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Skip(400).ToList(), first: 401));
        await using var run = await StartAsync(Deliver(store));
        foreach (string json in new[] { first, first, overlap, rest })
        {
            var result = await run.Fake.WaitForResultAsync(run.Fake.Enqueue(json));
            Assert.False(result.IsError, result.Text);
            Assert.Empty(TestEvents.BatchItemFailures(result.Text));
        }

        var lines = await Lake.LinesAsync(store, "json-data/");
        Assert.Equal(sales.Count, lines.Count);
        Assert.Equal(sales.Select(s => Encoding.UTF8.GetString(s).TrimEnd('\n')).Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        Assert.Empty(await Lake.KeysAsync(store, "error-json/"));
        // One shard's checkpoint, in one or both of its two slots.
        Assert.Single((await Lake.KeysAsync(store, "_retail/checkpoints/retail-trans/delivery-lambda/")).Select(k => k.Replace(".alt.json", ".json", StringComparison.Ordinal)).Distinct());
    }

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_DeliverToS3_RecordNotBase64GoesToTheErrorOutputAndIsNotAFailure()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var sales = TestEvents.Sales(3);
        var records = TestEvents.Records(sales).ToList();
        records[1] = records[1] with { RawData = "%%% not base64 %%%" };
        await using var run = await StartAsync(Deliver(store));
        var result = await run.Fake.WaitForResultAsync(run.Fake.Enqueue(TestEvents.Kinesis(Stream, Shard, records)));
        Assert.Empty(TestEvents.BatchItemFailures(result.Text));

        Assert.Equal(2, (await Lake.LinesAsync(store, "json-data/")).Count);
        var errors = await Lake.LinesAsync(store, "error-json/");
        var error = JsonDocument.Parse(Assert.Single(errors)).RootElement;
        Assert.Contains("not valid base64", error.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        string raw = Encoding.UTF8.GetString(Convert.FromBase64String(error.GetProperty("rawData").GetString()!));
        Assert.EndsWith("%%% not base64 %%%", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_DeadlineAlreadyReached_ReportsEveryRecordAsFailed()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var records = TestEvents.Records(TestEvents.Sales(5));
        await using var run = await StartAsync(Deliver(store));
        // One second to the deadline and a one-second margin: the batch must stop at once and say so.
        var result = await run.Fake.WaitForResultAsync(run.Fake.Enqueue(TestEvents.Kinesis(Stream, Shard, records), TimeSpan.FromSeconds(1)));
        Assert.False(result.IsError);
        Assert.Equal(records.Select(r => r.SequenceNumber), TestEvents.BatchItemFailures(result.Text));
        Assert.Empty(await Lake.KeysAsync(store, "json-data/"));
    }

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_EventThatIsNotKinesis_IsAnInvocationErrorAndTheLoopGoesOn()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await using var run = await StartAsync(Deliver(store));
        string bad = run.Fake.Enqueue("""{"detail-type":"Scheduled Event"}""");
        string notJson = run.Fake.Enqueue("not json");
        string good = run.Fake.Enqueue(TestEvents.Kinesis(Stream, Shard, TestEvents.Records(TestEvents.Sales(2))));

        var error = await run.Fake.WaitForResultAsync(bad);
        Assert.True(error.IsError);
        Assert.Equal("Retail.InvalidEvent", error.ErrorType);
        Assert.Equal(LambdaRuntimeApiFake.ErrorContentType, error.ContentType);
        using (var doc = JsonDocument.Parse(error.Body))
        {
            Assert.Equal("Retail.InvalidEvent", doc.RootElement.GetProperty("errorType").GetString());
            Assert.Contains("no \"Records\" array", doc.RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        }
        Assert.True((await run.Fake.WaitForResultAsync(notJson)).IsError);
        var ok = await run.Fake.WaitForResultAsync(good);
        Assert.False(ok.IsError);
        Assert.Empty(TestEvents.BatchItemFailures(ok.Text));
        Assert.Equal(2, (await Lake.LinesAsync(store, "json-data/")).Count);
    }

    private sealed class ThrowingHandler : IInvocationHandler
    {
        public List<string?> TraceIds { get; } = [];

        public Task<byte[]> HandleAsync(LambdaInvocation invocation, CancellationToken cancellationToken)
        {
            TraceIds.Add(Environment.GetEnvironmentVariable(LambdaHost.TraceEnvironmentVariable));
            if (invocation.Payload.Length == 0 || invocation.Payload[0] != (byte)'{') throw new InvalidOperationException("boom");
            return Task.FromResult("{}"u8.ToArray());
        }
    }

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_HandlerThrows_PostsTheErrorAndSetsTheTraceIdPerInvocation()
    {
        var handler = new ThrowingHandler();
        await using var run = await StartAsync(_ => handler);
        string a = run.Fake.Enqueue("x", traceId: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
        string b = run.Fake.Enqueue("{}", traceId: "Root=1-5bef4de7-00000000000000000000000b;Parent=9a9197af755a6419;Sampled=0");
        var error = await run.Fake.WaitForResultAsync(a);
        Assert.True(error.IsError);
        Assert.Equal("Retail.InvalidOperationException", error.ErrorType);
        using (var doc = JsonDocument.Parse(error.Body))
        {
            Assert.Equal("boom", doc.RootElement.GetProperty("errorMessage").GetString());
            Assert.NotEmpty(doc.RootElement.GetProperty("stackTrace").EnumerateArray());
        }
        Assert.Equal("{}", (await run.Fake.WaitForResultAsync(b)).Text);
        Assert.Equal(["Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", "Root=1-5bef4de7-00000000000000000000000b;Parent=9a9197af755a6419;Sampled=0"], handler.TraceIds);
        Assert.Contains(run.Log.ToString().Split('\n'), l => l.Contains($"\t{a}\tERROR\t", StringComparison.Ordinal) && l.Contains("InvalidOperationException: boom", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_OnRuntimeApiFake_ContainerError_EndsTheLoopWithExitCodeOne()
    {
        await using var run = await StartAsync(_ => new ThrowingHandler());
        run.Fake.StopServing();
        Assert.Equal(1, await run.Loop.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
