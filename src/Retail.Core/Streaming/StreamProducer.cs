using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Retail.Streaming;

/// <summary>Settings of <see cref="StreamProducer"/>.</summary>
public sealed class StreamProducerOptions
{
    /// <summary>Records per put (1–500; default 500, Kinesis's limit).</summary>
    public int MaxBatchRecords { get; set; } = StreamLimits.MaxRecordsPerPut;

    /// <summary>Bytes per put (default 5 MiB, Kinesis's limit).</summary>
    public int MaxBatchBytes { get; set; } = StreamLimits.MaxBytesPerPut;

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

    internal void Validate()
    {
        if (MaxBatchRecords is < 1 or > StreamLimits.MaxRecordsPerPut)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRecords), MaxBatchRecords, $"StreamProducerOptions.MaxBatchRecords must be 1 to {StreamLimits.MaxRecordsPerPut}.");
        if (MaxBatchBytes is < StreamLimits.MaxRecordBytes or > StreamLimits.MaxBytesPerPut)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchBytes), MaxBatchBytes, $"StreamProducerOptions.MaxBatchBytes must be {StreamLimits.MaxRecordBytes} to {StreamLimits.MaxBytesPerPut}.");
        if (ShutdownTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "StreamProducerOptions.ShutdownTimeout must be positive.");
        if (Retry is null) throw new ArgumentNullException(nameof(Retry), "StreamProducerOptions.Retry must be set.");
        var retryErrors = Retry.Validate("StreamProducerOptions.Retry");
        if (retryErrors.Count > 0) throw new ArgumentException(string.Join(" ", retryErrors), nameof(Retry));
    }
}

/// <summary>
/// Puts records into an <see cref="IRecordStream"/> in batches within Kinesis's limits, and — unlike
/// the workshop's producer — checks every response: only the entries that failed are sent again,
/// through the <see cref="RetailRetryPipeline"/> built from <see cref="StreamProducerOptions.Retry"/>
/// (jittered exponential back-off on the injected clock), so nothing is lost and nothing is duplicated by a
/// whole-batch retry. Not thread-safe: one producer per writer.
/// </summary>
public sealed partial class StreamProducer : IAsyncDisposable
{
    private readonly IRecordStream _stream;
    private readonly StreamProducerOptions _options;
    private readonly RetailRetryPipeline _retry;
    private readonly RetailRetryPipeline _once;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<PutRecordsEntry> _batch = [];
    private int _batchBytes;
    private bool _cancelled;

    /// <summary>Creates a producer.</summary>
    public StreamProducer(IRecordStream stream, StreamProducerOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _options = options ?? new StreamProducerOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _retry = new RetailRetryPipeline(_options.Retry, _time);
        _once = new RetailRetryPipeline(new RetryOptions { MaxAttempts = 1 }, _time);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Records the stream accepted.</summary>
    public long RecordsSent { get; private set; }

    /// <summary>Entries that failed and were sent again.</summary>
    public long EntriesRetried { get; private set; }

    /// <summary>
    /// Records added but never accepted by the stream because the producer was cancelled and the last attempt of
    /// <see cref="DisposeAsync"/> could not send them (each time is logged with the count and the reason).
    /// </summary>
    public long RecordsUnsent { get; private set; }

    /// <summary>The workshop's partition keys: <c>part-00001</c> … <c>part-01024</c>.</summary>
    public static string WorkshopPartitionKey(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return "part-" + random.Next(1, 1025).ToString("00000", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Adds a record; sends a batch when it is full.</summary>
    /// <exception cref="ArgumentException">The record breaks a Kinesis limit (1 MiB, partition key 1–256 characters).</exception>
    public async ValueTask AddAsync(string partitionKey, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var entry = new PutRecordsEntry(partitionKey, data);
        StreamRecordValidation.Validate(entry);
        int size = data.Length + Encoding.UTF8.GetByteCount(partitionKey);
        if (_batch.Count == _options.MaxBatchRecords || _batchBytes + size > _options.MaxBatchBytes)
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested) _cancelled = true;
        _batch.Add(entry);
        _batchBytes += size;
    }

    /// <summary>Sends whatever is batched, retrying failed entries until all are accepted or the retry time runs out.</summary>
    /// <exception cref="StreamProducerException">Entries still failed when the retry limits (<see cref="StreamProducerOptions.Retry"/>) were reached.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_batch.Count == 0) return;
        try
        {
            await SendAsync(_retry, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _cancelled = true;
            throw;
        }
    }

    private async ValueTask SendAsync(RetailRetryPipeline retry, CancellationToken cancellationToken)
    {
        IReadOnlyList<PutRecordsEntry> pending = [.. _batch];
        _batch.Clear();
        _batchBytes = 0;
        try
        {
            // Each attempt sends only what is still pending and keeps what failed; the pipeline owns the delays and
            // the limits. A whole put that throws a transient error (throttled, timed out, connection reset) is
            // retried with the same entries: nothing is known to be stored. (A put that timed out after the service
            // stored some entries can duplicate them: at-least-once, as Kinesis itself.)
            await retry.ExecuteAsync(async ct =>
            {
                var result = await _stream.PutRecordsAsync(pending, ct).ConfigureAwait(false);
                var failed = new List<PutRecordsEntry>();
                string? lastError = null;
                for (int i = 0; i < pending.Count; i++)
                {
                    if (result.Records[i].Succeeded) RecordsSent++;
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
                EntriesRetried += pending.Count;
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
        if (_batch.Count == 0) return;
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout, _time);
        int batched = _batch.Count;
        try
        {
            await SendAsync(_once, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StreamProducerException or OperationCanceledException || FailureClassification.IsTransient(e))
        {
            int unsent = e is StreamProducerException p ? p.FailedRecords : _batch.Count;
            RecordsUnsent += unsent;
            LogUnsent(_logger, unsent, batched, _stream.StreamName, e.Message);
        }
        finally
        {
            _batch.Clear();
            _batchBytes = 0;
        }
    }

    private void Restore(IReadOnlyList<PutRecordsEntry> pending)
    {
        _batch.InsertRange(0, pending);
        foreach (var entry in pending) _batchBytes += entry.Data.Length + Encoding.UTF8.GetByteCount(entry.PartitionKey);
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
