using System.Numerics;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

/// <summary>
/// The stream contract (<see cref="IRecordStream"/>, Kinesis semantics), run against every implementation: derive,
/// implement the factory and the resharding hooks, and every test here runs on that implementation. Where two
/// implementations disagree, the Kinesis API reference decides.
/// </summary>
public abstract class RecordStreamConformanceTests
{
    /// <summary>A fresh, empty stream with <paramref name="shardCount"/> open shards over equal hash-key ranges.</summary>
    protected abstract Task<IRecordStream> CreateStreamAsync(int shardCount);

    /// <summary>
    /// A fresh one-shard stream that refuses puts (per entry, <c>ProvisionedThroughputExceededException</c>) once
    /// <paramref name="maxRecords"/> records are held and not consumed. (A Kinesis derivation injects the throttling.)
    /// </summary>
    protected abstract Task<IRecordStream> CreateBoundedStreamAsync(int maxRecords);

    /// <summary>Splits <paramref name="shardId"/> at <paramref name="newStartingHashKey"/> and returns once the stream is usable again.</summary>
    protected abstract Task SplitShardAsync(IRecordStream stream, string shardId, BigInteger newStartingHashKey);

    /// <summary>Merges two adjacent shards and returns once the stream is usable again.</summary>
    protected abstract Task MergeShardsAsync(IRecordStream stream, string shardToMerge, string adjacentShardToMerge);

    /// <summary>Lets <paramref name="by"/> pass on the stream's clock (a fake clock moves; a real one waits).</summary>
    protected abstract Task AdvanceTimeAsync(TimeSpan by);

    /// <summary>How long a test read waits for records that are already there (a service may need a moment).</summary>
    protected virtual TimeSpan ReadWait => TimeSpan.Zero;

    /// <summary>
    /// False for an implementation known to report <c>MillisBehindLatest</c> as 0 while behind (kinesalite 3.3.3 does,
    /// against the API reference); the test then checks only that it never reports a negative lag.
    /// </summary>
    protected virtual bool ReportsMillisBehindLatest => true;

    /// <summary>
    /// False for an implementation known to give a closed shard an ending sequence number below its last record's
    /// (kinesis-mock 0.6.2 gives 9223372036854775807); the test then checks only that the shard is closed.
    /// </summary>
    protected virtual bool ReportsEndingSequenceNumber => true;

    /// <summary>False for an implementation known to open a reader after a sequence number the shard never had (kinesis-mock 0.6.2).</summary>
    protected virtual bool RejectsForeignSequenceNumbers => true;

    /// <summary>False for an implementation known never to answer GetShardIterator AT_TIMESTAMP past the last record (kinesalite 3.3.3 hangs).</summary>
    protected virtual bool OpensAtTimestampPastTheTip => true;

    private static PutRecordsEntry Entry(string key, int value) => new(key, BitConverter.GetBytes(value));

    private static int Value(StreamRecord r) => BitConverter.ToInt32(r.Data.Span);

    private static async Task<PutRecordsResult> PutAsync(IRecordStream stream, IEnumerable<PutRecordsEntry> entries)
    {
        var result = await stream.PutRecordsAsync([.. entries]);
        Assert.Equal(0, result.FailedRecordCount);
        return result;
    }

    /// <summary>Reads until <paramref name="count"/> records came, or the shard ended, or reads stop bringing any.</summary>
    private async Task<(List<StreamRecord> Records, ShardReadResult Last)> ReadAsync(IShardReader reader, int count, int maxRecords = 1000)
    {
        var records = new List<StreamRecord>();
        ShardReadResult last;
        int empty = 0;
        do
        {
            last = await reader.ReadAsync(Math.Min(maxRecords, Math.Max(1, count - records.Count)), ReadWait);
            records.AddRange(last.Records);
            empty = last.Records.Count == 0 ? empty + 1 : 0;
        }
        while (records.Count < count && !last.EndOfShard && empty < 3);
        return (records, last);
    }

    private static ShardDescription Single(IReadOnlyList<ShardDescription> shards, string id) => Assert.Single(shards, s => s.ShardId == id);

    [Fact]
    public async Task ListShards_NewStream_OpenShardsCoverTheHashSpaceEvenly()
    {
        var stream = await CreateStreamAsync(3);
        var shards = (await stream.ListShardsAsync()).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
        Assert.Equal(3, shards.Count);
        Assert.All(shards, s => Assert.True(s.IsOpen, s.ShardId));
        Assert.All(shards, s => Assert.Null(s.ParentShardId));
        Assert.All(shards, s => Assert.Null(s.SequenceNumberRange.EndingSequenceNumber));
        Assert.Equal(BigInteger.Zero, shards[0].HashKeyRange.StartingHashKey);
        Assert.Equal(HashKeyRange.MaxHashKey, shards[^1].HashKeyRange.EndingHashKey);
        for (int i = 1; i < shards.Count; i++) Assert.Equal(shards[i - 1].HashKeyRange.EndingHashKey + 1, shards[i].HashKeyRange.StartingHashKey);
        // Kinesis's even split: shard i starts at floor(i * 2^128 / n).
        Assert.Equal((BigInteger.One << 128) / 3, shards[1].HashKeyRange.StartingHashKey);
    }

    [Fact]
    public async Task PutRecords_ManyKeys_RoutedByMd5OfThePartitionKey()
    {
        var stream = await CreateStreamAsync(4);
        var shards = await stream.ListShardsAsync();
        var keys = Enumerable.Range(0, 200).Select(i => $"part-{i:00000}").ToList();
        var result = await PutAsync(stream, keys.Select((k, i) => Entry(k, i)));
        for (int i = 0; i < keys.Count; i++)
        {
            var expected = shards.Single(s => s.HashKeyRange.Contains(HashKeyRange.HashOf(keys[i])));
            Assert.Equal(expected.ShardId, result.Records[i].ShardId);
            Assert.False(string.IsNullOrEmpty(result.Records[i].SequenceNumber));
        }
        Assert.Equal(4, result.Records.Select(r => r.ShardId).Distinct().Count());
    }

    [Fact]
    public async Task ReadAsync_EachShard_ReturnsItsRecordsInPutOrderWithIncreasingSequenceNumbers()
    {
        var stream = await CreateStreamAsync(2);
        var puts = new List<(PutRecordsResultEntry Result, int Value)>();
        for (int batch = 0; batch < 3; batch++)
        {
            var entries = Enumerable.Range(0, 100).Select(i => Entry($"key-{i % 17}", batch * 100 + i)).ToList();
            var result = await PutAsync(stream, entries);
            puts.AddRange(result.Records.Select((r, i) => (r, batch * 100 + i)));
        }
        foreach (var shard in await stream.ListShardsAsync())
        {
            var expected = puts.Where(p => p.Result.ShardId == shard.ShardId).ToList();
            await using var reader = await stream.OpenShardReaderAsync(shard.ShardId, StartPosition.TrimHorizon);
            var (records, _) = await ReadAsync(reader, expected.Count, maxRecords: 7);
            Assert.Equal(expected.Select(p => p.Value), records.Select(Value));
            Assert.Equal(expected.Select(p => p.Result.SequenceNumber), records.Select(r => r.SequenceNumber));
            Assert.All(records, r => Assert.Equal(shard.ShardId, r.ShardId));
            for (int i = 1; i < records.Count; i++) Assert.True(SequenceNumbers.Compare(records[i - 1].SequenceNumber, records[i].SequenceNumber) < 0);
            Assert.Empty((await reader.ReadAsync(10, TimeSpan.Zero)).Records); // the position was kept: nothing is read twice
        }
    }

    [Fact]
    public async Task OpenShardReader_AtAndAfterSequenceNumber_StartAtAndAfterThatRecord()
    {
        var stream = await CreateStreamAsync(1);
        var put = await PutAsync(stream, Enumerable.Range(0, 10).Select(i => Entry("k", i)));
        string shard = put.Records[0].ShardId!;
        string fourth = put.Records[3].SequenceNumber!;

        await using var at = await stream.OpenShardReaderAsync(shard, StartPosition.AtSequenceNumber(fourth));
        Assert.Equal(Enumerable.Range(3, 7), (await ReadAsync(at, 7)).Records.Select(Value));
        await using var after = await stream.OpenShardReaderAsync(shard, StartPosition.AfterSequenceNumber(fourth));
        Assert.Equal(Enumerable.Range(4, 6), (await ReadAsync(after, 6)).Records.Select(Value));
        await using var fromLast = await stream.OpenShardReaderAsync(shard, StartPosition.AfterSequenceNumber(put.Records[^1].SequenceNumber!));
        Assert.Empty((await fromLast.ReadAsync(10, TimeSpan.Zero)).Records);
    }

    [Fact]
    public async Task OpenShardReader_TrimHorizonAndLatest_ReadEverythingAndOnlyLaterRecords()
    {
        var stream = await CreateStreamAsync(1);
        string shard = (await stream.ListShardsAsync())[0].ShardId;
        await PutAsync(stream, Enumerable.Range(0, 5).Select(i => Entry("k", i)));
        await using var horizon = await stream.OpenShardReaderAsync(shard, StartPosition.TrimHorizon);
        await using var latest = await stream.OpenShardReaderAsync(shard, StartPosition.Latest);
        Assert.Empty((await latest.ReadAsync(10, TimeSpan.Zero)).Records);
        await PutAsync(stream, Enumerable.Range(5, 3).Select(i => Entry("k", i)));

        Assert.Equal(Enumerable.Range(0, 8), (await ReadAsync(horizon, 8)).Records.Select(Value));
        Assert.Equal(Enumerable.Range(5, 3), (await ReadAsync(latest, 3)).Records.Select(Value));
    }

    [Fact]
    public async Task OpenShardReader_AtTimestamp_StartsAtTheFirstRecordThatArrivedThen()
    {
        var stream = await CreateStreamAsync(1);
        string shard = (await stream.ListShardsAsync())[0].ShardId;
        await PutAsync(stream, Enumerable.Range(0, 3).Select(i => Entry("k", i)));
        await AdvanceTimeAsync(TimeSpan.FromMilliseconds(50)); // arrival stamps are milliseconds: any gap separates the two puts
        await PutAsync(stream, Enumerable.Range(3, 3).Select(i => Entry("k", i)));
        await using var all = await stream.OpenShardReaderAsync(shard, StartPosition.TrimHorizon);
        var records = (await ReadAsync(all, 6)).Records;
        var second = records[3].ApproximateArrivalTimestamp;
        Assert.True(second > records[2].ApproximateArrivalTimestamp);

        await using var at = await stream.OpenShardReaderAsync(shard, StartPosition.AtTimestamp(second));
        Assert.Equal(Enumerable.Range(3, 3), (await ReadAsync(at, 3)).Records.Select(Value));
        await using var before = await stream.OpenShardReaderAsync(shard, StartPosition.AtTimestamp(records[0].ApproximateArrivalTimestamp.AddHours(-1)));
        Assert.Equal(Enumerable.Range(0, 6), (await ReadAsync(before, 6)).Records.Select(Value));
        if (!OpensAtTimestampPastTheTip) return;
        // Past the newest arrival (records of one put may be stamped a millisecond apart): nothing yet, then the next record.
        await using var future = await stream.OpenShardReaderAsync(shard, StartPosition.AtTimestamp(records.Max(r => r.ApproximateArrivalTimestamp).AddMilliseconds(1)));
        Assert.Empty((await future.ReadAsync(10, TimeSpan.Zero)).Records);
        await AdvanceTimeAsync(TimeSpan.FromMilliseconds(5));
        await PutAsync(stream, [Entry("k", 6)]);
        Assert.Equal([6], (await ReadAsync(future, 1)).Records.Select(Value));
    }

    [Fact]
    public async Task ReadAsync_BehindTheTip_ReportsMillisBehindLatestAndZeroOnceCaughtUp()
    {
        var stream = await CreateStreamAsync(1);
        string shard = (await stream.ListShardsAsync())[0].ShardId;
        await PutAsync(stream, [Entry("k", 0), Entry("k", 1)]);
        if (ReportsMillisBehindLatest) await AdvanceTimeAsync(TimeSpan.FromSeconds(5)); // the lag to report (an implementation known not to report it need not wait)
        await using var reader = await stream.OpenShardReaderAsync(shard, StartPosition.TrimHorizon);
        var first = await reader.ReadAsync(1, ReadWait);
        Assert.Single(first.Records);
        if (ReportsMillisBehindLatest) Assert.True(first.MillisBehindLatest >= 5000, $"MillisBehindLatest was {first.MillisBehindLatest}");
        else Assert.True(first.MillisBehindLatest >= 0, $"MillisBehindLatest was {first.MillisBehindLatest}");
        var rest = await ReadAsync(reader, 1);
        Assert.Single(rest.Records);
        Assert.Equal(0, rest.Last.MillisBehindLatest);
    }

    [Fact]
    public async Task ReadAsync_NoRecordsYet_WaitsForARecordPutMeanwhile()
    {
        var stream = await CreateStreamAsync(1);
        string shard = (await stream.ListShardsAsync())[0].ShardId;
        await using var reader = await stream.OpenShardReaderAsync(shard, StartPosition.Latest);
        var read = reader.ReadAsync(10, TimeSpan.FromMinutes(5)).AsTask();
        await PutAsync(stream, [Entry("k", 42)]);
        var result = await read;
        Assert.Equal([42], result.Records.Select(Value));
        Assert.False(result.EndOfShard);
    }

    [Fact]
    public async Task OpenShardReader_UnknownShardOrForeignPosition_ThrowsNamingThem()
    {
        var stream = await CreateStreamAsync(1);
        string shard = (await stream.ListShardsAsync())[0].ShardId;
        var unknown = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await stream.OpenShardReaderAsync("shardId-000000000777", StartPosition.TrimHorizon));
        Assert.Contains("shardId-000000000777", unknown.Message);
        Assert.Throws<ArgumentException>(() => StartPosition.AtSequenceNumber("12a"));
        if (!RejectsForeignSequenceNumbers) return;
        var beyond = await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await stream.OpenShardReaderAsync(shard, StartPosition.AfterSequenceNumber("999999999999999999999999999999999999999999999999999999999")));
        Assert.Contains(shard, beyond.Message);
    }

    [Fact]
    public async Task SplitShard_ParentClosesAndChildrenAreListedWithLineage()
    {
        var stream = await CreateStreamAsync(1);
        var parent = (await stream.ListShardsAsync())[0];
        var put = await PutAsync(stream, Enumerable.Range(0, 5).Select(i => Entry("k" + i, i)));
        var middle = BigInteger.One << 127;
        await SplitShardAsync(stream, parent.ShardId, middle);

        var shards = await stream.ListShardsAsync();
        Assert.Equal(3, shards.Count);
        var closed = Single(shards, parent.ShardId);
        Assert.False(closed.IsOpen);
        if (ReportsEndingSequenceNumber)
            Assert.True(SequenceNumbers.Compare(closed.SequenceNumberRange.EndingSequenceNumber, put.Records[^1].SequenceNumber) >= 0);
        var children = shards.Where(s => s.ParentShardId == parent.ShardId).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
        Assert.Equal(2, children.Count);
        Assert.All(children, c => Assert.True(c.IsOpen));
        Assert.All(children, c => Assert.Null(c.AdjacentParentShardId));
        Assert.All(children, c => Assert.True(SequenceNumbers.Compare(c.SequenceNumberRange.StartingSequenceNumber, closed.SequenceNumberRange.EndingSequenceNumber) > 0));
        Assert.Equal(new HashKeyRange(0, middle - 1), children[0].HashKeyRange);
        Assert.Equal(new HashKeyRange(middle, HashKeyRange.MaxHashKey), children[1].HashKeyRange);
        // Parents are listed before their children.
        Assert.True(shards.ToList().FindIndex(s => s.ShardId == parent.ShardId) < shards.ToList().FindIndex(s => s.ShardId == children[0].ShardId));
    }

    [Fact]
    public async Task SplitShard_ParentReadToItsEnd_SaysEndOfShardAndNamesTheChildren()
    {
        var stream = await CreateStreamAsync(1);
        string parent = (await stream.ListShardsAsync())[0].ShardId;
        await PutAsync(stream, Enumerable.Range(0, 5).Select(i => Entry("k" + i, i)));
        await using var reader = await stream.OpenShardReaderAsync(parent, StartPosition.TrimHorizon);
        Assert.Equal(2, (await reader.ReadAsync(2, ReadWait)).Records.Count);
        await SplitShardAsync(stream, parent, BigInteger.One << 127);

        var (records, last) = await ReadAsync(reader, 10);
        Assert.Equal(Enumerable.Range(2, 3), records.Select(Value)); // the parent's unread records are still there
        Assert.True(last.EndOfShard);
        var children = (await stream.ListShardsAsync()).Where(s => s.ParentShardId == parent).Select(s => s.ShardId).Order();
        Assert.Equal(children, last.ChildShardIds.Order());
    }

    [Fact]
    public async Task SplitShard_LaterPuts_GoToTheChildCoveringTheirHashKeyWithHigherSequenceNumbers()
    {
        var stream = await CreateStreamAsync(1);
        string parent = (await stream.ListShardsAsync())[0].ShardId;
        var before = await PutAsync(stream, Enumerable.Range(0, 20).Select(i => Entry("k" + i, i)));
        await SplitShardAsync(stream, parent, BigInteger.One << 127);
        var children = (await stream.ListShardsAsync()).Where(s => s.ParentShardId == parent).ToList();
        var keys = Enumerable.Range(0, 100).Select(i => "after-" + i).ToList();
        var after = await PutAsync(stream, keys.Select((k, i) => Entry(k, 100 + i)));
        string parentLast = before.Records.Select(r => r.SequenceNumber!).Max(Comparer<string>.Create(SequenceNumbers.Compare))!;
        for (int i = 0; i < keys.Count; i++)
        {
            var child = children.Single(c => c.HashKeyRange.Contains(HashKeyRange.HashOf(keys[i])));
            Assert.Equal(child.ShardId, after.Records[i].ShardId);
            Assert.True(SequenceNumbers.Compare(after.Records[i].SequenceNumber, parentLast) > 0);
        }
        foreach (var child in children)
        {
            await using var reader = await stream.OpenShardReaderAsync(child.ShardId, StartPosition.TrimHorizon);
            int expected = after.Records.Count(r => r.ShardId == child.ShardId);
            Assert.True(expected > 0, $"no key of 100 went to {child.ShardId}");
            var (records, last) = await ReadAsync(reader, expected);
            Assert.Equal(expected, records.Count);
            Assert.False(last.EndOfShard);
        }
    }

    [Fact]
    public async Task MergeShards_BothParentsCloseAndOneChildCoversBothRanges()
    {
        var stream = await CreateStreamAsync(2);
        var shards = (await stream.ListShardsAsync()).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
        var put = await PutAsync(stream, Enumerable.Range(0, 40).Select(i => Entry("k" + i, i)));
        await MergeShardsAsync(stream, shards[0].ShardId, shards[1].ShardId);

        var listed = await stream.ListShardsAsync();
        Assert.Equal(3, listed.Count);
        var child = Assert.Single(listed, s => s.IsOpen);
        Assert.Equal(shards[0].ShardId, child.ParentShardId);
        Assert.Equal(shards[1].ShardId, child.AdjacentParentShardId);
        Assert.Equal(new HashKeyRange(0, HashKeyRange.MaxHashKey), child.HashKeyRange);
        foreach (var p in shards)
        {
            var closed = Single(listed, p.ShardId);
            Assert.False(closed.IsOpen);
            Assert.True(SequenceNumbers.Compare(child.SequenceNumberRange.StartingSequenceNumber, closed.SequenceNumberRange.EndingSequenceNumber) > 0);
            await using var reader = await stream.OpenShardReaderAsync(p.ShardId, StartPosition.TrimHorizon);
            int expected = put.Records.Count(r => r.ShardId == p.ShardId);
            var (records, last) = await ReadAsync(reader, expected + 1);
            Assert.Equal(expected, records.Count);
            Assert.True(last.EndOfShard);
            Assert.Equal([child.ShardId], last.ChildShardIds);
        }
        var later = await PutAsync(stream, [Entry("x", 1), Entry("y", 2)]);
        Assert.All(later.Records, r => Assert.Equal(child.ShardId, r.ShardId));
    }

    [Fact]
    public async Task MergeShards_NotAdjacent_IsRefused()
    {
        var stream = await CreateStreamAsync(3);
        var shards = (await stream.ListShardsAsync()).OrderBy(s => s.HashKeyRange.StartingHashKey).ToList();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => MergeShardsAsync(stream, shards[0].ShardId, shards[2].ShardId));
        Assert.All(await stream.ListShardsAsync(), s => Assert.True(s.IsOpen));
    }

    [Fact]
    public async Task PutRecords_BoundedShardFull_OnlyTheRefusedEntriesFail()
    {
        var stream = await CreateBoundedStreamAsync(maxRecords: 5);
        var result = await stream.PutRecordsAsync([.. Enumerable.Range(0, 8).Select(i => Entry("k", i))]);
        Assert.Equal(3, result.FailedRecordCount);
        Assert.All(result.Records.Take(5), r => Assert.True(r.Succeeded));
        Assert.All(result.Records.Skip(5), r =>
        {
            Assert.Equal("ProvisionedThroughputExceededException", r.ErrorCode);
            Assert.Null(r.SequenceNumber);
            Assert.False(string.IsNullOrEmpty(r.ErrorMessage));
        });
        string shard = result.Records[0].ShardId!;
        await using var reader = await stream.OpenShardReaderAsync(shard, StartPosition.TrimHorizon);
        Assert.Equal(Enumerable.Range(0, 5), (await ReadAsync(reader, 5)).Records.Select(Value)); // nothing refused was stored
    }
}
