using System.Globalization;
using Retail.Core.Tests;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>
/// Prices at the edges of what delivery accepts (Core's RetailPrice: 11 integer digits, 4 decimals), through the
/// delivery's JSON lines, the real Parquet compactor and both views.
/// </summary>
public class DuckDbQueryEngineExactnessTests
{
    public static TheoryData<string> Tables => new() { DuckDbQueryEngine.JsonTableName, DuckDbQueryEngine.ParquetTableName };

    private static readonly decimal[] ExtremePrices =
    [
        12345678901.2345m, 9007199254.7409m, RetailPrice.MaxMagnitude, -RetailPrice.MaxMagnitude, 99_999_999_999.9998m,
        0.0001m, -0.0001m, 0m, 18.2500m, 2.55m, 0.3m, 1.005m, 12345678901.5m, 70_368_744_177.6641m,
    ];

    private static RetailTransaction Record(int n, int quantity, decimal price) => new()
    {
        Invoice = n.ToString("000000", CultureInfo.InvariantCulture), StockCode = "85123A", Description = "WHITE HANGING HEART T-LIGHT HOLDER",
        Quantity = quantity, InvoiceDate = new DateTime(2010, 3, 1 + n % 2, 9, n % 60, 0), Price = price, CustomerId = "13085", Country = "United Kingdom",
    };

    /// <summary>A lake with the records as delivered JSON lines and as the compactor's Parquet.</summary>
    private static DuckDbQueryEngine Lake(TempDir dir, IReadOnlyList<RetailTransaction> records)
    {
        TestLake.WriteJson(dir.Path, records);
        TestLake.Compact(dir.Path);
        return new DuckDbQueryEngine(dir.Path);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_ExtremePrices_ReadBackDigitForDigit(string table)
    {
        using var dir = new TempDir();
        var records = ExtremePrices.Select((p, i) => Record(i, 1, p)).ToList();
        using var engine = Lake(dir, records);

        var result = await engine.QueryAsync($"SELECT invoice, price, CAST(price AS VARCHAR) FROM {table} ORDER BY invoice");

        Assert.Equal("DECIMAL(38,4)", result.ColumnTypes[1]);
        Assert.Equal(records.Select(r => r.Price), result.Rows.Select(r => Assert.IsType<decimal>(r[1])));
        // The text DuckDB itself holds, not only the .NET decimal: 12345678901.2345, not a double's …2344999.
        Assert.Equal(records.Select(r => r.Price.ToString("0.0000", CultureInfo.InvariantCulture)), result.Rows.Select(r => (string)r[2]!));
    }

    [Fact]
    public async Task QueryAsync_ExtremeQuantityTimesExtremePrice_ExactOnBothTablesAndEqual()
    {
        using var dir = new TempDir();
        const decimal max = RetailPrice.MaxMagnitude;
        RetailTransaction[] records =
        [
            Record(0, int.MaxValue, max), Record(1, int.MinValue, -max), Record(2, int.MaxValue, max),
            Record(3, int.MinValue, max), Record(4, int.MaxValue, -max), Record(5, 3, 12345678901.2345m), Record(6, -7, 9007199254.7409m),
        ];
        using var engine = Lake(dir, records);
        decimal revenue = records.Sum(r => r.Quantity * r.Price);
        decimal prices = records.Sum(r => r.Price);
        long units = records.Sum(r => (long)r.Quantity);
        var byMonth = records.GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, 1)).ToDictionary(g => g.Key, g => g.Sum(r => r.Price * r.Quantity));

        var totals = new List<object?[]>();
        foreach (string table in new[] { DuckDbQueryEngine.JsonTableName, DuckDbQueryEngine.ParquetTableName })
        {
            var row = (await engine.QueryAsync(
                $"SELECT sum(quantity*price), sum(price*quantity), sum(price), avg(price), sum(quantity), max(quantity*price), min(price*quantity) FROM {table}")).Rows.Single();
            Assert.Equal(revenue, row[0]);
            Assert.Equal(revenue, row[1]);
            Assert.Equal(prices, row[2]);
            Assert.Equal((double)(prices / records.Length), Assert.IsType<double>(row[3]), 1e-3);
            Assert.Equal(units, (long)(System.Numerics.BigInteger)row[4]!);
            Assert.Equal(records.Max(r => r.Quantity * r.Price), row[5]);
            Assert.Equal(records.Min(r => r.Quantity * r.Price), row[6]);
            totals.Add(row);

            // The workshop's revenue-by-month query.
            var months = await engine.QueryAsync(
                $"SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue FROM {table} WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31' GROUP BY 1");
            Assert.Equal(byMonth, months.Rows.ToDictionary(r => (DateTime)r[0]!, r => (decimal)r[1]!));
        }
        Assert.Equal(totals[0], totals[1]);
    }

    [Fact]
    public async Task QueryAsync_SampleLake_JsonAndParquetTotalsEqual()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        using var engine = Lake(dir, records);

        var row = (await engine.QueryAsync(
            "SELECT * FROM (SELECT count(*), sum(quantity*price), sum(price), sum(quantity) FROM retail_trans_json) j, " +
            "(SELECT count(*), sum(quantity*price), sum(price), sum(quantity) FROM ctas_retail_trans_parquet) p")).Rows.Single();

        Assert.Equal((long)records.Count, row[0]);
        Assert.Equal(records.Sum(r => r.Quantity * r.Price), row[1]);
        Assert.Equal(row[..4], row[4..]);
    }

    /// <summary>Numbers written in other forms than delivery's, by other producers: each read as the price it is.</summary>
    [Fact]
    public async Task QueryAsync_JsonPriceWrittenInOtherForms_ReadExactly()
    {
        using var dir = new TempDir();
        string[] lines =
        [
            """{"Invoice":"a","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":1e2,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"b","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":-0.0,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"c","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":-0,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"d","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":12,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"e","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":1.5E-2,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"f","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":100e-6,"Customer_ID":"","Country":"c"}""",
            """{"Invoice":"g","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":18.25000000,"Customer_ID":"","Country":"c"}""",
            // The workshop's Python producer: json.dumps spacing, Customer_ID a number.
            """{"Invoice": "h", "StockCode": "s", "Description": "d", "Quantity": 1, "InvoiceDate": "2010-03-01 09:00:00", "Price": 99999999999.9999, "Customer_ID": 13085.0, "Country": "c"}""",
            // Price first, then a description that mentions "Price": inside a string.
            """{"Price":12345678901.2345,"Invoice":"i","StockCode":"s","Description":"say \",\"Price\":5,\" here","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Customer_ID":"","Country":"c"}""",
            """{"Invoice":"j","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":9.99999999999999e10,"Customer_ID":"","Country":"c"}""",
            // A number as a string: read as the number, as DuckDB's JSON reader reads it (the class remarks of LakeViews).
            """{"Invoice":"k","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":"3.5","Customer_ID":"","Country":"c"}""",
        ];
        WriteObject(dir.Path, lines);
        using var engine = new DuckDbQueryEngine(dir.Path);

        var result = await engine.QueryAsync("SELECT invoice, price, customer_id FROM retail_trans_json ORDER BY invoice");

        Assert.Equal<object?>([100m, 0m, 0m, 12m, 0.015m, 0.0001m, 18.25m, 99_999_999_999.9999m, 12345678901.2345m, 99_999_999_999.9999m, 3.5m],
            result.Rows.Select(r => r[1]).ToList());
        Assert.Equal("13085.0", result.Rows[7][2]);
    }

    /// <summary>A price the lake does not accept, as written in the object, the reason, and the value as the error shows it (read as a double).</summary>
    public static TheoryData<string, string, string> BadPrices => new()
    {
        { "1.23456", "more than 4 decimal places", "Price 1.23456 " },
        { "1e-5", "more than 4 decimal places", "Price 1e-05 " },
        { "0.00000000000000000000000001", "more than 4 decimal places", "Price 1e-26 " },
        { "99999999999.99995", "more than 4 decimal places", "Price 99999999999.99995 " },
        { "100000000000", "(at most 11 integer digits)", "Price 100000000000.0 " },
        { "1234567890123.4567", "(at most 11 integer digits)", "Price 1234567890123.4568 " },
        { "1e400", "(at most 11 integer digits)", "Price inf " },
    };

    [Theory]
    [MemberData(nameof(BadPrices))]
    public async Task QueryAsync_JsonPriceTheLakeDoesNotAccept_FailsNamingFileAndValue(string price, string reason, string shown)
    {
        using var dir = new TempDir();
        string key = WriteObject(dir.Path,
        [
            """{"Invoice":"a","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":2.5,"Customer_ID":"","Country":"c"}""",
            $$"""{"Invoice":"b","StockCode":"s","Description":"d","Quantity":1,"InvoiceDate":"2010-03-01 09:00:00","Price":{{price}},"Customer_ID":"","Country":"c"}""",
        ]);
        using var engine = new DuckDbQueryEngine(dir.Path);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT sum(price) FROM retail_trans_json"));

        Assert.True(e.Message.Contains(reason, StringComparison.Ordinal), e.Message);
        Assert.Contains(Path.GetFileName(key), e.Message, StringComparison.Ordinal);
        Assert.Contains(shown, e.Message, StringComparison.Ordinal);
        Assert.Contains("record with Invoice b, StockCode s", e.Message, StringComparison.Ordinal);
        // Columns other than price still read.
        Assert.Equal(2L, (await engine.QueryAsync("SELECT count(invoice) FROM retail_trans_json")).Rows.Single()[0]);
    }

    [Fact]
    public async Task QueryAsync_JsonQuantityNotAnInt32_FailsInsteadOfRounding()
    {
        using var dir = new TempDir();
        WriteObject(dir.Path, ["""{"Invoice":"a","StockCode":"s","Description":"d","Quantity":1.5,"InvoiceDate":"2010-03-01 09:00:00","Price":2.5,"Customer_ID":"","Country":"c"}"""]);
        using var engine = new DuckDbQueryEngine(dir.Path);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT sum(quantity) FROM retail_trans_json"));

        Assert.Contains("Quantity is not a 32-bit integer", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Writes one delivery-named object in the hour of 2010-03-01 09:00 and returns its path.</summary>
    private static string WriteObject(string lakePath, IEnumerable<string> lines)
    {
        string path = Path.Combine(lakePath, "json-data", "year=2010", "month=03", "day=01", "hour=09", "retail-trans-1-2010-03-01-09-00-00-handmade").EnsureFolder();
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        return path;
    }
}
