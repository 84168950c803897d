using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Codecs;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Delivery;

/// <summary>
/// Firehose-style delivery as a batch processor (run it under a <see cref="StreamConsumer"/>, as
/// <see cref="DeliveryEngine"/> does, or in a Lambda handler that flushes before it returns): stream records go to an <see cref="IObjectStore"/>:
/// records are decoded, grouped by their evaluated prefix (one buffer per prefix, so an object never
/// straddles an hour or a dynamic partition), written as JSON lines when a buffer reaches the size
/// hint or the interval hint, and named <c>&lt;prefix&gt;&lt;stream&gt;-&lt;version&gt;-&lt;yyyy-MM-dd-HH-mm-ss&gt;-&lt;id&gt;</c>
/// where the time is the oldest record's arrival and the id derives from the source position.
/// Records that cannot be decoded go to the error prefix as Firehose error records.
/// </summary>
/// <remarks>
/// At-least-once from the stream, without duplicates in the lake: the position a shard processor reports durable
/// never passes an unwritten record, and its state remembers, per prefix, the last record already written beyond
/// that position, so records re-read after a crash are skipped instead of written twice; an object rewritten from
/// the same position gets the same key and overwrites itself.
/// </remarks>
public sealed partial class DeliveryProcessor : IBatchProcessor
{
    /// <summary>The <see cref="Meter"/> name of the delivery engine.</summary>
    public const string MeterName = "Retail.Delivery";

    /// <summary>Firehose's error output type for records that could not be processed.</summary>
    public const string ProcessingFailed = "processing-failed";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("retail.delivery.records.in");
    private static readonly Counter<long> RecordsOut = Meter.CreateCounter<long>("retail.delivery.records.out");
    private static readonly Counter<long> RecordsFailed = Meter.CreateCounter<long>("retail.delivery.records.failed");
    private static readonly Counter<long> ObjectsOut = Meter.CreateCounter<long>("retail.delivery.objects");

    private readonly IObjectStore _store;
    private readonly DeliveryOptions _options;
    private readonly IRecordDecoder _decoder;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PrefixTemplate _prefix;
    private readonly PrefixTemplate _errorPrefix;
    private readonly long _bufferBytes;
    private readonly TimeSpan _bufferInterval;
    private readonly RetailRetryPipeline _retry;

    /// <summary>Creates a processor; invalid options throw here, naming the setting.</summary>
    public DeliveryProcessor(IObjectStore store, DeliveryOptions? options = null, IRecordDecoder? decoder = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options ?? new DeliveryOptions();
        _options.ThrowIfInvalid();
        _decoder = decoder ?? JsonRecordDecoder.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _prefix = PrefixTemplate.ParseDataPrefix(_options.Prefix);
        _errorPrefix = PrefixTemplate.ParseErrorPrefix(_options.ErrorOutputPrefix);
        _bufferBytes = _options.BufferSizeMiB * 1024L * 1024L;
        _bufferInterval = TimeSpan.FromSeconds(_options.BufferIntervalSeconds);
        _retry = new RetailRetryPipeline(_options.Retry, _time);
    }

    /// <summary>Live counters.</summary>
    public DeliveryStats Stats { get; } = new();

    /// <summary>
    /// Raised after each object is durably written (on the shard's worker; keep handlers short). A handler that
    /// throws is logged and counted (<see cref="DeliveryStats.ObserverErrors"/>) and never stops the worker; the
    /// other handlers still run.
    /// </summary>
    public event Action<DeliveredObject>? ObjectWritten;

    /// <inheritdoc />
    public ValueTask<IShardProcessor> OpenShardAsync(ShardProcessorContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult<IShardProcessor>(new ShardWorker(this, context));
    }

    private sealed class Buffer
    {
        public required string GroupKey { get; init; }
        public required bool IsError { get; init; }
        public required DateTimeOffset OldestArrival { get; init; }
        public required string FirstSequence { get; init; }
        public required RetailTransaction? FirstRecord { get; init; }
        public required long OpenedAt { get; init; }
        public string LastSequence { get; set; } = "";
        public required ArrayBufferWriter<byte> Data { get; init; }
        public int Records { get; set; }
        public bool Written { get; set; }
    }

    private sealed class ShardWorker : IShardProcessor, IShardProgress
    {
        private readonly DeliveryProcessor engine;
        private readonly string shardId;
        private readonly string streamName;
        private readonly Dictionary<string, Buffer> _buffers = [];
        private readonly Queue<(string Sequence, Buffer? Buffer)> _pending = new();
        private readonly Dictionary<string, string> _written;
        private string? _state;        // _written as checkpoint state, formatted when it changes (not on every batch)
        private bool _stateChanged = true;
        private string? _checkpoint;
        private string? _lastRead;
        private Utf8JsonWriter? _json;
        private string? _lastKey;
        private DateTimeOffset _lastKeyArrival;
        private readonly Stack<ArrayBufferWriter<byte>> _spareBuffers = new();

        public ShardWorker(DeliveryProcessor engine, ShardProcessorContext context)
        {
            this.engine = engine;
            shardId = context.ShardId;
            streamName = context.StreamName;
            _checkpoint = _lastRead = context.Checkpoint?.SequenceNumber;
            _written = ParseState(context.Checkpoint?.State);
        }

        public int BufferedRecords => _buffers.Values.Sum(b => b.Records);

        Checkpoint? IShardProgress.Durable => Durable();

        /// <summary>Records past the durable position whose objects are written (or were before a restart).</summary>
        public IReadOnlyCollection<string> StoredPastDurable() =>
            _pending.Where(p => p.Buffer is null || p.Buffer.Written).Select(p => p.Sequence).ToHashSet(StringComparer.Ordinal);

        public TimeSpan? NextDeadline
        {
            get
            {
                if (_buffers.Count == 0) return null;
                long oldest = _buffers.Values.Min(b => b.OpenedAt);
                var left = engine._bufferInterval - engine._time.GetElapsedTime(oldest);
                return left <= TimeSpan.Zero ? TimeSpan.Zero : left;
            }
        }

        public async ValueTask<Checkpoint?> ProcessAsync(ShardBatch batch, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(batch);
            engine.Stats.Read(batch.Records.Count);
            RecordsIn.Add(batch.Records.Count);
            foreach (var record in batch.Records)
            {
                await AddAsync(record, ct).ConfigureAwait(false);
                _lastRead = record.SequenceNumber;
            }
            if (batch.Backpressure is { } pressure && pressure.IsHeldBy(_checkpoint) && _buffers.Count > 0)
            {
                // The stream refuses producers until this consumer checkpoints: write now rather than at the
                // buffer hints, which bound object size and latency but must not throttle ingestion.
                engine.Stats.BackpressureFlush();
                foreach (var b in _buffers.Values.ToList()) await WriteAsync(b, ct).ConfigureAwait(false);
            }
            long now = engine._time.GetTimestamp();
            foreach (var b in _buffers.Values.Where(b => engine._time.GetElapsedTime(b.OpenedAt, now) >= engine._bufferInterval).ToList())
                await WriteAsync(b, ct).ConfigureAwait(false);
            return Durable();
        }

        public async ValueTask<Checkpoint?> FlushAsync(CancellationToken ct)
        {
            foreach (var b in _buffers.Values.ToList()) await WriteAsync(b, ct).ConfigureAwait(false);
            return Durable();
        }

        public ValueTask DisposeAsync()
        {
            // Disposed without a flush (a stop that could not write): say what was not made durable.
            if (BufferedRecords is > 0 and var left) LogDisposedUnflushed(engine._logger, shardId, left);
            _buffers.Clear();
            _pending.Clear();
            return ValueTask.CompletedTask;
        }

        private async ValueTask AddAsync(StreamRecord record, CancellationToken ct)
        {
            string? reason;
            bool ok = engine._decoder.TryDecode(record.Data.Span, out var decoded, out reason);
            string groupKey = "";
            if (ok)
            {
                // Without dynamic partitioning the key depends on the arrival time alone, which a whole put shares.
                if (!engine._prefix.UsesDynamicPartitioning && _lastKey is not null && record.ApproximateArrivalTimestamp == _lastKeyArrival)
                    groupKey = _lastKey;
                else
                {
                    groupKey = engine._prefix.GroupKey(record.ApproximateArrivalTimestamp, decoded, null);
                    _lastKey = groupKey;
                    _lastKeyArrival = record.ApproximateArrivalTimestamp;
                }
                if (groupKey.Length > PrefixTemplate.MaxEvaluatedLength)
                {
                    ok = false;
                    reason = $"the evaluated prefix is {groupKey.Length} characters long; Firehose allows {PrefixTemplate.MaxEvaluatedLength}";
                }
                else if (!ObjectKeys.IsValid(groupKey + "x", out string? why))
                {
                    ok = false;
                    reason = $"the evaluated prefix '{groupKey}' is not a valid key prefix: {why}";
                }
            }
            if (!ok) groupKey = engine._errorPrefix.GroupKey(record.ApproximateArrivalTimestamp, null, ProcessingFailed);

            if (_written.TryGetValue(groupKey, out var mark) && SequenceNumbers.Compare(record.SequenceNumber, mark) <= 0)
            {
                // Already in an object written before a restart.
                engine.Stats.AlreadyDelivered();
                _pending.Enqueue((record.SequenceNumber, null));
                return;
            }

            if (!_buffers.TryGetValue(groupKey, out var buffer))
            {
                if (_buffers.Count >= engine._options.MaxOpenBuffers)
                {
                    // Bounded memory: too many partitions open at once, so write the oldest.
                    var oldest = _buffers.Values.MinBy(b => b.OpenedAt)!;
                    await WriteAsync(oldest, ct).ConfigureAwait(false);
                }
                buffer = new Buffer
                {
                    Data = _spareBuffers.Count > 0 ? _spareBuffers.Pop() : new ArrayBufferWriter<byte>(engine._prefix.UsesDynamicPartitioning ? 64 * 1024 : (int)Math.Min(engine._bufferBytes + 64 * 1024, 4 * 1024 * 1024)),
                    GroupKey = groupKey,
                    IsError = !ok,
                    OldestArrival = record.ApproximateArrivalTimestamp,
                    FirstSequence = record.SequenceNumber,
                    FirstRecord = decoded,
                    OpenedAt = engine._time.GetTimestamp(),
                };
                _buffers.Add(groupKey, buffer);
            }
            if (ok) AppendJsonLine(buffer.Data, decoded!);
            else AppendErrorLine(buffer.Data, record, reason!);
            buffer.Records++;
            buffer.LastSequence = record.SequenceNumber;
            _pending.Enqueue((record.SequenceNumber, buffer));
            if (buffer.Data.WrittenCount >= engine._bufferBytes) await WriteAsync(buffer, ct).ConfigureAwait(false);
        }

        private void AppendJsonLine(ArrayBufferWriter<byte> data, RetailTransaction record)
        {
            _json ??= new Utf8JsonWriter(data, RetailJson.WriterOptions);
            JsonLinesWriter.WriteTo(_json, data, record);
        }

        private void AppendErrorLine(ArrayBufferWriter<byte> data, StreamRecord record, string reason)
        {
            _json ??= new Utf8JsonWriter(data, RetailJson.WriterOptions);
            _json.Reset(data);
            FirehoseErrorRecord.Write(_json, record, 1, "Retail.ProcessingFailed", reason, engine._time.GetUtcNow());
            _json.Flush();
            data.Write("\n"u8);
        }

        private async ValueTask WriteAsync(Buffer buffer, CancellationToken ct)
        {
            var template = buffer.IsError ? engine._errorPrefix : engine._prefix;
            ulong seed = Seed(shardId, buffer.FirstSequence, buffer.GroupKey);
            string prefix = template.Evaluate(buffer.OldestArrival, buffer.FirstRecord, buffer.IsError ? ProcessingFailed : null, seed);
            string key = string.Create(CultureInfo.InvariantCulture,
                $"{prefix}{engine._options.DeliveryStreamName}-{engine._options.Version}-{buffer.OldestArrival.UtcDateTime:yyyy-MM-dd-HH-mm-ss}-{ObjectId(buffer)}");
            ObjectKeys.Validate(key);
            await engine.PutWithRetryAsync(key, buffer.Data.WrittenMemory, ct).ConfigureAwait(false);
            engine.Stats.Written(buffer.IsError, buffer.Records, buffer.Data.WrittenCount);
            (buffer.IsError ? RecordsFailed : RecordsOut).Add(buffer.Records);
            ObjectsOut.Add(1);
            LogObjectWritten(engine._logger, key, buffer.Records, buffer.Data.WrittenCount);
            engine.NotifyObjectWritten(new DeliveredObject(key, buffer.IsError, buffer.Records, buffer.Data.WrittenCount));
            buffer.Written = true;
            _buffers.Remove(buffer.GroupKey);
            // Reuse the memory for the next buffer (a few are kept; the rest go to the GC).
            buffer.Data.ResetWrittenCount();
            if (_spareBuffers.Count < 4) _spareBuffers.Push(buffer.Data);
            _written[buffer.GroupKey] = buffer.LastSequence;
            _stateChanged = true;
        }

        private string ObjectId(Buffer buffer)
        {
            byte[] h = SHA256.HashData(Encoding.UTF8.GetBytes($"{streamName}\n{shardId}\n{buffer.FirstSequence}\n{buffer.GroupKey}"));
            return new Guid(h.AsSpan(0, 16)).ToString("D");
        }

        private static ulong Seed(string shard, string sequence, string group) =>
            BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{shard}\n{sequence}\n{group}")), 0);

        /// <summary>The position through which every record taken is written (or was already), with the marks beyond it.</summary>
        private Checkpoint? Durable()
        {
            string? next = _checkpoint;
            while (_pending.Count > 0 && (_pending.Peek().Buffer is null || _pending.Peek().Buffer!.Written))
                next = _pending.Dequeue().Sequence;
            if (_pending.Count == 0 && _lastRead is not null) next = _lastRead;
            // Marks at or before the position are implied by it.
            foreach (var k in _written.Where(kv => SequenceNumbers.Compare(kv.Value, next) <= 0).Select(kv => kv.Key).ToList())
                _stateChanged |= _written.Remove(k);
            _checkpoint = next;
            if (_stateChanged)
            {
                _state = FormatState(_written);
                _stateChanged = false;
            }
            return next is null && _state is null ? null : new Checkpoint(next, _state);
        }

        private static string? FormatState(Dictionary<string, string> written)
        {
            if (written.Count == 0) return null;
            return JsonSerializer.Serialize(written, DeliveryJsonContext.Default.DictionaryStringString);
        }

        private static Dictionary<string, string> ParseState(string? state) =>
            string.IsNullOrEmpty(state) ? [] : JsonSerializer.Deserialize(state, DeliveryJsonContext.Default.DictionaryStringString) ?? [];
    }

    private async ValueTask PutWithRetryAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        try
        {
            await _retry.ExecuteAsync(c => _store.PutAsync(key, data, c), attempt =>
            {
                Stats.Retry();
                LogWriteRetry(_logger, key, attempt.Failure, attempt.Delay.TotalMilliseconds);
            }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RetryExhaustedException && FailureClassification.IsPermanent(e, out string? cause))
        {
            // Retrying cannot fix a full disk or a read-only lake: stop now and say why.
            LogWritePermanent(_logger, key, cause, e.Message);
            throw new DeliveryFailedException($"Delivery stopped: writing '{key}' failed because of {cause} ({e.Message}). Nothing past the last written object was checkpointed; fix the cause and run again.", e);
        }
        catch (RetryExhaustedException e)
        {
            LogWriteGaveUp(_logger, key, e.Message);
            throw new DeliveryFailedException($"Delivery stopped: writing '{key}' kept failing. {e.Message}. Nothing past the last written object was checkpointed; run again when the store recovers.", e);
        }
    }

    /// <summary>Raises <see cref="ObjectWritten"/>: a handler's exception is logged and counted, never thrown into the worker.</summary>
    private void NotifyObjectWritten(DeliveredObject written)
    {
        if (ObjectWritten is not { } handlers) return;
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<DeliveredObject>)handler)(written);
            }
            catch (Exception e)
            {
                Stats.ObserverError();
                LogObserverFailed(_logger, written.Key, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {ShardId}: {Records} records were taken but not written when its processor was disposed; nothing covers them, so they are read again")]
    private static partial void LogDisposedUnflushed(ILogger logger, string shardId, int records);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Key} kept failing; delivery stops: {Error}")]
    private static partial void LogWriteGaveUp(ILogger logger, string key, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "An ObjectWritten handler threw for {Key}; delivery goes on")]
    private static partial void LogObserverFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Wrote {Key}: {Records} records, {Bytes} bytes")]
    private static partial void LogObjectWritten(ILogger logger, string key, int records, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Key} failed for good: {Cause} ({Error})")]
    private static partial void LogWritePermanent(ILogger logger, string key, string cause, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Key} failed ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogWriteRetry(ILogger logger, string key, string error, double delayMs);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class DeliveryJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
