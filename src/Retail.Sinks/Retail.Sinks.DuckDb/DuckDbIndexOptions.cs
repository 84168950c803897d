using System.Text.RegularExpressions;
using Retail.Storage;

namespace Retail.Sinks.DuckDb;

/// <summary>Options of the embedded speed layer index (<see cref="DuckDbFactory.CreateUpsertIndex"/>, <c>AddDuckDbUpsertIndex</c>).</summary>
/// <remarks>
/// Set either <see cref="DatabasePath"/> or <see cref="LakePath"/>. With only a lake, the database is
/// <c>&lt;lake&gt;/_retail/speed-layer.duckdb</c> (<see cref="DefaultDatabaseKey"/>): beside the lake's
/// other bookkeeping, outside every table's folder, so neither the query engine nor a compactor ever
/// reads it as data.
/// </remarks>
public sealed partial class DuckDbIndexOptions
{
    /// <summary>The database's key below the lake root when only <see cref="LakePath"/> is set: <c>_retail/speed-layer.duckdb</c>.</summary>
    public const string DefaultDatabaseKey = LakeLayout.ControlPrefix + "speed-layer.duckdb";

    /// <summary>
    /// The DuckDB database file (created if missing, with its folder), or <c>:memory:</c> for an
    /// index that lives only as long as the object. Takes precedence over <see cref="LakePath"/>.
    /// </summary>
    public string? DatabasePath { get; set; }

    /// <summary>The lake's root folder; used when <see cref="DatabasePath"/> is not set (see <see cref="DefaultDatabaseKey"/>).</summary>
    public string? LakePath { get; set; }

    /// <summary>The table that holds the documents (the workshop's <c>ES_INDEX</c>): default <c>retail</c>. Letters, digits and <c>_</c>; at most 63 characters.</summary>
    public string TableName { get; set; } = "retail";

    /// <summary>DuckDB worker threads; null keeps DuckDB's default (one per core).</summary>
    public int? Threads { get; set; }

    /// <summary>DuckDB's memory limit, e.g. <c>"1GB"</c>; null keeps DuckDB's default (80% of RAM).</summary>
    public string? MemoryLimit { get; set; }

    /// <summary>
    /// How large DuckDB lets the write-ahead log grow before it checkpoints the database (default
    /// <c>"128MB"</c>; DuckDB's own default is 16MB). Every checkpoint rewrites the primary-key index,
    /// so a larger log makes sustained upserts markedly faster; a smaller one makes re-opening after a
    /// crash (which replays the log) faster. The database is always checkpointed when the index is disposed.
    /// </summary>
    public string CheckpointThreshold { get; set; } = "128MB";

    /// <summary>Checks every setting; returns one message per problem, each naming the setting and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        const string prefix = nameof(DuckDbIndexOptions);
        var failures = new List<string>();
        bool hasDb = !string.IsNullOrWhiteSpace(DatabasePath), hasLake = !string.IsNullOrWhiteSpace(LakePath);
        if (!hasDb && !hasLake)
            failures.Add($"{prefix}.{nameof(DatabasePath)} is required (got '{DatabasePath}'): set it to a .duckdb file, or set {nameof(LakePath)} to use <lake>/{DefaultDatabaseKey}.");
        if (hasDb && DatabasePath!.Contains('\0', StringComparison.Ordinal))
            failures.Add($"{prefix}.{nameof(DatabasePath)} contains a NUL character (got '{DatabasePath.Replace("\0", "\\0", StringComparison.Ordinal)}').");
        if (!hasDb && hasLake && LakePath!.Contains('\0', StringComparison.Ordinal))
            failures.Add($"{prefix}.{nameof(LakePath)} contains a NUL character (got '{LakePath.Replace("\0", "\\0", StringComparison.Ordinal)}').");
        if (TableName is null || !TableNamePattern().IsMatch(TableName))
            failures.Add($"{prefix}.{nameof(TableName)} must start with a letter or '_' and hold only letters, digits and '_', at most 63 characters (got '{TableName}').");
        DuckDbResources.Check(failures, prefix, Threads, MemoryLimit);
        if (CheckpointThreshold is null || !DuckDbSizes.IsValid(CheckpointThreshold))
            failures.Add($"{prefix}.{nameof(CheckpointThreshold)} must be a size such as '128MB' (got '{CheckpointThreshold}').");
        return failures;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex TableNamePattern();

    /// <summary>The database file this configuration names: <see cref="DatabasePath"/>, else <c>&lt;LakePath&gt;/_retail/speed-layer.duckdb</c>.</summary>
    /// <exception cref="InvalidOperationException">Neither path is set.</exception>
    public string ResolveDatabasePath()
    {
        if (!string.IsNullOrWhiteSpace(DatabasePath))
            return DatabasePath == DuckDbUpsertIndex.InMemory ? DatabasePath : Path.GetFullPath(DatabasePath);
        if (!string.IsNullOrWhiteSpace(LakePath))
            return Path.GetFullPath(Path.Combine(LakePath, DefaultDatabaseKey));
        throw new InvalidOperationException($"{nameof(DuckDbIndexOptions)}: set {nameof(DatabasePath)} or {nameof(LakePath)}.");
    }
}
