using System.Globalization;
using System.Text.RegularExpressions;
using Retail.Storage;

namespace Retail.Sinks.Athena;

/// <summary>How the Parquet table's hours are found, which depends on the compactor that writes them.</summary>
public enum ParquetPartitioning
{
    /// <summary>Retail's Parquet compactor writes each hour straight into <c>parquet-retail-trans/year=…/hour=HH/</c>:
    /// the table's partitions follow the folders (partition projection, or ADD PARTITION for the given hours).</summary>
    HourFolders,

    /// <summary>The Athena CTAS compactor writes each hour into a fresh <c>…/hour=HH/v-&lt;fingerprint&gt;-&lt;run&gt;/</c>
    /// folder and registers the hour's partition itself (ADD, then SET LOCATION): the table gets neither projection nor
    /// ADD PARTITION statements, which would point readers at the hour folder and every version in it.</summary>
    CompactorRegistered,
}

/// <summary>What <see cref="AthenaCatalog"/> generates: the Glue database and the lake's two tables.</summary>
public sealed partial class AthenaCatalogOptions
{
    /// <summary>Shown for <see cref="Location"/> when it is not set (printing only; <see cref="AthenaCatalog.ApplyAsync"/> requires it).</summary>
    public const string PlaceholderLocation = "s3://<bucket>/";

    /// <summary>The Glue database (default <c>mydatabase</c>, the workshop's).</summary>
    public string Database { get; set; } = "mydatabase";

    /// <summary>The lake's root, <c>s3://bucket[/prefix]</c>: the JSON table reads <c>{Location}/json-data/</c> and the
    /// Parquet table <c>{Location}/parquet-retail-trans/</c> (the prefixes of <see cref="Lake"/>).</summary>
    public string? Location { get; set; }

    /// <summary>The table names and prefixes (default: the workshop's).</summary>
    public RetailLakeDefinition Lake { get; set; } = new();

    /// <summary>Partition projection on <c>year/month/day/hour</c>: Athena computes the partitions from the folder
    /// template, so no ADD PARTITION or MSCK REPAIR is needed as hours arrive (default false, as the workshop).</summary>
    public bool PartitionProjection { get; set; }

    /// <summary>Which compactor writes the Parquet table (default <see cref="ParquetPartitioning.HourFolders"/>, Retail's).</summary>
    public ParquetPartitioning ParquetPartitioning { get; set; } = ParquetPartitioning.HourFolders;

    /// <summary>The first year partition projection serves (default 2000; four digits).</summary>
    public int ProjectionFirstYear { get; set; } = 2000;

    /// <summary>The last year partition projection serves (default 2099).</summary>
    public int ProjectionLastYear { get; set; } = 2099;

    /// <summary>Without projection: the hours (UTC, any minute within the hour; a local time is converted) whose partitions
    /// the statements add. Prefer projection for long ranges: Athena plans slowly over many thousands of partitions.</summary>
    public IList<DateTime> Hours { get; } = [];

    /// <summary>Adds every hour from <paramref name="first"/> to <paramref name="last"/>, both included.</summary>
    public AthenaCatalogOptions AddHours(DateTime first, DateTime last)
    {
        var h = Truncate(first);
        var end = Truncate(last);
        if (end < h) throw new ArgumentException($"The last hour {end:yyyy-MM-ddTHH}:00 is before the first {h:yyyy-MM-ddTHH}:00.", nameof(last));
        if ((end - h).TotalHours >= MaxHours)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{(end - h).TotalHours + 1:0} hours is more than {MaxHours} (use PartitionProjection for long ranges)."), nameof(last));
        for (; h <= end; h = h.AddHours(1)) Hours.Add(h);
        return this;
    }

    /// <summary>The most hours <see cref="Hours"/> may hold: 10 years.</summary>
    public const int MaxHours = 87_840;

    /// <summary>Every problem, each naming the setting and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Database is null || !DdlName().IsMatch(Database))
            errors.Add($"{nameof(AthenaCatalogOptions)}.{nameof(Database)} '{Database}' is not a name of letters, digits and '_' starting with a letter.");
        bool location = Location is null || AthenaCompactorOptions.IsS3Prefix(Location);
        if (!location)
            errors.Add($"{nameof(AthenaCatalogOptions)}.{nameof(Location)} '{Location}' is not an s3:// URI (s3://bucket[/prefix]).");
        if (Lake is null) errors.Add($"{nameof(AthenaCatalogOptions)}.{nameof(Lake)} is null.");
        else
        {
            var lake = Lake.Validate();
            errors.AddRange(lake);
            if (lake.Count == 0)
            {
                foreach (var (name, value) in new[] { (nameof(RetailLakeDefinition.JsonTableName), Lake.JsonTableName), (nameof(RetailLakeDefinition.ParquetTableName), Lake.ParquetTableName) })
                    if (!DdlName().IsMatch(value))
                        errors.Add($"{nameof(AthenaCatalogOptions)}.{nameof(Lake)}.{name} '{value}' must start with a letter in Athena DDL.");
                // The locations go into the DDL text: the same characters as the compactor's prefixes (no quotes, '$', braces or backslashes).
                string root = location && Location is not null ? Root : "s3://bucket/";
                foreach (var (name, value) in new[] { (nameof(RetailLakeDefinition.JsonPrefix), Lake.JsonPrefix), (nameof(RetailLakeDefinition.ParquetPrefix), Lake.ParquetPrefix) })
                    if (!AthenaCompactorOptions.IsS3Prefix(root + value))
                        errors.Add($"{nameof(AthenaCatalogOptions)}.{nameof(Lake)}.{name} '{value}' has a character Athena DDL locations here do not take (letters, digits and !-_.*()=/ and space only).");
            }
        }
        if (ProjectionFirstYear is < 1000 or > 9999 || ProjectionLastYear is < 1000 or > 9999 || ProjectionLastYear < ProjectionFirstYear)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(AthenaCatalogOptions)}.{nameof(ProjectionFirstYear)}..{nameof(ProjectionLastYear)} {ProjectionFirstYear}..{ProjectionLastYear} is not a range of years."));
        if (Hours.Count > MaxHours)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(AthenaCatalogOptions)}.{nameof(Hours)} holds {Hours.Count} hours, more than {MaxHours} (use PartitionProjection)."));
        return errors;
    }

    /// <summary>The lake's root with one trailing slash, or <see cref="PlaceholderLocation"/>.</summary>
    internal string Root => Location is { } l ? l.TrimEnd('/') + "/" : PlaceholderLocation;

    /// <summary>The hour of <paramref name="t"/> in UTC (a local time is converted; an unspecified one is taken as UTC).</summary>
    internal static DateTime Truncate(DateTime t)
    {
        if (t.Kind == DateTimeKind.Local) t = t.ToUniversalTime();
        return new(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc);
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,254}$")]
    private static partial Regex DdlName();
}
