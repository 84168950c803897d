using System.Numerics;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

public sealed class HashKeyRangeTests
{
    [Theory]
    // python3: int.from_bytes(hashlib.md5(key.encode()).digest(), 'big')
    [InlineData("part-00001", "247597239138752606503219548696988436961")]
    [InlineData("£ key", "13028739219610907845665606382095316779")]
    public void HashOf_PartitionKey_IsMd5AsUnsignedBigEndian128BitNumber(string key, string expected) =>
        Assert.Equal(BigInteger.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), HashKeyRange.HashOf(key));

    [Fact]
    public void Parse_KinesisDecimalStrings_CoverTheWholeHashSpace()
    {
        var range = HashKeyRange.Parse("0", "340282366920938463463374607431768211455");
        Assert.Equal(HashKeyRange.MaxHashKey, range.EndingHashKey);
        Assert.True(range.Contains(HashKeyRange.HashOf("anything")));
        Assert.False(HashKeyRange.Parse("0", "9").Contains(10));
        Assert.Throws<FormatException>(() => HashKeyRange.Parse("-1", "9"));
    }

    [Fact]
    public async Task PutRecords_OneShardFull_OnlyItsEntriesFailAndTheOtherShardTakesItsOwn()
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2, MaxRecordsPerShard = 2 });
        stream.RegisterConsumer("c");
        var shards = await stream.ListShardsAsync();
        // Keys for each shard, found by the same MD5 routing the stream uses.
        var keys = Enumerable.Range(0, 100).Select(i => "k" + i).ToList();
        var low = keys.Where(k => shards[0].HashKeyRange.Contains(HashKeyRange.HashOf(k))).Take(3).ToList();
        var high = keys.Where(k => shards[1].HashKeyRange.Contains(HashKeyRange.HashOf(k))).Take(2).ToList();
        var result = await stream.PutRecordsAsync([.. low.Concat(high).Select(k => new PutRecordsEntry(k, new byte[] { 1 }))]);
        Assert.Equal(1, result.FailedRecordCount);
        Assert.Equal("ProvisionedThroughputExceededException", result.Records[2].ErrorCode);
        Assert.Contains(shards[0].ShardId, result.Records[2].ErrorMessage);
        Assert.Equal([shards[0].ShardId, shards[0].ShardId, null, shards[1].ShardId, shards[1].ShardId], result.Records.Select(r => r.ShardId));
    }
}
