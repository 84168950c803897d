using System.Text;
using System.Text.Json;
using Retail.Sinks.OpenSearch.Tests;
using Retail.Sinks.S3.Tests;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// The published native-AOT bootstrap itself, as Lambda runs it: Runtime API fake → bootstrap process → s3rver (a
/// real S3-compatible store, so the AOT binary's AWSSDK.S3 calls are proven) and the OpenSearch fake.
/// </summary>
[Collection(BootstrapCollection.Name)]
public sealed class BootstrapEndToEndTests(BootstrapFixture bootstrap, S3rverFixture s3)
{
    private const string Stream = "retail-trans";
    private const string Shard = "shardId-000000000001";

    private Dictionary<string, string> Environment(LambdaRuntimeApiFake runtime, string handler, string lakePrefix, params (string, string)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = runtime.RuntimeApi,
            ["_HANDLER"] = handler,
            ["RETAIL_LAKE"] = $"s3://{S3rverFixture.Bucket}/{lakePrefix}",
            ["RETAIL_S3_ENDPOINT_URL"] = s3.ServiceUrl,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_REGION"] = "us-east-1",
        };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    private static async Task<LambdaInvocationResult> InvokeAsync(LambdaRuntimeApiFake runtime, BootstrapProcess process, string json, TimeSpan? timeout = null)
    {
        string id = runtime.Enqueue(json, timeout);
        try
        {
            return await runtime.WaitForResultAsync(id, TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("The bootstrap did not answer: " + process.Output);
        }
    }

    [Fact]
    public void Publish_AotBootstrap_IsExecutableWithoutWarningsAndZippedAtTheRootExecutable()
    {
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(bootstrap.Bootstrap).HasFlag(UnixFileMode.UserExecute));
        Assert.DoesNotContain(bootstrap.PublishOutput.Split('\n'), l => l.Contains(": warning ", StringComparison.OrdinalIgnoreCase));
        var entry = Assert.Single(bootstrap.ZipEntries());
        Assert.Equal("bootstrap", entry.Name);
        Assert.Equal(Convert.ToInt32("755", 8), entry.Mode & Convert.ToInt32("777", 8));
        // The AOT binary is not a managed assembly next to a runtime: nothing else is needed to run it.
        Assert.False(File.Exists(Path.Combine(bootstrap.Folder, "bootstrap.dll")));
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_DeliverToS3_DeliversEveryRecordExactlyOnceToS3rverAlsoWhenAnEventIsDeliveredTwice()
    {
        string prefix = "deliver-" + Guid.NewGuid().ToString("N")[..8];
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "DeliverToS3", prefix));
        var sales = TestEvents.Sales(600, seed: 11);
        string first = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Take(250).ToList(), first: 1));
        string overlap = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Skip(100).Take(300).ToList(), first: 101));
        string rest = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Skip(400).ToList(), first: 401));

        foreach (string json in new[] { first, first, overlap, rest, rest })
        {
            var result = await InvokeAsync(runtime, process, json);
            Assert.False(result.IsError, result.Text + process.Output);
            Assert.Empty(TestEvents.BatchItemFailures(result.Text));
        }

        var store = s3.Store(prefix);
        var lines = await Lake.LinesAsync(store, "json-data/");
        Assert.Equal(sales.Count, lines.Count);
        Assert.Equal(sales.Select(s => Encoding.UTF8.GetString(s).TrimEnd('\n')).Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        Assert.All(await Lake.KeysAsync(store, "json-data/"), k => Assert.Matches(@"^json-data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/retail-trans-1-", k));
        Assert.Empty(await Lake.KeysAsync(store, "error-json/"));
        Assert.DoesNotContain("S3RVER", process.Output, StringComparison.Ordinal); // no credentials in the log
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_UpsertToES_IndexesEveryRecordOnceOnOpenSearchFake_AlsoWhenAnEventComesTwice()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var search = await OpenSearchLoopbackFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "UpsertToES", "upsert-" + Guid.NewGuid().ToString("N")[..8],
            ("ES_HOST", search.Url.ToString().TrimEnd('/')), ("ES_AUTH", "none")));
        var sales = TestEvents.Sales(1_500, seed: 12);
        string first = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Take(1_000).ToList(), first: 1));
        // The first event comes twice (a Lambda retry): its documents are upserted again under the same ids, not duplicated.
        foreach (string json in new[] { first, TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales.Skip(1_000).ToList(), first: 1_001)), first })
        {
            var result = await InvokeAsync(runtime, process, json);
            Assert.False(result.IsError, result.Text + process.Output);
            Assert.Empty(TestEvents.BatchItemFailures(result.Text));
        }
        var docs = search.Documents("retail");
        Assert.Equal(sales.Count, docs.Count);
        var expected = sales.Select(s => JsonDocument.Parse(s).RootElement.GetProperty("Invoice").GetString()).Order().ToList();
        Assert.Equal(expected, docs.Values.Select(d => (string?)d["Invoice"]).Order().ToList());
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_UpsertToES_RejectedDocumentsAreDeadLetteredInS3rverAndNotFailures()
    {
        string prefix = "dead-" + Guid.NewGuid().ToString("N")[..8];
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var search = await OpenSearchLoopbackFake.StartAsync();
        var sales = TestEvents.Sales(300, seed: 13);
        var records = TestEvents.Records(sales);
        var rejected = sales.Where((_, i) => i % 30 == 4).Select(s => JsonDocument.Parse(s).RootElement.GetProperty("Invoice").GetString()!).ToHashSet();
        search.RejectWhen = (_, _, source) => rejected.Contains((string)source["Invoice"]!);
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "UpsertToES", prefix,
            ("ES_HOST", search.Url.ToString().TrimEnd('/')), ("ES_AUTH", "none")));

        var result = await InvokeAsync(runtime, process, TestEvents.Kinesis(Stream, Shard, records));

        Assert.False(result.IsError, result.Text + process.Output);
        Assert.Empty(TestEvents.BatchItemFailures(result.Text));
        Assert.Equal(sales.Count - rejected.Count, search.Documents("retail").Count);
        var deadLetters = (await Lake.LinesAsync(s3.Store(prefix), "error-json/")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var expected = records.Where((_, i) => i % 30 == 4).Select(r => r.SequenceNumber).Order().ToList();
        Assert.Equal(expected, deadLetters.Select(d => d.GetProperty("sourceSequenceNumber").GetString()!).Order().ToList());
        Assert.All(deadLetters, d => Assert.Contains("mapper_parsing_exception", d.GetRawText(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_OpenSearchFakeUnavailableUntilTheDeadline_ListsExactlyTheUnsafeSequenceNumbers()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var search = await OpenSearchLoopbackFake.StartAsync();
        search.FailRequests(503, count: 1_000_000);
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "UpsertToES", "unavailable-" + Guid.NewGuid().ToString("N")[..8],
            ("ES_HOST", search.Url.ToString().TrimEnd('/')), ("ES_AUTH", "none"), ("RETAIL_DEADLINE_MARGIN_MS", "1000")));
        var records = TestEvents.Records(TestEvents.Sales(40, seed: 14));

        var result = await InvokeAsync(runtime, process, TestEvents.Kinesis(Stream, Shard, records), TimeSpan.FromSeconds(3));

        Assert.False(result.IsError, result.Text + process.Output);
        Assert.Equal(records.Select(r => r.SequenceNumber), TestEvents.BatchItemFailures(result.Text));
        Assert.Empty(search.Documents("retail"));
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_UnknownHandler_PostsAnInitErrorListingTheHandlersAndExitsNonZero()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "index.handler", "init"));
        var error = await runtime.WaitForInitErrorAsync();
        Assert.Equal("Runtime.NoSuchHandler", error.ErrorType);
        Assert.Equal(LambdaRuntimeApiFake.ErrorContentType, error.ContentType);
        using var doc = JsonDocument.Parse(error.Body);
        Assert.Contains("UpsertToES, DeliverToS3", doc.RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_MissingEsHost_PostsAnInitErrorNamingIt()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "UpsertToES", "init"));
        var error = await runtime.WaitForInitErrorAsync();
        Assert.Equal("Retail.InvalidSetting", error.ErrorType);
        Assert.Contains("ES_HOST", error.Text, StringComparison.Ordinal);
        Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
