using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Retail.Streaming;

/// <summary>Settings of <see cref="InProcessRecordStream"/>.</summary>
public sealed class InProcessStreamOptions
{
    /// <summary>Stream name (default <c>retail-trans</c>, the workshop's).</summary>
    public string StreamName { get; set; } = "retail-trans";

    /// <summary>Number of shards (default 2).</summary>
    public int ShardCount { get; set; } = 2;

    /// <summary>
    /// Most records a shard holds that some registered consumer has not checkpointed yet (default
    /// 100,000). Beyond it, puts fail per entry with <c>ProvisionedThroughputExceededException</c> and
    /// the producer backs off: memory stays bounded and nothing is dropped.
    /// </summary>
    public int MaxRecordsPerShard { get; set; } = 100_000;

    /// <summary>Most bytes a shard holds in the same sense (default 64 MiB).</summary>
    public long MaxBytesPerShard { get; set; } = 64L * 1024 * 1024;

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(StreamName) || StreamName.Contains('/', StringComparison.Ordinal))
            errors.Add($"InProcessStreamOptions.StreamName must be a non-empty name without '/', got '{StreamName}'.");
        if (ShardCount is < 1 or > 1024) errors.Add($"InProcessStreamOptions.ShardCount must be 1 to 1024, got {ShardCount}.");
        if (MaxRecordsPerShard < 1) errors.Add($"InProcessStreamOptions.MaxRecordsPerShard must be at least 1, got {MaxRecordsPerShard}.");
        if (MaxBytesPerShard < StreamLimits.MaxRecordBytes) errors.Add($"InProcessStreamOptions.MaxBytesPerShard must be at least {StreamLimits.MaxRecordBytes}, got {MaxBytesPerShard}.");
        return errors;
    }
}

/// <summary>
/// The embedded stream: a bounded, in-process stream with Kinesis semantics. Partition keys are
/// hashed with MD5 onto equal hash-key ranges, as Kinesis does; sequence numbers increase per
/// shard and with time, so a later stream of the same name never reuses an earlier one's positions. It is also the <see cref="ICheckpointStore"/> of its consumers: records are released once
/// every registered consumer has checkpointed past them. Thread-safe.
/// </summary>
public sealed class InProcessRecordStream : IRecordStream, ICheckpointStore
{
    private static readonly BigInteger HashSpace = BigInteger.One << 128;
    private readonly InProcessStreamOptions _options;
    private readonly TimeProvider _time;
    private readonly Shard[] _shards;
    private readonly string[] _shardIds;
    private readonly Dictionary<(string Consumer, string Shard), Checkpoint> _checkpoints = [];
    private readonly HashSet<string> _consumers = [];
    private readonly Lock _lock = new();
    private readonly long _firstSequenceBase;
    private bool _completed;

    /// <summary>Creates the stream.</summary>
    public InProcessRecordStream(InProcessStreamOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InProcessStreamOptions();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        _time = timeProvider ?? TimeProvider.System;
        // Sequence numbers grow with time, as Kinesis's do, so a new stream of the same name never reuses the
        // positions of an earlier one: ids derived from them (object keys, document ids) stay distinct across runs.
        _firstSequenceBase = Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds()) * 1_000_000;
        _shards = new Shard[_options.ShardCount];
        _shardIds = new string[_options.ShardCount];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shardIds[i] = "shardId-" + i.ToString("000000000000", CultureInfo.InvariantCulture);
            _shards[i] = new Shard(_shardIds[i]) { LastSequence = _firstSequenceBase };
        }
    }

    /// <inheritdoc />
    public string StreamName => _options.StreamName;

    /// <summary>
    /// Declares a consumer whose checkpoints hold records in the stream. Register every consumer
    /// before producing, or it may find records already released.
    /// </summary>
    public void RegisterConsumer(string consumer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        lock (_lock) _consumers.Add(consumer);
    }

    /// <summary>Ends the stream: later puts fail, and readers see <see cref="ShardReadResult.EndOfShard"/> once they have read everything.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var s in _shards) s.Signal();
        }
    }

    /// <summary>Records currently held (not yet released by every consumer), over all shards.</summary>
    public long BufferedRecords
    {
        get { lock (_lock) return _shards.Sum(s => (long)s.Count); }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ListShardsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>(_shardIds);

    /// <summary>The shard a partition key maps to (MD5 of the key over equal hash-key ranges, as Kinesis).</summary>
    public int ShardFor(string partitionKey)
    {
#pragma warning disable CA5351 // MD5 is how Kinesis maps partition keys to shards; not used for security.
        var hash = new BigInteger(MD5.HashData(Encoding.UTF8.GetBytes(partitionKey)), isUnsigned: true, isBigEndian: true);
#pragma warning restore CA5351
        return (int)(hash * _shards.Length / HashSpace);
    }

    /// <inheritdoc />
    public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count is 0 or > StreamLimits.MaxRecordsPerPut)
            throw new ArgumentException($"A put takes 1 to {StreamLimits.MaxRecordsPerPut} records, got {records.Count}.", nameof(records));
        var results = new PutRecordsResultEntry[records.Count];
        int failed = 0;
        long total = 0;
        foreach (var r in records)
        {
            StreamRecordValidation.Validate(r);
            total += r.Data.Length + Encoding.UTF8.GetByteCount(r.PartitionKey);
        }
        if (total > StreamLimits.MaxBytesPerPut)
            throw new ArgumentException($"A put carries at most {StreamLimits.MaxBytesPerPut} bytes, got {total}.", nameof(records));

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_completed) throw new InvalidOperationException($"The stream '{StreamName}' is complete; no more records can be put.");
            for (int i = 0; i < records.Count; i++)
            {
                var r = records[i];
                var shard = _shards[ShardFor(r.PartitionKey)];
                if (shard.Count >= _options.MaxRecordsPerShard || shard.Bytes + r.Data.Length > _options.MaxBytesPerShard)
                {
                    shard.Refusing = true;
                    results[i] = new PutRecordsResultEntry(null, null, "ProvisionedThroughputExceededException",
                        $"Shard {shard.Id} holds {shard.Count} unconsumed records ({shard.Bytes} bytes); try again after consumers checkpoint.");
                    failed++;
                    continue;
                }
                long seq = ++shard.LastSequence;
                string seqText = Format(seq);
                shard.Add(new StreamRecord(shard.Id, seqText, r.PartitionKey, now, r.Data.ToArray()));
                results[i] = new PutRecordsResultEntry(shard.Id, seqText, null, null);
            }
            foreach (var s in _shards) s.Signal();
        }
        return ValueTask.FromResult(new PutRecordsResult(failed, results));
    }

    /// <inheritdoc />
    public async ValueTask<ShardReadResult> ReadAsync(string shardId, string? afterSequenceNumber, int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (maxRecords < 1) throw new ArgumentOutOfRangeException(nameof(maxRecords), maxRecords, "maxRecords must be at least 1.");
        var shard = Find(shardId);
        long after = afterSequenceNumber is null ? _firstSequenceBase : Parse(afterSequenceNumber);
        long started = _time.GetTimestamp(); // one deadline for the whole read, however often the shard is woken
        bool wasRefusing;
        lock (_lock) wasRefusing = shard.Refusing;
        while (true)
        {
            Task signal;
            lock (_lock)
            {
                long firstHeld = shard.LastSequence - shard.Count + 1;
                if (after + 1 < firstHeld)
                    throw new InvalidOperationException($"Records of {shardId} after {after} were already released (oldest held: {firstHeld}); register every consumer before producing.");
                long from = after + 1 - firstHeld;
                int n = (int)Math.Min(maxRecords, Math.Max(0, shard.Count - from));
                var list = new StreamRecord[n];
                for (int k = 0; k < n; k++) list[k] = shard.At(from + k);
                var pressure = shard.Refusing ? new ShardBackpressure(Format(firstHeld - 1)) : null;
                // Backpressure raised while this read waited ends the wait at once, so the consumer holding the
                // shard writes its buffers now; one already known at the start does not (no busy loop for the others).
                if (n > 0 || maxWait <= TimeSpan.Zero || (pressure is not null && !wasRefusing))
                    return new ShardReadResult(list, _completed && n == 0 && after >= shard.LastSequence, pressure);
                if (_completed && after >= shard.LastSequence) return new ShardReadResult([], true);
                signal = shard.WaitTask;
            }
            var left = maxWait - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                maxWait = TimeSpan.Zero;
                continue;
            }
            var delay = Task.Delay(left, _time, cancellationToken);
            var done = await Task.WhenAny(signal, delay).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (done == delay) maxWait = TimeSpan.Zero;
        }
    }

    /// <inheritdoc />
    public ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default)
    {
        lock (_lock) return ValueTask.FromResult(_checkpoints.TryGetValue((consumer, shardId), out var c) ? c : null);
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var shard = Find(shardId);
        lock (_lock)
        {
            _checkpoints[(consumer, shardId)] = checkpoint;
            // Release records every registered consumer is done with.
            long min = long.MaxValue;
            foreach (var c in _consumers)
            {
                long done = _checkpoints.TryGetValue((c, shardId), out var cp) && cp.SequenceNumber is { } s ? Parse(s) : 0;
                min = Math.Min(min, done);
            }
            if (_consumers.Count == 0) min = 0;
            bool released = false;
            while (shard.Count > 0 && shard.LastSequence - shard.Count + 1 <= min)
            {
                shard.RemoveFirst();
                released = true;
            }
            if (released) shard.Refusing = false;
        }
        return ValueTask.CompletedTask;
    }

    private Shard Find(string shardId)
    {
        int i = Array.IndexOf(_shardIds, shardId);
        if (i < 0) throw new ArgumentException($"The stream '{StreamName}' has no shard '{shardId}'.", nameof(shardId));
        return _shards[i];
    }

    private static string Format(long seq) => seq.ToString(CultureInfo.InvariantCulture);

    private static long Parse(string seq) =>
        long.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw new ArgumentException($"'{seq}' is not a sequence number of this stream.", nameof(seq));

    private sealed class Shard(string id)
    {
        private TaskCompletionSource _waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<StreamRecord> _records = [];
        private int _head;

        public string Id { get; } = id;
        public long Bytes { get; private set; }
        public long LastSequence { get; set; }
        /// <summary>A put was refused since records were last released: readers are told (backpressure).</summary>
        public bool Refusing { get; set; }
        public int Count => _records.Count - _head;
        public Task WaitTask => _waiter.Task;

        /// <summary>The record at offset <paramref name="i"/> from the oldest held one (sequence numbers are consecutive).</summary>
        public StreamRecord At(long i) => _records[_head + (int)i];

        public void Add(StreamRecord r)
        {
            _records.Add(r);
            Bytes += r.Data.Length;
        }

        public void RemoveFirst()
        {
            Bytes -= _records[_head].Data.Length;
            _records[_head++] = null!;
            if (_head > 4096 && _head * 2 > _records.Count)
            {
                _records.RemoveRange(0, _head);
                _head = 0;
            }
        }

        public void Signal()
        {
            var old = _waiter;
            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            old.TrySetResult();
        }
    }
}

/// <summary>Checks Kinesis's per-record limits.</summary>
public static class StreamRecordValidation
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the limit a record breaks.</summary>
    public static void Validate(PutRecordsEntry record)
    {
        if (string.IsNullOrEmpty(record.PartitionKey) || record.PartitionKey.Length > StreamLimits.MaxPartitionKeyLength)
            throw new ArgumentException($"A partition key must be 1 to {StreamLimits.MaxPartitionKeyLength} characters, got {record.PartitionKey?.Length ?? 0}.", nameof(record));
        int size = record.Data.Length + Encoding.UTF8.GetByteCount(record.PartitionKey);
        if (size > StreamLimits.MaxRecordBytes)
            throw new ArgumentException($"A record (data plus partition key) is at most {StreamLimits.MaxRecordBytes} bytes, got {size}.", nameof(record));
    }
}
