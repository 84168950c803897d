namespace Retail.Hosting.Dashboard;

/// <summary>
/// The API's SQL. Every statement is fixed text, built once from the two table names of
/// <see cref="RetailDashboardOptions"/> (checked to be SQL identifiers); request values reach the engine only as
/// positional <c>?</c> parameters, the filter's six (<see cref="DashboardParameters.FilterValues"/>). Bounds are
/// the engine's <c>maxRows</c>, never text. The SQL is the common ground of DuckDB and Athena (Trino).
/// </summary>
/// <remarks>
/// <para>The batch layer (<see cref="Batch"/>): every row of the Parquet table, plus the rows of the JSON table whose
/// hour partition (<c>year, month, day, hour</c>) has no Parquet rows — an hour the compactor has published is read
/// from Parquet only, an hour not compacted yet from JSON only, so no row is counted twice.</para>
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
              WHERE NOT EXISTS (SELECT 1 FROM {parquetTable} c WHERE c.year = j.year AND c.month = j.month AND c.day = j.day AND c.hour = j.hour)
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
    }

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
