namespace Retail.Hosting.Dashboard;

/// <summary>
/// The API's SQL. Every statement is fixed text, built once from the two table names of
/// <see cref="RetailDashboardOptions"/> (checked to be SQL identifiers); values reach the engine only as positional
/// <c>?</c> parameters: first the compacted-hours list (<see cref="CompactedHoursFilter"/>, twice), then the request's
/// filter, six (<see cref="DashboardParameters.FilterValues"/>). Bounds are the engine's <c>maxRows</c>, never text. The
/// SQL is the common ground of DuckDB and Athena (Trino).
/// </summary>
/// <remarks>
/// <para>The batch layer (<see cref="Batch"/>): every row of the Parquet table, plus the rows of the JSON table whose
/// hour partition (<c>year, month, day, hour</c>) has no Parquet rows — an hour the compactor has published is read
/// from Parquet only, an hour not compacted yet from JSON only, so no row is counted twice. The <c>NOT EXISTS</c>
/// decides, within the query's own view of the files.</para>
/// <para>Before it, the JSON rows of hours already known to be compacted (<see cref="CompactedHours"/>, passed as the
/// first <see cref="CompactedHoursFilter.Chunks"/> × 2 parameters, see <see cref="CompactedHoursFilter"/>) are dropped by
/// a test on the partition columns alone, which DuckDB evaluates before it parses the rows' JSON: a lake whose
/// hours are compacted is then read from Parquet without parsing its JSON (about 7× faster at 200,000 records). The
/// test only drops hours that were compacted when the list was read, and compaction never takes an hour back, so
/// the list may be stale (it is cached for a moment) without a row being lost or counted twice.</para>
/// <para>The filter: <c>from</c> as an inclusive start, <c>to</c> as the exclusive start of the next day, country by
/// equality; a null parameter drops its condition.</para>
/// </remarks>
internal sealed class DashboardSql
{
    public DashboardSql(string jsonTable, string parquetTable)
    {
        string batch = $"""
            WITH batch AS (
              SELECT p.invoicedate, p.quantity, p.price, p.country, p.stockcode, p.description FROM {parquetTable} p
              UNION ALL
              SELECT j.invoicedate, j.quantity, j.price, j.country, j.stockcode, j.description FROM {jsonTable} j
              WHERE strpos({Haystack}, {DayKey}) = 0 AND strpos({Haystack}, {HourKey}) = 0
                AND NOT EXISTS (SELECT 1 FROM {parquetTable} c WHERE c.year = j.year AND c.month = j.month AND c.day = j.day AND c.hour = j.hour)
            )
            """;
        Batch = batch;
        string filtered = batch + """
            ,
            filtered AS (
              SELECT * FROM batch
              WHERE (CAST(? AS TIMESTAMP) IS NULL OR invoicedate >= CAST(? AS TIMESTAMP))
                AND (CAST(? AS TIMESTAMP) IS NULL OR invoicedate < CAST(? AS TIMESTAMP))
                AND (CAST(? AS VARCHAR) IS NULL OR country = CAST(? AS VARCHAR))
            )

            """;
        Summary = filtered + "SELECT count(*) AS records, sum(quantity * price) AS revenue, CAST(sum(quantity) AS BIGINT) AS quantity, max(invoicedate) AS last_invoice_date FROM filtered";
        AnyRow = batch + "\nSELECT 1 AS any_row FROM batch LIMIT 1";
        Daily = filtered + "SELECT CAST(invoicedate AS DATE) AS invoice_day, CAST(sum(quantity) AS BIGINT) AS quantity, sum(price) AS price FROM filtered WHERE invoicedate IS NOT NULL GROUP BY 1 ORDER BY 1";
        Monthly = filtered + "SELECT date_trunc('month', invoicedate) AS invoice_month, sum(price * quantity) AS revenue FROM filtered WHERE invoicedate IS NOT NULL GROUP BY 1 ORDER BY 1";
        TopCountries = filtered + "SELECT country, sum(quantity * price) AS revenue, CAST(sum(quantity) AS BIGINT) AS quantity FROM filtered GROUP BY country ORDER BY revenue DESC, country";
        TopProducts = filtered + "SELECT stockcode, min(description) AS description, sum(quantity * price) AS revenue, CAST(sum(quantity) AS BIGINT) AS quantity FROM filtered GROUP BY stockcode ORDER BY revenue DESC, stockcode";
        Countries = batch + "\nSELECT DISTINCT country FROM batch WHERE country IS NOT NULL ORDER BY country";
        CompactedHours = $"SELECT DISTINCT CAST(year AS INTEGER) AS y, CAST(month AS INTEGER) AS m, CAST(day AS INTEGER) AS d, CAST(hour AS INTEGER) AS h FROM {parquetTable}";
    }

    private const string Part = "CAST(CAST(j.{0} AS INTEGER) AS VARCHAR)";

    /// <summary>The compacted-hours list: the concatenation of <see cref="CompactedHoursFilter.Chunks"/> string parameters.</summary>
    private static readonly string Haystack = "concat(" + string.Join(", ", Enumerable.Repeat("CAST(? AS VARCHAR)", CompactedHoursFilter.Chunks)) + ")";

    /// <summary>A JSON row's day as the list spells a wholly compacted day: <c>|2010-12-9|</c>.</summary>
    private static readonly string DayKey = $"concat('|', {string.Format(null, Part, "year")}, '-', {string.Format(null, Part, "month")}, '-', {string.Format(null, Part, "day")}, '|')";

    /// <summary>A JSON row's hour as the list spells a compacted hour: <c>|2010-12-9-7|</c>.</summary>
    private static readonly string HourKey = $"concat('|', {string.Format(null, Part, "year")}, '-', {string.Format(null, Part, "month")}, '-', {string.Format(null, Part, "day")}, '-', {string.Format(null, Part, "hour")}, '|')";

    /// <summary>The hour partitions the Parquet table holds (<see cref="CompactedHoursFilter"/> reads them).</summary>
    public string CompactedHours { get; }

    /// <summary>The batch layer's CTE (<c>WITH batch AS (…)</c>).</summary>
    public string Batch { get; }

    /// <summary>Records, revenue, quantity and the last invoice date (filtered).</summary>
    public string Summary { get; }

    /// <summary>One row when the batch layer holds any row (filters aside).</summary>
    public string AnyRow { get; }

    /// <summary>sum(quantity) and sum(price) per invoice day, oldest first (filtered): the QuickSight view.</summary>
    public string Daily { get; }

    /// <summary>sum(price * quantity) per month, oldest first (filtered): the workshop's monthly revenue.</summary>
    public string Monthly { get; }

    /// <summary>Revenue and quantity per country, by revenue descending (filtered).</summary>
    public string TopCountries { get; }

    /// <summary>Revenue and quantity per stock code (its smallest description), by revenue descending (filtered).</summary>
    public string TopProducts { get; }

    /// <summary>The batch layer's distinct countries, sorted.</summary>
    public string Countries { get; }
}
