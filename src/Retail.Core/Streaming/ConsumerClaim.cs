using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Retail.Streaming;

/// <summary>
/// One consumer instance's claim on its name (the owner record of <see cref="ICheckpointStore"/>): taken at start
/// unless a live owner holds it, checked before every checkpoint save, renewed on a heartbeat, released on a clean
/// stop. Detection, not a lease protocol: scaling out across machines is Kinesis and Lambda's job.
/// </summary>
internal sealed class ConsumerClaim
{
    /// <summary>Owner ids of the consumers running in this process (a claim by this process is alive only while its consumer runs).</summary>
    private static readonly ConcurrentDictionary<string, byte> LiveInThisProcess = new(StringComparer.Ordinal);

    private readonly ICheckpointStore _store;
    private readonly RetailRetryPipeline _retry;
    private readonly TimeProvider _time;
    private readonly Action _onRetry;
    private ConsumerOwner _record;

    private ConsumerClaim(ICheckpointStore store, string consumer, string stream, ConsumerOwner record, RetailRetryPipeline retry, TimeProvider time, Action onRetry)
    {
        _store = store;
        Consumer = consumer;
        Stream = stream;
        _record = record;
        _retry = retry;
        _time = time;
        _onRetry = onRetry;
    }

    public string Consumer { get; }
    public string Stream { get; }
    public string OwnerId => _record.OwnerId;
    public long Generation => _record.Generation;

    /// <summary>Claims <paramref name="consumer"/>, or throws <see cref="ConsumerConflictException"/> when a live owner holds it.</summary>
    public static async Task<ConsumerClaim> AcquireAsync(ICheckpointStore store, string consumer, string stream, StreamConsumerOptions options,
        RetailRetryPipeline retry, TimeProvider time, Action onRetry, CancellationToken ct)
    {
        var existing = await retry.ExecuteAsync(c => store.LoadOwnerAsync(consumer, c), onRetry: _ => onRetry(), cancellationToken: ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (existing is { Released: false } && IsAlive(existing, now, options.OwnerTimeout))
            throw new ConsumerConflictException(
                $"Consumer '{consumer}' of stream '{stream}' is already running: {Describe(existing)}, claimed {existing.StartedAt.ToString("u", CultureInfo.InvariantCulture)}, " +
                $"alive {Ago(now, existing.RenewedAt)} ago. Two processes must not run one consumer name (their checkpoints would race): stop the other one, " +
                $"or give this one another name. A killed process's claim lapses {options.OwnerTimeout.TotalSeconds:0} s after its last heartbeat (at once when it ran on this machine).");
        string id = Guid.NewGuid().ToString("N");
        var mine = new ConsumerOwner(id, (existing?.Generation ?? 0) + 1, Environment.MachineName, Environment.ProcessId, now, now);
        LiveInThisProcess.TryAdd(id, 0);
        try
        {
            await retry.ExecuteAsync(c => store.SaveOwnerAsync(consumer, mine, c), _ => onRetry(), ct).ConfigureAwait(false);
            // Two starting at the same moment both saw no owner; the last write won, and the other one learns it here.
            var back = await retry.ExecuteAsync(c => store.LoadOwnerAsync(consumer, c), onRetry: _ => onRetry(), cancellationToken: ct).ConfigureAwait(false);
            if (back is null || back.OwnerId != id)
                throw new ConsumerConflictException(
                    $"Consumer '{consumer}' of stream '{stream}' was claimed by {(back is null ? "no one (the owner record vanished)" : Describe(back))} at the moment this process claimed it; " +
                    "two processes must not run one consumer name. This one stops; let one process run the name.");
        }
        catch
        {
            LiveInThisProcess.TryRemove(id, out _);
            throw;
        }
        return new ConsumerClaim(store, consumer, stream, mine, retry, time, onRetry);
    }

    /// <summary>Throws <see cref="ConsumerConflictException"/> unless the owner record is still this claim.</summary>
    public async ValueTask VerifyAsync(CancellationToken ct)
    {
        var current = await _retry.ExecuteAsync(c => _store.LoadOwnerAsync(Consumer, c), onRetry: _ => _onRetry(), cancellationToken: ct).ConfigureAwait(false);
        if (current is null || current.OwnerId != OwnerId || current.Generation != Generation) throw Lost(current);
    }

    /// <summary>The error for a checkpoint saved under a newer claim than this one.</summary>
    public ConsumerConflictException Overtaken(string shardId, Checkpoint checkpoint) => new(
        $"Consumer '{Consumer}' of stream '{Stream}' stopped: shard {shardId}'s checkpoint was saved by owner {checkpoint.OwnerId} under generation {checkpoint.Generation}, " +
        $"newer than this process's claim (generation {Generation}); two processes ran one consumer name. Let one process run the name.");

    /// <summary>Says again that the owner is alive (after checking it still is the owner).</summary>
    public async ValueTask RenewAsync(CancellationToken ct)
    {
        await VerifyAsync(ct).ConfigureAwait(false);
        var renewed = _record with { RenewedAt = _time.GetUtcNow() };
        await _retry.ExecuteAsync(c => _store.SaveOwnerAsync(Consumer, renewed, c), _ => _onRetry(), ct).ConfigureAwait(false);
        _record = renewed;
    }

    /// <summary>Releases the name (when it is still this claim's) so the next run may start at once.</summary>
    public async ValueTask ReleaseAsync(CancellationToken ct)
    {
        try
        {
            var current = await _store.LoadOwnerAsync(Consumer, ct).ConfigureAwait(false);
            if (current is not null && current.OwnerId == OwnerId)
                await _store.SaveOwnerAsync(Consumer, _record with { RenewedAt = _time.GetUtcNow(), Released = true }, ct).ConfigureAwait(false);
        }
        finally
        {
            LiveInThisProcess.TryRemove(OwnerId, out _);
        }
    }

    private ConsumerConflictException Lost(ConsumerOwner? current) => new(
        $"Consumer '{Consumer}' of stream '{Stream}' stopped: its claim (owner {OwnerId}, generation {Generation}) was " +
        (current is null ? "removed from the checkpoint store" : $"taken over by {Describe(current)}, generation {current.Generation}") +
        "; two processes ran one consumer name. Everything up to the last checkpoint this process saved is kept; let one process run the name.");

    private static bool IsAlive(ConsumerOwner owner, DateTimeOffset now, TimeSpan timeout)
    {
        if (string.Equals(owner.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            // On this machine the process itself says whether the owner is alive.
            if (owner.ProcessId == Environment.ProcessId) return LiveInThisProcess.ContainsKey(owner.OwnerId);
            if (!ProcessIsRunning(owner.ProcessId)) return false;
        }
        return now - owner.RenewedAt < timeout;
    }

    private static bool ProcessIsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Describe(ConsumerOwner owner) => $"owner {owner.OwnerId} on {owner.Host} (process {owner.ProcessId})";

    private static string Ago(DateTimeOffset now, DateTimeOffset then)
    {
        var ago = now - then;
        return ago < TimeSpan.Zero ? "0 s" : $"{ago.TotalSeconds:0} s";
    }
}
