using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Indexing;

/// <summary>Settings of <see cref="SpeedLayerEngine"/> (the workshop's <c>UpsertToES</c>).</summary>
public sealed class SpeedLayerOptions
{
    /// <summary>Consumer name for checkpoints (default <c>speed-layer</c>).</summary>
    public string ConsumerName { get; set; } = "speed-layer";

    /// <summary>How documents are named (default <see cref="DocumentIdMode.SourcePosition"/>: nothing is overwritten).</summary>
    public DocumentIdMode IdMode { get; set; } = DocumentIdMode.SourcePosition;

    /// <summary>The workshop's REQUIRED_FIELDS: the business key of <see cref="DocumentIdMode.BusinessKey"/> and <see cref="DocumentIdMode.WorkshopMd5Prefix"/> (default Invoice, StockCode, Customer_ID).</summary>
    public IList<string> RequiredFields { get; } = [.. DocumentIds.DefaultKeyFields];

    /// <summary>Documents per upsert call (default 10,000; about 2.5 MiB of bulk body).</summary>
    public int MaxBatchDocuments { get; set; } = 10_000;

    /// <summary>
    /// Longest a document waits in a partly filled batch before it is sent (default 1 s): fewer,
    /// larger bulk requests under a steady trickle, still near-real-time.
    /// </summary>
    public TimeSpan MaxBatchLatency { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Records per shard read (default 10,000).</summary>
    public int MaxRecordsPerRead { get; set; } = 10_000;

    /// <summary>
    /// Where a shard without a checkpoint is read from (default <see cref="StartPosition.TrimHorizon"/>: every record the
    /// stream holds, so nothing already in it goes unindexed; the workshop's event source mapping starts at
    /// <see cref="StartPosition.Latest"/>). A shard with a checkpoint resumes after it; a child of a split or merge
    /// always starts at its trim horizon.
    /// </summary>
    public StartPosition InitialPosition { get; set; } = StartPosition.TrimHorizon;

    /// <summary>
    /// The dead-letter prefix template (default: the workshop's error prefix,
    /// <c>error-json/year=…/hour=…/!{firehose:error-output-type}/</c>): records that cannot be decoded and documents
    /// the index rejects for good are written under it, in the dead-letter store given to the processor, as Firehose's
    /// <c>AmazonOpenSearchService-failed</c> error records.
    /// </summary>
    public string ErrorOutputPrefix { get; set; } = LakeLayout.WorkshopErrorPrefixTemplate;

    /// <summary>The document type name written into dead letters as <c>esTypeName</c> (the workshop's ES_TYPE); null for none (OpenSearch 2 has no types).</summary>
    public string? DocumentTypeName { get; set; }

    /// <summary>Points the dead letters at <paramref name="lake"/>'s error prefix (<see cref="RetailLakeDefinition.ErrorPrefixTemplate"/>).</summary>
    /// <returns>This instance.</returns>
    public SpeedLayerOptions UseLake(RetailLakeDefinition lake)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ErrorOutputPrefix = lake.ErrorPrefixTemplate;
        return this;
    }

    /// <summary>How long a read waits for new records (default 1 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On cancellation, how long the engine may take to upsert its open batch and checkpoint it (default 30 s);
    /// what it cannot store in time is logged and re-read on the next run.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How retryable failures (documents the index failed retryably, transient exceptions) are retried before the
    /// engine stops with an error without checkpointing (default: 50 ms first delay, 10 s longest, for 5 minutes).
    /// Only the documents that failed are sent again. The engine's stream reads and checkpoint saves retry with the
    /// same settings.
    /// </summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(10),
        MaxTotalDuration = TimeSpan.FromMinutes(5),
    };

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ConsumerName)) errors.Add("SpeedLayerOptions.ConsumerName must not be empty.");
        if (!Enum.IsDefined(IdMode)) errors.Add($"SpeedLayerOptions.IdMode '{IdMode}' is not a DocumentIdMode.");
        if (RequiredFields.Count == 0) errors.Add("SpeedLayerOptions.RequiredFields must name at least one field.");
        foreach (var f in RequiredFields.Where(f => !RetailFieldAccess.IsField(f)))
            errors.Add($"SpeedLayerOptions.RequiredFields has '{f}', which is not a field ({string.Join(", ", RetailFields.All)}).");
        if (MaxBatchDocuments is < 1 or > 100_000) errors.Add($"SpeedLayerOptions.MaxBatchDocuments must be 1 to 100000, got {MaxBatchDocuments}.");
        if (MaxRecordsPerRead is < 1 or > 10_000) errors.Add($"SpeedLayerOptions.MaxRecordsPerRead must be 1 to 10000, got {MaxRecordsPerRead}.");
        if (InitialPosition.Type is not (StartPositionType.TrimHorizon or StartPositionType.Latest or StartPositionType.AtTimestamp))
            errors.Add($"SpeedLayerOptions.InitialPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, got {InitialPosition}.");
        else if (InitialPosition.Type == StartPositionType.AtTimestamp && InitialPosition.Timestamp is null)
            errors.Add("SpeedLayerOptions.InitialPosition AT_TIMESTAMP needs a timestamp.");
        if (MaxBatchLatency < TimeSpan.Zero) errors.Add($"SpeedLayerOptions.MaxBatchLatency must not be negative, got {MaxBatchLatency}.");
        if (PollInterval <= TimeSpan.Zero) errors.Add($"SpeedLayerOptions.PollInterval must be positive, got {PollInterval}.");
        if (ShutdownTimeout <= TimeSpan.Zero) errors.Add($"SpeedLayerOptions.ShutdownTimeout must be positive, got {ShutdownTimeout}.");
        if (Retry is null) errors.Add("SpeedLayerOptions.Retry must be set.");
        else errors.AddRange(Retry.Validate("SpeedLayerOptions.Retry"));
        try { PrefixTemplate.ParseErrorPrefix(ErrorOutputPrefix); }
        catch (FormatException e) { errors.Add("SpeedLayerOptions.ErrorOutputPrefix: " + e.Message); }
        return errors;
    }

    /// <summary>The settings of the engine's <see cref="StreamConsumer"/>.</summary>
    internal StreamConsumerOptions ConsumerOptions() => new()
    {
        ConsumerName = ConsumerName,
        MaxRecordsPerRead = MaxRecordsPerRead,
        PollInterval = PollInterval,
        InitialPosition = InitialPosition,
        ShutdownTimeout = ShutdownTimeout,
        Retry = Retry,
    };
}

/// <summary>Live counters of a <see cref="SpeedLayerProcessor"/> (and its <see cref="SpeedLayerEngine"/>).</summary>
public sealed class SpeedLayerStats
{
    private long _read, _upserted, _invalid, _rejected, _retries, _deadLettered, _deadLetterObjects;
    /// <summary>Records read from the stream.</summary>
    public long RecordsRead => Interlocked.Read(ref _read);
    /// <summary>Documents the index accepted.</summary>
    public long DocumentsUpserted => Interlocked.Read(ref _upserted);
    /// <summary>Records that could not be decoded (the workshop's "invalid": not JSON, a missing field); each goes to the dead-letter output with its reason.</summary>
    public long RecordsInvalid => Interlocked.Read(ref _invalid);
    /// <summary>Documents the index rejected for good (not retryable, e.g. a mapping error); each is logged and goes to the dead-letter output with its reason.</summary>
    public long DocumentsRejected => Interlocked.Read(ref _rejected);
    /// <summary>Documents sent again after a retryable failure.</summary>
    public long DocumentsRetried => Interlocked.Read(ref _retries);
    /// <summary>Invalid records and rejected documents written to the dead-letter output (each also counted as invalid or rejected).</summary>
    public long DocumentsDeadLettered => Interlocked.Read(ref _deadLettered);
    /// <summary>Dead-letter objects written.</summary>
    public long DeadLetterObjects => Interlocked.Read(ref _deadLetterObjects);
    internal void Read(long n) => Interlocked.Add(ref _read, n);
    internal void Upserted(long n) => Interlocked.Add(ref _upserted, n);
    internal void Invalid() => Interlocked.Increment(ref _invalid);
    internal void Rejected() => Interlocked.Increment(ref _rejected);
    internal void Retried(long n) => Interlocked.Add(ref _retries, n);
    internal void DeadLettered(long n)
    {
        Interlocked.Add(ref _deadLettered, n);
        Interlocked.Increment(ref _deadLetterObjects);
    }
}

/// <summary>
/// The speed layer as a batch processor (run it under a <see cref="StreamConsumer"/>, as <see cref="SpeedLayerEngine"/>
/// does, or in a Lambda handler through <see cref="BatchInvocation"/>): upserts every record into an <see cref="IUpsertIndex"/>,
/// fixing the workshop's <c>UpsertToES</c>: ids do not collide (see <see cref="DocumentIdMode"/>), per-item failures
/// are read and retried, records that cannot be decoded and documents the index rejects for good go to a dead-letter
/// output with their reason, the durable position never passes a record that is neither stored nor dead-lettered, and
/// failures are counted and reported rather than swallowed.
/// </summary>
/// <remarks>
/// Dead letters are Firehose <c>AmazonOpenSearchService-failed</c> error records (one JSON object per line:
/// <c>attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, esDocumentId, esIndexName,
/// esTypeName, rawData, sourceShardId, sourceSequenceNumber</c>), written to the dead-letter store under
/// <see cref="SpeedLayerOptions.ErrorOutputPrefix"/> in objects named <c>&lt;prefix&gt;&lt;consumer&gt;-&lt;yyyy-MM-dd-HH-mm-ss&gt;-&lt;id&gt;</c>,
/// where the id derives from the stream, the shard and the first record's sequence number, so a batch processed again
/// rewrites the same object. Without a dead-letter store they are logged and counted only.
/// </remarks>
public sealed partial class SpeedLayerProcessor : IBatchProcessor
{
    /// <summary>The <see cref="Meter"/> name of the speed layer.</summary>
    public const string MeterName = "Retail.SpeedLayer";

    /// <summary>The error output type of the speed layer's dead letters (Firehose's, for its OpenSearch destination).</summary>
    public const string OpenSearchFailed = "AmazonOpenSearchService-failed";

    /// <summary>The <c>errorCode</c> of a dead letter for a record that could not be decoded.</summary>
    public const string InvalidRecordErrorCode = "Retail.InvalidRecord";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> DocsOut = Meter.CreateCounter<long>("retail.speedlayer.documents.upserted");
    private static readonly Counter<long> DocsFailed = Meter.CreateCounter<long>("retail.speedlayer.documents.failed");
    private static readonly Counter<long> DocsDeadLettered = Meter.CreateCounter<long>("retail.speedlayer.documents.deadlettered");

    private readonly IUpsertIndex _index;
    private readonly SpeedLayerOptions _options;
    private readonly IRecordDecoder _decoder;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string[] _keyFields;
    private readonly RetailRetryPipeline _retry;
    private readonly IObjectStore? _deadLetters;
    private readonly PrefixTemplate _errorPrefix;

    /// <summary>Creates the processor; invalid options throw here, naming the setting.</summary>
    /// <param name="index">Where documents go.</param>
    /// <param name="options">Settings (default <see cref="SpeedLayerOptions"/>).</param>
    /// <param name="decoder">How records are decoded (default one JSON object per record).</param>
    /// <param name="timeProvider">The clock (batch latency, retry delays).</param>
    /// <param name="logger">Logs.</param>
    /// <param name="deadLetters">Where dead letters are written (the lake's store); null to log and count them only.</param>
    public SpeedLayerProcessor(IUpsertIndex index, SpeedLayerOptions? options = null, IRecordDecoder? decoder = null, TimeProvider? timeProvider = null, ILogger? logger = null,
        IObjectStore? deadLetters = null)
    {
        _index = index ?? throw new ArgumentNullException(nameof(index));
        _options = options ?? new SpeedLayerOptions();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        _decoder = decoder ?? JsonRecordDecoder.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _keyFields = [.. _options.RequiredFields];
        _retry = new RetailRetryPipeline(_options.Retry, _time);
        _deadLetters = deadLetters;
        _errorPrefix = PrefixTemplate.ParseErrorPrefix(_options.ErrorOutputPrefix);
    }

    /// <summary>Live counters.</summary>
    public SpeedLayerStats Stats { get; } = new();

    /// <inheritdoc />
    public ValueTask<IShardProcessor> OpenShardAsync(ShardProcessorContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult<IShardProcessor>(new Shard(this, context));
    }

    /// <summary>A record that goes to the dead-letter output, and why.</summary>
    private readonly record struct DeadLetter(StreamRecord Record, string ErrorCode, string Reason, int Attempts, FirehoseErrorRecord.OpenSearchTarget? Target);

    private sealed class Shard(SpeedLayerProcessor engine, ShardProcessorContext context) : IShardProcessor, IShardProgress
    {
        private readonly HashSet<string> _stored = new(StringComparer.Ordinal); // records of the open batch already indexed
        private readonly List<IndexDocument> _docs = new(Math.Min(engine._options.MaxBatchDocuments, 10_000));
        private readonly List<StreamRecord> _sources = new(Math.Min(engine._options.MaxBatchDocuments, 10_000)); // _docs[i] came from _sources[i]
        private readonly List<DeadLetter> _dead = [];
        private long _batchStarted;
        private string? _after = context.Checkpoint?.SequenceNumber;   // the last record taken
        private string? _beforeBatch = context.Checkpoint?.SequenceNumber; // the last record before the open batch's first

        public int BufferedRecords => _docs.Count + _dead.Count;

        Checkpoint? IShardProgress.Durable => Durable();

        public IReadOnlyCollection<string> StoredPastDurable() => BufferedRecords == 0 ? [] : [.. _stored];

        public TimeSpan? NextDeadline
        {
            get
            {
                if (BufferedRecords == 0) return null;
                var left = engine._options.MaxBatchLatency - engine._time.GetElapsedTime(_batchStarted);
                return left <= TimeSpan.Zero ? TimeSpan.Zero : left;
            }
        }

        public async ValueTask<Checkpoint?> ProcessAsync(ShardBatch batch, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(batch);
            engine.Stats.Read(batch.Records.Count);
            foreach (var record in batch.Records)
            {
                if (BufferedRecords == 0)
                {
                    _batchStarted = engine._time.GetTimestamp();
                    _beforeBatch = _after;
                }
                if (engine._decoder.TryDecode(record.Data.Span, out var decoded, out var error))
                {
                    string id = DocumentIds.Compute(engine._options.IdMode, decoded, context.StreamName, record.ShardId, record.SequenceNumber, engine._keyFields);
                    _docs.Add(new IndexDocument(id, decoded));
                    _sources.Add(record);
                }
                else
                {
                    engine.Stats.Invalid();
                    LogInvalid(engine._logger, record.ShardId, record.SequenceNumber, error);
                    _dead.Add(new DeadLetter(record, InvalidRecordErrorCode, error, 0, null));
                }
                _after = record.SequenceNumber;
                if (_docs.Count == engine._options.MaxBatchDocuments) await StoreAsync(ct).ConfigureAwait(false);
            }
            // (Backpressure needs nothing more here: a batch waits at most MaxBatchLatency, so this consumer
            // never holds a bounded stream for longer than that; flushing smaller batches would only slow it.)
            if (BufferedRecords > 0 && engine._time.GetElapsedTime(_batchStarted) >= engine._options.MaxBatchLatency)
                await StoreAsync(ct).ConfigureAwait(false);
            return Durable();
        }

        public async ValueTask<Checkpoint?> FlushAsync(CancellationToken ct)
        {
            if (BufferedRecords > 0) await StoreAsync(ct).ConfigureAwait(false);
            await engine._index.FlushAsync(ct).ConfigureAwait(false);
            return Durable();
        }

        public ValueTask DisposeAsync()
        {
            // Disposed without a flush (a stop that could not store the batch): say what was not made durable.
            if (BufferedRecords > 0) LogDisposedUnflushed(engine._logger, context.ShardId, BufferedRecords);
            _docs.Clear();
            _sources.Clear();
            _dead.Clear();
            _stored.Clear();
            return ValueTask.CompletedTask;
        }

        /// <summary>
        /// Upserts the open documents, then writes the open dead letters (the invalid records and the rejected documents).
        /// If the upsert fails, everything stays open; if the dead letters fail, the stored documents are no longer open
        /// and the dead letters still are, so a second attempt neither loses nor repeats anything.
        /// </summary>
        private async ValueTask StoreAsync(CancellationToken ct)
        {
            if (_docs.Count > 0)
            {
                var rejected = await engine.UpsertAsync(context, _docs, _sources, _stored, ct).ConfigureAwait(false);
                _docs.Clear();
                _sources.Clear();
                _dead.AddRange(rejected);
            }
            if (_dead.Count > 0)
            {
                await engine.WriteDeadLettersAsync(context, _dead, ct).ConfigureAwait(false);
                _dead.Clear();
            }
            _stored.Clear();
        }

        /// <summary>Everything taken is stored (or dead-lettered) up to the open batch's first record.</summary>
        private Checkpoint? Durable()
        {
            string? through = BufferedRecords == 0 ? _after : _beforeBatch;
            return through is null ? null : new Checkpoint(through);
        }
    }

    /// <summary>
    /// Upserts <paramref name="docs"/>, retrying what fails retryably; returns the documents rejected for good. The
    /// sequence numbers of the documents indexed go into <paramref name="stored"/> as they are, so a failure later in the
    /// batch can tell them from the rest.
    /// </summary>
    private async Task<List<DeadLetter>> UpsertAsync(ShardProcessorContext context, IReadOnlyList<IndexDocument> docs, IReadOnlyList<StreamRecord> sources, HashSet<string> stored, CancellationToken ct)
    {
        var rejected = new List<DeadLetter>();
        List<int> pending = [.. Enumerable.Range(0, docs.Count)];
        int attempts = 0;
        try
        {
            // Each attempt sends only the documents still pending and keeps those that failed retryably; the
            // pipeline owns the delays and the limits, and retries a transient exception with the same documents.
            await _retry.ExecuteAsync(async c =>
            {
                attempts++;
                var send = pending.Count == docs.Count ? docs : pending.Select(i => docs[i]).ToList();
                UpsertResult result;
                try
                {
                    result = await _index.UpsertAsync(send, c).ConfigureAwait(false);
                }
                catch (Exception e) when (FailureClassification.IsPermanent(e, out string? cause))
                {
                    throw Stopped(cause, e.Message, e);
                }
                if (result.Items.Count != send.Count)
                    throw new InvalidOperationException($"The index answered {result.Items.Count} item results for {send.Count} documents; the speed layer stopped without checkpointing past the batch.");
                var retry = new List<int>();
                string? lastError = null;
                for (int i = 0; i < send.Count; i++)
                {
                    var item = result.Items[i];
                    if (item.Succeeded)
                    {
                        Stats.Upserted(1);
                        DocsOut.Add(1);
                        stored.Add(sources[pending[i]].SequenceNumber);
                    }
                    else if (item.Retryable && FailureClassification.IsPermanent(item.Error, out string? cause))
                    {
                        throw Stopped(cause, item.Error, null);
                    }
                    else if (item.Retryable)
                    {
                        retry.Add(pending[i]);
                        lastError = item.Error;
                    }
                    else
                    {
                        Stats.Rejected();
                        DocsFailed.Add(1);
                        LogRejected(_logger, item.Id, item.ErrorType, item.Error);
                        rejected.Add(new DeadLetter(sources[pending[i]], item.ErrorType ?? "Retail.Rejected", item.Error ?? "rejected", attempts,
                            new FirehoseErrorRecord.OpenSearchTarget(item.Id, item.IndexName, _options.DocumentTypeName)));
                    }
                }
                pending = retry;
                return (Failed: retry.Count, LastError: lastError);
            },
            r => r.Failed == 0 ? null : $"{r.Failed} documents failed ({r.LastError})",
            attempt =>
            {
                Stats.Retried(pending.Count);
                LogRetry(_logger, pending.Count, attempt.Failure, attempt.Delay.TotalMilliseconds);
            }, ct).ConfigureAwait(false);
        }
        catch (RetryExhaustedException e)
        {
            throw new InvalidOperationException($"{pending.Count} documents still failed in shard {context.ShardId}: {e.Message}; the shard was not checkpointed past them, so a restart retries them.", e);
        }
        return rejected;
    }

    /// <summary>Writes <paramref name="dead"/> (in stream order) as error records, one object per evaluated error prefix, or logs them when there is no store.</summary>
    private async Task WriteDeadLettersAsync(ShardProcessorContext context, List<DeadLetter> dead, CancellationToken ct)
    {
        if (_deadLetters is null)
        {
            foreach (var d in dead) LogNoDeadLetterStore(_logger, d.Record.ShardId, d.Record.SequenceNumber, d.Reason);
            return;
        }
        dead.Sort((a, b) => SequenceNumbers.Compare(a.Record.SequenceNumber, b.Record.SequenceNumber));
        var now = _time.GetUtcNow();
        foreach (var group in dead.GroupBy(d => _errorPrefix.GroupKey(d.Record.ApproximateArrivalTimestamp, null, OpenSearchFailed)))
        {
            var first = group.First().Record;
            var data = new ArrayBufferWriter<byte>(4096);
            using (var json = new Utf8JsonWriter(data, RetailJson.WriterOptions))
            {
                foreach (var d in group)
                {
                    json.Reset(data);
                    FirehoseErrorRecord.Write(json, d.Record, d.Attempts, d.ErrorCode, d.Reason, now, d.Target);
                    json.Flush();
                    data.Write("\n"u8);
                }
            }
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{context.StreamName}\n{first.ShardId}\n{first.SequenceNumber}\n{group.Key}"));
            string prefix = _errorPrefix.Evaluate(first.ApproximateArrivalTimestamp, null, OpenSearchFailed, BitConverter.ToUInt64(hash, 0));
            string key = string.Create(CultureInfo.InvariantCulture,
                $"{prefix}{_options.ConsumerName}-{first.ApproximateArrivalTimestamp.UtcDateTime:yyyy-MM-dd-HH-mm-ss}-{new Guid(hash.AsSpan(0, 16)):D}");
            ObjectKeys.Validate(key);
            int count = group.Count();
            try
            {
                await _retry.ExecuteAsync(c => _deadLetters.PutAsync(key, data.WrittenMemory, c), attempt =>
                    LogDeadLetterRetry(_logger, key, attempt.Failure, attempt.Delay.TotalMilliseconds), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RetryExhaustedException || FailureClassification.IsPermanent(e, out _))
            {
                throw new InvalidOperationException($"The speed layer stopped: writing the dead letters '{key}' failed ({e.Message}); nothing past the last stored batch was checkpointed.", e);
            }
            Stats.DeadLettered(count);
            DocsDeadLettered.Add(count);
            LogDeadLettered(_logger, count, key);
        }
    }

    /// <summary>The index failed in a way retrying cannot fix: the engine stops without checkpointing past the batch.</summary>
    private static InvalidOperationException Stopped(string cause, string? detail, Exception? inner) =>
        new($"The speed layer stopped: the index failed because of {cause} ({detail}); nothing past the last stored batch was checkpointed.", inner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {ShardId}: {Documents} records were taken but not stored when its processor was disposed; nothing covers them, so they are read again")]
    private static partial void LogDisposedUnflushed(ILogger logger, string shardId, int documents);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Record {ShardId}/{SequenceNumber} is invalid and was not indexed: {Error}")]
    private static partial void LogInvalid(ILogger logger, string shardId, string sequenceNumber, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Document {Id} was rejected by the index ({ErrorType}): {Error}")]
    private static partial void LogRejected(ILogger logger, string id, string? errorType, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} documents failed ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, int count, string error, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} dead letters written to {Key}")]
    private static partial void LogDeadLettered(ILogger logger, int count, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing dead letters {Key} failed ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogDeadLetterRetry(ILogger logger, string key, string error, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Record {ShardId}/{SequenceNumber} was not indexed and there is no dead-letter store to write it to: {Reason}")]
    private static partial void LogNoDeadLetterStore(ILogger logger, string shardId, string sequenceNumber, string reason);
}

/// <summary>
/// The speed layer: a <see cref="StreamConsumer"/> running a <see cref="SpeedLayerProcessor"/> (see there), configured
/// from one <see cref="SpeedLayerOptions"/>: reads the stream and upserts every record into an <see cref="IUpsertIndex"/>;
/// nothing is checkpointed until its batch is stored. A second engine on the same consumer name and checkpoint store
/// is refused (<see cref="ConsumerConflictException"/>).
/// </summary>
public sealed class SpeedLayerEngine : IAsyncDisposable
{
    private readonly SpeedLayerProcessor _processor;
    private readonly StreamConsumer _consumer;

    /// <summary>Creates the engine; invalid options throw here, naming the setting.</summary>
    /// <param name="stream">The stream read.</param>
    /// <param name="index">Where documents go.</param>
    /// <param name="checkpoints">Where the consumer's positions are saved.</param>
    /// <param name="options">Settings.</param>
    /// <param name="decoder">How records are decoded.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Logs.</param>
    /// <param name="deadLetters">Where dead letters are written (see <see cref="SpeedLayerProcessor"/>); null to log and count them only.</param>
    public SpeedLayerEngine(IRecordStream stream, IUpsertIndex index, ICheckpointStore checkpoints, SpeedLayerOptions? options = null,
        IRecordDecoder? decoder = null, TimeProvider? timeProvider = null, ILogger? logger = null, IObjectStore? deadLetters = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(checkpoints);
        options ??= new SpeedLayerOptions();
        _processor = new SpeedLayerProcessor(index, options, decoder, timeProvider, logger, deadLetters);
        _consumer = new StreamConsumer(stream, checkpoints, _processor, options.ConsumerOptions(), nameof(SpeedLayerOptions), timeProvider, logger);
    }

    /// <summary>The consumer name its checkpoints and its claim go by.</summary>
    public string ConsumerName => _consumer.ConsumerName;

    /// <summary>Live counters.</summary>
    public SpeedLayerStats Stats => _processor.Stats;

    /// <summary>The consumer's own counters (reads, checkpoints, retries of stream and checkpoint calls, what a shutdown could not store).</summary>
    public StreamConsumerStats ConsumerStats => _consumer.Stats;

    /// <summary>
    /// Upserts every shard — a child of a split or merge only after its parents are read to their end and
    /// checkpointed — until the stream ends or <paramref name="cancellationToken"/> is cancelled (then the open batch is
    /// upserted and checkpointed within <see cref="SpeedLayerOptions.ShutdownTimeout"/>, and the cancellation is
    /// thrown). If a shard fails, the other shards are stopped (nothing past their checkpoints is lost) and the
    /// failure is thrown.
    /// </summary>
    /// <exception cref="ConsumerConflictException">Another process runs this consumer name.</exception>
    public Task RunAsync(CancellationToken cancellationToken = default) => _consumer.RunAsync(cancellationToken);

    /// <summary>Upserts every open batch now and checkpoints it (see <see cref="StreamConsumer.FlushAsync"/>).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _consumer.FlushAsync(cancellationToken);

    /// <summary>Stops a run as a cancellation does (the open batches stored and checkpointed) and waits for it.</summary>
    public ValueTask DisposeAsync() => _consumer.DisposeAsync();
}
