using Microsoft.Extensions.Time.Testing;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Delivery;

/// <summary>Delivery on a full disk, and a bounded stream whose consumers hold partly filled buffers.</summary>
public class DeliveryHardeningTests
{
    /// <summary>A deadlock guard only (real time): the runs below finish in well under a second when they work.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static List<RetailTransaction> Synthetic(int n, ulong seed = 5) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(n).ToList();

    /// <summary>A store whose puts fail as a full disk does (IOException with ENOSPC), counting the attempts.</summary>
    private sealed class FullDiskStore(IObjectStore inner) : IObjectStore
    {
        public int Puts;
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Puts);
            throw new IOException($"No space left on device : '/lake/{key}'", 28);
        }
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => PutAsync(key, ReadOnlyMemory<byte>.Empty, cancellationToken);
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
            inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    [Fact]
    public async Task RunAsync_DiskFull_StopsAtOnceNamingTheCauseAndCheckpointsNothing()
    {
        using var dir = new TempDir();
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        stream.RegisterConsumer("delivery");
        var store = new FullDiskStore(new LocalFolderObjectStore(dir.Path));
        var engine = new DeliveryEngine(stream, store, stream, new DeliveryOptions { BufferIntervalSeconds = 0 }, timeProvider: time);
        await using (var producer = new StreamProducer(stream))
            foreach (var r in Synthetic(10)) await producer.AddAsync("k", RetailJson.ToJsonLine(r));
        stream.Complete();

        // The clock never moves: a retry would wait on it forever, so finishing proves there was none.
        var e = await Assert.ThrowsAsync<DeliveryFailedException>(() => engine.RunAsync().WaitAsync(Guard));
        Assert.Contains("no space left on device", e.Message, StringComparison.Ordinal);
        Assert.Contains("json-data/", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, store.Puts);
        Assert.Equal(0, engine.Stats.WriteRetries);
        Assert.Null(await stream.LoadAsync("delivery", "shardId-000000000000"));
        Assert.Equal(10, stream.BufferedRecords); // nothing released: a fixed disk re-delivers all of it
    }

    [Theory]
    [InlineData(28, "no space left on device")]
    [InlineData(30, "read-only file system")]
    [InlineData(122, "disk quota exceeded")]
    public void IsPermanent_PosixIoErrors_NameTheCause(int errno, string cause)
    {
        Assert.True(FailureClassification.IsPermanent(new IOException("x", errno), out string? why));
        Assert.Equal(cause, why);
        // Wrapped, as a sink may throw it.
        Assert.True(FailureClassification.IsPermanent(new InvalidOperationException("upsert failed", new IOException("x", errno)), out why));
        Assert.Equal(cause, why);
    }

    [Fact]
    public void IsPermanent_RealFileSystemErrors_ArePermanentAndTransientOnesAreNot()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "a-file");
        File.WriteAllText(file, "x");
        var throughFile = Record.Exception(() => File.WriteAllText(Path.Combine(file, "child"), "x"));
        Assert.NotNull(throughFile);
        Assert.True(FailureClassification.IsPermanent(throughFile, out _), throughFile.ToString());
        var onDirectory = Record.Exception(() => File.WriteAllText(dir.Path, "x"));
        Assert.NotNull(onDirectory);
        Assert.True(FailureClassification.IsPermanent(onDirectory, out _), onDirectory.ToString());

        Assert.False(FailureClassification.IsPermanent(new IOException("connection reset", 104), out _));
        Assert.False(FailureClassification.IsPermanent(new TimeoutException(), out _));
        Assert.False(FailureClassification.IsPermanent(new HttpRequestException("503"), out _));
        Assert.True(FailureClassification.IsPermanent("IO Error: Could not write file \"x.duckdb\": No space left on device", out string? text));
        Assert.Equal("no space left on device", text);
    }

    /// <summary>
    /// Event-time partitions spread over many hours keep many buffers partly filled; with a long interval and a
    /// clock that never moves, only backpressure can make delivery write them. A producer putting more than the
    /// bounded stream holds must still get every record through (it waited out the interval before).
    /// </summary>
    [Fact]
    public async Task RunAsync_BoundedStreamFullOfPartlyFilledBuffers_WritesEarlyAndIngestionNeverWaitsForTheInterval()
    {
        using var dir = new TempDir();
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 10, 0, 0, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2, MaxRecordsPerShard = 500 }, time);
        stream.RegisterConsumer("delivery");
        var store = new LocalFolderObjectStore(dir.Path);
        var engine = new DeliveryEngine(stream, store, stream,
            new DeliveryOptions { Prefix = LakeLayout.EventTimeJsonPrefixTemplate, BufferIntervalSeconds = 900, BufferSizeMiB = 128 }, timeProvider: time);
        var run = engine.RunAsync();

        var records = Synthetic(5_000);
        Assert.True(records.Select(r => LakeLayout.HourPartition(r.InvoiceDate)).Distinct().Count() >= 10);
        var random = new Random(1);
        // The producer's own back-off runs on real time; the engine's clock stays still.
        await using (var producer = new StreamProducer(stream))
        {
            foreach (var r in records) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));
            await producer.FlushAsync().AsTask().WaitAsync(Guard);
        }
        stream.Complete();
        await run.WaitAsync(Guard);

        Assert.Equal(records.Count, engine.Stats.RecordsDelivered);
        Assert.True(engine.Stats.BackpressureFlushes > 0);
        long lines = 0;
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
        {
            using var reader = new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key)));
            lines += reader.ReadAll().Count();
        }
        Assert.Equal(records.Count, lines);
        Assert.Equal(0, stream.BufferedRecords);
    }

    /// <summary>Only the consumer that holds the shard back writes early: one that is ahead keeps its buffers.</summary>
    [Fact]
    public async Task ReadAsync_FullShard_ReportsBackpressureHeldOnlyByTheSlowestConsumer()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 10, 0, 0, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1, MaxRecordsPerShard = 3 }, time);
        stream.RegisterConsumer("fast");
        stream.RegisterConsumer("slow");
        var put = await stream.PutRecordsAsync([.. Enumerable.Range(0, 4).Select(i => new PutRecordsEntry("k", new byte[] { (byte)i }))]);
        Assert.Equal(1, put.FailedRecordCount);
        string shard = put.Records[0].ShardId!;

        await using var reader = await stream.OpenShardReaderAsync(shard, StartPosition.TrimHorizon);
        var read = await reader.ReadAsync(10, TimeSpan.Zero);
        Assert.Equal(3, read.Records.Count);
        Assert.NotNull(read.Backpressure);
        Assert.True(read.Backpressure!.IsHeldBy(null));
        await stream.SaveAsync("fast", shard, new Checkpoint(read.Records[^1].SequenceNumber));
        Assert.Equal(3, stream.BufferedRecords); // "slow" still holds them

        var again = await reader.ReadAsync(10, TimeSpan.Zero);
        Assert.NotNull(again.Backpressure);
        Assert.False(again.Backpressure!.IsHeldBy(read.Records[^1].SequenceNumber)); // "fast" is not the one
        Assert.True(again.Backpressure.IsHeldBy(null));                              // "slow" is

        await stream.SaveAsync("slow", shard, new Checkpoint(read.Records[1].SequenceNumber));
        var released = await reader.ReadAsync(10, TimeSpan.Zero);
        Assert.Null(released.Backpressure); // records were released: producers are accepted again
        Assert.Equal(0, (await stream.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 9 })])).FailedRecordCount);
    }

    /// <summary>
    /// The refusal can come between two reads: a consumer that read the records before the shard was full is told
    /// on its next read, however long that read may wait (it hung on a still clock: the stall seen under load).
    /// </summary>
    [Fact]
    public async Task ReadAsync_RefusalBetweenReads_ReturnsBackpressureAtOnceAndOnlyOncePerRefusal()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 10, 0, 0, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1, MaxRecordsPerShard = 3 }, time);
        stream.RegisterConsumer("delivery");
        await using var reader = await stream.OpenShardReaderAsync((await stream.ListShardsAsync())[0].ShardId, StartPosition.TrimHorizon);
        await stream.PutRecordsAsync([.. Enumerable.Range(0, 3).Select(i => new PutRecordsEntry("k", new byte[] { (byte)i }))]);
        var read = await reader.ReadAsync(10, TimeSpan.Zero);
        Assert.Equal(3, read.Records.Count);
        Assert.Null(read.Backpressure); // not refusing yet

        Assert.Equal(1, (await stream.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 3 })])).FailedRecordCount);
        // The clock never moves: only the untold refusal can end this read.
        var told = await reader.ReadAsync(10, TimeSpan.FromHours(1)).AsTask().WaitAsync(Guard);
        Assert.Empty(told.Records);
        Assert.NotNull(told.Backpressure);
        Assert.True(told.Backpressure!.IsHeldBy(null));

        // Told once: the next read waits (for records or its deadline) instead of spinning on the same refusal.
        var waiting = reader.ReadAsync(10, TimeSpan.FromMinutes(1)).AsTask();
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        var after = await waiting.WaitAsync(Guard);
        Assert.Empty(after.Records);

        // Released, then refused again: a new refusal is told again.
        await stream.SaveAsync("delivery", read.Records[0].ShardId, new Checkpoint(read.Records[^1].SequenceNumber));
        await stream.PutRecordsAsync([.. Enumerable.Range(0, 3).Select(i => new PutRecordsEntry("k", new byte[] { (byte)i }))]);
        Assert.Equal(3, (await reader.ReadAsync(10, TimeSpan.Zero)).Records.Count);
        Assert.Equal(1, (await stream.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 3 })])).FailedRecordCount);
        var again = await reader.ReadAsync(10, TimeSpan.FromHours(1)).AsTask().WaitAsync(Guard);
        Assert.NotNull(again.Backpressure);
    }

    [Fact]
    public async Task InProcessStream_NewStreamOfTheSameName_NeverReusesAnEarlierStreamsSequenceNumbers()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 10, 0, 0, 0, TimeSpan.Zero));
        var first = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        var a = await first.PutRecordsAsync([.. Enumerable.Range(0, 100).Select(_ => new PutRecordsEntry("k", new byte[] { 1 }))]);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var second = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        var b = await second.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 1 })]);
        Assert.True(SequenceNumbers.Compare(b.Records[0].SequenceNumber, a.Records[^1].SequenceNumber) > 0);
        // So source-position document ids of a second run do not overwrite the first run's documents.
        var r = Synthetic(1)[0];
        Assert.NotEqual(
            DocumentIds.Compute(DocumentIdMode.SourcePosition, r, first.StreamName, a.Records[0].ShardId!, a.Records[0].SequenceNumber!, DocumentIds.DefaultKeyFields),
            DocumentIds.Compute(DocumentIdMode.SourcePosition, r, second.StreamName, b.Records[0].ShardId!, b.Records[0].SequenceNumber!, DocumentIds.DefaultKeyFields));
    }
}

/// <summary>The speed layer on an index whose disk is full.</summary>
public class SpeedLayerHardeningTests
{
    private sealed class FullDiskIndex(bool throws) : IUpsertIndex
    {
        public int Calls;
        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            if (throws) throw new IOException("No space left on device : '/lake/_retail/speed-layer.duckdb.wal'", 28);
            // As the DuckDB index reports a failed batch: every item retryable, with DuckDB's text.
            return ValueTask.FromResult(new UpsertResult([.. documents.Select(d => new UpsertItemResult(d.Id,
                "DuckDB upsert failed: IO Error: Could not write file \"speed-layer.duckdb.wal\": No space left on device", Retryable: true))]));
        }
        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(0L);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunAsync_IndexDiskFull_StopsAtOnceNamingTheCauseWithoutCheckpointing(bool throws)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        stream.RegisterConsumer("speed-layer");
        var index = new FullDiskIndex(throws);
        var engine = new SpeedLayerEngine(stream, index, stream, new SpeedLayerOptions { MaxBatchLatency = TimeSpan.Zero }, timeProvider: time);
        await using (var producer = new StreamProducer(stream))
            foreach (var r in new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 2 }).Generate(5)) await producer.AddAsync("k", RetailJson.ToJsonLine(r));
        stream.Complete();

        // The clock never moves, so a retry would wait forever: finishing proves the engine stopped at once.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.RunAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("no space left on device", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, index.Calls);
        Assert.Null(await stream.LoadAsync("speed-layer", "shardId-000000000000"));
    }
}
