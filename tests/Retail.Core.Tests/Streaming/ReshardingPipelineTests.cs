using System.Collections.Concurrent;
using System.Numerics;
using System.Text;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Streaming;

/// <summary>The delivery engine and the speed layer keep up with a stream that is split and merged while they run.</summary>
public sealed class ReshardingPipelineTests
{
    /// <summary>Sees the stream as one consumer does: when it opened each shard, and what its parents' checkpoints were then.</summary>
    private sealed class RecordingStream(InProcessRecordStream inner, string consumer) : IRecordStream
    {
        private readonly ReadCounter _read = new();

        public ConcurrentQueue<string> Events { get; } = new();

        /// <summary>Completes once this consumer has read at least <paramref name="count"/> records.</summary>
        public Task ReadAtLeastAsync(long count) => _read.ReadAtLeastAsync(count);

        public ConcurrentDictionary<(string Child, string Parent), string?> ParentCheckpointAtOpen { get; } = new();

        public string StreamName => inner.StreamName;

        public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) => inner.ListShardsAsync(cancellationToken);

        public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) =>
            inner.PutRecordsAsync(records, cancellationToken);

        public async ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default)
        {
            var shard = (await inner.ListShardsAsync(cancellationToken)).Single(s => s.ShardId == shardId);
            foreach (var parent in shard.Parents())
                ParentCheckpointAtOpen[(shardId, parent)] = (await inner.LoadAsync(consumer, parent, cancellationToken))?.SequenceNumber;
            Events.Enqueue("open " + shardId);
            return new Reader(this, await inner.OpenShardReaderAsync(shardId, start, cancellationToken));
        }

        private sealed class Reader(RecordingStream owner, IShardReader inner) : IShardReader
        {
            public string ShardId => inner.ShardId;

            public async ValueTask<ShardReadResult> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
            {
                var read = await inner.ReadAsync(maxRecords, maxWait, cancellationToken);
                owner._read.Add(read.Records.Count);
                if (read.EndOfShard) owner.Events.Enqueue("end " + ShardId);
                return read;
            }

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }

    /// <summary>Counts every upsert of every id (thread-safe: shards upsert at once).</summary>
    private sealed class CountingIndex : IUpsertIndex
    {
        private readonly Lock _lock = new();
        public Dictionary<string, (RetailTransaction Record, int Upserts)> Docs { get; } = [];

        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            lock (_lock)
                foreach (var d in documents) Docs[d.Id] = (d.Record, Docs.TryGetValue(d.Id, out var old) ? old.Upserts + 1 : 1);
            return ValueTask.FromResult(new UpsertResult([.. documents.Select(d => new UpsertItemResult(d.Id, null, false))]));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            lock (_lock) return ValueTask.FromResult((long)Docs.Count);
        }
    }

    private static string Canon(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r));

    [Fact]
    public async Task RunAsync_SplitThenMergeMidRun_EveryRecordDeliveredAndIndexedOnceAndChildrenReadAfterTheirParents()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        stream.RegisterConsumer("delivery");
        stream.RegisterConsumer("speed-layer");
        var deliveryView = new RecordingStream(stream, "delivery");
        var speedView = new RecordingStream(stream, "speed-layer");
        var delivery = new DeliveryEngine(deliveryView, store, stream);
        var index = new CountingIndex();
        var speed = new SpeedLayerEngine(speedView, index, stream);
        var runs = Task.WhenAll(delivery.RunAsync(), speed.RunAsync());

        var records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 11 }).Generate(6000).ToList();
        var random = new Random(2);
        async Task ProduceAsync(IEnumerable<RetailTransaction> part)
        {
            await using var producer = new StreamProducer(stream);
            foreach (var r in part) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));
        }

        await ProduceAsync(records.Take(2000));
        // Reshard while both consumers are reading (some of the parents' records may still be unread).
        await Task.WhenAll(deliveryView.ReadAtLeastAsync(1000), speedView.ReadAtLeastAsync(1000)).WaitAsync(TimeSpan.FromMinutes(1));
        // shardId-000000000000 [0, 2^127) splits into 2 [0, 2^126) and 3 [2^126, 2^127) ...
        var split = stream.SplitShard("shardId-000000000000", BigInteger.One << 126);
        Assert.Equal(["shardId-000000000002", "shardId-000000000003"], split.Select(s => s.ShardId));
        await ProduceAsync(records.Skip(2000).Take(2000));
        await Task.WhenAll(deliveryView.ReadAtLeastAsync(3000), speedView.ReadAtLeastAsync(3000)).WaitAsync(TimeSpan.FromMinutes(1));
        // ... then 3 and 1 [2^127, 2^128) merge into 4.
        var merged = stream.MergeShards("shardId-000000000003", "shardId-000000000001");
        Assert.Equal("shardId-000000000004", merged.ShardId);
        await ProduceAsync(records.Skip(4000));
        stream.Complete();
        await runs.WaitAsync(TimeSpan.FromMinutes(2));

        // Exactly once in the lake and in the index.
        var lake = new List<string>();
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
        {
            using var reader = new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key)));
            lake.AddRange(reader.ReadAll().Select(Canon));
        }
        var expected = records.Select(Canon).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, lake.Order(StringComparer.Ordinal));
        Assert.Equal(6000, delivery.Stats.RecordsDelivered);
        Assert.Equal(6000, index.Docs.Count);
        Assert.All(index.Docs.Values, d => Assert.Equal(1, d.Upserts));
        Assert.Equal(expected, index.Docs.Values.Select(d => Canon(d.Record)).Order(StringComparer.Ordinal));
        Assert.Equal(0, stream.BufferedRecords);

        // Every child was opened only after each of its parents ended and was checkpointed to its end.
        var lineage = new (string Child, string Parent)[]
        {
            ("shardId-000000000002", "shardId-000000000000"), ("shardId-000000000003", "shardId-000000000000"),
            ("shardId-000000000004", "shardId-000000000003"), ("shardId-000000000004", "shardId-000000000001"),
        };
        foreach (var (view, consumer) in new[] { (deliveryView, "delivery"), (speedView, "speed-layer") })
        {
            var events = view.Events.ToList();
            Assert.Equal(5, events.Count(e => e.StartsWith("open ", StringComparison.Ordinal)));
            foreach (var (child, parent) in lineage)
            {
                int opened = events.IndexOf("open " + child);
                int parentEnded = events.IndexOf("end " + parent);
                Assert.True(parentEnded >= 0 && opened > parentEnded, $"{consumer}: {child} opened at {opened}, its parent {parent} ended at {parentEnded}: {string.Join(", ", events)}");
                var final = (await stream.LoadAsync(consumer, parent))?.SequenceNumber;
                Assert.NotNull(final);
                Assert.Equal(final, view.ParentCheckpointAtOpen[(child, parent)]);
            }
        }
    }
}
