namespace Retail.Streaming;

/// <summary>
/// Runs one worker per shard, in lineage order, and fails fast: a shard's worker starts only once the workers of
/// its parents (both, after a merge) have finished, i.e. read to the end of the parent and checkpointed; whenever a
/// worker finishes the shards are listed again, so the children of a split or merge are picked up. The first
/// worker that faults cancels the others, and its exception is what the caller sees. (With a plain
/// <c>Task.WhenAll</c> a failed shard would go unnoticed while the healthy shards of a live stream run on.)
/// </summary>
internal static class ShardFanOut
{
    /// <summary>Runs a worker for every shard of <paramref name="stream"/>, parents before children; each worker gets its shard as listed.</summary>
    public static Task RunAsync(IRecordStream stream, Func<ShardDescription, CancellationToken, Task> worker, CancellationToken cancellationToken) =>
        RunAsync(stream.ListShardsAsync, worker, cancellationToken);

    /// <summary>Runs a worker for each of a fixed set of shards without lineage (all at once).</summary>
    public static Task RunAsync(IReadOnlyList<string> shards, Func<string, CancellationToken, Task> worker, CancellationToken cancellationToken)
    {
        IReadOnlyList<ShardDescription> fixedSet = [.. shards.Select(id => new ShardDescription(id, null, null,
            new HashKeyRange(0, HashKeyRange.MaxHashKey), new SequenceNumberRange("0", null)))];
        return RunAsync(_ => ValueTask.FromResult(fixedSet), (shard, ct) => worker(shard.ShardId, ct), cancellationToken);
    }

    private static async Task RunAsync(Func<CancellationToken, ValueTask<IReadOnlyList<ShardDescription>>> listShards,
        Func<ShardDescription, CancellationToken, Task> worker, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? first = null;
        var started = new HashSet<string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var running = new Dictionary<Task, string>();

        Task Start(ShardDescription shard) => Task.Run(async () =>
        {
            try
            {
                await worker(shard, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref first, e, null);
                await linked.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, CancellationToken.None);

        try
        {
            while (true)
            {
                var shards = await listShards(linked.Token).ConfigureAwait(false);
                var listed = new HashSet<string>(shards.Select(s => s.ShardId), StringComparer.Ordinal);
                foreach (var shard in shards)
                {
                    // A parent that is no longer listed has expired (nothing of it is left to read).
                    if (started.Contains(shard.ShardId) || !shard.Parents().All(p => finished.Contains(p) || !listed.Contains(p))) continue;
                    started.Add(shard.ShardId);
                    running.Add(Start(shard), shard.ShardId);
                }
                if (running.Count == 0) return;
                var done = await Task.WhenAny(running.Keys).ConfigureAwait(false);
                string id = running[done];
                running.Remove(done);
                await done.ConfigureAwait(false); // a fault or cancellation ends the run (the others are cancelled below)
                finished.Add(id);
            }
        }
        catch (Exception)
        {
            // Whatever ended the run (a worker's fault, the caller's cancellation, a failed listing) stops the rest.
            await linked.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(running.Keys).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // They end with the first failure or with the cancellation; what ended the run is reported below.
            }
            if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
    }
}
