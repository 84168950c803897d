using System.Text.Json;
using System.Text.Json.Serialization;
using Retail.Storage;

namespace Retail.Streaming;

/// <summary>
/// Checkpoints in the lake: one small JSON object per consumer and shard, and one owner object per consumer, under
/// <c>&lt;control prefix&gt;checkpoints/&lt;stream&gt;/&lt;consumer&gt;/</c> (default <c>_retail/checkpoints/…</c>), so
/// the same code checkpoints into a folder or a bucket. Each object is written whole by one put (a local put is
/// atomic; an S3 put is all or nothing), so a crash leaves the old checkpoint or the new one, never half of one.
/// </summary>
public sealed class ObjectStoreCheckpointStore : ICheckpointStore
{
    private const string OwnerObjectName = "_owner.json";

    private readonly IObjectStore _store;
    private readonly string _prefix;

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

    /// <summary>The key of a shard's checkpoint.</summary>
    public string CheckpointKey(string consumer, string shardId)
    {
        CheckSegment(consumer, "consumer name", nameof(consumer));
        CheckSegment(shardId, "shard id", nameof(shardId));
        if (shardId == OwnerObjectName[..^".json".Length]) throw new ArgumentException($"'{shardId}' is reserved and cannot be a shard id.", nameof(shardId));
        return $"{_prefix}{consumer}/{shardId}.json";
    }

    /// <summary>The key of a consumer's owner record.</summary>
    public string OwnerKey(string consumer)
    {
        CheckSegment(consumer, "consumer name", nameof(consumer));
        return $"{_prefix}{consumer}/{OwnerObjectName}";
    }

    /// <inheritdoc />
    public async ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default)
    {
        string key = CheckpointKey(consumer, shardId);
        var stored = await ReadAsync(key, CheckpointJsonContext.Default.StoredCheckpoint, cancellationToken).ConfigureAwait(false);
        if (stored is null) return null;
        if (stored.SequenceNumber is { } s && (s.Length == 0 || s.AsSpan().ContainsAnyExceptInRange('0', '9')))
            throw new InvalidDataException($"The checkpoint '{key}' has sequence number '{s}', which is not a string of decimal digits.");
        return new Checkpoint(stored.SequenceNumber, stored.State) { OwnerId = stored.OwnerId, Generation = stored.Generation };
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string key = CheckpointKey(consumer, shardId);
        var stored = new StoredCheckpoint(checkpoint.SequenceNumber, checkpoint.State, checkpoint.OwnerId, checkpoint.Generation);
        await _store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(stored, CheckpointJsonContext.Default.StoredCheckpoint), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default) =>
        await ReadAsync(OwnerKey(consumer), CheckpointJsonContext.Default.ConsumerOwner, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        await _store.PutAsync(OwnerKey(consumer), JsonSerializer.SerializeToUtf8Bytes(owner, CheckpointJsonContext.Default.ConsumerOwner), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<T?> ReadAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct) where T : class
    {
        byte[] bytes;
        try
        {
            bytes = await _store.GetBytesAsync(key, ct).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, type) ?? throw new InvalidDataException($"The checkpoint object '{key}' holds JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The checkpoint object '{key}' is not valid checkpoint JSON ({e.Message}); delete it to start that shard over, or restore it.", e);
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

internal sealed record StoredCheckpoint(string? SequenceNumber, string? State, string? OwnerId, long Generation);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredCheckpoint))]
[JsonSerializable(typeof(ConsumerOwner))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
