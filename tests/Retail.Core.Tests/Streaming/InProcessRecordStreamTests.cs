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
        var read = await stream.ReadAsync(evenShard!, null, 1000, TimeSpan.Zero);
        var values = read.Records.Where(r => r.PartitionKey == "even").Select(r => (int)r.Data.Span[0]).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * 2), values);
    }

    [Fact]
    public async Task ShardFor_ManyKeys_SpreadOverAllShards()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 4 });
        var counts = new int[4];
        for (int i = 1; i <= 1024; i++) counts[stream.ShardFor($"part-{i:00000}")]++;
        Assert.All(counts, c => Assert.InRange(c, 180, 330));
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
        while (seen.Count < 25)
        {
            var read = await stream.ReadAsync("shardId-000000000000", after, 100, TimeSpan.FromSeconds(5));
            foreach (var r in read.Records) seen.Add(r.Data.Span[0]);
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
        await Assert.ThrowsAsync<ArgumentException>(async () => await stream.PutRecordsAsync([new PutRecordsEntry(key, new byte[size])]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await stream.PutRecordsAsync(Enumerable.Range(0, 501).Select(_ => new PutRecordsEntry("k", new byte[1])).ToList()));
    }

    [Fact]
    public async Task ReadAsync_Completed_ReportsEndOfShardAfterLastRecord()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 });
        await stream.PutRecordsAsync([new PutRecordsEntry("k", new byte[] { 1 })]);
        stream.Complete();
        var first = await stream.ReadAsync("shardId-000000000000", null, 10, TimeSpan.FromSeconds(10));
        Assert.Single(first.Records);
        Assert.False(first.EndOfShard);
        var second = await stream.ReadAsync("shardId-000000000000", first.Records[0].SequenceNumber, 10, TimeSpan.FromSeconds(10));
        Assert.Empty(second.Records);
        Assert.True(second.EndOfShard);
    }
}
