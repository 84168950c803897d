using System.Numerics;
using Retail.Core.Tests.Streaming;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// The stream contract (the conformance suite every IRecordStream passes) on Retail's Kinesis client against a real
/// Kinesis emulator. Time is real: <see cref="AdvanceTimeAsync"/> lets it pass (arrival timestamps are the emulator's).
/// The bounded-stream case is Kinesis throttling, injected at the HTTP layer for the entries past the bound.
/// </summary>
public abstract class KinesisConformanceTests(KinesisEmulatorFixture fixture) : RecordStreamConformanceTests
{
    protected override Task<IRecordStream> CreateStreamAsync(int shardCount) => KinesisTestStreams.CreateAsync(fixture, shardCount);

    protected override async Task<IRecordStream> CreateBoundedStreamAsync(int maxRecords)
    {
        int accepted = 0;
        var injector = new KinesisFaultInjector
        {
            InnerHandler = new SocketsHttpHandler(),
            FailPutRecordsEntry = (_, _, _) => Interlocked.Increment(ref accepted) > maxRecords,
        };
        return await KinesisTestStreams.CreateAsync(fixture, 1, injector);
    }

    protected override async Task SplitShardAsync(IRecordStream stream, string shardId, BigInteger newStartingHashKey)
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        await manager.SplitShardAsync(stream.StreamName, shardId, newStartingHashKey);
    }

    protected override async Task MergeShardsAsync(IRecordStream stream, string shardToMerge, string adjacentShardToMerge)
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        await manager.MergeShardsAsync(stream.StreamName, shardToMerge, adjacentShardToMerge);
    }

    /// <summary>
    /// The emulator stamps arrivals from this machine's clock, which no test can move: wait on the condition that the
    /// clock has moved on by <paramref name="by"/> (the suite asks for milliseconds here: both emulators report no lag).
    /// </summary>
    protected override async Task AdvanceTimeAsync(TimeSpan by)
    {
        var until = DateTimeOffset.UtcNow + by;
        while (DateTimeOffset.UtcNow < until) await Task.Yield();
    }

    protected override TimeSpan ReadWait => TimeSpan.FromSeconds(2);
}

/// <summary>
/// kinesis-mock 0.6.2, where it departs from the API reference: MillisBehindLatest is always 0; a closed shard's
/// EndingSequenceNumber is 9223372036854775807 (below its records' numbers); a reader opens after a sequence number the
/// shard never had. Retail's client follows the reference; those checks cannot run here.
/// </summary>
[Collection(KinesisMockCollection.Name)]
public sealed class KinesisMockConformanceTests(KinesisMockFixture fixture) : KinesisConformanceTests(fixture)
{
    protected override bool ReportsMillisBehindLatest => false;
    protected override bool ReportsEndingSequenceNumber => false;
    protected override bool RejectsForeignSequenceNumbers => false;
}

/// <summary>
/// kinesalite 3.3.3, where it departs from the API reference: MillisBehindLatest is 0 on open shards; GetShardIterator
/// AT_TIMESTAMP past the last record never answers. (It sends no ChildShards either: the reader finds the children
/// through ListShards, which this suite does check.)
/// </summary>
[Collection(KinesaliteCollection.Name)]
public sealed class KinesaliteConformanceTests(KinesaliteFixture fixture) : KinesisConformanceTests(fixture)
{
    protected override bool ReportsMillisBehindLatest => false;
    protected override bool OpensAtTimestampPastTheTip => false;
}
