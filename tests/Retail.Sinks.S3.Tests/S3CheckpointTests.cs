using Retail.Codecs;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Sinks.S3.Tests;

/// <summary>Checkpoints in a bucket (s3rver): the consumer code that checkpoints into a folder checkpoints into S3.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3CheckpointTests(S3rverFixture s3rver)
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Delivery_CheckpointsInTheBucket_RestartResumesAfterThemAndASecondConsumerIsRefused()
    {
        var store = s3rver.Store($"checkpoints-{Guid.NewGuid():N}");
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        var checkpoints = new ObjectStoreCheckpointStore(store, stream.StreamName);
        var records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 4 }).Generate(300).ToList();
        var random = new Random(3);
        await using (var producer = new StreamProducer(stream))
            foreach (var r in records.Take(200)) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));

        var first = new DeliveryEngine(stream, store, checkpoints, new DeliveryOptions { BufferIntervalSeconds = 0 });
        var allWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long written = 0;
        first.ObjectWritten += o => { if (Interlocked.Add(ref written, o.Records) == 200) allWritten.TrySetResult(); };
        using var cts = new CancellationTokenSource();
        var run = first.RunAsync(cts.Token);
        await allWritten.Task.WaitAsync(Guard);
        // The first consumer's claim is in the bucket: a second one on the name is refused.
        var refused = await Assert.ThrowsAsync<ConsumerConflictException>(() => new DeliveryEngine(stream, store, checkpoints).RunAsync().WaitAsync(Guard));
        Assert.Contains("is already running", refused.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Guard));

        var keys = await store.ListAsync("_retail/checkpoints/retail-trans/delivery/").Select(o => o.Key).ToListAsync();
        // One record per shard and the owner record, each in one or both of its two slots (<name>.json, <name>.alt.json).
        Assert.Equal(3, keys.Select(k => k.Replace(".alt.json", ".json", StringComparison.Ordinal)).Distinct().Count());
        Assert.True((await checkpoints.LoadOwnerAsync("delivery"))!.Released);

        await using (var producer = new StreamProducer(stream))
            foreach (var r in records.Skip(200)) await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(r));
        stream.Complete();
        var restarted = new DeliveryEngine(stream, store, checkpoints, new DeliveryOptions { BufferIntervalSeconds = 0 });
        await restarted.RunAsync().WaitAsync(Guard);

        Assert.Equal(100, restarted.Stats.RecordsRead);
        long delivered = 0;
        await foreach (var o in store.ListAsync("json-data/"))
        {
            using var reader = new JsonLinesReader(await store.OpenReadAsync(o.Key));
            delivered += reader.ReadAll().Count();
        }
        Assert.Equal(records.Count, delivered);
    }
}
