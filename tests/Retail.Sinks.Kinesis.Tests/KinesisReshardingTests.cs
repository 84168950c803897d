using System.Numerics;
using Retail.Core.Tests;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// The delivery engine over a real Kinesis emulator while the stream is split and later merged: every record lands
/// in the lake exactly once, and each child shard is read only after its parents are finished.
/// </summary>
public abstract class KinesisReshardingTests(KinesisEmulatorFixture fixture)
{
    [Fact]
    public async Task Deliver_SplitThenMergeMidRun_EveryRecordOnceAndChildrenReadAfterTheirParents()
    {
        var stream = await KinesisTestStreams.CreateAsync(fixture, 2);
        using var manager = KinesisTestStreams.Manager(fixture);
        var shards = (await stream.ListShardsAsync()).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
        var lines = KinesisPipeline.Lines(6000, seed: 41);
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var counting = new CountingStream(stream);
        string? splitParent = null, mergedA = null, mergedB = null;

        var (delivery, _) = await KinesisPipeline.DeliverAsync(stream, store, lines.Count, counting: counting, whileRunning: async () =>
        {
            await KinesisPipeline.ProduceAsync(stream, lines.Take(2000));
            await counting.ReadAtLeastAsync(1000).WaitAsync(TimeSpan.FromMinutes(1));
            // Split the first shard in the middle of its range while the consumer is reading it ...
            splitParent = shards[0].ShardId;
            var range = shards[0].HashKeyRange;
            await manager.SplitShardAsync(stream.StreamName, splitParent, range.StartingHashKey + (range.EndingHashKey - range.StartingHashKey + 1) / 2);
            await KinesisPipeline.ProduceAsync(stream, lines.Skip(2000).Take(2000));
            await counting.ReadAtLeastAsync(3000).WaitAsync(TimeSpan.FromMinutes(1));
            // ... then merge the split's upper child with the second original shard.
            var now = (await stream.ListShardsAsync()).Where(s => s.IsOpen).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
            Assert.Equal(3, now.Count);
            mergedA = now[1].ShardId;
            mergedB = now[2].ShardId;
            await manager.MergeShardsAsync(stream.StreamName, mergedA, mergedB);
            await KinesisPipeline.ProduceAsync(stream, lines.Skip(4000));
        });

        Assert.Equal(6000, delivery.RecordsDelivered);
        Assert.Equal(KinesisPipeline.Sorted(lines), await KinesisPipeline.LakeLinesAsync(store));
        var all = await stream.ListShardsAsync();
        Assert.Equal(5, all.Count);
        var events = counting.Events.ToList();
        foreach (var child in all.Where(s => s.Parents().Any()))
        {
            foreach (var parent in child.Parents())
            {
                int opened = events.IndexOf("open " + child.ShardId), ended = events.IndexOf("end " + parent);
                Assert.True(ended >= 0 && opened > ended, $"{child.ShardId} opened at {opened}, its parent {parent} ended at {ended}: {string.Join(", ", events)}");
            }
        }
        Assert.Contains(all, s => s.ParentShardId == mergedA && s.AdjacentParentShardId == mergedB);
    }
}

[Collection(KinesisMockCollection.Name)]
public sealed class KinesisMockReshardingTests(KinesisMockFixture fixture) : KinesisReshardingTests(fixture);

[Collection(KinesaliteCollection.Name)]
public sealed class KinesaliteReshardingTests(KinesaliteFixture fixture) : KinesisReshardingTests(fixture);
