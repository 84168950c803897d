namespace Retail.Streaming;

/// <summary>
/// Runs one shard's batch through an <see cref="IBatchProcessor"/> the way a Lambda handler with a Kinesis event source
/// must: everything taken is flushed before it returns, and it answers which records are not safely handled, so the
/// handler can return them as a partial batch response (<c>batchItemFailures</c>) and Lambda retries from the lowest.
/// </summary>
/// <remarks>
/// With a checkpoint store, the batch resumes from the consumer's saved checkpoint: records at or before it are skipped
/// (a retried or re-delivered event writes nothing twice), the processor gets the checkpoint's state, and the new
/// checkpoint is saved after the flush. Without one (an idempotent processor such as the speed layer, whose document
/// ids derive from the record's position), every record is processed.
/// </remarks>
public static class BatchInvocation
{
    /// <summary>
    /// How long the checkpoint save may take once <c>cancellationToken</c> (the deadline) has fired: 500 ms, well inside a
    /// Lambda host's smallest margin (1 s); a save that takes longer is given up, and its records are reported as failed.
    /// </summary>
    public static readonly TimeSpan LateSaveTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Processes and flushes <paramref name="records"/> of one shard. A failure of the processor or of the checkpoint
    /// store, or <paramref name="cancellationToken"/> (the invocation's deadline), is not thrown: it is returned in
    /// <see cref="BatchInvocationResult.Failure"/>, with the records not safely stored listed as failed: every record after
    /// the last durable position, less those a processor implementing <see cref="IShardProgress"/> says are stored.
    /// </summary>
    /// <param name="processor">The processor (delivery, speed layer, …).</param>
    /// <param name="streamName">The stream the records come from (it goes into object keys and document ids).</param>
    /// <param name="shardId">Their shard.</param>
    /// <param name="records">The shard's records, in any order (they are processed in sequence-number order).</param>
    /// <param name="checkpoints">Where the consumer's checkpoints live, or null for none.</param>
    /// <param name="consumerName">The consumer name of the checkpoints (required with <paramref name="checkpoints"/>).</param>
    /// <param name="cancellationToken">Cancelled when the handler must stop and report (before the invocation's deadline).</param>
    /// <exception cref="ArgumentException">A record is of another shard, or a checkpoint store is given without a consumer name.</exception>
    public static async Task<BatchInvocationResult> RunAsync(IBatchProcessor processor, string streamName, string shardId, IReadOnlyList<StreamRecord> records,
        ICheckpointStore? checkpoints = null, string? consumerName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(processor);
        ArgumentException.ThrowIfNullOrWhiteSpace(streamName);
        ArgumentException.ThrowIfNullOrWhiteSpace(shardId);
        ArgumentNullException.ThrowIfNull(records);
        if (checkpoints is not null) ArgumentException.ThrowIfNullOrWhiteSpace(consumerName);
        foreach (var r in records)
        {
            if (!string.Equals(r.ShardId, shardId, StringComparison.Ordinal))
                throw new ArgumentException($"Record {r.SequenceNumber} is of shard '{r.ShardId}', not '{shardId}'.", nameof(records));
        }
        var ordered = records.OrderBy(r => r.SequenceNumber, Comparer<string>.Create(SequenceNumbers.Compare)).ToList();

        Checkpoint? saved = null;
        Checkpoint? durable = null;
        IReadOnlyCollection<string> stored = [];
        Exception? failure = null;
        int skipped = 0;
        try
        {
            if (checkpoints is not null) saved = await checkpoints.LoadAsync(consumerName!, shardId, cancellationToken).ConfigureAwait(false);
            durable = saved;
            var fresh = saved?.SequenceNumber is { } done ? ordered.Where(r => SequenceNumbers.Compare(r.SequenceNumber, done) > 0).ToList() : ordered;
            skipped = ordered.Count - fresh.Count;
            var shard = await processor.OpenShardAsync(new ShardProcessorContext(streamName, shardId, saved), cancellationToken).ConfigureAwait(false);
            await using (shard.ConfigureAwait(false))
            {
                try
                {
                    if (fresh.Count > 0) durable = await shard.ProcessAsync(new ShardBatch(fresh), cancellationToken).ConfigureAwait(false) ?? durable;
                    durable = await shard.FlushAsync(cancellationToken).ConfigureAwait(false) ?? durable;
                }
#pragma warning disable CA1031 // Reported in the result, with what the processor made durable before it failed.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failure = e;
                    if (shard is IShardProgress progress)
                    {
                        durable = progress.Durable ?? durable;
                        stored = progress.StoredPastDurable();
                    }
                }
            }
            if (checkpoints is not null && durable is not null && !durable.SamePosition(saved))
            {
                try
                {
                    // Past the deadline, still save what is durable, but only briefly: the invocation must answer in time.
                    using var late = cancellationToken.IsCancellationRequested ? new CancellationTokenSource(LateSaveTimeout) : null;
                    await checkpoints.SaveAsync(consumerName!, shardId, durable, late?.Token ?? cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // The work is stored, but without its checkpoint a retry must redo it from the saved one.
                    durable = saved;
                    stored = [];
                    throw;
                }
            }
        }
#pragma warning disable CA1031 // A handler reports every failure in its response; nothing escapes as a silent success or a crash.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure ??= e;
        }
        string? through = durable?.SequenceNumber;
        var failed = ordered.Where(r => SequenceNumbers.Compare(r.SequenceNumber, through) > 0 && !stored.Contains(r.SequenceNumber)).Select(r => r.SequenceNumber).ToList();
        if (failure is null && failed.Count > 0)
            failure = new InvalidOperationException($"The processor flushed but reported shard {shardId} durable only through {through ?? "nothing"}; {failed.Count} records are not safely stored.");
        return new BatchInvocationResult(failed, skipped, failure);
    }
}

/// <summary>
/// Optional for an <see cref="IShardProcessor"/>: what is durable now — also after a call that failed or was cancelled
/// midway — so that <see cref="BatchInvocation"/> checkpoints it and reports as failed exactly the records that are not
/// stored. The delivery and speed-layer processors implement it.
/// </summary>
public interface IShardProgress
{
    /// <summary>The position (with the processor's state) through which every record taken is durable now; null while nothing is.</summary>
    Checkpoint? Durable { get; }

    /// <summary>
    /// The sequence numbers of records taken past <see cref="Durable"/> that are stored all the same (their documents were
    /// indexed, or their objects written, before a later part of the batch failed).
    /// </summary>
    IReadOnlyCollection<string> StoredPastDurable();
}

/// <summary>Outcome of <see cref="BatchInvocation.RunAsync"/>.</summary>
/// <param name="FailedSequenceNumbers">The sequence numbers of the records not safely handled, in order (empty when all are): a Lambda handler returns them as <c>batchItemFailures</c>.</param>
/// <param name="RecordsSkipped">Records at or before the saved checkpoint (already done by an earlier invocation), skipped.</param>
/// <param name="Failure">Why some records are not safe (the processor's or the checkpoint store's exception, or the cancellation), or null.</param>
public sealed record BatchInvocationResult(IReadOnlyList<string> FailedSequenceNumbers, int RecordsSkipped, Exception? Failure)
{
    /// <summary>True when every record is safely handled.</summary>
    public bool Succeeded => FailedSequenceNumbers.Count == 0 && Failure is null;
}
