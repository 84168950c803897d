using System.Text.Json;
using System.Text.Json.Serialization;
using Retail.Storage;

namespace Retail.Streaming;

/// <summary>
/// Checkpoints in the lake: one small JSON object per consumer and shard, and one owner object per consumer, under
/// <c>&lt;control prefix&gt;checkpoints/&lt;stream&gt;/&lt;consumer&gt;/</c> (default <c>_retail/checkpoints/…</c>), so
/// the same code checkpoints into a folder or a bucket.
/// </summary>
/// <remarks>
/// Each record has two slots, <c>&lt;name&gt;.json</c> and <c>&lt;name&gt;.alt.json</c>, written in turn with a serial
/// number that rises by one on every save; a load reads both and takes the valid one with the higher serial. A local put
/// and an S3 put are all or nothing, but some S3-compatible stores (s3rver among them) truncate an object as soon as a
/// put of it starts: a process killed during that put leaves that slot torn, and the other slot still holds the record
/// saved before it — an older checkpoint, from which a restart re-reads (and, with deterministic object keys and the
/// processor's state, rewrites rather than duplicates) what came after. Only when both slots are unreadable does a load fail.
/// </remarks>
public sealed class ObjectStoreCheckpointStore : ICheckpointStore
{
    private const string OwnerObjectName = "_owner.json";
    private const string AltSuffix = ".alt";

    private readonly IObjectStore _store;
    private readonly string _prefix;
    private readonly Dictionary<string, long> _serials = new(StringComparer.Ordinal); // the last serial loaded or saved, per key
    private readonly Lock _lock = new();

    /// <summary>Checkpoints of the consumers of <paramref name="streamName"/>, in <paramref name="store"/>.</summary>
    /// <param name="store">The lake.</param>
    /// <param name="streamName">The stream the consumers read (one folder per stream, so two streams never share a checkpoint).</param>
    /// <param name="lake">Where the control prefix is (default <see cref="RetailLakeDefinition"/>'s <c>_retail/</c>).</param>
    /// <exception cref="ArgumentException">The stream name cannot be one segment of an object key; the message says why.</exception>
    public ObjectStoreCheckpointStore(IObjectStore store, string streamName, RetailLakeDefinition? lake = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        CheckSegment(streamName, "stream name", nameof(streamName));
        string control = (lake ?? new RetailLakeDefinition()).ControlPrefix;
        _prefix = $"{control}checkpoints/{streamName}/";
    }

    /// <summary>The key of a shard's checkpoint (its first slot; the second is the same key ending in <c>.alt.json</c>).</summary>
    public string CheckpointKey(string consumer, string shardId)
    {
        CheckSegment(consumer, "consumer name", nameof(consumer));
        CheckSegment(shardId, "shard id", nameof(shardId));
        if (shardId == OwnerObjectName[..^".json".Length]) throw new ArgumentException($"'{shardId}' is reserved and cannot be a shard id.", nameof(shardId));
        if (shardId.EndsWith(AltSuffix, StringComparison.Ordinal)) throw new ArgumentException($"'{shardId}' ends in '{AltSuffix}', which names a checkpoint's second slot, and cannot be a shard id.", nameof(shardId));
        return $"{_prefix}{consumer}/{shardId}.json";
    }

    /// <summary>The key of a consumer's owner record (its first slot; the second is the same key ending in <c>.alt.json</c>).</summary>
    public string OwnerKey(string consumer)
    {
        CheckSegment(consumer, "consumer name", nameof(consumer));
        return $"{_prefix}{consumer}/{OwnerObjectName}";
    }

    /// <inheritdoc />
    public async ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default)
    {
        string key = CheckpointKey(consumer, shardId);
        var (stored, slotKey) = await ReadAsync(key, CheckpointJsonContext.Default.StoredCheckpoint, s => s.Serial, cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        if (stored.SequenceNumber is { } sequence && (sequence.Length == 0 || sequence.AsSpan().ContainsAnyExceptInRange('0', '9')))
            throw new InvalidDataException($"The checkpoint '{slotKey}' has sequence number '{sequence}', which is not a string of decimal digits.");
        return new Checkpoint(stored.SequenceNumber, stored.State) { OwnerId = stored.OwnerId, Generation = stored.Generation };
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string key = CheckpointKey(consumer, shardId);
        long serial = await NextSerialAsync(key, CheckpointJsonContext.Default.StoredCheckpoint, s => s.Serial, cancellationToken).ConfigureAwait(false);
        var stored = new StoredCheckpoint(checkpoint.SequenceNumber, checkpoint.State, checkpoint.OwnerId, checkpoint.Generation) { Serial = serial };
        await WriteAsync(key, serial, JsonSerializer.SerializeToUtf8Bytes(stored, CheckpointJsonContext.Default.StoredCheckpoint), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default)
    {
        var (stored, _) = await ReadAsync(OwnerKey(consumer), CheckpointJsonContext.Default.StoredOwner, o => o.Serial, cancellationToken).ConfigureAwait(false);
        return stored?.ToOwner();
    }

    /// <inheritdoc />
    public async ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        string key = OwnerKey(consumer);
        long serial = await NextSerialAsync(key, CheckpointJsonContext.Default.StoredOwner, o => o.Serial, cancellationToken).ConfigureAwait(false);
        var stored = StoredOwner.From(owner, serial);
        await WriteAsync(key, serial, JsonSerializer.SerializeToUtf8Bytes(stored, CheckpointJsonContext.Default.StoredOwner), cancellationToken).ConfigureAwait(false);
    }

    private static string AltKey(string key) => key[..^".json".Length] + AltSuffix + ".json";

    private static string SlotKey(string key, long serial) => serial % 2 == 0 ? key : AltKey(key);

    private async ValueTask WriteAsync(string key, long serial, byte[] bytes, CancellationToken ct)
    {
        await _store.PutAsync(SlotKey(key, serial), bytes, ct).ConfigureAwait(false);
        lock (_lock) _serials[key] = serial;
    }

    /// <summary>The serial of the next save of <paramref name="key"/>: one more than the last loaded or saved (read from the store the first time).</summary>
    private async ValueTask<long> NextSerialAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, Func<T, long> serialOf, CancellationToken ct) where T : class
    {
        long known;
        bool found;
        lock (_lock) found = _serials.TryGetValue(key, out known);
        if (!found)
        {
            try
            {
                await ReadAsync(key, type, serialOf, ct).ConfigureAwait(false);
            }
            catch (InvalidDataException)
            {
                // Both slots are unreadable: this save replaces them.
            }
            lock (_lock) known = _serials.GetValueOrDefault(key, -1);
        }
        return known + 1;
    }

    /// <summary>Reads both slots of <paramref name="key"/> and returns the valid one with the higher serial (and its key), or null when neither exists.</summary>
    private async ValueTask<(T? Value, string Key)> ReadAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, Func<T, long> serialOf, CancellationToken ct) where T : class
    {
        var first = await ReadSlotAsync(key, type, ct).ConfigureAwait(false);
        var second = await ReadSlotAsync(AltKey(key), type, ct).ConfigureAwait(false);
        if (first.Value is null && second.Value is null)
        {
            if ((first.Error ?? second.Error) is { } error) throw error;
            return (null, key);
        }
        bool takeSecond = first.Value is null || (second.Value is not null && serialOf(second.Value) > serialOf(first.Value));
        var (value, slot) = takeSecond ? (second.Value!, AltKey(key)) : (first.Value!, key);
        lock (_lock) _serials[key] = Math.Max(serialOf(value), Math.Max(first.Value is null ? -1 : serialOf(first.Value), second.Value is null ? -1 : serialOf(second.Value)));
        return (value, slot);
    }

    private async ValueTask<(T? Value, InvalidDataException? Error)> ReadSlotAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct) where T : class
    {
        byte[] bytes;
        try
        {
            bytes = await _store.GetBytesAsync(key, ct).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return (null, null);
        }
        try
        {
            return (JsonSerializer.Deserialize(bytes, type) ?? throw new JsonException("it holds JSON null"), null);
        }
        catch (JsonException e)
        {
            return (null, new InvalidDataException($"The checkpoint object '{key}' is not valid checkpoint JSON ({e.Message}), and its other slot holds none; delete both to start that shard over, or restore one.", e));
        }
    }

    private static void CheckSegment(string value, string what, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, parameterName);
        if (value.Contains('/', StringComparison.Ordinal))
            throw new ArgumentException($"The {what} '{value}' cannot name a checkpoint folder: it contains '/'.", parameterName);
        if (!ObjectKeys.IsValid(value, out string? why))
            throw new ArgumentException($"The {what} '{value}' cannot name a checkpoint folder: {why}.", parameterName);
    }
}

internal sealed record StoredCheckpoint(string? SequenceNumber, string? State, string? OwnerId, long Generation)
{
    /// <summary>Rises by one on every save (0 in a checkpoint written before slots existed).</summary>
    public long Serial { get; init; }
}

/// <summary>A <see cref="ConsumerOwner"/> as stored: its fields and the slot serial.</summary>
internal sealed record StoredOwner(string OwnerId, long Generation, string Host, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset RenewedAt, bool Released)
{
    public long Serial { get; init; }

    public ConsumerOwner ToOwner() => new(OwnerId, Generation, Host, ProcessId, StartedAt, RenewedAt, Released);

    public static StoredOwner From(ConsumerOwner o, long serial) =>
        new(o.OwnerId, o.Generation, o.Host, o.ProcessId, o.StartedAt, o.RenewedAt, o.Released) { Serial = serial };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredCheckpoint))]
[JsonSerializable(typeof(StoredOwner))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
