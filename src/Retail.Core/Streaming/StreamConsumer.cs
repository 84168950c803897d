using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Retail.Streaming;

/// <summary>
/// Reads a stream for one <see cref="IBatchProcessor"/> and owns everything around it: it claims the consumer name
/// (a second process on the same name is refused), lists shards and re-lists them as shards end so the children of a
/// split or merge are picked up, starts a child only after its parents are finished and checkpointed, loads and saves
/// checkpoints (exactly the position each processor says is durable), retries its own stream and checkpoint calls
/// through the one retry pipeline, and stops cleanly: on cancellation every processor is flushed and checkpointed
/// within <see cref="StreamConsumerOptions.ShutdownTimeout"/>.
/// </summary>
/// <remarks>
/// At-least-once: a checkpoint never covers a record whose work is not durable, so a crash re-reads; the processors'
/// deterministic object keys and document ids make a re-read overwrite instead of duplicate.
/// </remarks>
public sealed partial class StreamConsumer : IAsyncDisposable
{
    private readonly IRecordStream _stream;
    private readonly ICheckpointStore _checkpoints;
    private readonly IBatchProcessor _processor;
    private readonly StreamConsumerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RetailRetryPipeline _retry;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private Task? _run;

    /// <summary>Creates a consumer; invalid options throw here, naming the setting.</summary>
    public StreamConsumer(IRecordStream stream, ICheckpointStore checkpoints, IBatchProcessor processor, StreamConsumerOptions? options = null,
        TimeProvider? timeProvider = null, ILogger? logger = null)
        : this(stream, checkpoints, processor, options ?? new StreamConsumerOptions(), nameof(StreamConsumerOptions), timeProvider, logger)
    {
    }

    internal StreamConsumer(IRecordStream stream, ICheckpointStore checkpoints, IBatchProcessor processor, StreamConsumerOptions options, string optionsName,
        TimeProvider? timeProvider, ILogger? logger)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _checkpoints = checkpoints ?? throw new ArgumentNullException(nameof(checkpoints));
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(optionsName);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _retry = new RetailRetryPipeline(options.Retry, _time);
    }

    /// <summary>The consumer's name.</summary>
    public string ConsumerName => _options.ConsumerName;

    /// <summary>Live counters.</summary>
    public StreamConsumerStats Stats { get; } = new();

    /// <summary>
    /// Runs until the stream ends (every shard read to its end: then everything is written and checkpointed) or until
    /// <paramref name="cancellationToken"/> is cancelled (then what the processors buffer is written and checkpointed
    /// within the shutdown timeout, and the cancellation is thrown). If a shard fails, the other shards are stopped
    /// without flushing (nothing past their checkpoints is lost) and the failure is thrown.
    /// </summary>
    /// <exception cref="ConsumerConflictException">Another process runs this consumer name, or took it over.</exception>
    /// <exception cref="InvalidOperationException">This consumer is already running.</exception>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            if (_run is { IsCompleted: false }) throw new InvalidOperationException($"Consumer '{ConsumerName}' is already running; run it once per instance.");
            _run = RunCoreAsync(cancellationToken);
            return _run;
        }
    }

    /// <summary>
    /// Makes every running shard write what it buffers and checkpoint it now; completes when all have (each does at its
    /// next read, within <see cref="StreamConsumerOptions.PollInterval"/>). Returns at once when nothing runs.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        List<Task> pending = [];
        lock (_lock)
            foreach (var w in _workers.Values) pending.Add(w.RequestFlush());
        await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops a run the way a cancellation does (buffers written and checkpointed within the shutdown timeout) and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? run;
        lock (_lock)
        {
            if (_disposing.IsCancellationRequested) return;
            _disposing.Cancel();
            run = _run;
        }
        if (run is not null)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ConsumerConflictException)
            {
                // Stopped as asked, or it had already stopped on a conflict it reported.
            }
            catch (Exception e)
            {
                LogStoppedWithError(_logger, ConsumerName, e);
            }
        }
        _disposing.Dispose();
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var claim = await ConsumerClaim.AcquireAsync(_checkpoints, ConsumerName, _stream.StreamName, _options, _retry, _time, Stats.Retried, stopping.Token).ConfigureAwait(false);
        LogClaimed(_logger, ConsumerName, _stream.StreamName, claim.OwnerId, claim.Generation);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        ConsumerConflictException? lost = null;
        var heartbeat = HeartbeatAsync(claim, e => { lost = e; run.Cancel(); }, run.Token);
        try
        {
            await ShardFanOut.RunAsync(_stream, (shard, ct) => RunShardAsync(shard, claim, stopping.Token, ct), run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lost is not null)
        {
            throw lost;
        }
        finally
        {
            await run.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
            if (lost is null)
            {
                try
                {
                    using var release = new CancellationTokenSource(_options.ShutdownTimeout, _time);
                    await claim.ReleaseAsync(release.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogReleaseFailed(_logger, ConsumerName, e.Message);
                }
            }
        }
    }

    private async Task HeartbeatAsync(ConsumerClaim claim, Action<ConsumerConflictException> onLost, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                // Real time, not the injected clock: the heartbeat tells other machines this process is alive (and a
                // test's self-advancing clock would spin it). The record's times come from the injected clock.
                await Task.Delay(_options.OwnerHeartbeat, ct).ConfigureAwait(false);
                try
                {
                    await claim.RenewAsync(ct).ConfigureAwait(false);
                }
                catch (ConsumerConflictException e)
                {
                    LogLost(_logger, e.Message);
                    onLost(e);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A missed renewal only ages the claim; the next one tries again.
                    LogRenewFailed(_logger, ConsumerName, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunShardAsync(ShardDescription shard, ConsumerClaim claim, CancellationToken stopping, CancellationToken ct)
    {
        string shardId = shard.ShardId;
        var worker = new Worker();
        lock (_lock) _workers[shardId] = worker;
        IShardProcessor? processor = null;
        Checkpoint? saved = null;
        try
        {
            saved = await RetryAsync($"loading the checkpoint of shard {shardId}", c => _checkpoints.LoadAsync(ConsumerName, shardId, c), ct).ConfigureAwait(false);
            if (saved is { Generation: > 0 } && saved.Generation > claim.Generation) throw claim.Overtaken(shardId, saved);
            processor = await _processor.OpenShardAsync(new ShardProcessorContext(_stream.StreamName, shardId, saved), ct).ConfigureAwait(false);
            // Without a checkpoint: a child of a split or merge from its trim horizon (nothing between its parents'
            // end and its start may be skipped), any other shard at the configured initial position.
            var start = saved?.SequenceNumber is { } after ? StartPosition.AfterSequenceNumber(after)
                : shard.Parents().Any() ? StartPosition.TrimHorizon : _options.InitialPosition;
            await using var reader = await RetryAsync($"opening shard {shardId} at {start}", c => _stream.OpenShardReaderAsync(shardId, start, c), ct).ConfigureAwait(false);
            string? lastRead = saved?.SequenceNumber;
            while (true)
            {
                if (worker.TakeFlushRequest() is { } request)
                {
                    saved = await SaveIfMovedAsync(claim, shardId, await processor.FlushAsync(ct).ConfigureAwait(false), saved, ct).ConfigureAwait(false);
                    request.TrySetResult();
                }
                var wait = _options.PollInterval;
                if (processor.NextDeadline is { } due && due < wait) wait = due < TimeSpan.Zero ? TimeSpan.Zero : due;
                var read = await RetryAsync($"reading shard {shardId}", c => reader.ReadAsync(_options.MaxRecordsPerRead, wait, c), ct).ConfigureAwait(false);
                Stats.Read(read.Records.Count, read.MillisBehindLatest);
                if (read.Records.Count > 0) lastRead = read.Records[^1].SequenceNumber;
                var durable = await processor.ProcessAsync(new ShardBatch(read.Records) { MillisBehindLatest = read.MillisBehindLatest, Backpressure = read.Backpressure }, ct).ConfigureAwait(false);
                if (read.EndOfShard)
                {
                    durable = await processor.FlushAsync(ct).ConfigureAwait(false);
                    if (lastRead is not null && SequenceNumbers.Compare(durable?.SequenceNumber, lastRead) != 0)
                        throw new InvalidOperationException($"Consumer '{ConsumerName}': after flushing at the end of shard {shardId} the processor reported {durable?.SequenceNumber ?? "nothing"} durable, not the shard's last record {lastRead}; the shard was not checkpointed.");
                    saved = await SaveIfMovedAsync(claim, shardId, durable, saved, ct).ConfigureAwait(false);
                    Stats.Finished();
                    LogShardFinished(_logger, ConsumerName, shardId, lastRead);
                    return;
                }
                saved = await SaveIfMovedAsync(claim, shardId, durable, saved, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && processor is not null)
        {
            await DrainAsync(shardId, claim, processor, saved).ConfigureAwait(false);
            throw;
        }
        finally
        {
            lock (_lock) _workers.Remove(shardId);
            worker.Finish();
            if (processor is not null) await processor.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>On shutdown: writes what the processor buffers and checkpoints it, within the shutdown timeout; what cannot be is reported.</summary>
    private async Task DrainAsync(string shardId, ConsumerClaim claim, IShardProcessor processor, Checkpoint? saved)
    {
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout, _time);
        int buffered = processor.BufferedRecords;
        try
        {
            var durable = await processor.FlushAsync(timeout.Token).ConfigureAwait(false);
            await SaveIfMovedAsync(claim, shardId, durable, saved, timeout.Token).ConfigureAwait(false);
            if (buffered > 0) LogDrained(_logger, ConsumerName, shardId, buffered, durable?.SequenceNumber);
        }
        catch (Exception e)
        {
            int left = processor.BufferedRecords;
            Stats.Unflushed(left);
            LogDrainFailed(_logger, ConsumerName, shardId, left, _options.ShutdownTimeout.TotalSeconds, e.Message);
        }
    }

    private async ValueTask<Checkpoint?> SaveIfMovedAsync(ConsumerClaim claim, string shardId, Checkpoint? durable, Checkpoint? saved, CancellationToken ct)
    {
        if (durable is null || durable.SamePosition(saved) || (saved is null && durable.SequenceNumber is null && durable.State is null)) return saved;
        await claim.VerifyAsync(ct).ConfigureAwait(false);
        var stamped = durable with { OwnerId = claim.OwnerId, Generation = claim.Generation };
        await RetryAsync($"saving the checkpoint of shard {shardId}", async c =>
        {
            await _checkpoints.SaveAsync(ConsumerName, shardId, stamped, c).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        Stats.Saved();
        return stamped;
    }

    private async ValueTask<T> RetryAsync<T>(string what, Func<CancellationToken, ValueTask<T>> operation, CancellationToken ct)
    {
        try
        {
            return await _retry.ExecuteAsync(operation, onRetry: a =>
            {
                Stats.Retried();
                LogRetry(_logger, ConsumerName, what, a.Failure, a.Delay.TotalMilliseconds);
            }, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RetryExhaustedException e)
        {
            throw new IOException($"Consumer '{ConsumerName}' stopped: {what} kept failing. {e.Message}. Nothing past the last checkpoint was lost; run again when the stream or the checkpoint store recovers.", e);
        }
    }

    /// <summary>A running shard's flush requests.</summary>
    private sealed class Worker
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource? _flush;
        private bool _finished;

        public Task RequestFlush()
        {
            lock (_lock)
            {
                if (_finished) return Task.CompletedTask;
                _flush ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _flush.Task;
            }
        }

        public TaskCompletionSource? TakeFlushRequest()
        {
            lock (_lock)
            {
                var request = _flush;
                _flush = null;
                return request;
            }
        }

        /// <summary>The shard ended (or stopped): a pending request is answered (an ended shard has nothing buffered; a stopped one drained or failed).</summary>
        public void Finish()
        {
            lock (_lock)
            {
                _finished = true;
                _flush?.TrySetResult();
                _flush = null;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} of stream {Stream} claimed (owner {OwnerId}, generation {Generation})")]
    private static partial void LogClaimed(ILogger logger, string consumer, string stream, string ownerId, long generation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} finished shard {ShardId} at {SequenceNumber}")]
    private static partial void LogShardFinished(ILogger logger, string consumer, string shardId, string? sequenceNumber);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} shard {ShardId}: wrote {Records} buffered records on shutdown and checkpointed at {SequenceNumber}")]
    private static partial void LogDrained(ILogger logger, string consumer, string shardId, int records, string? sequenceNumber);

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Consumer} shard {ShardId}: {Records} buffered records could not be written within the shutdown timeout of {TimeoutSeconds} s ({Error}); they are re-read on the next run")]
    private static partial void LogDrainFailed(ILogger logger, string consumer, string shardId, int records, double timeoutSeconds, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: {What} failed ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string consumer, string what, string error, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: renewing the owner record failed ({Error}); the next heartbeat tries again")]
    private static partial void LogRenewFailed(ILogger logger, string consumer, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: releasing the owner record failed ({Error}); the next run waits for the claim to lapse")]
    private static partial void LogReleaseFailed(ILogger logger, string consumer, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message}")]
    private static partial void LogLost(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Consumer} stopped with an error while being disposed")]
    private static partial void LogStoppedWithError(ILogger logger, string consumer, Exception exception);
}
