using Retail.Storage;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The SQL of the lake's two views. Both expose the same columns with the same types (<see cref="Columns"/>);
/// <c>price</c> is <see cref="PriceType"/>, wider than the files' DECIMAL(18,4), so that no workshop query can
/// overflow on accepted data.
/// </summary>
/// <remarks>
/// <para>Why DECIMAL(38,4): DuckDB multiplies two decimals backed by 64-bit integers (precision ≤ 18) in 64 bits
/// and caps the product at DECIMAL(18,s), so <c>quantity * price</c> with a 14-digit price overflows from a
/// quantity of 10 on. With a DECIMAL(38,4) price the product is DECIMAL(38,4) (128-bit): the largest
/// <c>|quantity * price|</c>, 2,147,483,648 × 99,999,999,999,999.9999 ≈ 2.1e23, is far inside it, and a
/// <c>sum</c> stays exact up to about 4.6e10 such extreme rows. The files keep physical DECIMAL(18,4).</para>
/// <para>Why the JSON view does not use <c>read_json</c>: DuckDB 1.5's JSON reader parses every non-integer number
/// as a double before casting it, so a 14-digit price loses its last digits (<c>1234567890123.4567</c> reads as
/// <c>…4568</c>), <c>99999999999999.9999</c> becomes 1e14 and no longer fits, and a price with 5 decimals is
/// silently rounded. The view reads each object's text (<c>read_json_objects</c>, which keeps the text as
/// written), takes the <c>Price</c> number's own characters from it and casts them to DECIMAL(18,4) exactly: a
/// price that does not fit, or whose digits beyond the 4th decimal are not zeros, fails the query with the file,
/// the value and the line, instead of being rounded. DuckDB's own parse of the object (as a double) is compared
/// with those characters, so text that is not the object's top-level <c>Price</c> is never used.</para>
/// <para>Real Firehose objects: <c>read_json_objects</c> runs with <c>format = 'unstructured'</c>, so an object may hold
/// one record per line, records concatenated without newlines (<c>{…}{…}</c>, what Firehose writes when its producer
/// sends no trailing newline), or both, with whitespace and newlines between and inside records; objects whose names end
/// in <c>.gz</c> (Firehose's GZIP compression) are decompressed (DuckDB's default <c>compression = 'auto_detect'</c>
/// goes by that suffix).</para>
/// <para>Files read: only names the pipeline writes, in partition folders named as <see cref="LakeLayout.HourPartition"/>
/// names them, under the prefixes of the engine's <see cref="RetailLakeDefinition"/> — delivery's and Firehose's
/// <c>&lt;stream&gt;-&lt;version&gt;-yyyy-MM-dd-HH-mm-ss-&lt;id&gt;</c> objects (Firehose's id is a random UUID, and
/// <c>.gz</c> may follow) and the compactor's <c>part-NNNNN.parquet</c> files; names starting with <c>.</c> (in-flight temporary files) never.
/// Any other file placed in the table folders is not part of the table.</para>
/// </remarks>
internal static class LakeViews
{
    /// <summary>The views' price type.</summary>
    public const string PriceType = "DECIMAL(38,4)";

    /// <summary>The files' price type, and the range every accepted price fits (Core's <see cref="RetailPrice"/>).</summary>
    private const string FilePriceType = RetailLakeDefinition.PriceSqlType;

    private const string HiveTypes = "{'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}";

    /// <summary>The partition folders, exactly as <see cref="LakeLayout.HourPartition"/> writes them.</summary>
    private const string HourGlob = "year=[0-9][0-9][0-9][0-9]/month=[0-9][0-9]/day=[0-9][0-9]/hour=[0-9][0-9]/";

    /// <summary>
    /// Delivery's (and Firehose's) object names: <c>&lt;stream&gt;-&lt;version&gt;-yyyy-MM-dd-HH-mm-ss-&lt;id&gt;</c>, not starting
    /// with <c>.</c>; the id is anything non-empty (delivery's hex id, Firehose's UUID, either followed by <c>.gz</c>).
    /// </summary>
    private const string JsonObjectGlob = "[!.]*-[0-9]*-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-?*";

    /// <summary>The compactor's part names: <c>part-00000.parquet</c>, <c>part-00001.parquet</c>, … (more digits past 99,999).</summary>
    private const string ParquetPartGlob = "part-[0-9][0-9][0-9][0-9][0-9]*.parquet";

    /// <summary>The view's columns, in Athena's order: the lake's record columns, then the partitions (<c>price</c> widened to <see cref="PriceType"/>).</summary>
    public static readonly (string Name, string Type)[] Columns =
        [.. RetailLakeDefinition.Columns.Concat(RetailLakeDefinition.PartitionColumns).Select(c => (c.Name, c.Name == "price" ? PriceType : c.SqlType))];

    /// <summary>The glob of the JSON table's objects under <paramref name="lakePath"/> (absolute, <c>/</c>-separated).</summary>
    public static string JsonGlob(string lakePath, RetailLakeDefinition lake) => $"{lakePath}/{lake.JsonPrefix}{HourGlob}{JsonObjectGlob}";

    /// <summary>The glob of the Parquet table's files under <paramref name="lakePath"/>.</summary>
    public static string ParquetGlob(string lakePath, RetailLakeDefinition lake) => $"{lakePath}/{lake.ParquetPrefix}{HourGlob}{ParquetPartGlob}";

    /// <summary>A SQL expression that fails the query with <paramref name="reasonSql"/> (a SQL string expression), the table, the file and the record.</summary>
    private static string Fail(string table, string reasonSql) =>
        $"error(concat({DuckDbCommands.Literal(table + ": ")}, filename, ': ', {reasonSql}, '; record: ', left(json, 300)))";

    /// <summary>JSON whitespace (what may surround a number).</summary>
    private const string Blanks = "' ' || chr(9) || chr(10) || chr(13)";

    /// <summary>The characters of the top-level <c>Price</c> value: the fast form delivery writes (<c>,"Price":</c>), else any JSON spacing.</summary>
    private const string PriceText =
        "CASE WHEN fast <> '' THEN fast " +
        "ELSE regexp_extract(json, '[{,][ \\t\\r\\n]*\"Price\"[ \\t\\r\\n]*:[ \\t\\r\\n]*(-?[0-9][0-9.eE+-]*)', 1) END";

    /// <summary>
    /// Whether the number text <c>pt</c> has no non-zero digit past the 4th decimal place, exponents included
    /// (<c>1e2</c>, <c>1.5E-2</c>, <c>100e-6</c> do; <c>1e-5</c>, <c>1.23456</c> do not).
    /// </summary>
    private const string FitsScale =
        "CASE WHEN NOT contains(pt, 'e') AND NOT contains(pt, 'E') THEN length(rtrim(split_part(pt, '.', 2), '0')) <= 4 " +
        "ELSE rtrim(replace(replace(split_part(lower(pt), 'e', 1), '-', ''), '.', ''), '0') = '' " +
        "OR (TRY_CAST(split_part(lower(pt), 'e', 2) AS BIGINT) IS NOT NULL " +
        "AND length(split_part(split_part(lower(pt), 'e', 1), '.', 2)) - TRY_CAST(split_part(lower(pt), 'e', 2) AS BIGINT) " +
        "- (length(replace(replace(split_part(lower(pt), 'e', 1), '-', ''), '.', '')) - length(rtrim(replace(replace(split_part(lower(pt), 'e', 1), '-', ''), '.', ''), '0'))) <= 4) END";

    /// <summary>
    /// The JSON table: each object's text (kept as written), its fields parsed by DuckDB, and <c>price</c> cast
    /// exactly from the <c>Price</c> number's own characters (see the class remarks). An object without each field
    /// exactly once fails the query (DuckDB names the object), as does a field of the wrong kind.
    /// </summary>
    public static string JsonSource(string glob, string table) => $$"""
        SELECT t.Invoice AS invoice, t.StockCode AS stockcode, t.Description AS description,
          CASE WHEN m.Quantity IS NULL OR (m.Quantity = trunc(m.Quantity) AND m.Quantity BETWEEN -2147483648 AND 2147483647) THEN CAST(m.Quantity AS INTEGER)
               ELSE {{Fail(table, "'Quantity is not a 32-bit integer'")}} END AS quantity,
          CASE WHEN m.InvoiceDate IS NULL THEN NULL
               ELSE coalesce(try_strptime(m.InvoiceDate, '%Y-%m-%d %H:%M:%S'), {{Fail(table, "concat('InvoiceDate ', m.InvoiceDate, ' is not a date in the form yyyy-MM-dd HH:mm:ss')")}}) END AS invoicedate,
          CASE WHEN m.Price IS NULL THEN NULL
               WHEN d IS NULL THEN {{Fail(table, $"concat('Price ', coalesce(pt, 'value'), ' is not a number that fits {FilePriceType} (at most 14 integer digits)')")}}
               WHEN abs(CAST(d AS DOUBLE) - m.Price) > 0.00005 + abs(m.Price) * 1e-14 THEN {{Fail(table, "concat('Price ', pt, ' is not the object''s top-level Price number')")}}
               WHEN {{FitsScale}} THEN CAST(d AS {{PriceType}})
               ELSE {{Fail(table, $"concat('Price ', pt, ' has more than 4 decimal places, which the lake''s {FilePriceType} columns would round')")}} END AS price,
          t.Customer_ID AS customer_id, t.Country AS country, year, month, day, hour
        FROM (
          SELECT filename, json, year, month, day, hour, m, t, pt, TRY_CAST(pt AS {{FilePriceType}}) AS d
          FROM (
            SELECT filename, json, year, month, day, hour, m, t, trim({{PriceText}}, {{Blanks}}) AS pt
            FROM (
              SELECT filename, json, year, month, day, hour,
                json_transform_strict(json, '{"Quantity": "DOUBLE", "InvoiceDate": "VARCHAR", "Price": "DOUBLE"}') AS m,
                json_transform_strict(json, '{"Invoice": "VARCHAR", "StockCode": "VARCHAR", "Description": "VARCHAR", "Customer_ID": "VARCHAR", "Country": "VARCHAR"}') AS t,
                split_part(split_part(split_part(json, ',"Price":', 2), ',', 1), '}', 1) AS fast
              FROM read_json_objects({{DuckDbCommands.Literal(glob)}}, format = 'unstructured', filename = true, hive_partitioning = true, hive_types = {{HiveTypes}}, hive_types_autocast = false))))
        """;

    /// <summary>The Parquet table: the compactor's files, <c>price</c> widened from the files' DECIMAL(18,4) to <see cref="PriceType"/>.</summary>
    public static string ParquetSource(string glob) =>
        "SELECT CAST(invoice AS VARCHAR) AS invoice, CAST(stockcode AS VARCHAR) AS stockcode, CAST(description AS VARCHAR) AS description, " +
        $"CAST(quantity AS INTEGER) AS quantity, CAST(invoicedate AS TIMESTAMP) AS invoicedate, CAST(price AS {PriceType}) AS price, " +
        "CAST(customer_id AS VARCHAR) AS customer_id, CAST(country AS VARCHAR) AS country, year, month, day, hour\n" +
        $"FROM read_parquet({DuckDbCommands.Literal(glob)}, hive_partitioning = true, hive_types = {HiveTypes}, hive_types_autocast = false)";

    /// <summary>An empty relation with the views' columns.</summary>
    public static string EmptySource() =>
        "SELECT " + string.Join(", ", Columns.Select(c => $"CAST(NULL AS {c.Type}) AS {c.Name}")) + " WHERE false";

    public static string Create(string name, string? source) =>
        $"CREATE OR REPLACE TEMP VIEW {name} AS\n{source ?? EmptySource()}";
}
