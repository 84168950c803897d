namespace Retail.Streaming;

/// <summary>
/// A sharded, ordered record stream with Kinesis semantics: producers put batches of records, each
/// routed to a shard by the hash of its partition key; consumers read each shard in sequence-number
/// order through a stateful <see cref="IShardReader"/> opened at a <see cref="StartPosition"/>, and shards are
/// split and merged with lineage (<see cref="ShardDescription"/>). The embedded default is the bounded in-process
/// stream; every implementation passes the stream conformance tests.
/// </summary>
public interface IRecordStream : IRecordPutTarget
{
    /// <summary>
    /// Every shard of the stream with its lineage (Kinesis <c>ListShards</c>): open shards and closed ones whose
    /// records may still be read, parents before their children (ordered by shard id, as Kinesis lists them).
    /// </summary>
    ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a reader of one shard at <paramref name="start"/> (Kinesis <c>GetShardIterator</c>). The reader keeps
    /// its position between reads (on Kinesis it holds the shard iterator); dispose it when done.
    /// </summary>
    /// <exception cref="ArgumentException">The stream has no such shard, or the position's sequence number is not one of the shard's (the message names both).</exception>
    ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default);
}

/// <summary>
/// A stateful reader of one shard (Kinesis <c>GetRecords</c> over a shard iterator): each read continues after the
/// last record the previous read returned. Not thread-safe: one reader serves one worker.
/// </summary>
public interface IShardReader : IAsyncDisposable
{
    /// <summary>The shard being read.</summary>
    string ShardId { get; }

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records after the reader's position, waiting up to
    /// <paramref name="maxWait"/> for some to arrive when there are none, and moves the position past them.
    /// </summary>
    ValueTask<ShardReadResult> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default);
}

/// <summary>Where a shard reader starts (Kinesis's <c>ShardIteratorType</c>).</summary>
public enum StartPositionType
{
    /// <summary>At the oldest record the stream still holds (<c>TRIM_HORIZON</c>).</summary>
    TrimHorizon,
    /// <summary>Just after the most recent record: only records put later are read (<c>LATEST</c>).</summary>
    Latest,
    /// <summary>At the record with the given sequence number (<c>AT_SEQUENCE_NUMBER</c>).</summary>
    AtSequenceNumber,
    /// <summary>Right after the record with the given sequence number (<c>AFTER_SEQUENCE_NUMBER</c>).</summary>
    AfterSequenceNumber,
    /// <summary>At the first record that arrived at or after the given time (<c>AT_TIMESTAMP</c>).</summary>
    AtTimestamp,
}

/// <summary>A shard reader's start position. Use the factories: <see cref="TrimHorizon"/>, <see cref="AtSequenceNumber"/>, …</summary>
/// <param name="Type">The kind of position.</param>
/// <param name="SequenceNumber">For <see cref="StartPositionType.AtSequenceNumber"/> and <see cref="StartPositionType.AfterSequenceNumber"/>.</param>
/// <param name="Timestamp">For <see cref="StartPositionType.AtTimestamp"/>.</param>
public readonly record struct StartPosition(StartPositionType Type, string? SequenceNumber = null, DateTimeOffset? Timestamp = null)
{
    /// <summary>The oldest record held.</summary>
    public static StartPosition TrimHorizon => new(StartPositionType.TrimHorizon);

    /// <summary>Only records put after the reader opens.</summary>
    public static StartPosition Latest => new(StartPositionType.Latest);

    /// <summary>At <paramref name="sequenceNumber"/>.</summary>
    public static StartPosition AtSequenceNumber(string sequenceNumber) =>
        new(StartPositionType.AtSequenceNumber, Required(sequenceNumber));

    /// <summary>Right after <paramref name="sequenceNumber"/> (how a consumer resumes after its checkpoint).</summary>
    public static StartPosition AfterSequenceNumber(string sequenceNumber) =>
        new(StartPositionType.AfterSequenceNumber, Required(sequenceNumber));

    /// <summary>At the first record whose approximate arrival time is at or after <paramref name="timestamp"/>.</summary>
    public static StartPosition AtTimestamp(DateTimeOffset timestamp) => new(StartPositionType.AtTimestamp, null, timestamp);

    /// <summary>After <paramref name="checkpoint"/> when there is one, else at the trim horizon.</summary>
    public static StartPosition AfterCheckpoint(string? checkpoint) => checkpoint is null ? TrimHorizon : AfterSequenceNumber(checkpoint);

    /// <summary>Kinesis's spelling, e.g. <c>AFTER_SEQUENCE_NUMBER 42</c>.</summary>
    public override string ToString() => Type switch
    {
        StartPositionType.TrimHorizon => "TRIM_HORIZON",
        StartPositionType.Latest => "LATEST",
        StartPositionType.AtSequenceNumber => $"AT_SEQUENCE_NUMBER {SequenceNumber}",
        StartPositionType.AfterSequenceNumber => $"AFTER_SEQUENCE_NUMBER {SequenceNumber}",
        StartPositionType.AtTimestamp => $"AT_TIMESTAMP {Timestamp:O}",
        _ => Type.ToString(),
    };

    private static string Required(string sequenceNumber)
    {
        if (string.IsNullOrEmpty(sequenceNumber) || sequenceNumber.AsSpan().ContainsAnyExceptInRange('0', '9'))
            throw new ArgumentException($"A sequence number is a string of decimal digits, got '{sequenceNumber}'.", nameof(sequenceNumber));
        return sequenceNumber;
    }
}

/// <summary>A shard and its lineage, as Kinesis <c>ListShards</c> describes it.</summary>
/// <param name="ShardId">The shard's id.</param>
/// <param name="ParentShardId">The shard it was split from, or the first of the two it was merged from; null for an original shard.</param>
/// <param name="AdjacentParentShardId">The second parent of a merge; null otherwise.</param>
/// <param name="HashKeyRange">The partition-key hashes it covers.</param>
/// <param name="SequenceNumberRange">Its sequence numbers; the ending one is set once the shard is closed.</param>
public sealed record ShardDescription(string ShardId, string? ParentShardId, string? AdjacentParentShardId, HashKeyRange HashKeyRange, SequenceNumberRange SequenceNumberRange)
{
    /// <summary>True while the shard takes new records (it has no ending sequence number).</summary>
    public bool IsOpen => SequenceNumberRange.EndingSequenceNumber is null;

    /// <summary>The parents that must be finished before this shard is read (zero, one or two ids).</summary>
    public IEnumerable<string> Parents()
    {
        if (ParentShardId is not null) yield return ParentShardId;
        if (AdjacentParentShardId is not null) yield return AdjacentParentShardId;
    }
}

/// <summary>
/// An inclusive range of 128-bit partition-key hashes (Kinesis gives them as decimal strings). A record goes to the
/// open shard whose range holds the MD5 of its partition key read as an unsigned big-endian number.
/// </summary>
/// <param name="StartingHashKey">The lowest hash in the range.</param>
/// <param name="EndingHashKey">The highest hash in the range.</param>
public sealed record HashKeyRange(System.Numerics.BigInteger StartingHashKey, System.Numerics.BigInteger EndingHashKey)
{
    /// <summary>The highest hash key, 2^128 − 1.</summary>
    public static System.Numerics.BigInteger MaxHashKey { get; } = (System.Numerics.BigInteger.One << 128) - 1;

    /// <summary>True when <paramref name="hashKey"/> is in the range.</summary>
    public bool Contains(System.Numerics.BigInteger hashKey) => hashKey >= StartingHashKey && hashKey <= EndingHashKey;

    /// <summary>Parses Kinesis's decimal strings.</summary>
    public static HashKeyRange Parse(string startingHashKey, string endingHashKey) =>
        new(System.Numerics.BigInteger.Parse(startingHashKey, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture),
            System.Numerics.BigInteger.Parse(endingHashKey, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The hash key of a partition key: MD5 of its UTF-8 bytes as an unsigned big-endian 128-bit number, as Kinesis computes it.</summary>
    public static System.Numerics.BigInteger HashOf(string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
#pragma warning disable CA5351 // MD5 is how Kinesis maps partition keys to shards; not used for security.
        return new System.Numerics.BigInteger(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(partitionKey)), isUnsigned: true, isBigEndian: true);
#pragma warning restore CA5351
    }
}

/// <summary>A shard's sequence numbers (decimal strings, as Kinesis gives them).</summary>
/// <param name="StartingSequenceNumber">At or below the shard's first record's.</param>
/// <param name="EndingSequenceNumber">At or above its last record's once the shard is closed; null while it is open.</param>
public sealed record SequenceNumberRange(string StartingSequenceNumber, string? EndingSequenceNumber);

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
/// <param name="EndOfShard">True when the shard is closed (split, merged, or the stream completed) and every record has been read: no more will come, and the reader is spent.</param>
/// <param name="Backpressure">
/// Set by a bounded stream (the in-process one) when it is refusing puts to this shard until its consumers
/// checkpoint; null otherwise, and always null on Kinesis, whose retention does not depend on consumers.
/// </param>
public sealed record ShardReadResult(IReadOnlyList<StreamRecord> Records, bool EndOfShard, ShardBackpressure? Backpressure = null)
{
    /// <summary>
    /// How far behind the tip of the stream this read is, in milliseconds (Kinesis <c>MillisBehindLatest</c>): zero
    /// when the reader has caught up, otherwise the age of the oldest record it has not read yet.
    /// </summary>
    public long MillisBehindLatest { get; init; }

    /// <summary>
    /// At the end of a shard that was split or merged (<see cref="EndOfShard"/>), the ids of its children (Kinesis
    /// <c>ChildShards</c>); read them only after this shard (and, for a merge, its adjacent parent) is finished.
    /// Empty otherwise.
    /// </summary>
    public IReadOnlyList<string> ChildShardIds { get; init; } = [];
}

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
