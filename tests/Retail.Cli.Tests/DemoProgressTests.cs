using Microsoft.Extensions.Time.Testing;

namespace Retail.Cli.Tests;

/// <summary>The demo's progress loop wakes when a running stage ends or once a tick; an ended stage never makes it spin.</summary>
public class DemoProgressTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task NextTick_OneStageEnded_WaitsForTheTickOrARunningStage()
    {
        var time = new FakeTimeProvider();
        var delivering = new TaskCompletionSource();
        // The producer has ended; delivery is still writing (seconds, on a 1M-record demo).
        Task[] stages = [Task.CompletedTask, delivering.Task];

        var wait = DemoCommand.NextTickAsync(stages, Tick, time);
        // Before the fix this wait was complete at once (WhenAny over an ended stage), and the loop spun on a core.
        Assert.False(wait.IsCompleted);
        time.Advance(Tick - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));

        var next = DemoCommand.NextTickAsync(stages, Tick, time);
        Assert.False(next.IsCompleted);
        delivering.SetResult();
        await next.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void NextTick_EveryStageEnded_CompletesAtOnce()
    {
        var wait = DemoCommand.NextTickAsync([Task.CompletedTask, Task.FromException(new InvalidOperationException("x"))], Tick, new FakeTimeProvider());
        Assert.True(wait.IsCompletedSuccessfully);
    }
}
