using System.Text.RegularExpressions;
using Retail.Storage;

namespace Retail.Sinks.Athena;

/// <summary>
/// The Athena CTAS compactor's settings: the workshop's MergeSmallFiles environment contract (OLD_DATABASE, OLD_TABLE_NAME,
/// NEW_DATABASE, NEW_TABLE_NAME, WORK_GROUP, OLD_TABLE_LOCATION_PREFIX, OUTPUT_PREFIX, STAGING_OUTPUT_PREFIX, COLUMN_NAMES)
/// plus DRY_RUN.
/// </summary>
/// <remarks>Prefixes are accepted with or without a trailing slash. A dry run may leave OLD_TABLE_LOCATION_PREFIX and
/// OUTPUT_PREFIX unset: its statements then show <c>s3://&lt;bucket&gt;/json-data/</c> and
/// <c>s3://&lt;bucket&gt;/parquet-retail-trans/</c>; a real run requires both.</remarks>
public sealed partial class AthenaCompactorOptions
{
    /// <summary>OLD_DATABASE: the JSON table's database.</summary>
    public string OldDatabase { get; set; } = "mydatabase";

    /// <summary>OLD_TABLE_NAME: the JSON table.</summary>
    public string OldTableName { get; set; } = "retail_trans_json";

    /// <summary>NEW_DATABASE: the Parquet table's database.</summary>
    public string NewDatabase { get; set; } = "mydatabase";

    /// <summary>NEW_TABLE_NAME: the Parquet table.</summary>
    public string NewTableName { get; set; } = "ctas_retail_trans_parquet";

    /// <summary>WORK_GROUP.</summary>
    public string WorkGroup { get; set; } = "primary";

    /// <summary>OLD_TABLE_LOCATION_PREFIX: where the JSON table's hours are (<c>s3://bucket/json-data</c>).</summary>
    public string? OldTableLocationPrefix { get; set; }

    /// <summary>OUTPUT_PREFIX: where the Parquet hours are written (<c>s3://bucket/parquet-retail-trans</c>).</summary>
    public string? OutputPrefix { get; set; }

    /// <summary>STAGING_OUTPUT_PREFIX: Athena's query result location.</summary>
    public string? StagingOutputPrefix { get; set; }

    /// <summary>COLUMN_NAMES: the columns the CTAS selects (default: the lake's eight columns).</summary>
    public IList<string> ColumnNames { get; } = RetailLakeDefinition.Columns.Select(c => c.Name).ToList();

    /// <summary>DRY_RUN: print the statements, run nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Derives <see cref="OldTableLocationPrefix"/> and <see cref="OutputPrefix"/> from the lake layout under
    /// <paramref name="lakeUri"/> (<c>s3://bucket</c> or <c>s3://bucket/prefix</c>): its JSON and Parquet prefixes, and the
    /// two table names.
    /// </summary>
    public AthenaCompactorOptions UseLake(string lakeUri, RetailLakeDefinition? lake = null)
    {
        ArgumentNullException.ThrowIfNull(lakeUri);
        lake ??= new RetailLakeDefinition();
        var root = RequirePrefix("lakeUri", lakeUri);
        OldTableLocationPrefix = root + lake.JsonPrefix.TrimStart('/');
        OutputPrefix = root + lake.ParquetPrefix.TrimStart('/');
        OldTableName = lake.JsonTableName;
        NewTableName = lake.ParquetTableName;
        return this;
    }

    /// <summary>Reads the environment contract; throws naming the variable and its bad value.</summary>
    public static AthenaCompactorOptions FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        var o = new AthenaCompactorOptions();
        string? Get(string name) => getVariable(name) is { Length: > 0 } v ? v.Trim() : null;

        if (Get("OLD_DATABASE") is { } od) o.OldDatabase = RequireIdentifier("OLD_DATABASE", od);
        if (Get("OLD_TABLE_NAME") is { } ot) o.OldTableName = RequireIdentifier("OLD_TABLE_NAME", ot);
        if (Get("NEW_DATABASE") is { } nd) o.NewDatabase = RequireIdentifier("NEW_DATABASE", nd);
        if (Get("NEW_TABLE_NAME") is { } nt) o.NewTableName = RequireIdentifier("NEW_TABLE_NAME", nt);
        if (Get("WORK_GROUP") is { } wg)
        {
            if (!WorkGroupPattern().IsMatch(wg))
                throw new AthenaCompactorSettingsException("WORK_GROUP", wg, $"WORK_GROUP '{wg}' is not a work group name (letters, digits, '.', '_', '-', 1-128 characters).");
            o.WorkGroup = wg;
        }
        if (Get("OLD_TABLE_LOCATION_PREFIX") is { } op) o.OldTableLocationPrefix = RequirePrefix("OLD_TABLE_LOCATION_PREFIX", op);
        if (Get("OUTPUT_PREFIX") is { } outp) o.OutputPrefix = RequirePrefix("OUTPUT_PREFIX", outp);
        if (Get("STAGING_OUTPUT_PREFIX") is { } sp) o.StagingOutputPrefix = RequirePrefix("STAGING_OUTPUT_PREFIX", sp);
        if (Get("COLUMN_NAMES") is { } cols)
        {
            var known = RetailLakeDefinition.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var names = cols.Split(',', StringSplitOptions.TrimEntries);
            var picked = new List<string>();
            foreach (var raw in names)
            {
                var name = raw.ToLowerInvariant();
                if (!known.Contains(name))
                    throw new AthenaCompactorSettingsException("COLUMN_NAMES", cols, $"COLUMN_NAMES '{cols}': '{raw}' is not a column of the lake (known: {string.Join(", ", known)}).");
                if (picked.Contains(name))
                    throw new AthenaCompactorSettingsException("COLUMN_NAMES", cols, $"COLUMN_NAMES '{cols}': '{raw}' is listed twice.");
                picked.Add(name);
            }
            o.ColumnNames.Clear();
            foreach (var p in picked) o.ColumnNames.Add(p);
        }
        if (Get("DRY_RUN") is { } dr)
        {
            o.DryRun = dr.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw new AthenaCompactorSettingsException("DRY_RUN", dr, $"DRY_RUN '{dr}' is not true or false."),
            };
        }
        return o;
    }

    /// <summary>Checks every setting a real run needs; throws naming the variable.</summary>
    internal void ValidateForRun()
    {
        RequireIdentifier("OLD_DATABASE", OldDatabase);
        RequireIdentifier("OLD_TABLE_NAME", OldTableName);
        RequireIdentifier("NEW_DATABASE", NewDatabase);
        RequireIdentifier("NEW_TABLE_NAME", NewTableName);
        if (OldTableLocationPrefix is null)
            throw new AthenaCompactorSettingsException("OLD_TABLE_LOCATION_PREFIX", null, "OLD_TABLE_LOCATION_PREFIX is not set (s3://bucket/json-data/); only a dry run may run without it.");
        if (OutputPrefix is null)
            throw new AthenaCompactorSettingsException("OUTPUT_PREFIX", null, "OUTPUT_PREFIX is not set (s3://bucket/parquet-retail-trans/); only a dry run may run without it.");
        RequirePrefix("OLD_TABLE_LOCATION_PREFIX", OldTableLocationPrefix);
        RequirePrefix("OUTPUT_PREFIX", OutputPrefix);
        if (ColumnNames.Count == 0)
            throw new AthenaCompactorSettingsException("COLUMN_NAMES", "", "COLUMN_NAMES is empty.");
        var known = RetailLakeDefinition.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var c in ColumnNames)
            if (!known.Contains(c))
                throw new AthenaCompactorSettingsException("COLUMN_NAMES", string.Join(",", ColumnNames), $"COLUMN_NAMES: '{c}' is not a column of the lake.");
    }

    internal static string RequireIdentifier(string variable, string value)
    {
        if (!IdentifierPattern().IsMatch(value))
            throw new AthenaCompactorSettingsException(variable, value, $"{variable} '{value}' is not an identifier (letters, digits and '_').");
        return value;
    }

    /// <summary>An s3:// URI, returned with exactly one trailing slash.</summary>
    internal static string RequirePrefix(string variable, string value)
    {
        if (!PrefixPattern().IsMatch(value))
            throw new AthenaCompactorSettingsException(variable, value, $"{variable} '{value}' is not an s3:// URI (s3://bucket/prefix/).");
        return value.TrimEnd('/') + "/";
    }

    internal static bool IsIdentifier(string? value) => value is not null && IdentifierPattern().IsMatch(value);

    internal static bool IsS3Prefix(string? value) => value is not null && PrefixPattern().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9_]{1,255}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex WorkGroupPattern();

    // Bucket names: 3-63 of a-z 0-9 . -; keys without quotes, backslashes or control characters (they go into DDL text).
    [GeneratedRegex(@"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[A-Za-z0-9!\-_.*()=/ ]*)?$")]
    private static partial Regex PrefixPattern();
}
