using System.Globalization;
using System.Text;
using System.Text.Json;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>
/// The acceptance: synthetic records through the speed-layer processor, one shard batch per Lambda-style
/// invocation (<see cref="BatchInvocation"/>), into the OpenSearch index on the loopback fake.
/// </summary>
public class SpeedLayerAcceptanceTests
{
    private const string Stream = "retail-stream";
    private const int Shards = 4;

    private sealed record Batch(string ShardId, List<StreamRecord> Records, List<RetailTransaction> Transactions);

    /// <summary><paramref name="count"/> synthetic records spread over <see cref="Shards"/> shards, as Kinesis would deliver them.</summary>
    private static List<Batch> Batches(int count, ulong seed)
    {
        var arrival = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        var batches = Enumerable.Range(0, Shards).Select(s => new Batch($"shardId-{s:D12}", [], [])).ToList();
        int i = 0;
        foreach (var r in new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(count))
        {
            var b = batches[i % Shards];
            b.Records.Add(new StreamRecord(b.ShardId, "4959" + i.ToString("D20", CultureInfo.InvariantCulture), $"part-{i % 1024 + 1:D5}", arrival, RetailJson.ToJsonLine(r)));
            b.Transactions.Add(r);
            i++;
        }
        return batches;
    }

    private static SpeedLayerOptions Options(DocumentIdMode mode = DocumentIdMode.SourcePosition) => new()
    {
        IdMode = mode,
        // Fast retries: the fake accepts a throttled item when it comes again.
        Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20), MaxTotalDuration = TimeSpan.FromMinutes(2) },
    };

    private static async Task<List<BatchInvocationResult>> RunAsync(SpeedLayerProcessor processor, List<Batch> batches)
    {
        var results = new List<BatchInvocationResult>();
        foreach (var b in batches) results.Add(await BatchInvocation.RunAsync(processor, Stream, b.ShardId, b.Records));
        return results;
    }

    [Fact]
    public async Task SpeedLayer_100kSyntheticRecords_OnOpenSearchFake_100kDistinctDocumentsStoredExactly()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var batches = Batches(100_000, seed: 10);
        var processor = new SpeedLayerProcessor(index, Options());

        var results = await RunAsync(processor, batches);

        Assert.All(results, r =>
        {
            Assert.Null(r.Failure);
            Assert.Empty(r.FailedSequenceNumbers);
        });
        Assert.Equal(100_000, fake.TotalDocuments);
        Assert.Equal(100_000, fake.TotalWrites);
        Assert.Equal(100_000, await index.CountAsync());
        Assert.Equal(100_000, processor.Stats.DocumentsUpserted);
        // Every document holds its record exactly (prices, text, dates).
        var stored = fake.Documents("retail");
        foreach (var b in batches)
            for (int i = 0; i < b.Records.Count; i++)
            {
                string id = DocumentIds.Compute(DocumentIdMode.SourcePosition, b.Transactions[i], Stream, b.ShardId, b.Records[i].SequenceNumber);
                Assert.Equal(b.Transactions[i], TestRecords.FromSource(stored[id]));
            }
    }

    [Fact]
    public async Task SpeedLayer_WorkshopMd5Ids_OnOpenSearchFake_CollideAndLoseDocuments()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var batches = Batches(100_000, seed: 10);
        var workshopIds = batches.SelectMany(b => b.Transactions).Select(r => DocumentIds.Compute(DocumentIdMode.WorkshopMd5Prefix, r, Stream, "s", "1")).ToList();
        int distinct = workshopIds.Distinct(StringComparer.Ordinal).Count();
        Assert.True(distinct < 100_000, "the seed must give at least one 32-bit collision among 100k ids");

        var results = await RunAsync(new SpeedLayerProcessor(index, Options(DocumentIdMode.WorkshopMd5Prefix)), batches);

        Assert.All(results, r => Assert.Empty(r.FailedSequenceNumbers));
        // Every upsert succeeded, yet colliding ids overwrote each other: fewer documents than sales.
        Assert.Equal(distinct, fake.TotalDocuments);
        Assert.True(fake.TotalDocuments < 100_000);
        Assert.Equal(100_000, fake.TotalWrites);
    }

    [Fact]
    public async Task SpeedLayer_5PercentThrottledAnd1PercentRejected_OnOpenSearchFake_AcceptedIndexedOnceRejectedDeadLettered()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var dir = new TempDir();
        var deadLetters = new LocalFolderObjectStore(dir.Path);
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var batches = Batches(20_000, seed: 11);

        // 1% rejected for good (chosen by position), 5% throttled on first sight (chosen by the fake's seed).
        var ids = new Dictionary<string, (Batch Batch, int Index)>(StringComparer.Ordinal);
        foreach (var b in batches)
            for (int i = 0; i < b.Records.Count; i++)
                ids[DocumentIds.Compute(DocumentIdMode.SourcePosition, b.Transactions[i], Stream, b.ShardId, b.Records[i].SequenceNumber)] = (b, i);
        var rejected = ids.Keys.Where((_, n) => n % 100 == 37).ToHashSet(StringComparer.Ordinal);
        fake.RejectWhen = (_, id, _) => rejected.Contains(id);
        fake.ThrottleFraction = 0.05;
        fake.Seed = 3;

        var processor = new SpeedLayerProcessor(index, Options(), deadLetters: deadLetters);
        var results = await RunAsync(processor, batches);

        Assert.All(results, r =>
        {
            Assert.Null(r.Failure);
            Assert.Empty(r.FailedSequenceNumbers); // dead-lettering succeeded: nothing for Lambda to retry
        });
        Assert.Equal(200, rejected.Count);
        Assert.InRange(fake.ThrottledItems, 700, 1300);

        // Every accepted document is indexed exactly once, with its record.
        var stored = fake.Documents("retail");
        Assert.Equal(ids.Count - rejected.Count, stored.Count);
        foreach (var (id, (b, i)) in ids)
        {
            if (rejected.Contains(id))
            {
                Assert.False(stored.ContainsKey(id));
                continue;
            }
            Assert.Equal(1, fake.Writes("retail", id));
            Assert.Equal(b.Transactions[i], TestRecords.FromSource(stored[id]));
        }
        Assert.Equal(ids.Count - rejected.Count, fake.TotalWrites);
        Assert.Equal(rejected.Count, processor.Stats.DocumentsDeadLettered);
        Assert.Equal(ids.Count - rejected.Count, processor.Stats.DocumentsUpserted);

        // Every rejected one is in the dead-letter output, under the error prefix, in Firehose's format, with its reason.
        var letters = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await deadLetters.ListPageAsync("error-json/", token);
            foreach (var o in page.Objects)
            {
                Assert.Contains("/AmazonOpenSearchService-failed/", o.Key, StringComparison.Ordinal);
                await using var s = await deadLetters.OpenReadAsync(o.Key);
                using var reader = new StreamReader(s, Encoding.UTF8);
                while (await reader.ReadLineAsync() is { } line)
                    if (line.Length > 0) letters.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(rejected.Order(StringComparer.Ordinal), letters.Select(l => l.GetProperty("esDocumentId").GetString()!).Order(StringComparer.Ordinal));
        foreach (var l in letters)
        {
            string id = l.GetProperty("esDocumentId").GetString()!;
            var (b, i) = ids[id];
            Assert.Equal("mapper_parsing_exception", l.GetProperty("errorCode").GetString());
            Assert.StartsWith("mapper_parsing_exception: failed to parse field", l.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
            Assert.Equal("retail", l.GetProperty("esIndexName").GetString());
            Assert.Equal(b.Records[i].Data.ToArray(), l.GetProperty("rawData").GetBytesFromBase64());
            Assert.Equal(b.ShardId, l.GetProperty("sourceShardId").GetString());
            Assert.Equal(b.Records[i].SequenceNumber, l.GetProperty("sourceSequenceNumber").GetString());
        }
    }

    [Fact]
    public async Task SpeedLayer_ItemsForbiddenByAccessControl_OnOpenSearchFake_NotDeadLetteredButReportedAsFailed()
    {
        // A 403 on an item (fine-grained access control without write permission on the index) is not the document's
        // fault: dead-lettering it would let Kinesis move past documents never indexed.
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var dir = new TempDir();
        var deadLetters = new LocalFolderObjectStore(dir.Path);
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var batches = Batches(400, seed: 12);
        fake.ForbidWhen = (_, _, source) => source["Country"]?.GetValue<string>() == batches[0].Transactions[0].Country;

        var results = await RunAsync(new SpeedLayerProcessor(index, Options(), deadLetters: deadLetters), batches);

        Assert.Contains(results, r => r.Failure is not null && r.Failure.Message.Contains("security_exception", StringComparison.Ordinal));
        var failed = results.SelectMany(r => r.FailedSequenceNumbers).ToHashSet(StringComparer.Ordinal);
        foreach (var b in batches)
            for (int i = 0; i < b.Records.Count; i++)
                if (b.Transactions[i].Country == batches[0].Transactions[0].Country)
                    Assert.Contains(b.Records[i].SequenceNumber, failed);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories));
    }
}
