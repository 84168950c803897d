using System.Text;
using Retail.Codecs;
using Retail.Core.Tests.Streaming;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>What the Kinesis tests share: records to produce, a delivery run that ends once everything was read, the lake read back.</summary>
internal static class KinesisPipeline
{
    public static List<byte[]> Lines(int count, ulong seed) =>
        [.. new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(count).Select(RetailJson.ToJsonLine)];

    public static async Task<StreamProducer> ProduceAsync(IRecordPutTarget stream, IEnumerable<byte[]> lines, StreamProducerOptions? options = null)
    {
        var producer = new StreamProducer(stream, options);
        var random = new Random(5);
        foreach (var line in lines) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), line);
        await producer.FlushAsync();
        return producer;
    }

    /// <summary>
    /// Runs a delivery engine over <paramref name="stream"/> into <paramref name="store"/> (checkpoints in the lake) until
    /// it has read <paramref name="expected"/> records, then flushes and stops it; returns its stats.
    /// </summary>
    public static async Task<(DeliveryStats Delivery, StreamConsumerStats Consumer)> DeliverAsync(IRecordStream stream, IObjectStore store, long expected,
        DeliveryOptions? options = null, Func<Task>? whileRunning = null, CountingStream? counting = null)
    {
        counting ??= new CountingStream(stream);
        var engine = new DeliveryEngine(counting, store, new ObjectStoreCheckpointStore(store, stream.StreamName),
            options ?? new DeliveryOptions { DeliveryStreamName = stream.StreamName, PollInterval = TimeSpan.FromMilliseconds(500) });
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(stop.Token);
        if (whileRunning is not null) await whileRunning();
        await Task.WhenAny(counting.ReadAtLeastAsync(expected), run).WaitAsync(TimeSpan.FromMinutes(2));
        if (run.IsCompleted) await run; // it failed: show why
        await engine.FlushAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
        }
        await engine.DisposeAsync();
        return (engine.Stats, engine.ConsumerStats);
    }

    /// <summary>Every delivered line under json-data/, as its exact text, sorted.</summary>
    public static async Task<List<string>> LakeLinesAsync(IObjectStore store)
    {
        var lines = new List<string>();
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
        {
            var text = Encoding.UTF8.GetString(await store.GetBytesAsync(o.Key));
            lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l + "\n"));
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static List<string> Sorted(IEnumerable<byte[]> lines) => [.. lines.Select(l => Encoding.UTF8.GetString(l)).Order(StringComparer.Ordinal)];

    /// <summary>Every record of every shard, read to the tip through a fresh client (no faults).</summary>
    public static async Task<List<string>> ReadAllAsync(IRecordStream stream)
    {
        var all = new List<string>();
        foreach (var shard in await stream.ListShardsAsync())
        {
            await using var reader = await stream.OpenShardReaderAsync(shard.ShardId, StartPosition.TrimHorizon);
            while (true)
            {
                var read = await reader.ReadAsync(10_000, TimeSpan.FromSeconds(1));
                all.AddRange(read.Records.Select(r => Encoding.UTF8.GetString(r.Data.Span)));
                if (read.EndOfShard || read.Records.Count == 0) break;
            }
        }
        all.Sort(StringComparer.Ordinal);
        return all;
    }
}

/// <summary>A stream as a consumer sees it, counting what its readers return and noting when each shard was opened and ended.</summary>
internal sealed class CountingStream(IRecordStream inner) : IRecordStream
{
    private readonly ReadCounter _read = new();

    public System.Collections.Concurrent.ConcurrentQueue<string> Events { get; } = new();

    public Task ReadAtLeastAsync(long count) => _read.ReadAtLeastAsync(count);

    public string StreamName => inner.StreamName;

    public PutLimits Limits => inner.Limits;

    public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) => inner.ListShardsAsync(cancellationToken);

    public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) =>
        inner.PutRecordsAsync(records, cancellationToken);

    public async ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default)
    {
        var reader = await inner.OpenShardReaderAsync(shardId, start, cancellationToken);
        Events.Enqueue("open " + shardId);
        return new Reader(this, reader);
    }

    private sealed class Reader(CountingStream owner, IShardReader inner) : IShardReader
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
