using System.Numerics;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

public class InProcessRecordStreamTests
{
    [Fact]
    public async Task PutRecords_SamePartitionKey_SameShardInOrder()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 4 });
        var entries = Enumerable.Range(0, 100).Select(i => new PutRecordsEntry(i % 2 == 0 ? "even" : "odd", new[] { (byte)i })).ToList();
        var result = await stream.PutRecordsAsync(entries);
        Assert.Equal(0, result.FailedRecordCount);
        var evenShard = result.Records[0].ShardId;
        Assert.All(result.Records.Where((_, i) => i % 2 == 0), r => Assert.Equal(evenShard, r.ShardId));
        await using var reader = await stream.OpenShardReaderAsync(evenShard!, StartPosition.TrimHorizon);
        var read = await reader.ReadAsync(1000, TimeSpan.Zero);
        var values = read.Records.Where(r => r.PartitionKey == "even").Select(r => (int)r.Data.Span[0]).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * 2), values);
    }

    [Fact]
    public async Task ShardFor_ManyKeys_SpreadOverAllShards()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 4 });
        var counts = new Dictionary<string, int>();
        for (int i = 1; i <= 1024; i++) counts[stream.ShardFor($"part-{i:00000}")] = counts.GetValueOrDefault(stream.ShardFor($"part-{i:00000}")) + 1;
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 180, 330));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task PutRecords_ShardFull_FailsEntriesUntilConsumerCheckpoints_ProducerLosesNothing()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1, MaxRecordsPerShard = 10 });
        stream.RegisterConsumer("c");
        var result = await stream.PutRecordsAsync(Enumerable.Range(0, 15).Select(i => new PutRecordsEntry("k", new[] { (byte)i })).ToList());
        Assert.Equal(5, result.FailedRecordCount);
        Assert.All(result.Records.Skip(10), r => Assert.Equal("ProvisionedThroughputExceededException", r.ErrorCode));

        // A producer retries only the refused entries; a consumer frees room meanwhile.
        var producer = new StreamProducer(stream, new StreamProducerOptions { Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) } });
        for (int i = 15; i < 30; i++) await producer.AddAsync("k", new[] { (byte)i });
        var flush = producer.FlushAsync().AsTask();
        var seen = new List<int>();
        string? after = null;
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);
        while (seen.Count < 25)
        {
            var read = await reader.ReadAsync(100, TimeSpan.FromSeconds(5));
            foreach (var r in read.Records) seen.Add(r.Data.Span[0]);
            if (read.Records.Count == 0) continue;
            after = read.Records[^1].SequenceNumber;
            await stream.SaveAsync("c", "shardId-000000000000", new Checkpoint(after));
        }
        await flush;
        Assert.Equal(Enumerable.Range(0, 10).Concat(Enumerable.Range(15, 15)), seen);
        Assert.Equal(15, producer.RecordsSent);
        Assert.True(producer.EntriesRetried > 0);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("k", 1024 * 1024)]
    public async Task PutRecords_OverKinesisLimits_Rejected(string key, int size)
    {
        var stream = new InProcessRecordStream();
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await stream.PutRecordsAsync([new PutRecordsEntry(key, new byte[size])]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await stream.PutRecordsAsync(Enumerable.Range(0, 501).Select(_ => new PutRecordsEntry("k", new byte[1])).ToList()));
    }

    [Fact]
    public async Task ReadAsync_Completed_ReportsEndOfShardWithTheLastRecords()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        await stream.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 1 }), new PutRecordsEntry("k", new byte[] { 2 })]);
        stream.Complete();
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);
        var first = await reader.ReadAsync(1, TimeSpan.FromSeconds(10));
        Assert.Single(first.Records);
        Assert.False(first.EndOfShard);
        var second = await reader.ReadAsync(10, TimeSpan.FromSeconds(10));
        Assert.Equal(2, second.Records.Single().Data.Span[0]);
        Assert.True(second.EndOfShard);
        Assert.Empty(second.ChildShardIds); // completed, not resharded
        var third = await reader.ReadAsync(10, TimeSpan.FromSeconds(10));
        Assert.Empty(third.Records);
        Assert.True(third.EndOfShard);
    }

    [Fact]
    public async Task SplitShard_UnconsumedParentRecords_StayReadableUntilEveryConsumerCheckpoints()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        stream.RegisterConsumer("a");
        stream.RegisterConsumer("b");
        var put = await stream.PutRecordsAsync([.. Enumerable.Range(0, 5).Select(i => new PutRecordsEntry("k" + i, new[] { (byte)i }))]);
        var children = stream.SplitShard("shardId-000000000000", BigInteger.One << 127);
        Assert.Equal(5, stream.BufferedRecords);
        string last = put.Records[^1].SequenceNumber!;

        await stream.SaveAsync("a", "shardId-000000000000", new Checkpoint(last));
        Assert.Equal(5, stream.BufferedRecords); // "b" has not read them
        await using (var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon))
        {
            var read = await reader.ReadAsync(100, TimeSpan.Zero);
            Assert.Equal(5, read.Records.Count);
            Assert.True(read.EndOfShard);
            Assert.Equal(children.Select(c => c.ShardId), read.ChildShardIds);
        }
        await stream.SaveAsync("b", "shardId-000000000000", new Checkpoint(last));
        Assert.Equal(0, stream.BufferedRecords);
    }

    [Fact]
    public async Task ReadAsync_ReleasedPosition_ThrowsNamingTheShard()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        stream.RegisterConsumer("a");
        var put = await stream.PutRecordsAsync([.. Enumerable.Range(0, 3).Select(i => new PutRecordsEntry("k", new[] { (byte)i }))]);
        await using var late = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.AtSequenceNumber(put.Records[0].SequenceNumber!));
        await stream.SaveAsync("a", "shardId-000000000000", new Checkpoint(put.Records[1].SequenceNumber));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await late.ReadAsync(10, TimeSpan.Zero));
        Assert.Contains("shardId-000000000000", e.Message);

        // A trim-horizon reader follows the horizon instead.
        await using var horizon = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);
        Assert.Equal(2, (await horizon.ReadAsync(10, TimeSpan.Zero)).Records.Single().Data.Span[0]);
    }

    [Fact]
    public void SplitShard_BadArguments_ThrowNamingTheShard()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        var e = Assert.Throws<ArgumentException>(() => stream.SplitShard("shardId-000000000000", 0));
        Assert.Contains("shardId-000000000000", e.Message);
        Assert.Throws<ArgumentException>(() => stream.SplitShard("shardId-000000000000", BigInteger.One << 127)); // that is shard 1's start
        Assert.Contains("shardId-000000000009", Assert.Throws<ArgumentException>(() => stream.SplitShard("shardId-000000000009", 5)).Message);
        stream.SplitShard("shardId-000000000000", BigInteger.One << 126);
        Assert.Contains("closed", Assert.Throws<ArgumentException>(() => stream.SplitShard("shardId-000000000000", 5)).Message);
        // shardId-000000000002 covers [0, 2^126 - 1]; shardId-000000000001 starts at 2^127: not adjacent.
        Assert.Contains("not adjacent", Assert.Throws<ArgumentException>(() => stream.MergeShards("shardId-000000000002", "shardId-000000000001")).Message);
        Assert.Throws<ArgumentException>(() => stream.MergeShards("shardId-000000000002", "shardId-000000000002"));
        stream.Complete();
        Assert.Throws<InvalidOperationException>(() => stream.MergeShards("shardId-000000000003", "shardId-000000000001"));
    }
}
