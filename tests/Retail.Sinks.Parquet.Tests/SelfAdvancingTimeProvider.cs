using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that moves itself forward by each timer's due time as the timer is created, so an
/// awaited delay (a retry's back-off) ends at once, in fake time, with no sleeping and no clock-driving loop. It records
/// every delay asked for, in order.
/// </summary>
internal sealed class SelfAdvancingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero))
{
    private readonly ConcurrentQueue<TimeSpan> _delays = new();

    /// <summary>The delays asked for, in order.</summary>
    public IReadOnlyList<TimeSpan> Delays => [.. _delays];

    /// <summary>Called with each delay before the clock moves past it.</summary>
    public Action<TimeSpan>? OnDelay { get; set; }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _delays.Enqueue(dueTime);
            OnDelay?.Invoke(dueTime);
            Advance(dueTime);
        }
        return timer;
    }
}
