using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Core.Tests;
using Retail.Sinks.OpenSearch.Tests;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>The UpsertToES handler in process against the OpenSearch fake, dead letters into a local folder lake.</summary>
public sealed class UpsertToESTests
{
    private const string Stream = "retail-trans";
    private const string Shard = "shardId-000000000003";

    private static LambdaInvocation Invocation(string json, TimeSpan? timeout = null) =>
        new("req-1", DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromMinutes(1)), null, null, Encoding.UTF8.GetBytes(json));

    private static IInvocationHandler Handler(OpenSearchLoopbackFake fake, IObjectStore lake, params (string, string)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["ES_HOST"] = fake.Url.ToString().TrimEnd('/'),
            ["ES_AUTH"] = "none",
        };
        foreach (var (k, v) in extra) env[k] = v;
        var logs = new LambdaLogging(LogLevel.Warning, TextWriter.Null);
        var target = LambdaHandlers.CreateUpsert(k => env.GetValueOrDefault(k), lake, new RetailLakeDefinition(), logs, TimeProvider.System);
        return new KinesisBatchHandler(target, logs.CreateLogger("test"));
    }

    [Fact]
    public async Task HandleAsync_OnOpenSearchFake_IndexesEveryRecordOnceAlsoWhenRetried()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var dir = new TempDir();
        var handler = Handler(fake, new LocalFolderObjectStore(dir.Path));
        var sales = TestEvents.Sales(1_000);
        string json = TestEvents.Kinesis(Stream, Shard, TestEvents.Records(sales));

        for (int attempt = 0; attempt < 2; attempt++)
        {
            var response = Encoding.UTF8.GetString(await handler.HandleAsync(Invocation(json), CancellationToken.None));
            Assert.Empty(TestEvents.BatchItemFailures(response));
        }
        var docs = fake.Documents("retail");
        Assert.Equal(sales.Count, docs.Count);
        var invoices = sales.Select(s => JsonDocument.Parse(s).RootElement.GetProperty("Invoice").GetString()).Order().ToList();
        Assert.Equal(invoices, docs.Values.Select(d => (string?)d["Invoice"]).Order().ToList());
    }

    [Fact]
    public async Task HandleAsync_OnOpenSearchFake_RejectedDocumentsGoToDeadLettersAndAreNotFailures()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var sales = TestEvents.Sales(200);
        var rejected = sales.Where((_, i) => i % 20 == 7).Select(s => JsonDocument.Parse(s).RootElement.GetProperty("Invoice").GetString()!).ToHashSet();
        fake.RejectWhen = (_, _, source) => rejected.Contains((string)source["Invoice"]!);
        using var dir = new TempDir();
        var lake = new LocalFolderObjectStore(dir.Path);
        var handler = Handler(fake, lake);
        var records = TestEvents.Records(sales).ToList();
        records.Add(new TestRecord(TestEvents.Sequence(records.Count + 1), "not json"u8.ToArray()));

        var response = Encoding.UTF8.GetString(await handler.HandleAsync(Invocation(TestEvents.Kinesis(Stream, Shard, records)), CancellationToken.None));

        Assert.Empty(TestEvents.BatchItemFailures(response));
        Assert.Equal(sales.Count - rejected.Count, fake.Documents("retail").Count);
        var deadLetters = (await Lake.LinesAsync(lake, "error-json/")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(rejected.Count + 1, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.Equal(Shard, d.GetProperty("sourceShardId").GetString()));
        // Exactly the rejected records and the one that is not JSON, each once, with the reason.
        var expected = records.Where((_, i) => i % 20 == 7 && i < sales.Count).Select(r => r.SequenceNumber).Append(records[^1].SequenceNumber).Order().ToList();
        Assert.Equal(expected, deadLetters.Select(d => d.GetProperty("sourceSequenceNumber").GetString()!).Order().ToList());
        Assert.All(deadLetters, d => Assert.False(string.IsNullOrEmpty(d.GetProperty("errorMessage").GetString())));
    }

    [Fact]
    public async Task HandleAsync_OnOpenSearchFake_FivePercentThrottledOnePercentRejected_IndexesOrDeadLettersEachRecordOnce()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        fake.ThrottleFraction = 0.05;
        var sales = TestEvents.Sales(2_000, seed: 21);
        var records = TestEvents.Records(sales);
        var rejected = sales.Where((_, i) => i % 100 == 42).Select(s => JsonDocument.Parse(s).RootElement.GetProperty("Invoice").GetString()!).ToHashSet();
        fake.RejectWhen = (_, _, source) => rejected.Contains((string)source["Invoice"]!);
        using var dir = new TempDir();
        var lake = new LocalFolderObjectStore(dir.Path);
        var handler = Handler(fake, lake);

        var response = Encoding.UTF8.GetString(await handler.HandleAsync(Invocation(TestEvents.Kinesis(Stream, Shard, records)), CancellationToken.None));

        Assert.Empty(TestEvents.BatchItemFailures(response));
        Assert.True(fake.ThrottledItems > 0);
        Assert.Equal(sales.Count - rejected.Count, fake.Documents("retail").Count);
        var deadLettered = (await Lake.LinesAsync(lake, "error-json/")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("sourceSequenceNumber").GetString()!).Order().ToList();
        Assert.Equal(records.Where((_, i) => i % 100 == 42).Select(r => r.SequenceNumber).Order().ToList(), deadLettered);
    }

    [Fact]
    public async Task HandleAsync_OnOpenSearchFake_ServiceUnavailableUntilTheDeadline_ListsEveryUnsafeSequenceNumber()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        fake.FailRequests(503, count: 100_000);
        using var dir = new TempDir();
        var handler = Handler(fake, new LocalFolderObjectStore(dir.Path));
        var records = TestEvents.Records(TestEvents.Sales(50));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        var response = Encoding.UTF8.GetString(await handler.HandleAsync(Invocation(TestEvents.Kinesis(Stream, Shard, records)), deadline.Token));

        Assert.Equal(records.Select(r => r.SequenceNumber), TestEvents.BatchItemFailures(response));
        Assert.Empty(fake.Documents("retail"));
    }

    [Fact]
    public void CreateUpsert_BadOpenSearchSetting_ThrowsNamingTheVariable()
    {
        var logs = new LambdaLogging(LogLevel.Warning, TextWriter.Null);
        var env = new Dictionary<string, string?> { ["ES_HOST"] = "http://127.0.0.1:9200", ["ES_AUTH"] = "kerberos" };
        var e = Assert.Throws<LambdaSettingException>(() =>
            LambdaHandlers.CreateUpsert(k => env.GetValueOrDefault(k), new LocalFolderObjectStore(Path.GetTempPath()), new RetailLakeDefinition(), logs, TimeProvider.System));
        Assert.Equal("ES_AUTH", e.Setting);
        env.Remove("ES_HOST");
        Assert.Equal("ES_HOST", Assert.Throws<LambdaSettingException>(() =>
            LambdaHandlers.CreateUpsert(k => env.GetValueOrDefault(k), new LocalFolderObjectStore(Path.GetTempPath()), new RetailLakeDefinition(), logs, TimeProvider.System)).Setting);
    }
}
