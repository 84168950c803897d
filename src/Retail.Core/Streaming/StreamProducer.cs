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

    /// <summary>First back-off after a failed entry (default 50 ms); doubles each time, with full jitter.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest single back-off (default 5 s).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one batch may keep failing before the producer gives up with an exception (default 5 min).</summary>
    public TimeSpan MaxRetryDuration { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        if (MaxBatchRecords is < 1 or > StreamLimits.MaxRecordsPerPut)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRecords), MaxBatchRecords, $"StreamProducerOptions.MaxBatchRecords must be 1 to {StreamLimits.MaxRecordsPerPut}.");
        if (MaxBatchBytes is < StreamLimits.MaxRecordBytes or > StreamLimits.MaxBytesPerPut)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchBytes), MaxBatchBytes, $"StreamProducerOptions.MaxBatchBytes must be {StreamLimits.MaxRecordBytes} to {StreamLimits.MaxBytesPerPut}.");
        if (BaseBackoff <= TimeSpan.Zero || MaxBackoff < BaseBackoff)
            throw new ArgumentOutOfRangeException(nameof(BaseBackoff), BaseBackoff, "StreamProducerOptions.BaseBackoff must be positive and at most MaxBackoff.");
        if (MaxRetryDuration <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxRetryDuration), MaxRetryDuration, "StreamProducerOptions.MaxRetryDuration must be positive.");
    }
}

/// <summary>
/// Puts records into an <see cref="IRecordStream"/> in batches within Kinesis's limits, and — unlike
/// the workshop's producer — checks every response: only the entries that failed are sent again,
/// with exponential back-off and full jitter, so nothing is lost and nothing is duplicated by a
/// whole-batch retry. Not thread-safe: one producer per writer.
/// </summary>
public sealed partial class StreamProducer : IAsyncDisposable
{
    private readonly IRecordStream _stream;
    private readonly StreamProducerOptions _options;
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
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Records the stream accepted.</summary>
    public long RecordsSent { get; private set; }

    /// <summary>Entries that failed and were sent again.</summary>
    public long EntriesRetried { get; private set; }

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
    /// <exception cref="StreamProducerException">Entries still failed after <see cref="StreamProducerOptions.MaxRetryDuration"/>.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_batch.Count == 0) return;
        try
        {
            await SendAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _cancelled = true;
            throw;
        }
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PutRecordsEntry> pending = [.. _batch];
        _batch.Clear();
        _batchBytes = 0;
        long started = _time.GetTimestamp();
        int attempt = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PutRecordsResult result;
            try
            {
                result = await _stream.PutRecordsAsync(pending, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException or IOException or StreamThrottledException)
            {
                // Whole-call failure: nothing is known to be stored, so the whole batch is pending.
                // (A call that timed out after the service stored some entries can duplicate them:
                // at-least-once, as Kinesis itself.)
                result = new PutRecordsResult(pending.Count, [.. pending.Select(_ => new PutRecordsResultEntry(null, null, e.GetType().Name, e.Message))]);
            }
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
            if (failed.Count == 0) return;
            EntriesRetried += failed.Count;
            if (_time.GetElapsedTime(started) >= _options.MaxRetryDuration)
                throw new StreamProducerException(failed.Count, $"{failed.Count} records were still refused by stream '{_stream.StreamName}' after {_options.MaxRetryDuration}; last error {lastError}");
            var delay = Retail.Backoff.Jittered(attempt++, _options.BaseBackoff, _options.MaxBackoff);
            LogRetry(_logger, failed.Count, pending.Count, delay.TotalMilliseconds, lastError);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            pending = failed;
        }
    }

    /// <summary>
    /// Flushes — unless an <see cref="AddAsync"/> or <see cref="FlushAsync"/> was cancelled: then the caller has
    /// given up on this producer and what is still batched is dropped unsent (it was never acknowledged), so a
    /// cancelled pipeline stops at once instead of retrying into a stream nobody reads any more.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_cancelled)
        {
            _batch.Clear();
            return;
        }
        await FlushAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Failed} of {Total} records were refused; retrying them in {DelayMs} ms (last error {Error})")]
    private static partial void LogRetry(ILogger logger, int failed, int total, double delayMs, string? error);
}

/// <summary>A whole put was throttled (thrown by stream clients; the producer retries it).</summary>
public sealed class StreamThrottledException(string message) : Exception(message);

/// <summary>Records could not be put within the retry time.</summary>
public sealed class StreamProducerException(int failedRecords, string message) : Exception(message)
{
    /// <summary>How many records were not accepted.</summary>
    public int FailedRecords { get; } = failedRecords;
}
