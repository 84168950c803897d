namespace Retail.Core.Tests.Streaming;

/// <summary>Counts records a consumer read and completes waiters once the count reaches theirs (thread-safe: shards read at once).</summary>
internal sealed class ReadCounter
{
    private readonly Lock _lock = new();
    private readonly List<(long Count, TaskCompletionSource Reached)> _waiters = [];
    private long _read;

    /// <summary>Completes once at least <paramref name="count"/> records have been read.</summary>
    public Task ReadAtLeastAsync(long count)
    {
        lock (_lock)
        {
            if (_read >= count) return Task.CompletedTask;
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, tcs));
            return tcs.Task;
        }
    }

    public void Add(int n)
    {
        lock (_lock)
        {
            _read += n;
            foreach (var w in _waiters.Where(w => _read >= w.Count).ToList())
            {
                w.Reached.SetResult();
                _waiters.Remove(w);
            }
        }
    }
}
