using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

public sealed class ShardFanOutTests
{
    [Fact]
    public async Task RunAsync_OneShardFails_OthersAreCancelledAndTheFailureIsThrown()
    {
        var otherSawCancellation = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var otherStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = ShardFanOut.RunAsync(["shard-0", "shard-1"], async (shard, ct) =>
        {
            if (shard == "shard-0")
            {
                await otherStarted.Task;
                throw new IOException("writes keep failing");
            }
            otherStarted.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct); // a healthy shard of a live stream never ends by itself
            }
            catch (OperationCanceledException)
            {
                otherSawCancellation.SetResult(true);
                throw;
            }
        }, CancellationToken.None);

        var e = await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal("writes keep failing", e.Message);
        Assert.True(await otherSawCancellation.Task);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_ThrowsCancellation()
    {
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = ShardFanOut.RunAsync(["a", "b"], async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, cts.Token);
        await started.Task;
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task RunAsync_AllShardsEnd_Completes()
    {
        int done = 0;
        await ShardFanOut.RunAsync(["a", "b", "c"], (_, _) => { Interlocked.Increment(ref done); return Task.CompletedTask; }, CancellationToken.None);
        Assert.Equal(3, done);
    }

    [Fact]
    public async Task RunAsync_MergedChild_StartsOnlyAfterBothParentsFinish()
    {
        // 0 and 1 were merged into 2 (parents closed); the stream lists all three.
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        stream.MergeShards("shardId-000000000000", "shardId-000000000001");
        var releaseSecondParent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstParentDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var run = ShardFanOut.RunAsync(stream, async (listed, _) =>
        {
            string shard = listed.ShardId;
            order.Enqueue("start " + shard);
            if (shard == "shardId-000000000001") await releaseSecondParent.Task;
            order.Enqueue("end " + shard);
            if (shard == "shardId-000000000000") firstParentDone.SetResult();
        }, CancellationToken.None);

        await firstParentDone.Task;
        Assert.DoesNotContain("start shardId-000000000002", order); // one parent is still running
        releaseSecondParent.SetResult();
        await run;

        var events = order.ToList();
        Assert.Equal(6, events.Count);
        Assert.True(events.IndexOf("start shardId-000000000002") > events.IndexOf("end shardId-000000000000"));
        Assert.True(events.IndexOf("start shardId-000000000002") > events.IndexOf("end shardId-000000000001"));
    }

    [Fact]
    public async Task RunAsync_ListingFails_RunningWorkersAreCancelledAndTheFailureIsThrown()
    {
        int listings = 0;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = new FailingSecondListing(() => Interlocked.Increment(ref listings));
        var run = ShardFanOut.RunAsync(stream, async (shard, ct) =>
        {
            if (shard.ShardId == "a") return; // ends at once: the fan-out lists again, and that listing fails
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                stopped.TrySetResult();
            }
        }, CancellationToken.None);

        var e = await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal("ListShards failed", e.Message);
        await stopped.Task;
        Assert.Equal(2, listings);
    }

    private sealed class FailingSecondListing(Func<int> count) : IRecordStream
    {
        public string StreamName => "s";

        public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default)
        {
            if (count() > 1) throw new IOException("ListShards failed");
            var range = new HashKeyRange(0, HashKeyRange.MaxHashKey);
            return ValueTask.FromResult<IReadOnlyList<ShardDescription>>([
                new ShardDescription("a", null, null, range, new SequenceNumberRange("1", "5")),
                new ShardDescription("b", null, null, range, new SequenceNumberRange("1", null))]);
        }

        public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
