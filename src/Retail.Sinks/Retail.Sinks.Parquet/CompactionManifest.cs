using System.Text.Json;
using System.Text.Json.Serialization;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// What an hour's published Parquet holds: its parts in order, and for each part the source objects whose
/// rows it contains. Writing it is the commit point of a compaction; it lives outside the table location.
/// </summary>
/// <param name="Version">Format version (1).</param>
/// <param name="Hour">The hour, <c>yyyy-MM-ddTHH:00:00</c> (UTC wall clock, no zone).</param>
/// <param name="Table">The hour's folder in the Parquet table.</param>
/// <param name="Parts">The parts, <c>part-00000.parquet</c> first.</param>
/// <param name="EmptySources">Source objects with no rows (empty or blank lines only): covered, but in no part.</param>
/// <param name="CompactedAt">When this version of the manifest was written.</param>
internal sealed record CompactionManifest(
    int Version,
    string Hour,
    string Table,
    IReadOnlyList<ManifestPart> Parts,
    IReadOnlyList<ManifestSource> EmptySources,
    DateTimeOffset CompactedAt)
{
    public const int CurrentVersion = 1;

    public const string FileName = "manifest.json";

    /// <summary>Every source object covered, with its size and ETag when it was compacted.</summary>
    public Dictionary<string, ManifestSource> CoveredSources()
    {
        var covered = new Dictionary<string, ManifestSource>(StringComparer.Ordinal);
        foreach (var p in Parts)
            foreach (var s in p.Sources)
                covered[s.Key] = s;
        foreach (var s in EmptySources) covered[s.Key] = s;
        return covered;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJsonContext.Default.CompactionManifest);

    public static CompactionManifest FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ManifestJsonContext.Default.CompactionManifest)
        ?? throw new JsonException("the manifest is null");
}

/// <summary>One published Parquet file.</summary>
/// <param name="Key">Its object key.</param>
/// <param name="Rows">Rows in it.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sources">The source objects whose rows it holds, in the order their rows were added.</param>
internal sealed record ManifestPart(string Key, long Rows, long Bytes, IReadOnlyList<ManifestSource> Sources);

/// <summary>A source object (or the share of it in one part: an object can be split across parts).</summary>
/// <param name="Key">Its object key.</param>
/// <param name="Size">Its size in bytes when it was compacted.</param>
/// <param name="Rows">Its rows in this part.</param>
/// <param name="ETag">Its ETag when it was compacted (null in manifests written before ETags were recorded: then only the size is compared).</param>
internal sealed record ManifestSource(string Key, long Size, long Rows, string? ETag = null)
{
    /// <summary>True when <paramref name="current"/> is still the object this source recorded (same size, and same ETag when one was recorded).</summary>
    public bool IsUnchanged(ObjectInfo current) => current.Size == Size && (ETag is null || string.Equals(ETag, current.ETag, StringComparison.Ordinal));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(CompactionManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
