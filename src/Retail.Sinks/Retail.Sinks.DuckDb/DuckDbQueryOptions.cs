using System.Globalization;
using System.Text.RegularExpressions;
using Retail.Storage;

namespace Retail.Sinks.DuckDb;

/// <summary>Options of the embedded SQL engine (<see cref="DuckDbFactory.CreateQueryEngine"/>, <c>AddDuckDbQueries</c>): SQL over a local data lake folder.</summary>
public sealed class DuckDbQueryOptions
{
    /// <summary>
    /// The lake's root folder (the root of a <see cref="Retail.Storage.LocalFolderObjectStore"/>). Required.
    /// It may not exist yet: a fresh lake has empty tables. It must not contain the glob characters
    /// <c>* ? [ ] { }</c>, because the tables are globs below it.
    /// </summary>
    public string LakePath { get; set; } = "";

    /// <summary>
    /// The lake's definition: table names and the JSON and Parquet prefixes the views read (default: the workshop's). Set it
    /// to the instance delivery and the compactor use, so that a lake written under other prefixes is queryable. Its
    /// JSON and Parquet prefixes must not contain the glob characters <c>* ? [ ] { }</c>.
    /// </summary>
    public RetailLakeDefinition Lake { get; set; } = new();

    /// <summary>DuckDB worker threads for a query; null keeps DuckDB's default (one per core).</summary>
    public int? Threads { get; set; }

    /// <summary>DuckDB's memory limit, e.g. <c>"1GB"</c> or <c>"512MiB"</c>; null keeps DuckDB's default (80% of RAM).</summary>
    public string? MemoryLimit { get; set; }

    /// <summary>
    /// How long one query may run before it is interrupted (then <see cref="DuckDbQueryException"/>
    /// is thrown). Default 10 minutes.
    /// </summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks every setting; returns one message per problem, each naming the setting and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        const string prefix = nameof(DuckDbQueryOptions);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(LakePath))
        {
            failures.Add($"{prefix}.{nameof(LakePath)} is required: set it to the lake's root folder (got '{LakePath}').");
        }
        else
        {
            int bad = LakePath.IndexOfAny(LakePaths.ForbiddenChars);
            if (bad >= 0)
                failures.Add($"{prefix}.{nameof(LakePath)} '{LakePath}' contains '{(LakePath[bad] == '\0' ? "\\0" : LakePath[bad].ToString())}', which DuckDB would read as a glob pattern (or cannot pass to DuckDB); move the lake to a folder without * ? [ ] {{ }} or NUL.");
        }
        if (Lake is null)
        {
            failures.Add($"{prefix}.{nameof(Lake)} is required (got null).");
        }
        else
        {
            failures.AddRange(Lake.Validate().Select(f => $"{prefix}.{nameof(Lake)}: {f}"));
            foreach (var (name, value) in new[] { (nameof(RetailLakeDefinition.JsonPrefix), Lake.JsonPrefix), (nameof(RetailLakeDefinition.ParquetPrefix), Lake.ParquetPrefix) })
            {
                int glob = value?.IndexOfAny(LakePaths.ForbiddenChars) ?? -1;
                if (glob >= 0)
                    failures.Add($"{prefix}.{nameof(Lake)}.{name} '{value}' contains '{(value![glob] == '\0' ? "\\0" : value[glob].ToString())}', which DuckDB would read as a glob pattern; use a prefix without * ? [ ] {{ }}.");
            }
        }
        DuckDbResources.Check(failures, prefix, Threads, MemoryLimit);
        if (QueryTimeout <= TimeSpan.Zero || QueryTimeout.TotalMilliseconds > int.MaxValue)
            failures.Add($"{prefix}.{nameof(QueryTimeout)} must be positive and at most {TimeSpan.FromMilliseconds(int.MaxValue)} (got {QueryTimeout.ToString("c", CultureInfo.InvariantCulture)}).");
        return failures;
    }
}

/// <summary>The resource settings both DuckDB options classes have.</summary>
internal static class DuckDbResources
{
    public static void Check(List<string> failures, string prefix, int? threads, string? memoryLimit)
    {
        if (threads is < 1 or > 1024)
            failures.Add($"{prefix}.Threads must be between 1 and 1024, or null for DuckDB's default (got {threads}).");
        if (memoryLimit is not null && !DuckDbSizes.IsValid(memoryLimit))
            failures.Add($"{prefix}.MemoryLimit must be a size such as '1GB' or '512MiB', or null for DuckDB's default (got '{memoryLimit}').");
    }
}

/// <summary>DuckDB size settings such as <c>1GB</c> or <c>512MiB</c>.</summary>
internal static partial class DuckDbSizes
{
    public static bool IsValid(string size) => Pattern().IsMatch(size);

    [GeneratedRegex(@"^[0-9]{1,12}(\.[0-9]{1,3})?\s?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>Lake path helpers shared by the engine and the index.</summary>
internal static class LakePaths
{
    public static readonly char[] ForbiddenChars = ['*', '?', '[', ']', '{', '}', '\0'];

    /// <summary>The absolute lake path with <c>/</c> separators and no trailing separator (DuckDB accepts <c>/</c> everywhere).</summary>
    public static string Normalize(string path)
    {
        string full = Path.GetFullPath(path);
        if (Path.DirectorySeparatorChar != '/') full = full.Replace(Path.DirectorySeparatorChar, '/');
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }
}
