using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Delivery;

public class DeliveryEngineTests
{
    private static readonly Regex ObjectName = new(
        @"^json-data/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/retail-trans-1-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

    private static List<RetailTransaction> Synthetic(int n, ulong seed = 3) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(n).ToList();

    private static async Task ProduceAsync(IRecordStream stream, IEnumerable<RetailTransaction> records)
    {
        var random = new Random(1);
        await using var producer = new StreamProducer(stream);
        foreach (var r in records) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));
    }

    private static async Task<List<RetailTransaction>> ReadLakeAsync(IObjectStore store, string prefix = "json-data/")
    {
        var all = new List<RetailTransaction>();
        await foreach (var o in store.ListAsync(prefix))
        {
            using var reader = new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key)));
            all.AddRange(reader.ReadAll());
        }
        return all;
    }

    private static void AssertSameMultiset(IEnumerable<RetailTransaction> expected, IEnumerable<RetailTransaction> actual)
    {
        static List<string> Canon(IEnumerable<RetailTransaction> rs) => rs.Select(r => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r))).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Canon(expected), Canon(actual));
    }

    [Fact]
    public async Task RunAsync_CompletedStream_DeliversEveryRecordOnceUnderWorkshopNames()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("delivery");
        var records = Synthetic(20_000);
        var engine = new DeliveryEngine(stream, store, stream);
        var run = engine.RunAsync();
        await ProduceAsync(stream, records);
        stream.Complete();
        await run;

        var keys = await store.ListAsync("").Select(o => o.Key).ToListAsync();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Matches(ObjectName, k));
        AssertSameMultiset(records, await ReadLakeAsync(store));
        Assert.Equal(20_000, engine.Stats.RecordsDelivered);
        Assert.Equal(0, engine.Stats.RecordsFailed);
        Assert.Equal(keys.Count, engine.Stats.ObjectsWritten);
        // 20k records of ~200 bytes are ~4 MiB over 2 shards: the 1 MiB size hint splits them.
        Assert.True(keys.Count >= 4, $"{keys.Count} objects");
        Assert.Equal(0, stream.BufferedRecords);
    }

    [Fact]
    public async Task RunAsync_BadRecords_GoToErrorPrefixWithReasonAndRawData()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("delivery");
        var engine = new DeliveryEngine(stream, store, stream);
        var run = engine.RunAsync();
        var good = Synthetic(10);
        await using (var p = new StreamProducer(stream))
        {
            foreach (var r in good) await p.AddAsync("k", RetailJson.ToJsonLine(r));
            await p.AddAsync("k", "not json at all"u8.ToArray());
            await p.AddAsync("k", "{\"Invoice\":\"1\",\"Quantity\":\"many\"}"u8.ToArray());
            await p.AddAsync("k", RetailJson.ToJsonLine(good[0] with { Price = 1.23456m }));
        }
        stream.Complete();
        await run;

        AssertSameMultiset(good, await ReadLakeAsync(store));
        var errorKeys = await store.ListAsync("error-json/").Select(o => o.Key).ToListAsync();
        var key = Assert.Single(errorKeys);
        Assert.Matches(@"^error-json/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/processing-failed/retail-trans-1-", key);
        var lines = Encoding.UTF8.GetString(await store.GetBytesAsync(key)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("not json at all", Encoding.UTF8.GetString(Convert.FromBase64String(first.GetProperty("rawData").GetString()!)));
        Assert.Contains("JSON", first.GetProperty("errorMessage").GetString());
        Assert.Equal(1, first.GetProperty("attemptsMade").GetInt32());
        Assert.True(first.GetProperty("arrivalTimestamp").GetInt64() > 0);
        Assert.True(first.TryGetProperty("attemptEndingTimestamp", out _));
        Assert.True(first.TryGetProperty("errorCode", out _));
        Assert.Contains("Quantity", JsonDocument.Parse(lines[1]).RootElement.GetProperty("errorMessage").GetString());
        Assert.Contains("decimal places", JsonDocument.Parse(lines[2]).RootElement.GetProperty("errorMessage").GetString());
        Assert.Equal(3, engine.Stats.RecordsFailed);
        Assert.Equal(10, engine.Stats.RecordsDelivered);
    }

    [Fact]
    public async Task RunAsync_IntervalElapses_WritesBufferWithoutMoreRecords()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 10, 15, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        stream.RegisterConsumer("delivery");
        var engine = new DeliveryEngine(stream, store, stream, new DeliveryOptions { BufferIntervalSeconds = 60 }, timeProvider: time);
        var written = new TaskCompletionSource<DeliveredObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.ObjectWritten += o => written.TrySetResult(o);
        using var cts = new CancellationTokenSource();
        var run = engine.RunAsync(cts.Token);
        await ProduceAsync(stream, Synthetic(5));
        // Until the interval passes, nothing is written however the engine is scheduled.
        for (int i = 0; i < 59; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            Assert.False(written.Task.IsCompleted);
        }
        // Then the interval passes: the object comes, waited on (each step up to 50 ms) and bounded (10 fake minutes).
        for (int s = 0; !written.Task.IsCompleted; s++)
        {
            Assert.True(s < 600, "no object ten (fake) minutes after the interval passed");
            time.Advance(TimeSpan.FromSeconds(1));
            try { await written.Task.WaitAsync(TimeSpan.FromMilliseconds(50)); }
            catch (TimeoutException) { }
        }
        var obj = await written.Task;
        Assert.Equal(5, obj.Records);
        Assert.StartsWith("json-data/year=2026/month=11/day=28/hour=10/retail-trans-1-2026-11-28-10-15-00-", obj.Key);
        Assert.True(time.GetUtcNow() >= new DateTimeOffset(2026, 11, 28, 10, 16, 0, TimeSpan.Zero));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task RunAsync_RecordsEitherSideOfHour_LandInTheirOwnHourPrefixes()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 10, 59, 59, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        stream.RegisterConsumer("delivery");
        var records = Synthetic(4);
        await ProduceAsync(stream, records.Take(2));
        time.Advance(TimeSpan.FromSeconds(2));
        await ProduceAsync(stream, records.Skip(2));
        stream.Complete();
        await new DeliveryEngine(stream, store, stream, timeProvider: time).RunAsync();

        var keys = await store.ListAsync("").Select(o => o.Key).ToListAsync();
        Assert.Equal(2, keys.Count);
        Assert.StartsWith("json-data/year=2026/month=11/day=28/hour=10/retail-trans-1-2026-11-28-10-59-59-", keys[0]);
        Assert.StartsWith("json-data/year=2026/month=11/day=28/hour=11/retail-trans-1-2026-11-28-11-00-01-", keys[1]);
        AssertSameMultiset(records, await ReadLakeAsync(store));
    }

    [Fact]
    public async Task RunAsync_EventTimePrefix_PartitionsFollowInvoiceDate()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("delivery");
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        var records = reader.ReadAll().ToList();
        await ProduceAsync(stream, records);
        stream.Complete();
        await new DeliveryEngine(stream, store, stream, new DeliveryOptions { Prefix = LakeLayout.EventTimeJsonPrefixTemplate }).RunAsync();

        await foreach (var o in store.ListAsync("json-data/"))
        {
            var hour = LakeLayout.TryParseHourPartition(o.Key)!.Value;
            using var r = new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key)));
            Assert.All(r.ReadAll(), t => Assert.Equal(hour, new DateTime(t.InvoiceDate.Year, t.InvoiceDate.Month, t.InvoiceDate.Day, t.InvoiceDate.Hour, 0, 0)));
        }
        AssertSameMultiset(records, await ReadLakeAsync(store));
    }

    private sealed class CrashingCheckpoints(ICheckpointStore inner, int crashOnSave) : ICheckpointStore
    {
        private int _saves;
        public ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken ct = default) => inner.LoadAsync(consumer, shardId, ct);

        // Not an IOException: the consumer retries those (a crash is not retried).
        public ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken ct = default) =>
            Interlocked.Increment(ref _saves) == crashOnSave ? throw new InvalidOperationException("simulated crash before the checkpoint was saved") : inner.SaveAsync(consumer, shardId, checkpoint, ct);

        public ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken ct = default) => inner.LoadOwnerAsync(consumer, ct);

        public ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken ct = default) => inner.SaveOwnerAsync(consumer, owner, ct);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public async Task RunAsync_CrashBeforeCheckpoint_RestartDeliversEachRecordExactlyOnce(int crashOnSave)
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1, MaxRecordsPerShard = 100_000 });
        stream.RegisterConsumer("delivery");
        // Ten dynamic partitions interleaved, small objects: partition A's objects get written while B's buffer is still open.
        var records = Synthetic(60_000);
        await ProduceAsync(stream, records);
        stream.Complete();
        var options = new DeliveryOptions { Prefix = "json-data/c=!{partitionKeyFromQuery:Quantity}/", MaxRecordsPerRead = 500 };

        var crashing = new DeliveryEngine(stream, store, new CrashingCheckpoints(stream, crashOnSave), options);
        var crash = await Assert.ThrowsAsync<InvalidOperationException>(() => crashing.RunAsync());
        Assert.Contains("simulated crash", crash.Message);
        Assert.True(crashing.Stats.ObjectsWritten > 0);

        var restarted = new DeliveryEngine(stream, store, stream, options);
        await restarted.RunAsync();
        AssertSameMultiset(records, await ReadLakeAsync(store));
        Assert.True(restarted.Stats.RecordsAlreadyDelivered > 0 || crashOnSave == 1);
    }

    [Fact]
    public void Constructor_InvalidOptions_NameTheSetting()
    {
        var stream = new InProcessRecordStream();
        using var dir = new TempDir();
        var ex = Assert.Throws<ArgumentException>(() => new DeliveryEngine(stream, new LocalFolderObjectStore(dir.Path), stream,
            new DeliveryOptions { BufferSizeMiB = 0, BufferIntervalSeconds = 901, Prefix = "x/!{timestamp:yyyyQ}/" }));
        Assert.Contains("BufferSizeMiB must be 1 to 128, got 0", ex.Message);
        Assert.Contains("BufferIntervalSeconds must be 0 to 900, got 901", ex.Message);
        Assert.Contains("DeliveryOptions.Prefix", ex.Message);
        Assert.Contains("!{timestamp:yyyyQ}", ex.Message);
    }
}
