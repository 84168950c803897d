using System.Globalization;

namespace Retail.Sinks.Athena;

/// <summary>The statements of one hour's compaction. Only integers computed here and validated identifiers and s3:// prefixes
/// are formatted in; the fingerprint SELECTs take the hour as parameters.</summary>
internal sealed class CtasStatements(AthenaCompactorOptions options)
{
    /// <summary>Shown for OLD_TABLE_LOCATION_PREFIX in a dry run without it.</summary>
    public const string PlaceholderOldPrefix = "s3://<bucket>/json-data/";

    /// <summary>Shown for OUTPUT_PREFIX in a dry run without it.</summary>
    public const string PlaceholderOutputPrefix = "s3://<bucket>/parquet-retail-trans/";

    private string OldPrefix => options.OldTableLocationPrefix is { } p ? AthenaCompactorOptions.RequirePrefix("OLD_TABLE_LOCATION_PREFIX", p) : PlaceholderOldPrefix;

    private string OutPrefix => options.OutputPrefix is { } p ? AthenaCompactorOptions.RequirePrefix("OUTPUT_PREFIX", p) : PlaceholderOutputPrefix;

    public string OldTable => $"{options.OldDatabase}.{options.OldTableName}";

    public string NewTable => $"{options.NewDatabase}.{options.NewTableName}";

    public string TmpTable(DateTime hour) => string.Create(CultureInfo.InvariantCulture, $"{options.NewDatabase}.tmp_{options.NewTableName}_{hour:yyyyMMddHH}");

    public static string HourPath(DateTime hour) => string.Create(CultureInfo.InvariantCulture, $"year={hour:yyyy}/month={hour:MM}/day={hour:dd}/hour={hour:HH}/");

    public static string PartitionSpec(DateTime hour) => string.Create(CultureInfo.InvariantCulture, $"(year={hour.Year}, month={hour.Month}, day={hour.Day}, hour={hour.Hour})");

    /// <summary>The published version folder: <c>OUTPUT_PREFIX/year=…/hour=HH/v-&lt;fingerprint&gt;-&lt;run&gt;/</c>.</summary>
    public string VersionLocation(DateTime hour, string fingerprint, string runId) => $"{OutPrefix}{HourPath(hour)}v-{fingerprint}-{runId}/";

    /// <summary>(1) The JSON table's partitions for H−1, H and H+1.</summary>
    public string AddSourcePartitions(DateTime hour)
        => $"ALTER TABLE {OldTable} ADD IF NOT EXISTS"
           + string.Concat(new[] { hour.AddHours(-1), hour, hour.AddHours(1) }.Select(h => $"\n  PARTITION {PartitionSpec(h)} LOCATION '{OldPrefix}{HourPath(h)}'"));

    /// <summary>(2) The hour's JSON objects and their rows (parameters: year, month, day, hour).</summary>
    public string SourceFingerprint => $"SELECT \"$path\" AS path, count(*) AS row_count FROM {OldTable} WHERE year = ? AND month = ? AND day = ? AND hour = ? GROUP BY 1";

    /// <summary>(3) What the Parquet table serves for the hour now (parameters: year, month, day, hour).</summary>
    public string Published => $"SELECT \"$path\" AS path, count(*) AS row_count FROM {NewTable} WHERE year = ? AND month = ? AND day = ? AND hour = ? GROUP BY 1";

    /// <summary>(4) and (8).</summary>
    public string DropTmp(DateTime hour) => $"DROP TABLE IF EXISTS {TmpTable(hour)}";

    /// <summary>(5) The CTAS into a fresh version folder: one hour, one partition.</summary>
    public string Ctas(DateTime hour, string location)
        => string.Create(CultureInfo.InvariantCulture,
            $"CREATE TABLE {TmpTable(hour)}\nWITH (external_location = '{location}', format = 'PARQUET', parquet_compression = 'SNAPPY')\nAS SELECT {string.Join(", ", options.ColumnNames)}\nFROM {OldTable}\nWHERE year = {hour.Year} AND month = {hour.Month} AND day = {hour.Day} AND hour = {hour.Hour}");

    /// <summary>(6) The rows the CTAS wrote.</summary>
    public string CountTmp(DateTime hour) => $"SELECT count(*) AS row_count FROM {TmpTable(hour)}";

    /// <summary>(7a) Registers the partition (first publication).</summary>
    public string AddPublishedPartition(DateTime hour, string location) => $"ALTER TABLE {NewTable} ADD IF NOT EXISTS PARTITION {PartitionSpec(hour)} LOCATION '{location}'";

    /// <summary>(7b) Points the partition at the new version (one metadata change: readers see the old version or the new one).</summary>
    public string SetPublishedLocation(DateTime hour, string location) => $"ALTER TABLE {NewTable} PARTITION {PartitionSpec(hour)} SET LOCATION '{location}'";

    public static object?[] HourParameters(DateTime hour) => [hour.Year, hour.Month, hour.Day, hour.Hour];
}
