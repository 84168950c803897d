using System.Globalization;
using System.Text;
using Retail.Query;
using Retail.Storage;

namespace Retail.Sinks.Athena;

/// <summary>
/// The Athena (Glue) catalog of the lake, generated from <see cref="RetailLakeDefinition"/> — the same definition the
/// embedded DuckDB views come from: <c>CREATE DATABASE</c>, the JSON table (OpenX JsonSerDe) and the Snappy Parquet table,
/// both partitioned by <c>year, month, day, hour</c> and typed as the files really are (<c>decimal(18,4)</c>,
/// <c>timestamp</c>, <c>int</c>, <c>string</c>; never the workshop's <c>float</c>), and either partition projection
/// properties or <c>ALTER TABLE … ADD IF NOT EXISTS PARTITION … LOCATION …</c> for given hours.
/// </summary>
/// <remarks>Every name and location formatted into the DDL is validated first (identifiers of letters, digits and
/// <c>_</c>; s3:// URIs without quotes or backslashes); nothing else reaches the text.</remarks>
public static class AthenaCatalog
{
    /// <summary>The most partitions one generated ALTER TABLE … ADD statement carries (Retail's batch size, that of Glue's
    /// BatchCreatePartition; Athena documents no limit of its own).</summary>
    public const int MaxPartitionsPerStatement = 100;

    /// <summary>The JSON table's SerDe (OpenX).</summary>
    public const string JsonSerDe = "org.openx.data.jsonserde.JsonSerDe";

    /// <summary>The JSON table's input format.</summary>
    public const string JsonInputFormat = "org.apache.hadoop.mapred.TextInputFormat";

    /// <summary>The JSON table's output format.</summary>
    public const string JsonOutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

    /// <summary>The statements, in the order they must run. Throws <see cref="ArgumentException"/> naming every bad setting.</summary>
    public static IReadOnlyList<string> Statements(AthenaCatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        string root = options.Root;
        var lake = options.Lake;
        string db = options.Database;
        string jsonLocation = root + lake.JsonPrefix;
        string parquetLocation = root + lake.ParquetPrefix;
        bool parquetHourFolders = options.ParquetPartitioning == ParquetPartitioning.HourFolders;

        var statements = new List<string>
        {
            $"CREATE DATABASE IF NOT EXISTS {db}",
            Table($"{db}.{lake.JsonTableName}", jsonLocation,
                $"ROW FORMAT SERDE '{JsonSerDe}'\n"
                + "WITH SERDEPROPERTIES (" + string.Join(", ", JsonSerDeProperties().Select(p => $"'{p.Key}' = '{p.Value}'")) + ")\n"
                + $"STORED AS INPUTFORMAT '{JsonInputFormat}'\n"
                + $"OUTPUTFORMAT '{JsonOutputFormat}'",
                options.PartitionProjection ? ProjectionProperties(options, jsonLocation) : []),
            Table($"{db}.{lake.ParquetTableName}", parquetLocation, "STORED AS PARQUET",
                [new("parquet.compression", "SNAPPY"), .. options.PartitionProjection && parquetHourFolders ? ProjectionProperties(options, parquetLocation) : []]),
        };
        if (!options.PartitionProjection)
        {
            var hours = options.Hours.Select(AthenaCatalogOptions.Truncate).Distinct().Order().ToList();
            statements.AddRange(AddPartitions($"{db}.{lake.JsonTableName}", jsonLocation, hours));
            if (parquetHourFolders) statements.AddRange(AddPartitions($"{db}.{lake.ParquetTableName}", parquetLocation, hours));
        }
        return statements;
    }

    /// <summary>
    /// Runs <see cref="Statements"/> one after another through <paramref name="athena"/> (an Athena engine from
    /// <see cref="AthenaClientFactory.CreateQueryEngine"/>, with <see cref="AthenaOptions.Database"/> null: Athena refuses a
    /// query context naming a database that does not exist yet, and every name here is qualified), each waited for and
    /// checked. Every statement is idempotent (IF NOT EXISTS), so a failed apply can be run again; an existing table is
    /// left as it is (drop it first to change its columns or properties). Requires <see cref="AthenaCatalogOptions.Location"/>.
    /// </summary>
    /// <returns>The number of statements run.</returns>
    /// <exception cref="AthenaQueryException">A statement failed: the message names it (its number and first line) and Athena's reason.</exception>
    public static async ValueTask<int> ApplyAsync(AthenaCatalogOptions options, IQueryEngine athena, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(athena);
        if (options.Location is null)
            throw new ArgumentException($"{nameof(AthenaCatalogOptions)}.{nameof(AthenaCatalogOptions.Location)} is not set: the tables need the lake's s3:// location.", nameof(options));
        var statements = Statements(options);
        for (int i = 0; i < statements.Count; i++)
        {
            string first = FirstLine(statements[i]);
            progress?.Report(string.Create(CultureInfo.InvariantCulture, $"statement {i + 1} of {statements.Count}: {first}"));
            try
            {
                await athena.QueryAsync(statements[i], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (AthenaQueryException e)
            {
                throw new AthenaQueryException(string.Create(CultureInfo.InvariantCulture, $"catalog statement {i + 1} of {statements.Count} ({first}) failed: {e.Message}"),
                    e.QueryExecutionId, e.State, e.StateChangeReason, e.ErrorCategory, e.ErrorType, e.Retryable);
            }
        }
        return statements.Count;
    }

    /// <summary>The Athena DDL type of a lake column's SQL type: <c>VARCHAR</c> → <c>string</c>, <c>INTEGER</c> → <c>int</c>,
    /// <c>BIGINT</c> → <c>bigint</c>, <c>TIMESTAMP</c> → <c>timestamp</c>, <c>DECIMAL(p,s)</c> → <c>decimal(p,s)</c>.</summary>
    public static string DdlType(string sqlType) => sqlType.ToUpperInvariant() switch
    {
        "VARCHAR" => "string",
        "INTEGER" => "int",
        "BIGINT" => "bigint",
        "TIMESTAMP" => "timestamp",
        "DATE" => "date",
        "BOOLEAN" => "boolean",
        var t when t.StartsWith("DECIMAL(", StringComparison.Ordinal) => t.ToLowerInvariant(),
        _ => throw new ArgumentException($"The lake type '{sqlType}' has no Athena DDL type here.", nameof(sqlType)),
    };

    private static string FirstLine(string statement) => statement.Split('\n')[0].TrimEnd();

    /// <summary>The JSON table's SerDe properties: keys matched case-insensitively, malformed lines fail, and a mapping for
    /// each column whose JSON field differs by more than case.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> JsonSerDeProperties()
    {
        // Keys are matched lower-cased; a column whose JSON field differs by more than case gets a mapping. Malformed
        // lines fail the query instead of reading as rows of NULLs (delivery never writes one; a hand-copied file might).
        var props = new List<KeyValuePair<string, string>> { new("case.insensitive", "true"), new("ignore.malformed.json", "false") };
        foreach (var c in RetailLakeDefinition.Columns)
            if (c.JsonField is { } f && !string.Equals(f, c.Name, StringComparison.OrdinalIgnoreCase))
                props.Add(new($"mapping.{c.Name}", f.ToLowerInvariant()));
        return [.. props];
    }

    private static string Table(string name, string location, string storage, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        var sb = new StringBuilder();
        sb.Append("CREATE EXTERNAL TABLE IF NOT EXISTS ").Append(name).Append(" (\n");
        sb.AppendJoin(",\n", RetailLakeDefinition.Columns.Select(c => $"  {c.Name} {DdlType(c.SqlType)}"));
        sb.Append("\n)\nPARTITIONED BY (").AppendJoin(", ", RetailLakeDefinition.PartitionColumns.Select(c => $"{c.Name} {DdlType(c.SqlType)}")).Append(")\n");
        sb.Append(storage).Append('\n');
        sb.Append("LOCATION '").Append(location).Append('\'');
        if (properties.Count > 0)
            sb.Append("\nTBLPROPERTIES (\n").AppendJoin(",\n", properties.Select(p => $"  '{p.Key}' = '{p.Value}'")).Append("\n)");
        return sb.ToString();
    }

    /// <summary>The partition projection properties of a table at <paramref name="location"/> (an s3:// URI ending in
    /// <c>/</c>): <c>year</c> over the options' range, two-digit <c>month</c>, <c>day</c> and <c>hour</c>, and the
    /// <c>storage.location.template</c> of the hour folders.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ProjectionProperties(AthenaCatalogOptions options, string location) =>
    [
        new("projection.enabled", "true"),
        new("projection.year.type", "integer"),
        new("projection.year.range", string.Create(CultureInfo.InvariantCulture, $"{options.ProjectionFirstYear},{options.ProjectionLastYear}")),
        new("projection.month.type", "integer"), new("projection.month.range", "1,12"), new("projection.month.digits", "2"),
        new("projection.day.type", "integer"), new("projection.day.range", "1,31"), new("projection.day.digits", "2"),
        new("projection.hour.type", "integer"), new("projection.hour.range", "0,23"), new("projection.hour.digits", "2"),
        new("storage.location.template", location + "year=${year}/month=${month}/day=${day}/hour=${hour}/"),
    ];

    private static IEnumerable<string> AddPartitions(string table, string location, IReadOnlyList<DateTime> hours)
    {
        for (int i = 0; i < hours.Count; i += MaxPartitionsPerStatement)
            yield return $"ALTER TABLE {table} ADD IF NOT EXISTS"
                + string.Concat(hours.Skip(i).Take(MaxPartitionsPerStatement).Select(h => $"\n  PARTITION {CtasStatements.PartitionSpec(h)} LOCATION '{location}{CtasStatements.HourPath(h)}'"));
    }
}
