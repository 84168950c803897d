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
/// The embedded stream: a bounded, in-process stream with Kinesis semantics. Partition keys are hashed with MD5
/// onto the hash-key ranges of the open shards, which start as equal ranges, as Kinesis does; shards can be split
/// and merged (<see cref="SplitShard"/>, <see cref="MergeShards"/>), which closes the parents and opens children
/// that are listed with their lineage. Sequence numbers are unique across the stream and increase with time (a
/// child's are above its parents'), so a later stream of the same name never reuses an earlier one's positions.
/// It is also the <see cref="ICheckpointStore"/> of its consumers: records are released once every registered
/// consumer has checkpointed past them, and a closed parent's records stay readable until then. Thread-safe.
/// </summary>
public sealed class InProcessRecordStream : IRecordStream, ICheckpointStore
{
    private static readonly BigInteger HashSpace = BigInteger.One << 128;
    private readonly InProcessStreamOptions _options;
    private readonly TimeProvider _time;
    private readonly List<Shard> _shards = [];
    private readonly Dictionary<string, Shard> _byId = new(StringComparer.Ordinal);
    private Shard[] _open; // open shards sorted by starting hash key; together they cover the hash space
    private readonly Dictionary<(string Consumer, string Shard), Checkpoint> _checkpoints = [];
    private readonly Dictionary<string, ConsumerOwner> _owners = new(StringComparer.Ordinal);
    private readonly HashSet<string> _consumers = [];
    private readonly Lock _lock = new();
    private long _lastSequence; // the last sequence number issued, stream-wide
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
        _lastSequence = Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds()) * 1_000_000;
        int n = _options.ShardCount;
        _open = new Shard[n];
        for (int i = 0; i < n; i++)
        {
            // Kinesis's even split: shard i starts at floor(i * 2^128 / n).
            var start = (UInt128)(i * HashSpace / n);
            var end = i == n - 1 ? UInt128.MaxValue : (UInt128)((i + 1) * HashSpace / n) - 1;
            _open[i] = AddShard(null, null, start, end);
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
    public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return ValueTask.FromResult<IReadOnlyList<ShardDescription>>([.. _shards.Select(s => s.Describe())]);
    }

    /// <summary>The id of the open shard a partition key maps to (the one whose hash-key range holds the key's MD5, as Kinesis).</summary>
    public string ShardFor(string partitionKey)
    {
        var hash = Hash(partitionKey);
        lock (_lock) return OpenShardFor(hash).Id;
    }

    /// <summary>
    /// Splits an open shard in two (Kinesis <c>SplitShard</c>): the parent closes (its ending sequence number is set;
    /// its unread records stay readable), and two children open, covering the parent's hash keys below
    /// <paramref name="newStartingHashKey"/> and from it on. Later puts go to the children.
    /// </summary>
    /// <returns>The two children, lower hash keys first.</returns>
    /// <exception cref="ArgumentException">The shard does not exist or is closed, or the key is not inside its range above its start.</exception>
    public IReadOnlyList<ShardDescription> SplitShard(string shardToSplit, BigInteger newStartingHashKey)
    {
        lock (_lock)
        {
            ThrowIfCompleted();
            var parent = FindOpen(shardToSplit, nameof(shardToSplit));
            if (newStartingHashKey <= (BigInteger)parent.StartHash || newStartingHashKey > (BigInteger)parent.EndHash)
                throw new ArgumentException($"NewStartingHashKey {newStartingHashKey} is not inside shard {shardToSplit}'s hash-key range above its start ({(BigInteger)parent.StartHash + 1} to {(BigInteger)parent.EndHash}).", nameof(newStartingHashKey));
            var key = (UInt128)newStartingHashKey;
            Close(parent);
            var low = AddShard(parent.Id, null, parent.StartHash, key - 1);
            var high = AddShard(parent.Id, null, key, parent.EndHash);
            parent.Children = [low.Id, high.Id];
            ReplaceOpen([parent], [low, high]);
            return [low.Describe(), high.Describe()];
        }
    }

    /// <summary>
    /// Merges two open shards with adjacent hash-key ranges into one (Kinesis <c>MergeShards</c>): both close (their
    /// unread records stay readable) and one child opens over both ranges, with <paramref name="shardToMerge"/> as
    /// its parent and <paramref name="adjacentShardToMerge"/> as its adjacent parent.
    /// </summary>
    /// <returns>The child.</returns>
    /// <exception cref="ArgumentException">A shard does not exist or is closed, or the two are the same or not adjacent.</exception>
    public ShardDescription MergeShards(string shardToMerge, string adjacentShardToMerge)
    {
        lock (_lock)
        {
            ThrowIfCompleted();
            var a = FindOpen(shardToMerge, nameof(shardToMerge));
            var b = FindOpen(adjacentShardToMerge, nameof(adjacentShardToMerge));
            bool adjacent = (a.EndHash != UInt128.MaxValue && a.EndHash + 1 == b.StartHash) || (b.EndHash != UInt128.MaxValue && b.EndHash + 1 == a.StartHash);
            if (ReferenceEquals(a, b) || !adjacent)
                throw new ArgumentException($"Shards {shardToMerge} and {adjacentShardToMerge} cannot be merged: their hash-key ranges are not adjacent.", nameof(adjacentShardToMerge));
            Close(a);
            Close(b);
            var child = AddShard(a.Id, b.Id, UInt128.Min(a.StartHash, b.StartHash), UInt128.Max(a.EndHash, b.EndHash));
            a.Children = b.Children = [child.Id];
            ReplaceOpen([a, b], [child]);
            return child.Describe();
        }
    }

    /// <inheritdoc />
    public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count is 0 or > StreamLimits.MaxRecordsPerPut)
            throw new ArgumentException($"A put takes 1 to {StreamLimits.MaxRecordsPerPut} records, got {records.Count}.", nameof(records));
        var results = new PutRecordsResultEntry[records.Count];
        var hashes = new UInt128[records.Count];
        int failed = 0;
        long total = 0;
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            total += PutLimits.Kinesis.Validate(r);
            hashes[i] = Hash(r.PartitionKey);
        }
        if (total > StreamLimits.MaxBytesPerPut)
            throw new ArgumentException($"A put carries at most {StreamLimits.MaxBytesPerPut} bytes, got {total}.", nameof(records));

        var now = _time.GetUtcNow();
        lock (_lock)
        {
            ThrowIfCompleted();
            for (int i = 0; i < records.Count; i++)
            {
                var r = records[i];
                var shard = OpenShardFor(hashes[i]);
                if (shard.Count >= _options.MaxRecordsPerShard || shard.Bytes + r.Data.Length > _options.MaxBytesPerShard)
                {
                    if (!shard.Refusing) shard.RefusalEpoch++;
                    shard.Refusing = true;
                    results[i] = new PutRecordsResultEntry(null, null, "ProvisionedThroughputExceededException",
                        $"Shard {shard.Id} holds {shard.Count} unconsumed records ({shard.Bytes} bytes); try again after consumers checkpoint.");
                    failed++;
                    continue;
                }
                long seq = ++_lastSequence;
                string seqText = Format(seq);
                shard.Add(new StreamRecord(shard.Id, seqText, r.PartitionKey, now, r.Data.ToArray()), seq);
                results[i] = new PutRecordsResultEntry(shard.Id, seqText, null, null);
            }
            foreach (var s in _open) s.Signal();
        }
        return ValueTask.FromResult(new PutRecordsResult(failed, results));
    }

    /// <inheritdoc />
    public ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var shard = Find(shardId);
            long after;
            bool trimHorizon = false;
            switch (start.Type)
            {
                case StartPositionType.TrimHorizon:
                    after = shard.ReleasedThrough;
                    trimHorizon = true;
                    break;
                case StartPositionType.Latest:
                    after = shard.LastSequence;
                    break;
                case StartPositionType.AtSequenceNumber:
                    after = CheckedSequence(shard, start) - 1;
                    break;
                case StartPositionType.AfterSequenceNumber:
                    after = CheckedSequence(shard, start);
                    break;
                case StartPositionType.AtTimestamp:
                    if (start.Timestamp is not { } at) throw new ArgumentException($"{start} for shard {shardId} needs a timestamp.", nameof(start));
                    after = shard.ReleasedThrough;
                    for (int i = 0; i < shard.Count && shard.At(i).ApproximateArrivalTimestamp < at; i++) after = shard.SequenceAt(i);
                    if (shard.Count == 0 || shard.At(shard.Count - 1).ApproximateArrivalTimestamp < at) after = shard.LastSequence;
                    break;
                default:
                    throw new ArgumentException($"Unknown start position type {start.Type} for shard {shardId}.", nameof(start));
            }
            return ValueTask.FromResult<IShardReader>(new Reader(this, shard, after, trimHorizon));
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
        lock (_lock)
        {
            var shard = Find(shardId);
            if (checkpoint.SequenceNumber is { } given) Parse(given, shardId);
            _checkpoints[(consumer, shardId)] = checkpoint;
            // Release records every registered consumer is done with.
            long min = long.MaxValue;
            foreach (var c in _consumers)
            {
                long done = _checkpoints.TryGetValue((c, shardId), out var cp) && cp.SequenceNumber is { } s ? Parse(s, shardId) : 0;
                min = Math.Min(min, done);
            }
            if (_consumers.Count == 0) min = 0;
            bool released = false;
            while (shard.Count > 0 && shard.SequenceAt(0) <= min)
            {
                shard.RemoveFirst();
                released = true;
            }
            if (released) shard.Refusing = false;
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default)
    {
        lock (_lock) return ValueTask.FromResult(_owners.TryGetValue(consumer, out var o) ? o : null);
    }

    /// <inheritdoc />
    public ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(consumer);
        ArgumentNullException.ThrowIfNull(owner);
        lock (_lock) _owners[consumer] = owner;
        return ValueTask.CompletedTask;
    }

    private Shard AddShard(string? parent, string? adjacentParent, UInt128 start, UInt128 end)
    {
        var id = "shardId-" + _shards.Count.ToString("000000000000", CultureInfo.InvariantCulture);
        var shard = new Shard(id, parent, adjacentParent, start, end, _lastSequence + 1);
        _shards.Add(shard);
        _byId.Add(id, shard);
        return shard;
    }

    private void Close(Shard shard)
    {
        shard.EndingSequence = _lastSequence;
        shard.Refusing = false; // producers now go to the children
        shard.Signal();
    }

    private void ReplaceOpen(Shard[] closed, Shard[] opened) =>
        _open = [.. _open.Where(s => !closed.Contains(s)).Concat(opened).OrderBy(s => s.StartHash)];

    private void ThrowIfCompleted()
    {
        if (_completed) throw new InvalidOperationException($"The stream '{StreamName}' is complete; no more records can be put and no shard can be split or merged.");
    }

    private Shard OpenShardFor(UInt128 hash)
    {
        var open = _open;
        int lo = 0, hi = open.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (open[mid].StartHash <= hash) lo = mid;
            else hi = mid - 1;
        }
        return open[lo];
    }

    private static UInt128 Hash(string partitionKey)
    {
        Span<byte> digest = stackalloc byte[16];
        int max = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = max > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        int n = Encoding.UTF8.GetBytes(partitionKey, utf8);
#pragma warning disable CA5351 // MD5 is how Kinesis maps partition keys to shards; not used for security.
        MD5.HashData(utf8[..n], digest);
#pragma warning restore CA5351
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    private long CheckedSequence(Shard shard, StartPosition start)
    {
        long seq = Parse(start.SequenceNumber ?? throw new ArgumentException($"{start.Type} for shard {shard.Id} needs a sequence number.", nameof(start)), shard.Id);
        long last = shard.EndingSequence ?? _lastSequence;
        if (seq < shard.StartingSequence || seq > last)
            throw new ArgumentException($"{start} is not a position of shard {shard.Id}: its sequence numbers run from {shard.StartingSequence} to {last}.", nameof(start));
        return seq;
    }

    private Shard Find(string shardId)
    {
        ArgumentNullException.ThrowIfNull(shardId);
        return _byId.TryGetValue(shardId, out var shard) ? shard : throw new ArgumentException($"The stream '{StreamName}' has no shard '{shardId}'.", nameof(shardId));
    }

    private Shard FindOpen(string shardId, string parameter)
    {
        if (!_byId.TryGetValue(shardId ?? throw new ArgumentNullException(parameter), out var shard))
            throw new ArgumentException($"The stream '{StreamName}' has no shard '{shardId}'.", parameter);
        if (shard.EndingSequence is not null)
            throw new ArgumentException($"Shard {shardId} of stream '{StreamName}' is closed (it was split or merged); only open shards can be resharded.", parameter);
        return shard;
    }

    private static string Format(long seq) => seq.ToString(CultureInfo.InvariantCulture);

    private static long Parse(string seq, string shardId) =>
        long.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v
            : throw new ArgumentException($"'{seq}' is not a sequence number of shard {shardId} of this stream.", nameof(seq));

    private async ValueTask<ShardReadResult> ReadAsync(Reader reader, int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (maxRecords < 1) throw new ArgumentOutOfRangeException(nameof(maxRecords), maxRecords, "maxRecords must be at least 1.");
        var shard = reader.Shard;
        long started = _time.GetTimestamp(); // one deadline for the whole read, however often the shard is woken
        while (true)
        {
            Task signal;
            lock (_lock)
            {
                if (reader.AtTrimHorizon) reader.After = Math.Max(reader.After, shard.ReleasedThrough);
                long after = reader.After;
                if (after < shard.ReleasedThrough)
                    throw new InvalidOperationException($"Records of shard {shard.Id} after {after} were already released (released through {shard.ReleasedThrough}); register every consumer before producing.");
                int from = shard.IndexAfter(after);
                int n = Math.Min(maxRecords, shard.Count - from);
                var list = new StreamRecord[n];
                for (int k = 0; k < n; k++) list[k] = shard.At(from + k);
                if (n > 0)
                {
                    reader.After = shard.SequenceAt(from + n - 1);
                    reader.AtTrimHorizon = false;
                }
                bool closed = shard.EndingSequence is not null || _completed;
                bool end = closed && from + n == shard.Count;
                var pressure = shard.Refusing ? new ShardBackpressure(Format(shard.ReleasedThrough)) : null;
                // Backpressure this reader has not been told of yet ends the wait at once, so the consumer holding
                // the shard writes its buffers now, whether the refusal came before this read or during it. Each
                // reader is told once per refusal (no busy loop for the consumers that are not holding the shard).
                bool untold = pressure is not null && reader.ToldRefusal != shard.RefusalEpoch;
                if (n > 0 || end || maxWait <= TimeSpan.Zero || untold)
                {
                    if (pressure is not null) reader.ToldRefusal = shard.RefusalEpoch;
                    long behind = from + n < shard.Count
                        ? Math.Max(0, (long)(_time.GetUtcNow() - shard.At(from + n).ApproximateArrivalTimestamp).TotalMilliseconds)
                        : 0;
                    return new ShardReadResult(list, end, pressure)
                    {
                        MillisBehindLatest = behind,
                        ChildShardIds = end ? shard.Children : [],
                    };
                }
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

    private sealed class Reader(InProcessRecordStream stream, Shard shard, long after, bool atTrimHorizon) : IShardReader
    {
        private bool _disposed;

        public Shard Shard { get; } = shard;
        /// <summary>The reader's position: the next record read is the first with a greater sequence number.</summary>
        public long After { get; set; } = after;
        /// <summary>Opened at the trim horizon and nothing read yet: follows the horizon as records are released.</summary>
        public bool AtTrimHorizon { get; set; } = atTrimHorizon;
        /// <summary>The shard's <see cref="Shard.RefusalEpoch"/> this reader last returned backpressure for.</summary>
        public long ToldRefusal { get; set; }
        public string ShardId => Shard.Id;

        public ValueTask<ShardReadResult> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return stream.ReadAsync(this, maxRecords, maxWait, cancellationToken);
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Shard(string id, string? parent, string? adjacentParent, UInt128 startHash, UInt128 endHash, long startingSequence)
    {
        private TaskCompletionSource _waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<StreamRecord> _records = [];
        private readonly List<long> _sequences = [];
        private int _head;

        public string Id { get; } = id;
        public UInt128 StartHash { get; } = startHash;
        public UInt128 EndHash { get; } = endHash;
        public long StartingSequence { get; } = startingSequence;
        public long? EndingSequence { get; set; }
        public IReadOnlyList<string> Children { get; set; } = [];
        public long Bytes { get; private set; }
        /// <summary>The last record's sequence number (below <see cref="StartingSequence"/> before the first).</summary>
        public long LastSequence { get; private set; } = startingSequence - 1;
        /// <summary>The last released record's sequence number (below <see cref="StartingSequence"/> before the first).</summary>
        public long ReleasedThrough { get; private set; } = startingSequence - 1;
        /// <summary>A put was refused since records were last released: readers are told (backpressure).</summary>
        public bool Refusing { get; set; }
        /// <summary>Counts refusals: raised each time <see cref="Refusing"/> turns on, so every reader is told of each one.</summary>
        public long RefusalEpoch { get; set; }
        public int Count => _records.Count - _head;
        public Task WaitTask => _waiter.Task;

        public ShardDescription Describe() => new(Id, parent, adjacentParent,
            new HashKeyRange(StartHash, EndHash),
            new SequenceNumberRange(Format(StartingSequence), EndingSequence is { } e ? Format(e) : null));

        /// <summary>The record at offset <paramref name="i"/> from the oldest held one.</summary>
        public StreamRecord At(int i) => _records[_head + i];

        public long SequenceAt(int i) => _sequences[_head + i];

        /// <summary>The offset of the first held record after <paramref name="after"/> (<see cref="Count"/> when none).</summary>
        public int IndexAfter(long after)
        {
            int lo = _head, hi = _sequences.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (_sequences[mid] <= after) lo = mid + 1;
                else hi = mid;
            }
            return lo - _head;
        }

        public void Add(StreamRecord r, long sequence)
        {
            _records.Add(r);
            _sequences.Add(sequence);
            LastSequence = sequence;
            Bytes += r.Data.Length;
        }

        public void RemoveFirst()
        {
            Bytes -= _records[_head].Data.Length;
            ReleasedThrough = _sequences[_head];
            _records[_head++] = null!;
            if (_head > 4096 && _head * 2 > _records.Count)
            {
                _records.RemoveRange(0, _head);
                _sequences.RemoveRange(0, _head);
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
    /// <summary>Throws <see cref="ArgumentException"/> naming the Kinesis limit a record breaks (<see cref="PutLimits.Kinesis"/>).</summary>
    public static void Validate(PutRecordsEntry record) => _ = PutLimits.Kinesis.Validate(record);
}
