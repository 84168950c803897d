namespace Retail;

/// <summary>Exponential back-off with full jitter, shared by every engine that retries (one policy, one place).</summary>
internal static class Backoff
{
    /// <summary>A random delay in (0, min(max, base·2^attempt)], at least 1 ms.</summary>
    public static TimeSpan Jittered(int attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        double cap = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(Math.Max(1, Random.Shared.NextDouble() * cap));
    }
}
