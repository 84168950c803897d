namespace Retail.Streaming;

/// <summary>Settings of a <see cref="StreamConsumer"/>.</summary>
public sealed class StreamConsumerOptions
{
    /// <summary>The consumer's name: its checkpoints and its owner record go by it (default <c>consumer</c>). One process runs a name at a time.</summary>
    public string ConsumerName { get; set; } = "consumer";

    /// <summary>Records per shard read (default 10,000, as GetRecords).</summary>
    public int MaxRecordsPerRead { get; set; } = 10_000;

    /// <summary>How long a read waits for new records when there are none (default 1 s); a processor's buffer deadline can shorten it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where a shard without a checkpoint is read from: <see cref="StartPosition.TrimHorizon"/> (default: every record
    /// the stream holds), <see cref="StartPosition.Latest"/> (only new records, the workshop's UpsertToES) or
    /// <see cref="StartPosition.AtTimestamp"/>. A child shard of a split or merge always starts at its trim horizon,
    /// so nothing between a parent's end and the child's start is skipped.
    /// </summary>
    public StartPosition InitialPosition { get; set; } = StartPosition.TrimHorizon;

    /// <summary>
    /// On cancellation (Ctrl-C, SIGTERM, a host stopping), how long the consumer may take to write what its
    /// processors buffer and checkpoint it (default 30 s). What it cannot write in time is logged, counted
    /// (<see cref="StreamConsumerStats.UnflushedRecords"/>) and re-read on the next run: never lost.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running consumer renews its owner record (default 10 s).</summary>
    public TimeSpan OwnerHeartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after its last renewal the owner record of a process on another machine still counts as alive
    /// (default 60 s): a second process that finds a live owner is refused. A dead owner on the same machine is
    /// recognised at once (its process is gone); a cleanly stopped one releases its claim.
    /// </summary>
    public TimeSpan OwnerTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How the consumer's own stream and checkpoint calls (listing, opening a reader, reads, checkpoint loads and
    /// saves, owner records) are retried (default: 100 ms first delay, 10 s longest, for 5 minutes). Processors own
    /// the retries of their own sinks.
    /// </summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(10),
        MaxTotalDuration = TimeSpan.FromMinutes(5),
    };

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    /// <param name="owner">How the settings are named in messages (e.g. <c>DeliveryOptions</c> when they come from there).</param>
    public IReadOnlyList<string> Validate(string owner = nameof(StreamConsumerOptions))
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ConsumerName) || ConsumerName.Contains('/', StringComparison.Ordinal) || !Storage.ObjectKeys.IsValid(ConsumerName, out _))
            errors.Add($"{owner}.ConsumerName must be a non-empty name without '/' or control characters, got '{ConsumerName}'.");
        if (MaxRecordsPerRead is < 1 or > 10_000) errors.Add($"{owner}.MaxRecordsPerRead must be 1 to 10000, got {MaxRecordsPerRead}.");
        if (PollInterval <= TimeSpan.Zero) errors.Add($"{owner}.PollInterval must be positive, got {PollInterval}.");
        if (InitialPosition.Type is not (StartPositionType.TrimHorizon or StartPositionType.Latest or StartPositionType.AtTimestamp))
            errors.Add($"{owner}.InitialPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP (a sequence number belongs to one shard), got {InitialPosition}.");
        if (InitialPosition.Type == StartPositionType.AtTimestamp && InitialPosition.Timestamp is null)
            errors.Add($"{owner}.InitialPosition AT_TIMESTAMP needs a timestamp.");
        if (ShutdownTimeout <= TimeSpan.Zero) errors.Add($"{owner}.ShutdownTimeout must be positive, got {ShutdownTimeout}.");
        if (OwnerHeartbeat <= TimeSpan.Zero) errors.Add($"{owner}.OwnerHeartbeat must be positive, got {OwnerHeartbeat}.");
        if (OwnerTimeout <= OwnerHeartbeat) errors.Add($"{owner}.OwnerTimeout must be longer than OwnerHeartbeat ({OwnerHeartbeat}), got {OwnerTimeout}.");
        if (Retry is null) errors.Add($"{owner}.Retry must be set.");
        else errors.AddRange(Retry.Validate($"{owner}.Retry"));
        return errors;
    }
}

/// <summary>Live counters of a <see cref="StreamConsumer"/> (thread-safe reads).</summary>
public sealed class StreamConsumerStats
{
    private long _read, _reads, _saved, _finished, _retries, _unflushed, _behind;

    /// <summary>Records read from the stream.</summary>
    public long RecordsRead => Interlocked.Read(ref _read);
    /// <summary>Reads of any shard that completed, empty ones included (a consumer that has read nothing yet has 0).</summary>
    public long Reads => Interlocked.Read(ref _reads);
    /// <summary>Checkpoints saved.</summary>
    public long CheckpointsSaved => Interlocked.Read(ref _saved);
    /// <summary>Shards read to their end and checkpointed (parents of a split or merge, or every shard of a completed stream).</summary>
    public long ShardsFinished => Interlocked.Read(ref _finished);
    /// <summary>Stream and checkpoint calls that failed and were retried.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>Records a shutdown could not write within its timeout (they are re-read on the next run).</summary>
    public long UnflushedRecords => Interlocked.Read(ref _unflushed);
    /// <summary>How far behind the tip the last read of any shard was, in milliseconds.</summary>
    public long MillisBehindLatest => Interlocked.Read(ref _behind);

    internal void Read(long n, long behind)
    {
        Interlocked.Add(ref _read, n);
        Interlocked.Exchange(ref _behind, behind);
        Interlocked.Increment(ref _reads);
    }
    internal void Saved() => Interlocked.Increment(ref _saved);
    internal void Finished() => Interlocked.Increment(ref _finished);
    internal void Retried() => Interlocked.Increment(ref _retries);
    internal void Unflushed(long n) => Interlocked.Add(ref _unflushed, n);
}
