using System.Globalization;

namespace Retail.Storage;

/// <summary>
/// The data lake's default folder names (the workshop's) and its hourly partition paths. The names are the defaults of
/// <see cref="RetailLakeDefinition"/>, which is what delivery, the compactor and the query engines read: configure a lake
/// there, not by changing one part's prefix alone.
/// </summary>
public static class LakeLayout
{
    /// <summary>Where delivery writes JSON lines: <c>json-data/</c>.</summary>
    public const string JsonPrefix = "json-data/";

    /// <summary>Where compaction writes Parquet: <c>parquet-retail-trans/</c>.</summary>
    public const string ParquetPrefix = "parquet-retail-trans/";

    /// <summary>Where delivery writes records it could not process: <c>error-json/</c>.</summary>
    public const string ErrorPrefix = "error-json/";

    /// <summary>Retail's own bookkeeping (checkpoints, compaction manifests), outside every table's location: <c>_retail/</c>.</summary>
    public const string ControlPrefix = "_retail/";

    /// <summary>The workshop's Firehose prefix: arrival-time hourly partitions under <see cref="JsonPrefix"/>.</summary>
    public const string WorkshopJsonPrefixTemplate = "json-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/";

    /// <summary>The same layout partitioned by each record's InvoiceDate (event time), for historical replays.</summary>
    public const string EventTimeJsonPrefixTemplate = "json-data/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/";

    /// <summary>The workshop's Firehose error prefix.</summary>
    public const string WorkshopErrorPrefixTemplate = "error-json/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/";

    /// <summary><c>year=YYYY/month=MM/day=DD/hour=HH/</c> for the hour that contains <paramref name="time"/>.</summary>
    public static string HourPartition(DateTime time) => string.Create(CultureInfo.InvariantCulture,
        $"year={time.Year:0000}/month={time.Month:00}/day={time.Day:00}/hour={time.Hour:00}/");

    /// <summary>
    /// Finds <c>year=YYYY/month=MM/day=DD/hour=HH/</c> in <paramref name="key"/> and returns that hour,
    /// or null when the key is not inside an hourly partition.
    /// </summary>
    public static DateTime? TryParseHourPartition(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int i = key.IndexOf("year=", StringComparison.Ordinal);
        while (i >= 0)
        {
            var parts = key[i..].Split('/');
            if (parts.Length >= 5
                && TryValue(parts[0], "year=", 4, out int y) && TryValue(parts[1], "month=", 2, out int mo)
                && TryValue(parts[2], "day=", 2, out int d) && TryValue(parts[3], "hour=", 2, out int h)
                && y >= 1 && mo is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, mo) && h <= 23)
                return new DateTime(y, mo, d, h, 0, 0, DateTimeKind.Unspecified);
            i = key.IndexOf("year=", i + 1, StringComparison.Ordinal);
        }
        return null;
    }

    private static bool TryValue(string segment, string name, int digits, out int value)
    {
        value = 0;
        return segment.StartsWith(name, StringComparison.Ordinal) && segment.Length == name.Length + digits
            && int.TryParse(segment.AsSpan(name.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
