using System.Diagnostics;
using System.Text;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Streaming;

public class StreamConsumerTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private static List<RetailTransaction> Synthetic(int n, ulong seed = 11) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(n).ToList();

    private static async Task ProduceAsync(IRecordStream stream, IEnumerable<RetailTransaction> records)
    {
        var random = new Random(2);
        await using var producer = new StreamProducer(stream);
        foreach (var r in records) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));
    }

    private static async Task<List<string>> ReadLakeAsync(IObjectStore store)
    {
        var all = new List<string>();
        await foreach (var o in store.ListAsync("json-data/"))
        {
            using var reader = new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key)));
            all.AddRange(reader.ReadAll().Select(Canon));
        }
        return all;
    }

    private static string Canon(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r));

    private static void AssertExactlyOnce(IEnumerable<RetailTransaction> expected, IEnumerable<string> actual) =>
        Assert.Equal(expected.Select(Canon).Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));

    /// <summary>Completes <see cref="WhenRead"/> once its readers have returned a given number of records.</summary>
    private sealed class ReadCountingStream(IRecordStream inner) : IRecordStream
    {
        private readonly ReadCounter _read = new();

        public Task WhenRead(long count) => _read.ReadAtLeastAsync(count);

        public string StreamName => inner.StreamName;
        public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) => inner.ListShardsAsync(cancellationToken);
        public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) => inner.PutRecordsAsync(records, cancellationToken);

        /// <summary>Completes once a shard reader has been opened.</summary>
        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default)
        {
            var reader = new Reader(this, await inner.OpenShardReaderAsync(shardId, start, cancellationToken));
            Opened.TrySetResult();
            return reader;
        }

        private sealed class Reader(ReadCountingStream owner, IShardReader inner) : IShardReader
        {
            public string ShardId => inner.ShardId;

            public async ValueTask<ShardReadResult> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
            {
                var read = await inner.ReadAsync(maxRecords, maxWait, cancellationToken);
                owner._read.Add(read.Records.Count);
                return read;
            }

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }

    /// <summary>A store whose puts fail for good once <see cref="Broken"/> is set (a read-only lake).</summary>
    private sealed class BreakableStore(IObjectStore inner) : IObjectStore
    {
        public volatile bool Broken;
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            Broken && key.StartsWith("json-data/", StringComparison.Ordinal) ? throw new UnauthorizedAccessException("Read-only file system") : inner.PutAsync(key, data, cancellationToken);
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, cancellationToken);
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
            inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    private sealed class CountingIndex : IUpsertIndex
    {
        private readonly Lock _lock = new();
        public Dictionary<string, int> Upserts { get; } = [];

        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            lock (_lock)
                foreach (var d in documents) Upserts[d.Id] = Upserts.GetValueOrDefault(d.Id) + 1;
            return ValueTask.FromResult(new UpsertResult([.. documents.Select(d => new UpsertItemResult(d.Id, null, false))]));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            lock (_lock) return ValueTask.FromResult((long)Upserts.Count);
        }
    }

    /// <summary>The checkpoint store under test: the in-process stream itself, or objects in the lake.</summary>
    private static ICheckpointStore Checkpoints(string kind, InProcessRecordStream stream, IObjectStore lake) =>
        kind == "lake" ? new ObjectStoreCheckpointStore(lake, stream.StreamName) : stream;

    // Buffer hints far beyond the test: only the cancellation makes anything get written.
    private static DeliveryOptions Buffered() => new() { BufferIntervalSeconds = 900, BufferSizeMiB = 128 };

    [Theory]
    [InlineData("in-process")]
    [InlineData("lake")]
    public async Task Cancel_WhileRecordsAreBuffered_WritesAndCheckpointsThemAndARestartResumesAfterThemWithoutDuplicates(string kind)
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        inner.RegisterConsumer("delivery");
        var stream = new ReadCountingStream(inner);
        var checkpoints = Checkpoints(kind, inner, store);
        var first = Synthetic(700);
        await ProduceAsync(inner, first);

        var engine = new DeliveryEngine(stream, store, checkpoints, Buffered());
        using var cts = new CancellationTokenSource();
        var run = engine.RunAsync(cts.Token);
        await stream.WhenRead(first.Count).WaitAsync(Guard);
        Assert.Empty(await ReadLakeAsync(store)); // still buffered
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));

        AssertExactlyOnce(first, await ReadLakeAsync(store));
        Assert.Equal(0, engine.ConsumerStats.UnflushedRecords);
        foreach (var shard in await inner.ListShardsAsync())
        {
            var saved = await checkpoints.LoadAsync("delivery", shard.ShardId);
            Assert.NotNull(saved);
            Assert.NotNull(saved.OwnerId);
        }

        var second = Synthetic(300, seed: 12);
        await ProduceAsync(inner, second);
        inner.Complete();
        var restarted = new DeliveryEngine(inner, store, checkpoints, Buffered());
        await restarted.RunAsync().WaitAsync(Guard);

        Assert.Equal(second.Count, restarted.Stats.RecordsRead); // resumed after the checkpoint: nothing read twice
        AssertExactlyOnce([.. first, .. second], await ReadLakeAsync(store));
    }

    [Fact]
    public async Task Cancel_SpeedLayerWithAnOpenBatch_UpsertsAndCheckpointsItAndARestartReadsNothingAgain()
    {
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        inner.RegisterConsumer("speed-layer");
        var stream = new ReadCountingStream(inner);
        var index = new CountingIndex();
        var options = new SpeedLayerOptions { MaxBatchLatency = TimeSpan.FromHours(1), MaxBatchDocuments = 100_000 };
        var records = Synthetic(500);
        await ProduceAsync(inner, records);

        var engine = new SpeedLayerEngine(stream, index, inner, options);
        using var cts = new CancellationTokenSource();
        var run = engine.RunAsync(cts.Token);
        await stream.WhenRead(records.Count).WaitAsync(Guard);
        Assert.Equal(0, await index.CountAsync());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));
        Assert.Equal(records.Count, await index.CountAsync());

        inner.Complete();
        var restarted = new SpeedLayerEngine(inner, index, inner, options);
        await restarted.RunAsync().WaitAsync(Guard);
        Assert.Equal(0, restarted.Stats.RecordsRead);
        Assert.All(index.Upserts.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Cancel_WhenTheBufferCannotBeWritten_ReportsTheUnflushedRecordsAndARestartDeliversThem()
    {
        using var dir = new TempDir();
        var store = new BreakableStore(new LocalFolderObjectStore(dir.Path));
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        inner.RegisterConsumer("delivery");
        var stream = new ReadCountingStream(inner);
        var records = Synthetic(200);
        await ProduceAsync(inner, records);

        var engine = new DeliveryEngine(stream, store, inner, Buffered());
        using var cts = new CancellationTokenSource();
        var run = engine.RunAsync(cts.Token);
        await stream.WhenRead(records.Count).WaitAsync(Guard);
        store.Broken = true;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));

        Assert.Equal(records.Count, engine.ConsumerStats.UnflushedRecords);
        Assert.Null(await inner.LoadAsync("delivery", "shardId-000000000000"));
        store.Broken = false;
        inner.Complete();
        await new DeliveryEngine(inner, store, inner, Buffered()).RunAsync().WaitAsync(Guard);
        AssertExactlyOnce(records, await ReadLakeAsync(store));
    }

    [Fact]
    public async Task FlushAsync_WhileRunning_WritesTheOpenBuffersAndCheckpointsThem()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        inner.RegisterConsumer("delivery");
        var stream = new ReadCountingStream(inner);
        var records = Synthetic(400);
        await ProduceAsync(inner, records);
        await using var engine = new DeliveryEngine(stream, store, inner, Buffered());
        using var cts = new CancellationTokenSource();
        var run = engine.RunAsync(cts.Token);
        await stream.WhenRead(records.Count).WaitAsync(Guard);

        await engine.FlushAsync().WaitAsync(Guard);

        AssertExactlyOnce(records, await ReadLakeAsync(store));
        Assert.Equal(0, inner.BufferedRecords); // the checkpoints released every record
        Assert.False(run.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));
    }

    [Theory]
    [InlineData("in-process")]
    [InlineData("lake")]
    public async Task RunAsync_SecondConsumerWithTheSameName_IsRefusedNamingTheConsumerAndTheOwner(string kind)
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        inner.RegisterConsumer("delivery");
        var stream = new ReadCountingStream(inner);
        var checkpoints = Checkpoints(kind, inner, store);
        var records = Synthetic(50);
        await ProduceAsync(inner, records);
        var first = new DeliveryEngine(stream, store, checkpoints, Buffered());
        using var cts = new CancellationTokenSource();
        var run = first.RunAsync(cts.Token);
        await stream.WhenRead(records.Count).WaitAsync(Guard);

        var second = new DeliveryEngine(inner, store, checkpoints, Buffered());
        var refused = await Assert.ThrowsAsync<ConsumerConflictException>(() => second.RunAsync().WaitAsync(Guard));

        Assert.Contains("Consumer 'delivery' of stream 'retail-trans' is already running", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"process {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("stop the other one", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.Stats.RecordsRead);
        Assert.False(run.IsCompleted); // the first one runs on, unharmed

        // Once the first stops cleanly, the name is free again.
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));
        inner.Complete();
        var third = new DeliveryEngine(inner, store, checkpoints, Buffered());
        await third.RunAsync().WaitAsync(Guard);
        AssertExactlyOnce(records, await ReadLakeAsync(store));
    }

    [Fact]
    public async Task RunAsync_ClaimTakenOverWhileRunning_StopsAtItsNextCheckpointSayingWhatHappened()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        var stream = new ReadCountingStream(inner);
        var checkpoints = new ObjectStoreCheckpointStore(store, inner.StreamName);
        await ProduceAsync(inner, Synthetic(10));
        var engine = new DeliveryEngine(stream, store, checkpoints, new DeliveryOptions { BufferIntervalSeconds = 0 });
        var run = engine.RunAsync();
        await stream.WhenRead(10).WaitAsync(Guard);

        // Another process (on another machine) claims the name: the next checkpoint save finds out.
        var mine = await checkpoints.LoadOwnerAsync("delivery");
        Assert.NotNull(mine);
        var now = DateTimeOffset.UtcNow;
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("intruder", mine.Generation + 1, "other-host", 4242, now, now));
        await ProduceAsync(inner, Synthetic(10, seed: 12));
        inner.Complete();

        var lost = await Assert.ThrowsAsync<ConsumerConflictException>(() => run.WaitAsync(Guard));
        Assert.Contains("was taken over by owner intruder on other-host (process 4242), generation " + (mine.Generation + 1), lost.Message, StringComparison.Ordinal);
        Assert.Contains("two processes ran one consumer name", lost.Message, StringComparison.Ordinal);
        Assert.Equal("intruder", (await checkpoints.LoadOwnerAsync("delivery"))!.OwnerId); // the loser does not overwrite the winner
    }

    [Fact]
    public async Task RunAsync_OwnerRecordsOfOtherProcesses_FreshIsRefusedStaleOrDeadIsTakenOver()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        inner.Complete();
        var checkpoints = new ObjectStoreCheckpointStore(store, inner.StreamName);
        var options = new DeliveryOptions();
        var now = DateTimeOffset.UtcNow;

        // Alive on another machine: renewed 5 s ago, within the 60 s owner timeout.
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("fresh", 7, "other-host", 1, now.AddMinutes(-10), now.AddSeconds(-5)));
        var refused = await Assert.ThrowsAsync<ConsumerConflictException>(() => new DeliveryEngine(inner, store, checkpoints, options).RunAsync().WaitAsync(Guard));
        Assert.Contains("owner fresh on other-host (process 1)", refused.Message, StringComparison.Ordinal);
        Assert.Matches(@"alive [5-9] s ago", refused.Message);

        // Silent for longer than the timeout: the machine or the process is gone.
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("stale", 7, "other-host", 1, now.AddMinutes(-10), now.AddMinutes(-2)));
        await new DeliveryEngine(inner, store, checkpoints, options).RunAsync().WaitAsync(Guard);
        var after = await checkpoints.LoadOwnerAsync("delivery");
        Assert.Equal(8, after!.Generation);
        Assert.True(after.Released);

        // Fresh, but its process on this machine has exited (killed): taken over at once.
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await exited.WaitForExitAsync();
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("killed", 9, Environment.MachineName, exited.Id, now, now));
        await new DeliveryEngine(inner, store, checkpoints, options).RunAsync().WaitAsync(Guard);
        Assert.Equal(10, (await checkpoints.LoadOwnerAsync("delivery"))!.Generation);
    }

    [Fact]
    public async Task RunAsync_CheckpointSavedUnderANewerGeneration_Stops()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        inner.Complete();
        var checkpoints = new ObjectStoreCheckpointStore(store, inner.StreamName);
        await checkpoints.SaveCheckpointFromTheFutureAsync();

        var e = await Assert.ThrowsAsync<ConsumerConflictException>(() => new DeliveryEngine(inner, store, checkpoints).RunAsync().WaitAsync(Guard));
        Assert.Contains("shard shardId-000000000000's checkpoint was saved by owner later under generation 99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeliveryProcessor_OneShardBatchAsALambdaHandlerRunsIt_IsDurableAfterFlushAndARetryWritesTheSameKeys()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var records = Synthetic(120);
        var arrival = new DateTimeOffset(2026, 12, 2, 9, 30, 0, TimeSpan.Zero);
        var batch = new ShardBatch([.. records.Select((r, i) => new StreamRecord("shardId-000000000003", (1000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), "k", arrival, RetailJson.ToJsonLine(r)))]);
        var processor = new DeliveryProcessor(store, new DeliveryOptions { BufferIntervalSeconds = 900 });

        async Task<Checkpoint?> InvokeAsync()
        {
            await using var shard = await processor.OpenShardAsync(new ShardProcessorContext("retail-trans", "shardId-000000000003", null));
            await shard.ProcessAsync(batch);
            Assert.Equal(records.Count, shard.BufferedRecords);
            var durable = await shard.FlushAsync();
            Assert.Equal(0, shard.BufferedRecords);
            return durable;
        }

        var durable = await InvokeAsync();
        Assert.Equal("1119", durable!.SequenceNumber);
        var keys = await store.ListAsync("json-data/").Select(o => o.Key).ToListAsync();
        Assert.Equal("json-data/year=2026/month=12/day=02/hour=09/", keys.Single()[..44]);

        await InvokeAsync(); // Lambda retries the same batch
        Assert.Equal(keys, await store.ListAsync("json-data/").Select(o => o.Key).ToListAsync());
        AssertExactlyOnce(records, await ReadLakeAsync(store));
    }

    [Fact]
    public void Constructor_InvalidConsumerOptions_NameTheSetting()
    {
        var stream = new InProcessRecordStream();
        var e = Assert.Throws<ArgumentException>(() => new StreamConsumer(stream, stream, new DeliveryProcessor(new LocalFolderObjectStore(Path.GetTempPath())),
            new StreamConsumerOptions { ConsumerName = "a/b", ShutdownTimeout = TimeSpan.Zero, InitialPosition = StartPosition.AtSequenceNumber("5"), OwnerTimeout = TimeSpan.FromSeconds(1) }));
        Assert.Contains("StreamConsumerOptions.ConsumerName must be a non-empty name without '/'", e.Message, StringComparison.Ordinal);
        Assert.Contains("StreamConsumerOptions.ShutdownTimeout must be positive", e.Message, StringComparison.Ordinal);
        Assert.Contains("StreamConsumerOptions.InitialPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP", e.Message, StringComparison.Ordinal);
        Assert.Contains("StreamConsumerOptions.OwnerTimeout must be longer than OwnerHeartbeat", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InitialPositionLatest_ReadsOnlyRecordsPutAfterItStarts()
    {
        var inner = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        var stream = new ReadCountingStream(inner);
        await ProduceAsync(inner, Synthetic(30));
        var index = new CountingIndex();
        var processor = new SpeedLayerProcessor(index, new SpeedLayerOptions { MaxBatchLatency = TimeSpan.Zero });
        var consumer = new StreamConsumer(stream, inner, processor, new StreamConsumerOptions { ConsumerName = "upsert", InitialPosition = StartPosition.Latest, PollInterval = TimeSpan.FromMilliseconds(20) });
        var run = consumer.RunAsync();
        await stream.Opened.Task.WaitAsync(Guard); // LATEST is fixed when the reader opens
        await ProduceAsync(inner, Synthetic(20, seed: 12));
        inner.Complete();
        await run.WaitAsync(Guard);
        Assert.Equal(20, await index.CountAsync());
    }
}

internal static class CheckpointTestExtensions
{
    public static ValueTask SaveCheckpointFromTheFutureAsync(this ObjectStoreCheckpointStore store) =>
        store.SaveAsync("delivery", "shardId-000000000000", new Checkpoint(null) { OwnerId = "later", Generation = 99 });
}
