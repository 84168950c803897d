using System.Text.RegularExpressions;

namespace Retail.Storage;

/// <summary>One column of the lake's tables: its name (lowercase, as Athena names it) and the SQL type the files hold.</summary>
/// <param name="Name">The column name, e.g. <c>invoicedate</c>.</param>
/// <param name="SqlType">The type the files hold, e.g. <c>TIMESTAMP</c> or <c>DECIMAL(18,4)</c> (standard SQL spelling).</param>
/// <param name="JsonField">The record's JSON field the column comes from (<c>InvoiceDate</c>), or null for a partition column.</param>
public sealed record LakeColumn(string Name, string SqlType, string? JsonField);

/// <summary>
/// The data lake, defined once: its two tables' names, their columns and SQL types, the hourly partition columns, and the
/// prefixes of every area (<c>json-data/</c>, <c>error-json/</c>, <c>parquet-retail-trans/</c>, <c>_retail/</c>). Delivery,
/// the compactor and the query engines all read one instance, so a prefix changed here reaches every one of them — the
/// queries included.
/// </summary>
/// <remarks>
/// <para>Without dependency injection pass one instance to each part: <c>DeliveryOptions.UseLake(lake)</c>,
/// <c>ParquetCompactorOptions.UseLake(lake)</c>, <c>DuckDbQueryOptions.Lake = lake</c>. With it, call
/// <c>AddRetail().ConfigureLake(lake =&gt; …)</c> once: every part registered by Retail's builder starts from it.</para>
/// <para>The defaults are the workshop's (<see cref="LakeLayout"/>'s constants). The columns and partition columns are the
/// record's and are not configurable. Each part copies what it needs when it is created.</para>
/// </remarks>
public sealed partial class RetailLakeDefinition
{
    /// <summary>Default of <see cref="JsonTableName"/>: <c>retail_trans_json</c>.</summary>
    public const string DefaultJsonTableName = "retail_trans_json";

    /// <summary>Default of <see cref="ParquetTableName"/>: <c>ctas_retail_trans_parquet</c>.</summary>
    public const string DefaultParquetTableName = "ctas_retail_trans_parquet";

    /// <summary>The files' price type: <c>DECIMAL(18,4)</c> (every price Core accepts fits it exactly).</summary>
    public const string PriceSqlType = "DECIMAL(18,4)";

    /// <summary>The record's columns, in Athena's order, with the types the files hold.</summary>
    public static IReadOnlyList<LakeColumn> Columns { get; } =
    [
        new("invoice", "VARCHAR", RetailFields.Invoice),
        new("stockcode", "VARCHAR", RetailFields.StockCode),
        new("description", "VARCHAR", RetailFields.Description),
        new("quantity", "INTEGER", RetailFields.Quantity),
        new("invoicedate", "TIMESTAMP", RetailFields.InvoiceDate),
        new("price", PriceSqlType, RetailFields.Price),
        new("customer_id", "VARCHAR", RetailFields.CustomerId),
        new("country", "VARCHAR", RetailFields.Country),
    ];

    /// <summary>The hourly partition columns, <c>year, month, day, hour</c> (integers; folders <c>year=YYYY/month=MM/day=DD/hour=HH/</c>).</summary>
    public static IReadOnlyList<LakeColumn> PartitionColumns { get; } =
    [
        new("year", "INTEGER", null), new("month", "INTEGER", null), new("day", "INTEGER", null), new("hour", "INTEGER", null),
    ];

    /// <summary>The JSON table's name (default <c>retail_trans_json</c>): a SQL identifier of letters, digits and <c>_</c>.</summary>
    public string JsonTableName { get; set; } = DefaultJsonTableName;

    /// <summary>The Parquet table's name (default <c>ctas_retail_trans_parquet</c>): a SQL identifier of letters, digits and <c>_</c>.</summary>
    public string ParquetTableName { get; set; } = DefaultParquetTableName;

    /// <summary>Where delivery writes JSON and the JSON table reads it (default <c>json-data/</c>).</summary>
    public string JsonPrefix { get; set; } = LakeLayout.JsonPrefix;

    /// <summary>Where delivery writes records it could not process (default <c>error-json/</c>); no table reads it.</summary>
    public string ErrorPrefix { get; set; } = LakeLayout.ErrorPrefix;

    /// <summary>Where the compactor writes Parquet and the Parquet table reads it (default <c>parquet-retail-trans/</c>).</summary>
    public string ParquetPrefix { get; set; } = LakeLayout.ParquetPrefix;

    /// <summary>Retail's own bookkeeping — checkpoints, compaction manifests — outside every table (default <c>_retail/</c>).</summary>
    public string ControlPrefix { get; set; } = LakeLayout.ControlPrefix;

    /// <summary>Delivery's data prefix template: <see cref="JsonPrefix"/> + arrival-time <c>year=…/month=…/day=…/hour=…/</c> (the workshop's Firehose prefix).</summary>
    public string JsonPrefixTemplate => JsonPrefix + HourTemplate("timestamp:yyyy", "timestamp:MM", "timestamp:dd", "timestamp:HH");

    /// <summary>The same layout partitioned by each record's InvoiceDate (event time), for historical replays.</summary>
    public string EventTimeJsonPrefixTemplate => JsonPrefix + HourTemplate("partitionKeyFromQuery:year", "partitionKeyFromQuery:month", "partitionKeyFromQuery:day", "partitionKeyFromQuery:hour");

    /// <summary>Delivery's error prefix template: <see cref="ErrorPrefix"/> + arrival-time hour + <c>!{firehose:error-output-type}/</c>.</summary>
    public string ErrorPrefixTemplate => ErrorPrefix + HourTemplate("timestamp:yyyy", "timestamp:MM", "timestamp:dd", "timestamp:HH") + "!{firehose:error-output-type}/";

    /// <summary>Where the compactor keeps its per-hour manifests and locks: <see cref="ControlPrefix"/> + <c>compaction/</c>.</summary>
    public string CompactionManifestPrefix => ControlPrefix + "compaction/";

    /// <summary>A copy, so that a part created from this instance is not affected by later changes to it.</summary>
    public RetailLakeDefinition Clone() => (RetailLakeDefinition)MemberwiseClone();

    /// <summary>Checks every setting; returns one message per problem, each naming the setting and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckTable(errors, nameof(JsonTableName), JsonTableName);
        CheckTable(errors, nameof(ParquetTableName), ParquetTableName);
        if (errors.Count == 0 && string.Equals(JsonTableName, ParquetTableName, StringComparison.OrdinalIgnoreCase))
            errors.Add($"{nameof(RetailLakeDefinition)}.{nameof(JsonTableName)} and {nameof(ParquetTableName)} must differ (both are '{JsonTableName}'; SQL names are case-insensitive).");
        var prefixes = new (string Name, string Value)[]
        {
            (nameof(JsonPrefix), JsonPrefix), (nameof(ErrorPrefix), ErrorPrefix), (nameof(ParquetPrefix), ParquetPrefix), (nameof(ControlPrefix), ControlPrefix),
        };
        int before = errors.Count;
        foreach (var (name, value) in prefixes) CheckPrefix(errors, name, value);
        if (errors.Count > before) return errors;
        for (int i = 0; i < prefixes.Length; i++)
            for (int j = i + 1; j < prefixes.Length; j++)
                if (prefixes[i].Value.StartsWith(prefixes[j].Value, StringComparison.Ordinal) || prefixes[j].Value.StartsWith(prefixes[i].Value, StringComparison.Ordinal))
                    errors.Add($"{nameof(RetailLakeDefinition)}.{prefixes[i].Name} ('{prefixes[i].Value}') and {nameof(RetailLakeDefinition)}.{prefixes[j].Name} ('{prefixes[j].Value}') must not contain one another.");
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem <see cref="Validate"/> finds.</summary>
    public void ThrowIfInvalid(string? parameterName = null)
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), parameterName);
    }

    private static string HourTemplate(string year, string month, string day, string hour) =>
        $"year=!{{{year}}}/month=!{{{month}}}/day=!{{{day}}}/hour=!{{{hour}}}/";

    private static void CheckTable(List<string> errors, string name, string? value)
    {
        if (value is null || !Identifier().IsMatch(value))
            errors.Add($"{nameof(RetailLakeDefinition)}.{name} must be a SQL identifier of letters, digits and '_' not starting with a digit, at most 128 characters (was '{value}').");
    }

    private static void CheckPrefix(List<string> errors, string name, string? prefix)
    {
        string setting = $"{nameof(RetailLakeDefinition)}.{name}";
        if (string.IsNullOrEmpty(prefix) || !prefix.EndsWith('/'))
            errors.Add($"{setting} must be a non-empty key prefix ending with '/' (was '{prefix}').");
        else if (!ObjectKeys.IsValid(prefix + "x", out string? why))
            errors.Add($"{setting} is not a valid key prefix: {why} (was '{prefix}').");
        else if (prefix.Contains("!{", StringComparison.Ordinal))
            errors.Add($"{setting} must be a plain prefix, without '!{{' expressions: delivery's templates add the hour (was '{prefix}').");
        else if (LakeLayout.TryParseHourPartition(prefix + "x") is not null)
            errors.Add($"{setting} must not contain an hourly partition (was '{prefix}').");
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
