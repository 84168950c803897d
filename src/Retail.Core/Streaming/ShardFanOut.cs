namespace Retail.Streaming;

/// <summary>
/// Runs one worker per shard and fails fast: the first worker that faults cancels the others, and its exception
/// is what the caller sees. (With a plain <c>Task.WhenAll</c> a failed shard would go unnoticed while the healthy
/// shards of a live stream run on.)
/// </summary>
internal static class ShardFanOut
{
    public static async Task RunAsync(IReadOnlyList<string> shards, Func<string, CancellationToken, Task> worker, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? first = null;
        var tasks = shards.Select(shard => Task.Run(async () =>
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
        }, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch when (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }
}
