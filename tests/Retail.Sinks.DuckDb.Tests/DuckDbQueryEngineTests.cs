using Retail.Core.Tests;
using Retail.Query;

namespace Retail.Sinks.DuckDb.Tests;

public class DuckDbQueryEngineTests(SampleLakeFixture lake) : IClassFixture<SampleLakeFixture>
{
    public static TheoryData<string> Tables => new() { DuckDbQueryEngine.JsonTableName, DuckDbQueryEngine.ParquetTableName };

    private static readonly string[] ViewColumns =
        ["invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country", "year", "month", "day", "hour"];

    private static readonly string[] ViewTypes =
        ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP", "DECIMAL(38,4)", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER", "INTEGER", "INTEGER"];

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_CountAndRevenue_EqualTheCsvExactly(string table)
    {
        decimal expectedRevenue = lake.Records.Sum(r => r.Quantity * r.Price);
        long expectedQuantity = lake.Records.Sum(r => (long)r.Quantity);

        var result = await lake.Engine.QueryAsync($"SELECT count(*) AS n, sum(quantity * price) AS revenue, sum(price * quantity) AS revenue2, sum(quantity) AS units FROM {table}");

        var row = Assert.Single(result.Rows);
        Assert.Equal((long)lake.Records.Count, row[0]);
        Assert.Equal(expectedRevenue, Assert.IsType<decimal>(row[1]));
        Assert.Equal(expectedRevenue, Assert.IsType<decimal>(row[2]));
        Assert.Equal(expectedQuantity, (long)(System.Numerics.BigInteger)row[3]!);
        Assert.StartsWith("DECIMAL(", result.ColumnTypes[1], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_WorkshopSelectStarLimit10_RunsUnchanged(string table)
    {
        var result = await lake.Engine.QueryAsync($"SELECT * FROM {table} LIMIT 10");

        Assert.Equal(ViewColumns, result.Columns);
        Assert.Equal(ViewTypes, result.ColumnTypes);
        Assert.Equal(10, result.Rows.Count);
        Assert.False(result.Truncated);
        foreach (var row in result.Rows)
        {
            Assert.IsType<string>(row[0]);
            Assert.IsType<int>(row[3]);
            Assert.IsType<DateTime>(row[4]);
            Assert.IsType<decimal>(row[5]);
            var date = (DateTime)row[4]!;
            Assert.Equal((date.Year, date.Month, date.Day, date.Hour), ((int)row[8]!, (int)row[9]!, (int)row[10]!, (int)row[11]!));
        }
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_WorkshopRevenueByMonth_RunsUnchangedAndIsExact(string table)
    {
        // The workshop's Athena query, verbatim but for the table name.
        string sql = $"""
            SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue
            FROM {table}
            WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31'
            GROUP BY 1
            """;
        var expected = lake.Records
            .Where(r => r.InvoiceDate >= new DateTime(2010, 1, 1) && r.InvoiceDate <= new DateTime(2010, 12, 31))
            .GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, 1))
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Sum(r => r.Price * r.Quantity)))
            .ToList();

        var result = await lake.Engine.QueryAsync(sql);

        Assert.Equal(["invoice_year_month", "revenue"], result.Columns);
        var actual = result.Rows.Select(r => ((DateTime)r[0]!, (decimal)r[1]!)).OrderBy(r => r.Item1).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_ColumnNamesInAnyCase_Resolve(string table)
    {
        var lower = await lake.Engine.QueryAsync($"SELECT invoice, invoicedate, customer_id FROM {table} ORDER BY invoice, stockcode, invoicedate LIMIT 5");
        var workshop = await lake.Engine.QueryAsync($"SELECT Invoice, InvoiceDate, Customer_ID FROM {table} ORDER BY Invoice, StockCode, InvoiceDate LIMIT 5");
        var upper = await lake.Engine.QueryAsync($"SELECT INVOICE, INVOICEDATE, CUSTOMER_ID FROM {table.ToUpperInvariant()} ORDER BY INVOICE, STOCKCODE, INVOICEDATE LIMIT 5");

        Assert.Equal(5, lower.Rows.Count);
        Assert.Equal(lower.Rows, workshop.Rows);
        Assert.Equal(lower.Rows, upper.Rows);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_PartitionColumns_AreIntegers(string table)
    {
        var types = await lake.Engine.QueryAsync($"SELECT typeof(year), typeof(month), typeof(day), typeof(hour) FROM {table} LIMIT 1");
        Assert.Equal(["INTEGER", "INTEGER", "INTEGER", "INTEGER"], types.Rows.Single());

        // hour=07 / month=02 in the path compare as numbers.
        int expected = lake.Records.Count(r => r.InvoiceDate is { Year: 2010, Month: 2 } && r.InvoiceDate.Hour < 12);
        var result = await lake.Engine.QueryAsync($"SELECT count(*) FROM {table} WHERE year = 2010 AND month = 2 AND hour < 12");
        Assert.Equal((long)expected, result.Rows.Single()[0]);
        Assert.True(expected > 0);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_InjectionAttemptAsParameter_MatchesNothing(string table)
    {
        string invoice = lake.Records[0].Invoice;
        int expected = lake.Records.Count(r => r.Invoice == invoice);

        var injected = await lake.Engine.QueryAsync($"SELECT count(*) FROM {table} WHERE invoice = ?", ["' OR 1=1 --"]);
        var question = await lake.Engine.QueryAsync($"SELECT count(*) FROM {table} WHERE invoice = ?", [invoice]);
        var dollar = await lake.Engine.QueryAsync($"SELECT count(*) FROM {table} WHERE invoice = $1 AND quantity >= $2", [invoice, int.MinValue]);

        Assert.Equal(0L, injected.Rows.Single()[0]);
        Assert.Equal((long)expected, question.Rows.Single()[0]);
        Assert.Equal((long)expected, dollar.Rows.Single()[0]);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_TypedParameters_AreBound(string table)
    {
        var result = await lake.Engine.QueryAsync(
            $"SELECT count(*) FROM {table} WHERE invoicedate >= ? AND price > ? AND customer_id <> ?",
            [new DateTime(2010, 1, 1), 2.5m, ""]);

        long expected = lake.Records.Count(r => r.InvoiceDate >= new DateTime(2010, 1, 1) && r.Price > 2.5m && r.CustomerId != "");
        Assert.Equal(expected, result.Rows.Single()[0]);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task QueryAsync_DescriptionsWithSpaces_SurviveByteForByte(string table)
    {
        var spaced = lake.Records.Where(r => r.Description != r.Description.Trim()).Select(r => r.Description).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(spaced);

        var result = await lake.Engine.QueryAsync($"SELECT DISTINCT description FROM {table} WHERE description <> trim(description) ORDER BY 1");

        Assert.Equal(spaced, result.Rows.Select(r => (string)r[0]!).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task QueryAsync_MoreRowsThanMaxRows_Truncated()
    {
        var five = await lake.Engine.QueryAsync("SELECT invoice FROM retail_trans_json", maxRows: 5);
        var all = await lake.Engine.QueryAsync("SELECT invoice FROM retail_trans_json", maxRows: lake.Records.Count);
        var none = await lake.Engine.QueryAsync("SELECT invoice FROM retail_trans_json", maxRows: 0);

        Assert.Equal(5, five.Rows.Count);
        Assert.True(five.Truncated);
        Assert.Equal(lake.Records.Count, all.Rows.Count);
        Assert.False(all.Truncated);
        Assert.Empty(none.Rows);
        Assert.True(none.Truncated);
    }

    [Fact]
    public async Task QueryAsync_Settings_NoExtensionAutoloadOrInstall()
    {
        var result = await lake.Engine.QueryAsync(
            "SELECT current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions'), current_setting('enable_external_access'), current_setting('lock_configuration')");

        Assert.Equal([false, false, false, true], result.Rows.Single());
        await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("SET autoload_known_extensions = true"));
        await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("INSTALL httpfs"));
        await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("SELECT * FROM read_json('https://example.com/x.json')"));
    }

    [Fact]
    public async Task QueryAsync_FilesOutsideTheTables_AreNotReadable()
    {
        // The fixture put a control file, an error object, an in-flight temp file and a stray object in the lake.
        var count = await lake.Engine.QueryAsync("SELECT count(*) FROM retail_trans_json");
        Assert.Equal((long)lake.Records.Count, count.Rows.Single()[0]);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () =>
            await lake.Engine.QueryAsync($"SELECT * FROM read_json('{lake.LakePath}/_retail/checkpoint.json')"));
        Assert.Contains("Permission Error", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("SELECT * FROM read_csv('/etc/passwd')"));
    }

    [Fact]
    public async Task QueryAsync_SqlError_ThrowsWithDuckDbsMessage()
    {
        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("SELECT no_such_column FROM retail_trans_json"));

        Assert.Contains("no_such_column", e.Message, StringComparison.Ordinal);
        Assert.Contains("Binder Error", e.Message, StringComparison.Ordinal);
        Assert.Equal("SELECT no_such_column FROM retail_trans_json", e.Sql);
    }

    [Fact]
    public async Task QueryAsync_TwoStatements_Rejected()
    {
        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await lake.Engine.QueryAsync("SELECT 1; SELECT 2"));
        Assert.Contains("one statement", e.Message, StringComparison.Ordinal);

        var one = await lake.Engine.QueryAsync("SELECT 1 AS x;");
        Assert.Equal(1, one.Rows.Single()[0]);
    }

    [Fact]
    public async Task QueryAsync_UnsupportedParameter_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await lake.Engine.QueryAsync("SELECT ?", [new object()]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await lake.Engine.QueryAsync("SELECT ?", ["a\0b"]));
    }

    [Fact]
    public async Task QueryAsync_Canceled_InterruptsDuckDb()
    {
        // The query would run for hours; cancelling must interrupt DuckDB rather than wait for it.
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await lake.Engine.QueryAsync("SELECT count(*) FROM range(100000000000) a", cancellationToken: cts.Token));
    }

    [Fact]
    public async Task QueryAsync_ConcurrentQueries_AllSucceed()
    {
        var tasks = Enumerable.Range(0, 8).Select(i =>
            lake.Engine.QueryAsync(i % 2 == 0 ? "SELECT count(*) FROM retail_trans_json" : "SELECT count(*) FROM ctas_retail_trans_parquet").AsTask());

        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal((long)lake.Records.Count, r.Rows.Single()[0]));
    }
}

public class DuckDbQueryEngineLakeTests
{
    [Fact]
    public async Task QueryAsync_EmptyLake_EmptyTablesNotErrors()
    {
        using var dir = new TempDir();
        using var engine = new DuckDbQueryEngine(Path.Combine(dir.Path, "not-created-yet"));

        foreach (string table in new[] { DuckDbQueryEngine.JsonTableName, DuckDbQueryEngine.ParquetTableName })
        {
            var star = await engine.QueryAsync($"SELECT * FROM {table} LIMIT 10");
            Assert.Equal(["invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country", "year", "month", "day", "hour"], star.Columns);
            Assert.Equal("DECIMAL(38,4)", star.ColumnTypes[5]);
            Assert.Empty(star.Rows);

            var revenue = await engine.QueryAsync($"SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue FROM {table} WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31' GROUP BY 1");
            Assert.Empty(revenue.Rows);
            Assert.Equal(["TIMESTAMP", "DECIMAL(38,4)"], revenue.ColumnTypes);
            var count = await engine.QueryAsync($"SELECT count(*) FROM {table}");
            Assert.Equal(0L, count.Rows.Single()[0]);
        }
    }

    [Fact]
    public async Task QueryAsync_NewFiles_VisibleToTheNextQuery()
    {
        using var dir = new TempDir();
        using var engine = new DuckDbQueryEngine(dir.Path);
        var records = TestLake.ReadSample();
        var first = records.Where(r => r.InvoiceDate < new DateTime(2010, 1, 1)).ToList();
        var later = records.Except(first).ToList();

        Assert.Equal(0L, (await engine.QueryAsync("SELECT count(*) FROM retail_trans_json")).Rows.Single()[0]);
        TestLake.WriteJson(dir.Path, first, id: "a");
        Assert.Equal((long)first.Count, (await engine.QueryAsync("SELECT count(*) FROM retail_trans_json")).Rows.Single()[0]);
        TestLake.WriteJson(dir.Path, later, id: "b");
        Assert.Equal((long)records.Count, (await engine.QueryAsync("SELECT count(*) FROM retail_trans_json")).Rows.Single()[0]);

        Assert.Equal(0L, (await engine.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet")).Rows.Single()[0]);
        TestLake.WriteParquet(dir.Path, first, partPrefix: 0);
        Assert.Equal((long)first.Count, (await engine.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet")).Rows.Single()[0]);
        TestLake.WriteParquet(dir.Path, later, partPrefix: 1);
        Assert.Equal((long)records.Count, (await engine.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet")).Rows.Single()[0]);
    }

    [Fact]
    public async Task QueryAsync_PoundSignAndSurroundingSpaces_SurviveBothTables()
    {
        using var dir = new TempDir();
        var record = new RetailTransaction
        {
            Invoice = "C489449", StockCode = "POST", Description = "  £5 GIFT VOUCHER, \"RED\"  ", Quantity = -3,
            InvoiceDate = new DateTime(2010, 2, 3, 4, 5, 6), Price = 18.2500m, CustomerId = "", Country = "United Kingdom",
        };
        TestLake.WriteJson(dir.Path, [record]);
        TestLake.WriteParquet(dir.Path, [record]);
        using var engine = new DuckDbQueryEngine(dir.Path);

        foreach (string table in new[] { DuckDbQueryEngine.JsonTableName, DuckDbQueryEngine.ParquetTableName })
        {
            var row = (await engine.QueryAsync($"SELECT * FROM {table} WHERE description = ?", [record.Description])).Rows.Single();
            Assert.Equal<object?>(["C489449", "POST", "  £5 GIFT VOUCHER, \"RED\"  ", -3, new DateTime(2010, 2, 3, 4, 5, 6), 18.25m, "", "United Kingdom", 2010, 2, 3, 4], row);
        }
    }

    [Fact]
    public async Task QueryAsync_CorruptParquetFile_ThatTableFailsClearlyTheOtherStillWorks()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        File.WriteAllText(Path.Combine(dir.Path, "parquet-retail-trans", "year=2010", "month=01", "day=01", "hour=00", "part-00000.parquet").EnsureFolder(), "PAR1 not really");
        using var engine = new DuckDbQueryEngine(dir.Path);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet"));
        var json = await engine.QueryAsync("SELECT count(*) FROM retail_trans_json");

        Assert.Contains("could not read table ctas_retail_trans_parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains("part-00000.parquet", e.Message, StringComparison.Ordinal);
        Assert.Equal((long)records.Count, json.Rows.Single()[0]);
    }

    [Fact]
    public async Task QueryAsync_ForeignFilesInTableFolders_NotPartOfTheTables()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        TestLake.Compact(dir.Path);
        string jsonHour = Path.GetDirectoryName(Directory.GetFiles(Path.Combine(dir.Path, "json-data"), "*", SearchOption.AllDirectories)[0])!;
        string parquetHour = Path.GetDirectoryName(Directory.GetFiles(Path.Combine(dir.Path, "parquet-retail-trans"), "*.parquet", SearchOption.AllDirectories)[0])!;
        // Files the pipeline never names so: a foreign Parquet file, a part with a short name, temporary and stray files.
        WriteForeignParquet(Path.Combine(parquetHour, "evil.parquet"));
        WriteForeignParquet(Path.Combine(parquetHour, "part-0.parquet"));
        File.WriteAllText(Path.Combine(parquetHour, ".retail-tmp-0123456789abcdef"), "PAR1 partial");
        File.WriteAllText(Path.Combine(parquetHour, "part-00000.parquet.tmp"), "PAR1 partial");
        File.WriteAllText(Path.Combine(jsonHour, "retail-trans-1-evil"), "{\"Invoice\":\"copied\"}\n");
        File.WriteAllText(Path.Combine(jsonHour, "notes.txt"), "not json");
        File.WriteAllText(Path.Combine(dir.Path, "json-data", "year=2010", "month=1", "day=01", "hour=00", "retail-trans-1-2010-01-01-00-00-00-x").EnsureFolder(), "not json");
        using var engine = new DuckDbQueryEngine(dir.Path);

        var row = (await engine.QueryAsync(
            "SELECT (SELECT count(*) FROM retail_trans_json), (SELECT sum(quantity*price) FROM retail_trans_json), " +
            "(SELECT count(*) FROM ctas_retail_trans_parquet), (SELECT sum(quantity*price) FROM ctas_retail_trans_parquet)")).Rows.Single();

        decimal revenue = records.Sum(r => r.Quantity * r.Price);
        Assert.Equal<object?>([(long)records.Count, revenue, (long)records.Count, revenue], row);
    }

    [Fact]
    public async Task QueryAsync_ForeignParquetNamedLikeAPart_FailsNamingTheFile()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        TestLake.Compact(dir.Path);
        string parquetHour = Path.GetDirectoryName(Directory.GetFiles(Path.Combine(dir.Path, "parquet-retail-trans"), "*.parquet", SearchOption.AllDirectories)[0])!;
        WriteForeignParquet(Path.Combine(parquetHour, "part-00007.parquet"));
        using var engine = new DuckDbQueryEngine(dir.Path);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT sum(quantity*price) FROM ctas_retail_trans_parquet"));
        var json = await engine.QueryAsync("SELECT count(*) FROM retail_trans_json");

        Assert.Contains("part-00007.parquet", e.Message, StringComparison.Ordinal);
        Assert.Equal((long)records.Count, json.Rows.Single()[0]);
    }

    private static void WriteForeignParquet(string path)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        TestLake.Execute(connection, $"COPY (SELECT 1 AS a, 'x' AS b) TO '{path.Replace('\\', '/').Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet)");
    }

    [Fact]
    public void Constructor_GlobCharacterInLakePath_ThrowsNamingTheSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => new DuckDbQueryEngine(new DuckDbQueryOptions { LakePath = "/data/lake*" }));
        Assert.Contains("DuckDbQueryOptions.LakePath '/data/lake*'", e.Message, StringComparison.Ordinal);

        var empty = Assert.Throws<ArgumentException>(() => new DuckDbQueryEngine(new DuckDbQueryOptions()));
        Assert.Contains("DuckDbQueryOptions.LakePath is required", empty.Message, StringComparison.Ordinal);

        var threads = Assert.Throws<ArgumentException>(() => new DuckDbQueryEngine(new DuckDbQueryOptions { LakePath = "/tmp", Threads = 0, MemoryLimit = "lots" }));
        Assert.Contains("DuckDbQueryOptions.Threads", threads.Message, StringComparison.Ordinal);
        Assert.Contains("(got 0)", threads.Message, StringComparison.Ordinal);
        Assert.Contains("DuckDbQueryOptions.MemoryLimit", threads.Message, StringComparison.Ordinal);
        Assert.Contains("'lots'", threads.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_ThreadsAndMemoryLimit_Applied()
    {
        using var dir = new TempDir();
        using var engine = new DuckDbQueryEngine(new DuckDbQueryOptions { LakePath = dir.Path, Threads = 1, MemoryLimit = "256MiB" });

        var row = (await engine.QueryAsync("SELECT current_setting('threads'), current_setting('memory_limit')")).Rows.Single();

        Assert.Equal(1L, Convert.ToInt64(row[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("256.0 MiB", row[1]);
    }

    [Fact]
    public async Task QueryAsync_LongerThanQueryTimeout_ThrowsNamingTheSetting()
    {
        using var dir = new TempDir();
        using var engine = new DuckDbQueryEngine(new DuckDbQueryOptions { LakePath = dir.Path, QueryTimeout = TimeSpan.FromMilliseconds(300) });

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT count(*) FROM range(100000000000) a"));

        Assert.Contains("QueryTimeout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_AfterDispose_Throws()
    {
        using var dir = new TempDir();
        var engine = new DuckDbQueryEngine(dir.Path);
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.QueryAsync("SELECT 1"));
    }
}
