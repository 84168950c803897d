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
            new(lake.JsonTableName, json, columns, partitions, AthenaCatalog.JsonSerDe, AthenaCatalog.JsonSerDeProperties(),
                AthenaCatalog.JsonInputFormat, AthenaCatalog.JsonOutputFormat,
                [new("EXTERNAL", "TRUE"), new("classification", "json"), .. options.PartitionProjection ? AthenaCatalog.ProjectionProperties(options, json) : []]),
            // The DDL says STORED AS PARQUET; Glue needs what Athena expands it to.
            new(lake.ParquetTableName, parquet, columns, partitions, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", [new("serialization.format", "1")],
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                [new("EXTERNAL", "TRUE"), new("classification", "parquet"), new("parquet.compression", "SNAPPY"), .. parquetProjection ? AthenaCatalog.ProjectionProperties(options, parquet) : []]),
        ];
    }
}
