using System.Globalization;
using Retail.Sinks.Athena;
using Retail.Storage;

namespace Retail.Hosting.Cdk;

/// <summary>One Glue table of the lake: what <see cref="AthenaCatalog.Statements"/> writes as DDL, as Glue's TableInput fields.</summary>
internal sealed record RetailCatalogTable(
    string Name,
    string Location,
    IReadOnlyList<KeyValuePair<string, string>> Columns,
    IReadOnlyList<KeyValuePair<string, string>> PartitionKeys,
    string SerDe,
    IReadOnlyList<KeyValuePair<string, string>> SerDeParameters,
    string InputFormat,
    string OutputFormat,
    IReadOnlyList<KeyValuePair<string, string>> Parameters);

/// <summary>
/// The lake's two tables for Glue, from the same definition <see cref="AthenaCatalog"/> renders as DDL
/// (<see cref="RetailLakeDefinition.Columns"/> typed through <see cref="AthenaCatalog.DdlType"/>, the same SerDe, formats
/// and properties). The synth tests compare every field with <see cref="AthenaCatalog.Statements"/>' DDL, so the two cannot drift.
/// </summary>
internal static class RetailCatalogTables
{
    public static IReadOnlyList<RetailCatalogTable> From(AthenaCatalogOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        string root = options.Location!.TrimEnd('/') + "/";
        var lake = options.Lake;
        string json = root + lake.JsonPrefix, parquet = root + lake.ParquetPrefix;
        var columns = RetailLakeDefinition.Columns.Select(c => KeyValuePair.Create(c.Name, AthenaCatalog.DdlType(c.SqlType))).ToArray();
        var partitions = RetailLakeDefinition.PartitionColumns.Select(c => KeyValuePair.Create(c.Name, AthenaCatalog.DdlType(c.SqlType))).ToArray();
        bool parquetProjection = options.PartitionProjection && options.ParquetPartitioning == ParquetPartitioning.HourFolders;
        return
        [
            new(lake.JsonTableName, json, columns, partitions, "org.openx.data.jsonserde.JsonSerDe", JsonSerDeParameters(),
                "org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                [new("EXTERNAL", "TRUE"), new("classification", "json"), .. options.PartitionProjection ? Projection(options, json) : []]),
            new(lake.ParquetTableName, parquet, columns, partitions, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", [new("serialization.format", "1")],
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                [new("EXTERNAL", "TRUE"), new("classification", "parquet"), new("parquet.compression", "SNAPPY"), .. parquetProjection ? Projection(options, parquet) : []]),
        ];
    }

    /// <summary>AthenaCatalog's SERDEPROPERTIES: case-insensitive keys, malformed lines fail, a mapping per column whose JSON field differs by more than case.</summary>
    private static KeyValuePair<string, string>[] JsonSerDeParameters()
    {
        var props = new List<KeyValuePair<string, string>> { new("case.insensitive", "true"), new("ignore.malformed.json", "false") };
        foreach (var c in RetailLakeDefinition.Columns)
            if (c.JsonField is { } f && !string.Equals(f, c.Name, StringComparison.OrdinalIgnoreCase))
                props.Add(new($"mapping.{c.Name}", f.ToLowerInvariant()));
        return [.. props];
    }

    private static KeyValuePair<string, string>[] Projection(AthenaCatalogOptions options, string location) =>
    [
        new("projection.enabled", "true"),
        new("projection.year.type", "integer"),
        new("projection.year.range", string.Create(CultureInfo.InvariantCulture, $"{options.ProjectionFirstYear},{options.ProjectionLastYear}")),
        new("projection.month.type", "integer"), new("projection.month.range", "1,12"), new("projection.month.digits", "2"),
        new("projection.day.type", "integer"), new("projection.day.range", "1,31"), new("projection.day.digits", "2"),
        new("projection.hour.type", "integer"), new("projection.hour.range", "0,23"), new("projection.hour.digits", "2"),
        new("storage.location.template", location + "year=${year}/month=${month}/day=${day}/hour=${hour}/"),
    ];
}
