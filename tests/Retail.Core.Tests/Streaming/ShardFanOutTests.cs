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
}
