using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Retail.Sinks.DuckDb;

/// <summary>Options of <see cref="DuckDbQueryEngine"/>: SQL over a local data lake folder.</summary>
public sealed class DuckDbQueryOptions
{
    /// <summary>
    /// The lake's root folder (the root of a <see cref="Retail.Storage.LocalFolderObjectStore"/>). Required.
    /// It may not exist yet: a fresh lake has empty tables. It must not contain the glob characters
    /// <c>* ? [ ] { }</c>, because the tables are globs below it.
    /// </summary>
    public string LakePath { get; set; } = "";

    /// <summary>DuckDB worker threads for a query; null keeps DuckDB's default (one per core).</summary>
    public int? Threads { get; set; }

    /// <summary>DuckDB's memory limit, e.g. <c>"1GB"</c> or <c>"512MiB"</c>; null keeps DuckDB's default (80% of RAM).</summary>
    public string? MemoryLimit { get; set; }

    /// <summary>
    /// How long one query may run before it is interrupted (then <see cref="DuckDbQueryException"/>
    /// is thrown). Default 10 minutes.
    /// </summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Validates <see cref="DuckDbQueryOptions"/> (used on start-up and by the engine's constructor).</summary>
internal sealed class DuckDbQueryOptionsValidator : IValidateOptions<DuckDbQueryOptions>
{
    public ValidateOptionsResult Validate(string? name, DuckDbQueryOptions options)
    {
        var failures = Failures(name, options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static List<string> Failures(string? name, DuckDbQueryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = OptionNames.Prefix(nameof(DuckDbQueryOptions), name);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.LakePath))
            failures.Add($"{prefix}.{nameof(options.LakePath)} is required: set it to the lake's root folder (got '{options.LakePath}').");
        else
        {
            int bad = options.LakePath.IndexOfAny(LakePaths.ForbiddenChars);
            if (bad >= 0)
                failures.Add($"{prefix}.{nameof(options.LakePath)} '{options.LakePath}' contains '{Printable(options.LakePath[bad])}', which DuckDB would read as a glob pattern (or cannot pass to DuckDB); move the lake to a folder without * ? [ ] {{ }} or NUL.");
        }
        if (options.Threads is < 1 or > 1024)
            failures.Add($"{prefix}.{nameof(options.Threads)} must be between 1 and 1024, or null for DuckDB's default (got {options.Threads}).");
        if (options.MemoryLimit is not null && !DuckDbSizes.IsValid(options.MemoryLimit))
            failures.Add($"{prefix}.{nameof(options.MemoryLimit)} must be a size such as '1GB' or '512MiB', or null for DuckDB's default (got '{options.MemoryLimit}').");
        if (options.QueryTimeout <= TimeSpan.Zero || options.QueryTimeout.TotalMilliseconds > int.MaxValue)
            failures.Add($"{prefix}.{nameof(options.QueryTimeout)} must be positive and at most {TimeSpan.FromMilliseconds(int.MaxValue)} (got {options.QueryTimeout.ToString("c", CultureInfo.InvariantCulture)}).");
        return failures;
    }

    private static string Printable(char c) => c == '\0' ? "\\0" : c.ToString();
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

/// <summary>How validation messages name an options instance.</summary>
internal static class OptionNames
{
    public static string Prefix(string type, string? name) =>
        string.IsNullOrEmpty(name) || name == Options.DefaultName ? type : $"{type}['{name}']";
}
