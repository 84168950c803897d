using Microsoft.Extensions.Logging;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Delivery;

/// <summary>
/// Firehose-style delivery from an <see cref="IRecordStream"/> to an <see cref="IObjectStore"/>: a
/// <see cref="StreamConsumer"/> running a <see cref="DeliveryProcessor"/> (see there for object names, buffering and
/// the error output), configured from one <see cref="DeliveryOptions"/>.
/// </summary>
/// <remarks>
/// At-least-once from the stream, without duplicates in the lake: a checkpoint is saved only after the objects it
/// covers are written, and a re-read after a crash overwrites or skips instead of duplicating. A second engine on the
/// same consumer name and checkpoint store is refused (<see cref="ConsumerConflictException"/>).
/// </remarks>
public sealed class DeliveryEngine : IAsyncDisposable
{
    private readonly DeliveryProcessor _processor;
    private readonly StreamConsumer _consumer;

    /// <summary>Creates an engine; invalid options throw here, naming the setting.</summary>
    public DeliveryEngine(IRecordStream stream, IObjectStore store, ICheckpointStore checkpoints, DeliveryOptions? options = null,
        IRecordDecoder? decoder = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(checkpoints);
        options ??= new DeliveryOptions();
        _processor = new DeliveryProcessor(store, options, decoder, timeProvider, logger);
        _consumer = new StreamConsumer(stream, checkpoints, _processor, options.ConsumerOptions(), nameof(DeliveryOptions), timeProvider, logger);
    }

    /// <summary>The consumer name its checkpoints and its claim go by.</summary>
    public string ConsumerName => _consumer.ConsumerName;

    /// <summary>Live counters.</summary>
    public DeliveryStats Stats => _processor.Stats;

    /// <summary>The consumer's own counters (reads, checkpoints, retries of stream and checkpoint calls, what a shutdown could not write).</summary>
    public StreamConsumerStats ConsumerStats => _consumer.Stats;

    /// <summary>
    /// Raised after each object is durably written (on the shard's worker; keep handlers short). A handler that
    /// throws is logged and counted (<see cref="DeliveryStats.ObserverErrors"/>) and never stops the worker; the
    /// other handlers still run.
    /// </summary>
    public event Action<DeliveredObject>? ObjectWritten
    {
        add => _processor.ObjectWritten += value;
        remove => _processor.ObjectWritten -= value;
    }

    /// <summary>
    /// Delivers every shard — a child of a split or merge only after its parents are delivered to their end and
    /// checkpointed — until the stream ends (then every buffer is written and checkpointed) or until
    /// <paramref name="cancellationToken"/> is cancelled (then every buffer is written and checkpointed within
    /// <see cref="DeliveryOptions.ShutdownTimeout"/>, and the cancellation is thrown; what cannot be written in time is
    /// logged and re-read on the next run). If a shard fails (e.g. writes keep failing past the retry time limit), the
    /// other shards are stopped and the failure is thrown; nothing past their checkpoints is lost.
    /// </summary>
    /// <exception cref="ConsumerConflictException">Another process runs this consumer name.</exception>
    public Task RunAsync(CancellationToken cancellationToken = default) => _consumer.RunAsync(cancellationToken);

    /// <summary>Writes every open buffer now and checkpoints it (see <see cref="StreamConsumer.FlushAsync"/>).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _consumer.FlushAsync(cancellationToken);

    /// <summary>Stops a run as a cancellation does (buffers written and checkpointed) and waits for it.</summary>
    public ValueTask DisposeAsync() => _consumer.DisposeAsync();
}

/// <summary>
/// Delivery stopped on a failure that retrying cannot fix (see <see cref="FailureClassification"/>), or on writes
/// that kept failing past the limits of <see cref="DeliveryOptions.Retry"/>. The message names the object and
/// the cause; <see cref="Exception.InnerException"/> is the store's error (or the <see cref="RetryExhaustedException"/>
/// whose inner exception is the store's last error).
/// </summary>
public sealed class DeliveryFailedException(string message, Exception inner) : IOException(message, inner);

/// <summary>An object the delivery engine wrote.</summary>
/// <param name="Key">Its key.</param>
/// <param name="IsError">True for an error-output object.</param>
/// <param name="Records">Records in it.</param>
/// <param name="Bytes">Its size.</param>
public sealed record DeliveredObject(string Key, bool IsError, int Records, long Bytes);
