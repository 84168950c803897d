using System.Numerics;
using Microsoft.Extensions.Time.Testing;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

/// <summary>The stream contract on the embedded stream, with a fake clock.</summary>
public sealed class InProcessRecordStreamConformanceTests : RecordStreamConformanceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2010, 12, 1, 8, 0, 0, TimeSpan.Zero));

    protected override Task<IRecordStream> CreateStreamAsync(int shardCount) =>
        Task.FromResult<IRecordStream>(new InProcessRecordStream(new InProcessStreamOptions { ShardCount = shardCount }, _time));

    protected override Task<IRecordStream> CreateBoundedStreamAsync(int maxRecords)
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1, MaxRecordsPerShard = maxRecords }, _time);
        stream.RegisterConsumer("conformance");
        return Task.FromResult<IRecordStream>(stream);
    }

    protected override Task SplitShardAsync(IRecordStream stream, string shardId, BigInteger newStartingHashKey)
    {
        ((InProcessRecordStream)stream).SplitShard(shardId, newStartingHashKey);
        return Task.CompletedTask;
    }

    protected override Task MergeShardsAsync(IRecordStream stream, string shardToMerge, string adjacentShardToMerge)
    {
        ((InProcessRecordStream)stream).MergeShards(shardToMerge, adjacentShardToMerge);
        return Task.CompletedTask;
    }

    protected override Task AdvanceTimeAsync(TimeSpan by)
    {
        _time.Advance(by);
        return Task.CompletedTask;
    }
}
