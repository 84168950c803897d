using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Retail.Streaming;

/// <summary>Settings of <see cref="StreamProducer"/>.</summary>
public sealed class StreamProducerOptions
{
    /// <summary>Records per put (1–500; default 500). A target that takes fewer per call (<see cref="IRecordPutTarget.Limits"/>) lowers it.</summary>
    public int MaxBatchRecords { get; set; } = StreamLimits.MaxRecordsPerPut;

    /// <summary>
    /// Bytes per put (default 5 MiB). A target that takes fewer per call (Firehose: 4 MiB) lowers it; a record larger
    /// than this (within the target's record limit) goes in a put of its own.
    /// </summary>
    public int MaxBatchBytes { get; set; } = StreamLimits.MaxBytesPerPut;

    /// <summary>
    /// Puts in flight at once (1–64; default 4): while one call travels, the next batch fills and goes out, up to this
    /// many; then <see cref="StreamProducer.AddAsync"/> waits for one to finish. Order across calls is not kept (nor does
    /// Kinesis keep it within PutRecords); use 1 to send one batch at a time.
    /// </summary>
    public int MaxInFlightPuts { get; set; } = 4;

    /// <summary>
    /// How refused entries and failed puts are retried (default: 50 ms first delay, 5 s longest, for 5 minutes;
    /// then <see cref="StreamProducer.FlushAsync"/> throws <see cref="StreamProducerException"/>). Only the entries
    /// that failed are sent again.
    /// </summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(5),
        MaxTotalDuration = TimeSpan.FromMinutes(5),
    };

    /// <summary>
    /// After a cancelled add or flush, how long <see cref="StreamProducer.DisposeAsync"/> may take to send what is
    /// still batched, one attempt per put without retries (default 10 s); what the stream does not accept is
    /// counted in <see cref="StreamProducer.RecordsUnsent"/> and logged.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate(PutLimits limits)
    {
        if (MaxBatchRecords < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRecords), MaxBatchRecords, $"StreamProducerOptions.MaxBatchRecords must be 1 to {limits.MaxRecordsPerPut}.");
        if (MaxBatchBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchBytes), MaxBatchBytes, $"StreamProducerOptions.MaxBatchBytes must be at least 1024 (a record larger than it goes in a put of its own), up to {limits.MaxBytesPerPut}.");
        if (MaxInFlightPuts is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(MaxInFlightPuts), MaxInFlightPuts, "StreamProducerOptions.MaxInFlightPuts must be 1 to 64.");
        if (ShutdownTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "StreamProducerOptions.ShutdownTimeout must be positive.");
        if (Retry is null) throw new ArgumentNullException(nameof(Retry), "StreamProducerOptions.Retry must be set.");
        var retryErrors = Retry.Validate("StreamProducerOptions.Retry");
        if (retryErrors.Count > 0) throw new ArgumentException(string.Join(" ", retryErrors), nameof(Retry));
    }
}

/// <summary>
/// Puts records into an <see cref="IRecordPutTarget"/> (a stream, or a Firehose delivery stream) in batches within
/// the target's <see cref="IRecordPutTarget.Limits"/>, with up to <see cref="StreamProducerOptions.MaxInFlightPuts"/>
/// calls in flight, and — unlike the workshop's producer — checks every response: only the entries that failed are
/// sent again, through the <see cref="RetailRetryPipeline"/> built from <see cref="StreamProducerOptions.Retry"/>
/// (jittered exponential back-off on the injected clock), so nothing is lost and nothing is duplicated by a
/// whole-batch retry. Not thread-safe: one producer per writer.
/// </summary>
public sealed partial class StreamProducer : IAsyncDisposable
{
    private readonly IRecordPutTarget _stream;
    private readonly StreamProducerOptions _options;
    private readonly PutLimits _limits;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private readonly RetailRetryPipeline _retry;
    private readonly RetailRetryPipeline _once;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<PutRecordsEntry> _batch = [];
    private readonly List<Task> _inFlight = [];
    private int _batchBytes;
    private bool _cancelled;
    private long _sent, _retried, _unsent, _failed;

    /// <summary>Creates a producer; invalid options throw here, naming the setting.</summary>
    public StreamProducer(IRecordPutTarget stream, StreamProducerOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _options = options ?? new StreamProducerOptions();
        _limits = stream.Limits;
        _options.Validate(_limits);
        _maxRecords = Math.Min(_options.MaxBatchRecords, _limits.MaxRecordsPerPut);
        _maxBytes = Math.Min(_options.MaxBatchBytes, _limits.MaxBytesPerPut);
        _time = timeProvider ?? TimeProvider.System;
        _retry = new RetailRetryPipeline(_options.Retry, _time);
        _once = new RetailRetryPipeline(new RetryOptions { MaxAttempts = 1 }, _time);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Records the stream accepted.</summary>
    public long RecordsSent => Interlocked.Read(ref _sent);

    /// <summary>Entries that failed and were sent again.</summary>
    public long EntriesRetried => Interlocked.Read(ref _retried);

    /// <summary>Records the stream still refused when the retry limits were reached (each reported by a <see cref="StreamProducerException"/>).</summary>
    public long RecordsFailed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Records added but never accepted by the stream because the producer was cancelled and the last attempt of
    /// <see cref="DisposeAsync"/> could not send them (each time is logged with the count and the reason).
    /// </summary>
    public long RecordsUnsent => Interlocked.Read(ref _unsent);

    /// <summary>The workshop's partition keys: <c>part-00001</c> … <c>part-01024</c>.</summary>
    public static string WorkshopPartitionKey(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return "part-" + random.Next(1, 1025).ToString("00000", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Adds a record; sends a batch when it is full (waiting for room when as many puts as allowed are in flight).</summary>
    /// <exception cref="RecordTooLargeException">The record is larger than the target takes (Kinesis: 1 MiB with its partition key).</exception>
    /// <exception cref="ArgumentException">The partition key is not 1–256 characters (Kinesis).</exception>
    /// <exception cref="StreamProducerException">An earlier put still failed when the retry limits were reached.</exception>
    public async ValueTask AddAsync(string partitionKey, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var entry = new PutRecordsEntry(partitionKey, data);
        int size = _limits.Validate(entry);
        bool full;
        lock (_lock) full = _batch.Count >= _maxRecords || _batchBytes + size > _maxBytes;
        if (full) await SendBatchAsync(cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested) _cancelled = true;
        lock (_lock)
        {
            _batch.Add(entry);
            _batchBytes += size;
        }
    }

    /// <summary>Sends whatever is batched and waits for every put in flight, retrying failed entries until all are accepted or the retry time runs out.</summary>
    /// <exception cref="StreamProducerException">Entries still failed when the retry limits (<see cref="StreamProducerOptions.Retry"/>) were reached.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await SendBatchAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            Task[] pending;
            lock (_lock) pending = [.. _inFlight];
            if (pending.Length == 0) return;
            try
            {
                await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (pending.All(t => t.IsCompleted))
            {
                // Reaped (and thrown) below, one failure for all of them.
            }
            catch (OperationCanceledException)
            {
                _cancelled = true;
                throw;
            }
            Reap();
        }
    }

    /// <summary>Starts a put of the current batch, then waits until fewer than the allowed puts are in flight.</summary>
    private async ValueTask SendBatchAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_batch.Count > 0)
            {
                IReadOnlyList<PutRecordsEntry> pending = [.. _batch];
                _batch.Clear();
                _batchBytes = 0;
                _inFlight.Add(SendAsync(pending, _retry, cancellationToken).AsTask());
            }
        }
        while (true)
        {
            Task[] running;
            lock (_lock)
            {
                if (_inFlight.Count < _options.MaxInFlightPuts) break;
                running = [.. _inFlight];
            }
            try
            {
                await Task.WhenAny(running).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _cancelled = true;
                throw;
            }
            Reap();
        }
        Reap();
    }

    /// <summary>Removes finished puts; throws the first failure (records refused past the retry limits, or a cancellation).</summary>
    private void Reap()
    {
        Exception? failure = null;
        lock (_lock)
        {
            for (int i = _inFlight.Count - 1; i >= 0; i--)
            {
                var t = _inFlight[i];
                if (!t.IsCompleted) continue;
                _inFlight.RemoveAt(i);
                if (t.Exception?.InnerException is { } e) failure ??= e;
                else if (t.IsCanceled) failure ??= new OperationCanceledException();
            }
        }
        if (failure is OperationCanceledException) _cancelled = true;
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    private async ValueTask SendAsync(IReadOnlyList<PutRecordsEntry> pending, RetailRetryPipeline retry, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the caller goes on filling the next batch while this one travels
        try
        {
            // Each attempt sends only what is still pending and keeps what failed; the pipeline owns the delays and
            // the limits. A whole put that throws a transient error (throttled, timed out, connection reset) is
            // retried with the same entries: nothing is known to be stored. (A put that timed out after the service
            // stored some entries can duplicate them: at-least-once, as Kinesis itself.)
            await retry.ExecuteAsync(async ct =>
            {
                var result = await _stream.PutRecordsAsync(pending, ct).ConfigureAwait(false);
                if (result.Records.Count != pending.Count)
                    throw new InvalidOperationException($"Stream '{_stream.StreamName}' answered a put of {pending.Count} records with {result.Records.Count} results.");
                var failed = new List<PutRecordsEntry>();
                string? lastError = null;
                for (int i = 0; i < pending.Count; i++)
                {
                    if (result.Records[i].Succeeded) Interlocked.Increment(ref _sent);
                    else
                    {
                        failed.Add(pending[i]);
                        lastError = $"{result.Records[i].ErrorCode}: {result.Records[i].ErrorMessage}";
                    }
                }
                int sent = pending.Count;
                pending = failed;
                return (Failed: failed.Count, Sent: sent, LastError: lastError);
            },
            r => r.Failed == 0 ? null : $"{r.Failed} of {r.Sent} records refused ({r.LastError})",
            attempt =>
            {
                Interlocked.Add(ref _retried, pending.Count);
                LogRetry(_logger, pending.Count, attempt.Delay.TotalMilliseconds, attempt.Failure);
            },
            cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Not sent (or not known to be): keep them batched, so a dispose can still try.
            Restore(pending);
            throw;
        }
        catch (RetryExhaustedException e)
        {
            Interlocked.Add(ref _failed, pending.Count);
            throw new StreamProducerException(pending.Count,
                $"{pending.Count} records were still refused by stream '{_stream.StreamName}' after {e.Attempts} attempts in {e.Elapsed:c}; last error {e.LastFailure}", e);
        }
    }

    /// <summary>
    /// Flushes. After a cancelled <see cref="AddAsync"/> or <see cref="FlushAsync"/> it still sends what is batched,
    /// but once, without retries and within <see cref="StreamProducerOptions.ShutdownTimeout"/>, so a cancelled
    /// pipeline stops promptly instead of retrying into a stream nobody reads any more; what the stream does not take
    /// is counted (<see cref="RecordsUnsent"/>) and logged, never dropped in silence.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_cancelled)
        {
            await FlushAsync().ConfigureAwait(false);
            return;
        }
        // Puts still in flight were cancelled with the caller's token: they put their records back into the batch.
        Task[] running;
        lock (_lock) running = [.. _inFlight];
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Cancelled ones restored their records; failed ones were counted (RecordsFailed) and are reported by their exception below.
        }
        lock (_lock) _inFlight.Clear();
        IReadOnlyList<PutRecordsEntry> rest;
        lock (_lock)
        {
            rest = [.. _batch];
            _batch.Clear();
            _batchBytes = 0;
        }
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout, _time);
        for (int i = 0; i < rest.Count; i += _maxRecords)
        {
            // Batches as AddAsync made them: within the record and byte limits of one put.
            var chunk = new List<PutRecordsEntry>();
            int bytes = 0;
            for (int j = i; j < rest.Count && chunk.Count < _maxRecords; j++)
            {
                int size = _limits.SizeOf(rest[j]);
                if (chunk.Count > 0 && bytes + size > _maxBytes) break;
                chunk.Add(rest[j]);
                bytes += size;
            }
            i += chunk.Count - _maxRecords;
            try
            {
                await SendAsync(chunk, _once, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StreamProducerException or OperationCanceledException || FailureClassification.IsTransient(e))
            {
                int unsent = e is StreamProducerException p ? p.FailedRecords : TakeRestored();
                Interlocked.Add(ref _unsent, unsent);
                LogUnsent(_logger, unsent, chunk.Count, _stream.StreamName, e.Message);
            }
        }
        lock (_lock)
        {
            _batch.Clear();
            _batchBytes = 0;
        }
    }

    private int TakeRestored()
    {
        lock (_lock)
        {
            int n = _batch.Count;
            _batch.Clear();
            _batchBytes = 0;
            return n;
        }
    }

    private void Restore(IReadOnlyList<PutRecordsEntry> pending)
    {
        lock (_lock)
        {
            _batch.InsertRange(0, pending);
            foreach (var entry in pending) _batchBytes += _limits.SizeOf(entry);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The producer was cancelled: {Unsent} of {Batched} batched records were not accepted by stream {Stream} ({Error}); they were never sent")]
    private static partial void LogUnsent(ILogger logger, int unsent, int batched, string stream, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retrying {Pending} records in {DelayMs} ms ({Error})")]
    private static partial void LogRetry(ILogger logger, int pending, double delayMs, string error);
}

/// <summary>A whole put was throttled (thrown by stream clients; transient, so the producer retries it).</summary>
public sealed class StreamThrottledException(string message) : Exception(message), IRetryClassified
{
    /// <inheritdoc />
    bool IRetryClassified.IsTransient => true;
}

/// <summary>Records could not be put within the retry limits; <see cref="Exception.InnerException"/> is the <see cref="RetryExhaustedException"/>.</summary>
public sealed class StreamProducerException(int failedRecords, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>How many records were not accepted.</summary>
    public int FailedRecords { get; } = failedRecords;
}
