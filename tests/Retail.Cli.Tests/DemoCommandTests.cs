using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Cli.Tests;

public class DemoCommandTests
{
    private static string DevSample => SharedData.Path(SharedData.DevSample);

    /// <summary>Reads the lake's Parquet with DuckDB directly (independent of Retail's writer and query engine).</summary>
    private static List<object?[]> ReadParquet(string lake, string select)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;";
        cmd.ExecuteNonQuery();
        cmd.CommandText = select.Replace("PARQUET", $"read_parquet('{lake}/parquet-retail-trans/*/*/*/*/*.parquet', hive_partitioning=true, hive_types={{'year':INTEGER,'month':INTEGER,'day':INTEGER,'hour':INTEGER}})", StringComparison.Ordinal);
        using var reader = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    [Fact]
    public async Task Demo_DevSampleEventTime_BothTablesEqualTheCsvCountAndRevenueToTheCent()
    {
        using var dir = new TempDir();
        var demo = await CliRunner.RunAsync("demo", "--input-file", DevSample, "--partition-by", "event-time", "--lake", dir.Path);
        Assert.True(demo.ExitCode == 0, demo.Stderr + demo.StdoutText);

        using var csv = OnlineRetailReader.Open(DevSample);
        var rows = csv.ReadAll().ToList();
        decimal revenue = rows.Sum(r => r.Quantity * r.Price);
        foreach (var table in new[] { "ctas_retail_trans_parquet", "retail_trans_json" })
        {
            var q = await CliRunner.RunAsync("query", $"SELECT count(*) n, sum(quantity*price) revenue FROM {table}", "--lake", dir.Path, "--format", "csv");
            Assert.Equal(0, q.ExitCode);
            var lines = q.StdoutText.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("n,revenue", lines[0]);
            Assert.Equal($"{rows.Count},{revenue.ToString(CultureInfo.InvariantCulture)}", lines[1]);
        }

        // Partitions follow the rows' InvoiceDate hours, in both layers.
        var store = new LocalFolderObjectStore(dir.Path);
        var expectedHours = rows.Select(r => LakeLayout.HourPartition(r.InvoiceDate)).Distinct().Order().ToList();
        var jsonHours = (await store.ListAsync("json-data/").Select(o => o.Key).ToListAsync())
            .Select(k => k["json-data/".Length..(k.LastIndexOf('/') + 1)]).Distinct().Order().ToList();
        Assert.Equal(expectedHours, jsonHours);
        var mismatched = ReadParquet(dir.Path, "SELECT count(*) FROM PARQUET WHERE year <> year(invoicedate) OR month <> month(invoicedate) OR day <> day(invoicedate) OR hour <> hour(invoicedate)");
        Assert.Equal(0L, Convert.ToInt64(mismatched[0][0], CultureInfo.InvariantCulture));
        Assert.Contains("speed-layer documents", demo.StdoutText);
    }

    [Fact]
    public async Task Demo_Synthetic_LakeHoldsWorkshopObjectsAndParquetAnIndependentReaderReadsBack()
    {
        using var dir = new TempDir();
        var demo = await CliRunner.RunAsync("demo", "--records", "20000", "--seed", "11", "--lake", dir.Path);
        Assert.True(demo.ExitCode == 0, demo.Stderr + demo.StdoutText);

        var store = new LocalFolderObjectStore(dir.Path);
        var jsonKeys = await store.ListAsync("json-data/").Select(o => o.Key).ToListAsync();
        Assert.NotEmpty(jsonKeys);
        Assert.All(jsonKeys, k => Assert.Matches(@"^json-data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/retail-trans-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$", k));
        var parquetKeys = await store.ListAsync("parquet-retail-trans/").Select(o => o.Key).ToListAsync();
        Assert.NotEmpty(parquetKeys);
        Assert.All(parquetKeys, k => Assert.Matches(@"^parquet-retail-trans/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/.+\.parquet$", k));

        // The JSON objects hold exactly the synthetic records; the Parquet files hold the same rows.
        var expected = new Retail.Synthetic.SyntheticTransactionGenerator(new Retail.Synthetic.SyntheticOptions { Seed = 11 }).Generate(20000).ToList();
        var fromJson = new List<RetailTransaction>();
        foreach (var k in jsonKeys) fromJson.AddRange(new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(k))).ReadAll());
        // Scale-insensitive: DECIMAL(18,4) reads back 97.09 as 97.0900, the same number.
        static string Canon(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r with { Price = r.Price / 1.0000000000000000000000000000m }));
        Assert.Equal(expected.Select(Canon).Order(StringComparer.Ordinal), fromJson.Select(Canon).Order(StringComparer.Ordinal));

        var parquet = ReadParquet(dir.Path, "SELECT invoice, stockcode, description, quantity, invoicedate, price, customer_id, country FROM PARQUET");
        var fromParquet = parquet.Select(p => new RetailTransaction
        {
            Invoice = (string)p[0]!, StockCode = (string)p[1]!, Description = (string)p[2]!, Quantity = Convert.ToInt32(p[3], CultureInfo.InvariantCulture),
            InvoiceDate = (DateTime)p[4]!, Price = Convert.ToDecimal(p[5], CultureInfo.InvariantCulture), CustomerId = (string)p[6]!, Country = (string)p[7]!,
        });
        Assert.Equal(expected.Select(Canon).Order(StringComparer.Ordinal), fromParquet.Select(Canon).Order(StringComparer.Ordinal));
        Assert.Matches(new Regex(@"speed-layer documents\s+20,000"), demo.StdoutText);
    }

    [Fact]
    public async Task Demo_MalformedCsvRows_GoToErrorOutputWhileGoodRowsAreDelivered()
    {
        using var dir = new TempDir();
        string csv = Path.Combine(dir.Path, "bad.csv");
        File.WriteAllText(csv,
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n" +
            "489532,22077,GOOD ONE,9,2009-12-01 11:58:00,1.65,13394.0,United Kingdom\n" +
            "489533,22078,BAD QTY,lots,2009-12-01 11:59:00,1.65,13394.0,United Kingdom\n" +
            "489534,22079,\"UNBALANCED,1,2009-12-01 12:00:00,1.65,,United Kingdom\n" +
            "489535,22080,\"GOOD, TWO\",2,2009-12-01 12:01:00,2.50,,France\n" +
            "489536,22081,BAD DATE,1,someday,1.65,,United Kingdom\n");
        string lake = Path.Combine(dir.Path, "lake");
        var demo = await CliRunner.RunAsync("demo", "--input-file", csv, "--partition-by", "event-time", "--lake", lake);
        Assert.True(demo.ExitCode == 0, demo.Stderr + demo.StdoutText);
        Assert.Matches(new Regex(@"records delivered \(JSON lines\)\s+2\b"), demo.StdoutText);
        Assert.Matches(new Regex(@"error records .*\s+3\b"), demo.StdoutText);

        Assert.Matches(new Regex(@"speed-layer invalid / rejected \(dead letters\)\s+3 / 0 \(3 under"), demo.StdoutText);

        // Each stage reports its own failures: delivery's error output (processing-failed) and the speed layer's dead
        // letters (AmazonOpenSearchService-failed), each holding every bad row once, with its reason.
        var store = new LocalFolderObjectStore(lake);
        var outputs = new Dictionary<string, List<JsonElement>> { ["processing-failed/retail-trans-1-"] = [], ["AmazonOpenSearchService-failed/speed-layer-"] = [] };
        await foreach (var o in store.ListAsync("error-json/"))
        {
            var m = Regex.Match(o.Key, @"^error-json/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/(processing-failed/retail-trans-1-|AmazonOpenSearchService-failed/speed-layer-)");
            Assert.True(m.Success, o.Key);
            foreach (var line in Encoding.UTF8.GetString(await store.GetBytesAsync(o.Key)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                outputs[m.Groups[1].Value].Add(JsonDocument.Parse(line).RootElement.Clone());
        }
        foreach (var errors in outputs.Values)
        {
            Assert.Equal(3, errors.Count);
            var raw = errors.Select(e => Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("rawData").GetString()!))).Order().ToList();
            Assert.Equal(["489533,22078,BAD QTY,lots,2009-12-01 11:59:00,1.65,13394.0,United Kingdom", "489534,22079,\"UNBALANCED,1,2009-12-01 12:00:00,1.65,,United Kingdom", "489536,22081,BAD DATE,1,someday,1.65,,United Kingdom"], raw);
            var reasons = string.Join(" | ", errors.Select(e => e.GetProperty("errorMessage").GetString()));
            Assert.Contains("Quantity", reasons);
            Assert.Contains("quote", reasons);
            Assert.Contains("InvoiceDate", reasons);
        }

        var q = await CliRunner.RunAsync("query", "SELECT description FROM ctas_retail_trans_parquet ORDER BY invoice", "--lake", lake, "--format", "csv");
        Assert.Equal(["description", "GOOD ONE", "\"GOOD, TWO\""], q.StdoutText.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Compact_RerunAfterDemo_IsUpToDateAndAddsNoRows()
    {
        using var dir = new TempDir();
        var demo = await CliRunner.RunAsync("demo", "--input-file", DevSample, "--partition-by", "event-time", "--lake", dir.Path);
        Assert.Equal(0, demo.ExitCode);
        var again = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--all");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("compacted 0", again.StdoutText);
        var q = await CliRunner.RunAsync("query", "SELECT count(*) FROM ctas_retail_trans_parquet", "--lake", dir.Path, "--format", "csv");
        Assert.EndsWith("1051", q.StdoutText.Trim());

        // Rebuilt from the JSON with every value decoded and compared before publishing: the same rows.
        Directory.Delete(Path.Combine(dir.Path, "parquet-retail-trans"), recursive: true);
        Directory.Delete(Path.Combine(dir.Path, "_retail", "compaction"), recursive: true);
        var verified = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--all", "--verify-values");
        Assert.Equal(0, verified.ExitCode);
        Assert.Contains("failed 0; rows 1051", verified.StdoutText);
        q = await CliRunner.RunAsync("query", "SELECT count(*), sum(quantity * price) FROM ctas_retail_trans_parquet", "--lake", dir.Path, "--format", "csv");
        Assert.EndsWith("1051,16263.88", q.StdoutText.Trim());
    }

    [Fact]
    public async Task Demo_IncompatibleSpeedLayerIndex_ExitsNonZeroWithOneLineSayingTheFix()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "_retail"));
        using (var connection = new DuckDBConnection("DataSource=" + Path.Combine(dir.Path, "_retail", "speed-layer.duckdb")))
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "CREATE TABLE retail (doc_id VARCHAR PRIMARY KEY, invoice VARCHAR)";
            cmd.ExecuteNonQuery();
        }

        // --append: the lake holds an index file, so a plain demo would refuse before reaching it.
        var demo = await CliRunner.RunAsync("demo", "--records", "100", "--lake", dir.Path, "--append");

        Assert.Equal(1, demo.ExitCode);
        string error = Assert.Single(demo.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains("speed-layer.duckdb", error, StringComparison.Ordinal);
        Assert.Contains("Remove the database file", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_BadSql_ExitsNonZeroWithReason()
    {
        using var dir = new TempDir();
        var q = await CliRunner.RunAsync("query", "SELEC nonsense", "--lake", dir.Path);
        Assert.NotEqual(0, q.ExitCode);
        Assert.Contains("[ERROR] query failed", q.Stderr);
    }
}
