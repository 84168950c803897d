namespace Retail.Streaming;

/// <summary>
/// What a consumer does with records, one shard at a time: delivery to an object store and the speed layer's
/// upserts are processors. A <see cref="StreamConsumer"/> owns the shard loop (listing, lineage, reads, checkpoints,
/// shutdown) and runs one <see cref="IShardProcessor"/> per shard; a Lambda handler, which receives one shard's batch
/// per invocation, opens a shard processor, gives it the batch and flushes it before it returns. Deterministic object
/// keys and document ids keep a batch processed twice (a retry, a re-read after a crash) from duplicating anything.
/// </summary>
public interface IBatchProcessor
{
    /// <summary>Opens the processor of one shard, resuming from <see cref="ShardProcessorContext.Checkpoint"/> when there is one.</summary>
    ValueTask<IShardProcessor> OpenShardAsync(ShardProcessorContext context, CancellationToken cancellationToken = default);
}

/// <summary>Which shard a processor serves and where it resumes.</summary>
/// <param name="StreamName">The stream (it goes into object keys and document ids).</param>
/// <param name="ShardId">The shard.</param>
/// <param name="Checkpoint">The last checkpoint saved for this consumer and shard (its position and the processor's state), or null.</param>
public sealed record ShardProcessorContext(string StreamName, string ShardId, Checkpoint? Checkpoint);

/// <summary>
/// The processor of one shard. Calls come from one worker at a time, in sequence-number order. A processor may
/// buffer; every result says up to which record its work is durable, and the consumer checkpoints exactly that.
/// An operation that is cancelled or throws leaves the processor consistent: what it had not taken is not covered
/// by any later result (it is re-read after a restart), what it buffered is still buffered.
/// </summary>
public interface IShardProcessor : IAsyncDisposable
{
    /// <summary>
    /// Takes a batch (possibly empty: the consumer calls with no records once <see cref="NextDeadline"/> passes, so
    /// time-based buffers are written on time).
    /// </summary>
    /// <returns>The position through which everything taken so far is durable, with the processor's state; null while nothing is.</returns>
    ValueTask<Checkpoint?> ProcessAsync(ShardBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Makes everything taken durable now (writes every buffer).</summary>
    /// <returns>The position of the last record taken (or the resume position when none was), with the processor's state.</returns>
    ValueTask<Checkpoint?> FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// How long the consumer may wait for more records before it must call <see cref="ProcessAsync"/> again (the
    /// oldest buffer's time left); null when nothing is buffered.
    /// </summary>
    TimeSpan? NextDeadline { get; }

    /// <summary>Records taken but not durable yet (what a shutdown that cannot flush leaves to be re-read).</summary>
    int BufferedRecords { get; }
}

/// <summary>One read of a shard, as a processor sees it.</summary>
/// <param name="Records">The records, in sequence-number order (possibly none).</param>
public sealed record ShardBatch(IReadOnlyList<StreamRecord> Records)
{
    /// <summary>How far behind the tip of the stream the read was, in milliseconds.</summary>
    public long MillisBehindLatest { get; init; }

    /// <summary>
    /// Set when a bounded stream refuses producers until its consumers checkpoint (see <see cref="ShardBackpressure"/>):
    /// a processor whose durable position is at or before it should write its buffers now.
    /// </summary>
    public ShardBackpressure? Backpressure { get; init; }

    /// <summary>A batch with no records.</summary>
    public static ShardBatch Empty { get; } = new([]);
}
