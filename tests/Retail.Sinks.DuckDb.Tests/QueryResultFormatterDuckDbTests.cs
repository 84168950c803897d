using Retail.Query;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>Core's <see cref="QueryResultFormatter"/> over a real DuckDB result.</summary>
public class QueryResultFormatterDuckDbTests
{
    [Fact]
    public async Task Format_WorkshopRevenueQuery_PrintsCentsExactly()
    {
        using var dir = new Retail.Core.Tests.TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        using var engine = new DuckDbQueryEngine(dir.Path);

        var result = await engine.QueryAsync(
            "SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue FROM retail_trans_json " +
            "WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31' GROUP BY 1 ORDER BY 1");
        string csv = QueryResultFormatter.Format(result, QueryOutputFormat.Csv);

        var expected = records.Where(r => r.InvoiceDate >= new DateTime(2010, 1, 1) && r.InvoiceDate <= new DateTime(2010, 12, 31))
            .GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, 1)).OrderBy(g => g.Key)
            .Select(g => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{g.Key:yyyy-MM-dd HH:mm:ss},{g.Sum(r => r.Price * r.Quantity) / 1.0000000000000000000000000000m}\r\n"));
        Assert.Equal("invoice_year_month,revenue\r\n" + string.Concat(expected), csv);
    }
}
