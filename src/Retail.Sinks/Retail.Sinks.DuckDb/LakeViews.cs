using Retail.Storage;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The SQL of the lake's two views. Both expose the same columns with the same types (<see cref="Columns"/>);
/// <c>price</c> is <see cref="PriceType"/>, wider than the files' DECIMAL(18,4), so that no workshop query can
/// overflow on accepted data.
/// </summary>
/// <remarks>
/// <para>Why DECIMAL(38,4): DuckDB multiplies two decimals backed by 64-bit integers (precision ≤ 18) in 64 bits
/// and caps the product at DECIMAL(18,s), so <c>quantity * price</c> with an 11-digit price overflows from a
/// quantity of about 10,000 on. With a DECIMAL(38,4) price the product is DECIMAL(38,4) (128-bit): the largest
/// <c>|quantity * price|</c>, 2,147,483,648 × 99,999,999,999.9999 ≈ 2.1e20, is far inside it, and a <c>sum</c> stays
/// exact up to about 4.6e13 such extreme rows. The files keep physical DECIMAL(18,4).</para>
/// <para>How the JSON view stays exact: DuckDB's JSON reader (<c>read_json</c>, with explicit <c>columns</c>) parses
/// every number as a double. Every price the lake accepts (Core's <see cref="RetailPrice"/>: at most 11 integer
/// digits and 4 decimals, so at most 15 significant digits) is the double's exact value to 4 decimals, so the view casts
/// the double to DECIMAL(18,4) and checks that the cast gave back the same double: a price that does not fit (12 or
/// more integer digits, infinite) or that has a non-zero digit past the 4th decimal fails the query with the table,
/// the file, the value as read and the record's <c>Invoice</c> and <c>StockCode</c>, instead of being rounded. A
/// number written with 16 or more significant digits (which delivery never writes) is read as the nearest double:
/// when that is a 4-decimal price within the range, the view shows that price, while the compactor, which reads the
/// text, sends the record to the error output.</para>
/// <para>Types: <c>Quantity</c> must be a whole number within 32 bits (else the query fails naming it); <c>InvoiceDate</c>
/// is parsed as <c>yyyy-MM-dd HH:mm:ss</c> by the reader, which fails the query on any other text naming the file and the
/// line. As DuckDB's reader does, a string that holds a number where a number belongs (<c>"Price":"3.5"</c>) is read as
/// that number (and <c>true</c>/<c>false</c> as 1/0), a missing field is NULL (as Athena's JSON SerDe reads it), and a field that appears twice fails the
/// query. The compactor is stricter (such records go to its error output); delivery never writes them.</para>
/// <para>Real Firehose objects: <c>read_json</c> runs with <c>format = 'unstructured'</c>, so an object may hold
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
        $"error(concat({DuckDbCommands.Literal(table + ": ")}, filename, ': ', {reasonSql}, '; record with Invoice ', coalesce(Invoice, 'null'), ', StockCode ', coalesce(StockCode, 'null')))";

    /// <summary>The record columns as DuckDB's JSON reader parses them (the workshop's field names, case-sensitive); numbers as doubles, checked by <see cref="JsonSource"/>.</summary>
    private const string JsonColumns =
        "{'Invoice': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR', 'Quantity': 'DOUBLE', " +
        "'InvoiceDate': 'TIMESTAMP', 'Price': 'DOUBLE', 'Customer_ID': 'VARCHAR', 'Country': 'VARCHAR'}";

    /// <summary>
    /// The JSON table: DuckDB's JSON reader with explicit columns (it reads only the fields a query uses), each number
    /// checked, and <c>price</c> cast exactly from the double (see the class remarks).
    /// </summary>
    public static string JsonSource(string glob, string table) => $$"""
        SELECT Invoice AS invoice, StockCode AS stockcode, Description AS description,
          CASE WHEN Quantity IS NULL OR (Quantity = trunc(Quantity) AND Quantity BETWEEN -2147483648 AND 2147483647) THEN CAST(Quantity AS INTEGER)
               ELSE {{Fail(table, "concat('Quantity is not a 32-bit integer: ', Quantity)")}} END AS quantity,
          InvoiceDate AS invoicedate,
          CASE WHEN Price IS NULL THEN NULL
               WHEN NOT isfinite(Price) OR abs(Price) >= 1e{{RetailPrice.MaxIntegerDigits}} THEN {{Fail(table, $"concat('Price ', Price, ' does not fit the lake''s {FilePriceType} prices (at most {RetailPrice.MaxIntegerDigits} integer digits)')")}}
               WHEN CAST(TRY_CAST(Price AS {{FilePriceType}}) AS DOUBLE) IS DISTINCT FROM Price THEN {{Fail(table, $"concat('Price ', Price, ' has more than {RetailPrice.Scale} decimal places, which the lake''s {FilePriceType} columns would round')")}}
               ELSE CAST(TRY_CAST(Price AS {{FilePriceType}}) AS {{PriceType}}) END AS price,
          Customer_ID AS customer_id, Country AS country, year, month, day, hour
        FROM read_json({{DuckDbCommands.Literal(glob)}}, format = 'unstructured', columns = {{JsonColumns}}, timestampformat = '%Y-%m-%d %H:%M:%S',
          filename = true, hive_partitioning = true, hive_types = {{HiveTypes}}, hive_types_autocast = false)
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
