namespace Retail.Streaming;

/// <summary>
/// Where each consumer of a stream is: for every (consumer, shard), a sequence number up to which everything is
/// done, plus the consumer's own state; and, per consumer, the one process that owns the name. Written only after
/// the work it covers is durable (at-least-once). Implementations: the in-process stream (its consumers'
/// checkpoints release its records) and <see cref="ObjectStoreCheckpointStore"/> (small objects in the lake, so a
/// folder or a bucket holds them).
/// </summary>
public interface ICheckpointStore
{
    /// <summary>The last saved checkpoint, or null when the consumer has none for that shard.</summary>
    ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default);

    /// <summary>Saves a checkpoint durably.</summary>
    ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>The consumer name's owner record, or null when no process has claimed the name.</summary>
    ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default);

    /// <summary>Saves the consumer name's owner record durably (the last writer wins; the consumer reads it back).</summary>
    ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default);
}

/// <summary>A consumer's position in one shard.</summary>
/// <param name="SequenceNumber">Every record up to and including this one is done (null: none yet).</param>
/// <param name="State">Consumer-specific state that goes with the position (e.g. what was written beyond it), or null.</param>
public sealed record Checkpoint(string? SequenceNumber, string? State = null)
{
    /// <summary>The <see cref="ConsumerOwner.OwnerId"/> of the process that saved it (null from a processor or an older store).</summary>
    public string? OwnerId { get; init; }

    /// <summary>The <see cref="ConsumerOwner.Generation"/> of the claim it was saved under (0 when unknown).</summary>
    public long Generation { get; init; }

    /// <summary>True when both name the same position and state (the owner fields are not compared).</summary>
    public bool SamePosition(Checkpoint? other) =>
        other is not null && SequenceNumbers.Compare(SequenceNumber, other.SequenceNumber) == 0 && string.Equals(State, other.State, StringComparison.Ordinal);
}

/// <summary>
/// Which process runs a consumer name (see <see cref="StreamConsumer"/>): a second process that finds a live owner is
/// refused; each claim raises the generation, and an owner that finds a newer generation than its own stops.
/// </summary>
/// <param name="OwnerId">A random id of the claiming consumer instance.</param>
/// <param name="Generation">Raised by one on every claim.</param>
/// <param name="Host">The claiming machine's name.</param>
/// <param name="ProcessId">The claiming process's id.</param>
/// <param name="StartedAt">When the claim was made.</param>
/// <param name="RenewedAt">When the owner last said it is alive (it renews on a heartbeat).</param>
/// <param name="Released">True once the owner stopped cleanly: anyone may claim the name at once.</param>
public sealed record ConsumerOwner(string OwnerId, long Generation, string Host, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset RenewedAt, bool Released = false);

/// <summary>
/// Two processes (or two consumer instances) ran one consumer name on one stream: the one that found the other
/// running, or that found its claim taken over, stops with this. The message names the consumer, both owners and
/// what to do.
/// </summary>
public sealed class ConsumerConflictException(string message) : InvalidOperationException(message);
