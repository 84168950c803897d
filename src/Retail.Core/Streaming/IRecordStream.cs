namespace Retail.Streaming;

/// <summary>
/// A sharded, ordered record stream with Kinesis semantics: producers put batches of records, each
/// routed to a shard by the hash of its partition key; consumers read each shard in sequence-number
/// order from a position of their choosing. Implementations: the bounded in-process stream (the
/// embedded default) and Kinesis.
/// </summary>
public interface IRecordStream
{
    /// <summary>The stream's name (it appears in delivered object names).</summary>
    string StreamName { get; }

    /// <summary>The ids of the stream's shards.</summary>
    ValueTask<IReadOnlyList<string>> ListShardsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a batch (at most <see cref="StreamLimits.MaxRecordsPerPut"/> records). Entries can fail one
    /// by one (throttling, a full shard): the result says which, in the same order, so the caller
    /// resends only those.
    /// </summary>
    ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records of one shard that come after
    /// <paramref name="afterSequenceNumber"/> (from the oldest retained record when null), waiting up to
    /// <paramref name="maxWait"/> for some to arrive when there are none.
    /// </summary>
    ValueTask<ShardReadResult> ReadAsync(string shardId, string? afterSequenceNumber, int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default);
}

/// <summary>One record to put.</summary>
/// <param name="PartitionKey">Chooses the shard (1–256 characters).</param>
/// <param name="Data">The payload (at most 1 MiB).</param>
public readonly record struct PutRecordsEntry(string PartitionKey, ReadOnlyMemory<byte> Data);

/// <summary>Outcome of one entry of a put, in request order.</summary>
/// <param name="ShardId">Where it went, when it succeeded.</param>
/// <param name="SequenceNumber">Its sequence number, when it succeeded.</param>
/// <param name="ErrorCode">Why it failed (e.g. <c>ProvisionedThroughputExceededException</c>), or null.</param>
/// <param name="ErrorMessage">Details of the failure, or null.</param>
public readonly record struct PutRecordsResultEntry(string? ShardId, string? SequenceNumber, string? ErrorCode, string? ErrorMessage)
{
    /// <summary>True when the record was stored.</summary>
    public bool Succeeded => ErrorCode is null;
}

/// <summary>Outcome of a put.</summary>
/// <param name="FailedRecordCount">How many entries failed.</param>
/// <param name="Records">One result per entry, in request order.</param>
public sealed record PutRecordsResult(int FailedRecordCount, IReadOnlyList<PutRecordsResultEntry> Records);

/// <summary>A record as read from a shard.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="SequenceNumber">Its position in the shard (decimal digits; compare with <see cref="SequenceNumbers.Compare"/>).</param>
/// <param name="PartitionKey">The producer's partition key.</param>
/// <param name="ApproximateArrivalTimestamp">When the stream accepted it.</param>
/// <param name="Data">The payload.</param>
public sealed record StreamRecord(string ShardId, string SequenceNumber, string PartitionKey, DateTimeOffset ApproximateArrivalTimestamp, ReadOnlyMemory<byte> Data);

/// <summary>Outcome of a shard read.</summary>
/// <param name="Records">The records, in sequence-number order (possibly none).</param>
/// <param name="EndOfShard">True when the shard is closed and every record has been read: no more will come.</param>
/// <param name="Backpressure">
/// Set by a bounded stream (the in-process one) when it is refusing puts to this shard until its consumers
/// checkpoint; null otherwise, and always null on Kinesis, whose retention does not depend on consumers.
/// </param>
public sealed record ShardReadResult(IReadOnlyList<StreamRecord> Records, bool EndOfShard, ShardBackpressure? Backpressure = null);

/// <summary>
/// A bounded stream is full for one shard: producers are refused until the slowest consumer checkpoints past
/// <see cref="HeldAfter"/>. A consumer whose own checkpoint is at or before <see cref="HeldAfter"/> is holding the
/// shard back and should write what it buffers and checkpoint now, instead of waiting for its buffer hints
/// (which bound object size and latency; they must not throttle ingestion). Use <see cref="IsHeldBy"/>.
/// </summary>
/// <param name="HeldAfter">The sequence number through which the stream has released records (the position before its oldest held record).</param>
public sealed record ShardBackpressure(string? HeldAfter)
{
    /// <summary>True when a consumer checkpointed at <paramref name="checkpoint"/> is among those holding the shard.</summary>
    public bool IsHeldBy(string? checkpoint) => SequenceNumbers.Compare(checkpoint, HeldAfter) <= 0;
}

/// <summary>Kinesis's limits, which Retail enforces itself (emulators do not).</summary>
public static class StreamLimits
{
    /// <summary>Records per PutRecords call.</summary>
    public const int MaxRecordsPerPut = 500;
    /// <summary>Bytes per PutRecords call (data plus partition keys).</summary>
    public const int MaxBytesPerPut = 5 * 1024 * 1024;
    /// <summary>Bytes per record (data plus partition key).</summary>
    public const int MaxRecordBytes = 1024 * 1024;
    /// <summary>Longest partition key, in characters.</summary>
    public const int MaxPartitionKeyLength = 256;
}

/// <summary>Kinesis sequence numbers: decimal digit strings that order by numeric value.</summary>
public static class SequenceNumbers
{
    /// <summary>Compares two sequence numbers numerically (a null position sorts first).</summary>
    public static int Compare(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
        var x = a.AsSpan().TrimStart('0');
        var y = b.AsSpan().TrimStart('0');
        if (x.Length != y.Length) return x.Length.CompareTo(y.Length);
        return x.SequenceCompareTo(y);
    }
}

/// <summary>
/// Where each consumer of a stream is: for every (consumer, shard), a sequence number up to which
/// everything is done, plus the consumer's own state. Written only after the work it covers is
/// durable (at-least-once).
/// </summary>
public interface ICheckpointStore
{
    /// <summary>The last saved checkpoint, or null when the consumer has none for that shard.</summary>
    ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default);

    /// <summary>Saves a checkpoint durably.</summary>
    ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default);
}

/// <summary>A consumer's position in one shard.</summary>
/// <param name="SequenceNumber">Every record up to and including this one is done (null: none yet).</param>
/// <param name="State">Consumer-specific state that goes with the position (e.g. what was written beyond it), or null.</param>
public sealed record Checkpoint(string? SequenceNumber, string? State = null);
