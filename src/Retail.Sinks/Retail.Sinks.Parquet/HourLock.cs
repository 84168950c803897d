using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// The right to compact one hour: held by one run at a time, for the whole run (plan, write, publish, commit,
/// clean-up). Every writer into the hour's table folder and manifest folder holds it, so whatever temporary file a
/// run finds there once it holds the lock was left by a run that is gone.
/// </summary>
/// <remarks>
/// On a <see cref="LocalFolderObjectStore"/> it is an OS lock on a lock file beside the manifest
/// (<see cref="FileHourLock"/>): the kernel releases it when the process dies, so a killed run never blocks the
/// next one. On any other store (S3, …) it is a lease object with an expiry, renewed while the run works
/// (<see cref="LeaseHourLock"/>); a killed run's lease blocks the hour until it expires.
/// </remarks>
internal abstract class HourLock : IAsyncDisposable
{
    /// <summary>Name of the lock file (local store) or lease object (other stores), in the hour's manifest folder.</summary>
    public const string LockName = "compaction.lock";

    /// <summary>Called at the run's checkpoints (every batch of rows, before each publish): renews and checks a lease.</summary>
    /// <exception cref="CompactionException">The lease was lost (it expired and another run took it).</exception>
    public abstract ValueTask EnsureHeldAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Takes the hour's lock, or returns null and the holder's description when another live run holds it.
    /// </summary>
    public static async ValueTask<(HourLock? Lock, string? Holder)> TryAcquireAsync(IObjectStore store, string lockKey, string runId,
        TimeSpan leaseDuration, TimeProvider time, CancellationToken cancellationToken)
    {
        if (store is LocalFolderObjectStore local)
        {
            var fileLock = FileHourLock.TryAcquire(local.GetPath(lockKey));
            return (fileLock, fileLock is null ? $"another process or compactor holds the lock file {lockKey}" : null);
        }
        return await LeaseHourLock.TryTakeAsync(store, lockKey, runId, leaseDuration, time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True when opening a file failed because another handle holds a lock on it (EWOULDBLOCK on Linux and macOS,
    /// a sharing or lock violation on Windows), as opposed to a missing folder, a full disk or a permission problem.
    /// </summary>
    internal static bool IsLockConflict(IOException e) =>
        e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && (e.HResult is 11 or 35 || (e.HResult & 0xFFFF) is 32 or 33);

    /// <summary>An exclusive OS lock (<see cref="FileShare.None"/>: <c>flock</c> on Unix) on a file that is never deleted.</summary>
    /// <remarks>
    /// The file stays after release: deleting a lock file lets a waiter lock the deleted file while a newcomer locks
    /// a new one under the same name, and both would think they hold the hour.
    /// </remarks>
    internal sealed class FileHourLock : HourLock
    {
        private readonly FileStream _file;

        private FileHourLock(FileStream file) => _file = file;

        public static FileHourLock? TryAcquire(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            try
            {
                return new FileHourLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException e) when (IsLockConflict(e))
            {
                return null;
            }
        }

        public override ValueTask EnsureHeldAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask DisposeAsync() => _file.DisposeAsync();
    }

    /// <summary>
    /// A lease object (<c>{ owner, holder, expiresAt }</c>) for stores without OS locks. Taken when absent, expired or
    /// already ours; renewed at the run's checkpoints once a third of its duration has passed; checked before each
    /// publish; deleted on release if still ours.
    /// </summary>
    /// <remarks>
    /// <see cref="IObjectStore"/> has no conditional put, so taking a lease is write-then-read-back: two runs that
    /// take an expired lease within one round trip of each other can both believe they won until the next
    /// checkpoint, where the loser sees the other owner and fails its hour before publishing. A store with
    /// conditional writes (S3 <c>If-None-Match</c>/<c>If-Match</c>) would close that window.
    /// </remarks>
    internal sealed class LeaseHourLock : HourLock
    {
        private readonly IObjectStore _store;
        private readonly string _key;
        private readonly string _runId;
        private readonly TimeSpan _duration;
        private readonly TimeProvider _time;
        private DateTimeOffset _renewedAt;
        private bool _disposed;

        private LeaseHourLock(IObjectStore store, string key, string runId, TimeSpan duration, TimeProvider time, DateTimeOffset renewedAt)
        {
            _store = store;
            _key = key;
            _runId = runId;
            _duration = duration;
            _time = time;
            _renewedAt = renewedAt;
        }

        public static async ValueTask<(HourLock? Lock, string? Holder)> TryTakeAsync(IObjectStore store, string key, string runId,
            TimeSpan duration, TimeProvider time, CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow();
            if (await ReadAsync(store, key, cancellationToken).ConfigureAwait(false) is { } held && held.Owner != runId && held.ExpiresAt > now)
                return (null, Describe(key, held));
            await WriteAsync(store, key, runId, now + duration, cancellationToken).ConfigureAwait(false);
            var back = await ReadAsync(store, key, cancellationToken).ConfigureAwait(false);
            if (back is null || back.Owner != runId) return (null, back is null ? $"the lease {key} vanished as it was taken" : Describe(key, back));
            return (new LeaseHourLock(store, key, runId, duration, time, now), null);
        }

        public override async ValueTask EnsureHeldAsync(CancellationToken cancellationToken)
        {
            var now = _time.GetUtcNow();
            if (now - _renewedAt < _duration / 3) return;
            var held = await ReadAsync(_store, _key, cancellationToken).ConfigureAwait(false);
            if (held is null || held.Owner != _runId)
                throw new CompactionException($"lost the hour's lease {_key}" + (held is null ? " (it was deleted)" : $" to {Describe(_key, held)}") +
                    "; nothing more published by this run");
            if (held.ExpiresAt <= now)
                throw new CompactionException(string.Create(CultureInfo.InvariantCulture,
                    $"the hour's lease {_key} expired at {held.ExpiresAt:O} before this run renewed it (LeaseDuration {_duration:c}); nothing more published by this run"));
            await WriteAsync(_store, _key, _runId, now + _duration, cancellationToken).ConfigureAwait(false);
            _renewedAt = now;
        }

        public override async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                if (await ReadAsync(_store, _key, CancellationToken.None).ConfigureAwait(false) is { } held && held.Owner == _runId)
                    await _store.DeleteAsync(_key, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Release is best effort (and must not hide the run's own failure): a lease left behind lapses on its own.
            }
        }

        private static string Describe(string key, Lease lease) => string.Create(CultureInfo.InvariantCulture,
            $"run {lease.Owner} ({lease.Holder}), whose lease {key} runs until {lease.ExpiresAt:O}");

        private static async ValueTask<Lease?> ReadAsync(IObjectStore store, string key, CancellationToken cancellationToken)
        {
            byte[] json;
            try
            {
                json = await store.GetBytesAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectNotFoundException)
            {
                return null;
            }
            try
            {
                return JsonSerializer.Deserialize(json, LeaseJsonContext.Default.Lease)
                    ?? throw new CompactionException($"the hour's lease {key} is null; remove it if no compaction is running");
            }
            catch (JsonException e)
            {
                throw new CompactionException($"the hour's lease {key} is not valid JSON ({e.Message}); remove it if no compaction is running");
            }
        }

        private static ValueTask WriteAsync(IObjectStore store, string key, string runId, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
            store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(new Lease(runId, Holder, expiresAt), LeaseJsonContext.Default.Lease), cancellationToken);

        private static string Holder => string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} on {Environment.MachineName}");
    }
}

/// <summary>A lease on an hour: who holds it and until when.</summary>
/// <param name="Owner">The holding run's id.</param>
/// <param name="Holder">The process and machine of that run, for people.</param>
/// <param name="ExpiresAt">When it lapses unless renewed.</param>
internal sealed record Lease(string Owner, string Holder, DateTimeOffset ExpiresAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Lease))]
internal sealed partial class LeaseJsonContext : JsonSerializerContext;
