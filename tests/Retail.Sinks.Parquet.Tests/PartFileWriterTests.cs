using System.Globalization;
using System.Text;
using Parquet;
using Retail.Codecs;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>
/// The sink's own Parquet encoder, read back by two independent readers: DuckDB (values, encodings, statistics
/// through <c>parquet_metadata</c>) and Parquet.Net.
/// </summary>
public sealed class PartFileWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "retail-part-writer-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> WriteAsync(IReadOnlyList<RetailTransaction> records, int rowGroupSize, string name = "part.parquet")
    {
        // The records go through JSON lines and the reader's UTF-8 path, as in a compaction.
        var json = new MemoryStream();
        using (var w = new JsonLinesWriter(json, leaveOpen: true))
            foreach (var r in records) w.Write(r);
        json.Position = 0;
        using var reader = new JsonLinesReader(json);

        string path = Path.Combine(_dir, name);
        var writer = await PartFileWriter.CreateAsync(path, rowGroupSize, CancellationToken.None);
        var batch = new RetailRows(64);
        // Handed over in uneven batches, so row groups fill across batch boundaries.
        for (int at = 0; at < records.Count;)
        {
            batch.Clear();
            int take = Math.Min(1 + at % 97, records.Count - at);
            for (int i = 0; i < take; i++)
            {
                Assert.True(reader.TryReadUtf8(out var record));
                Assert.True(RetailPrice.TryGetUnscaled(record.Price, out long price, out _));
                batch.Add(record, price);
            }
            await writer.AddAsync(batch, 0, batch.Count, CancellationToken.None);
            at += take;
        }
        Assert.False(reader.TryReadUtf8(out _));
        long size = await writer.CompleteAsync(CancellationToken.None);
        Assert.Equal(new FileInfo(path).Length, size);
        return path;
    }

    private static RetailTransaction Row(string invoice, string stockCode, string description, int quantity, DateTime date, decimal price, string customer, string country) => new()
    {
        Invoice = invoice, StockCode = stockCode, Description = description, Quantity = quantity,
        InvoiceDate = date, Price = price, CustomerId = customer, Country = country,
    };

    private static List<RetailTransaction> ReadWithDuckDb(string path)
    {
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT invoice, stockcode, description, quantity, invoicedate, price, customer_id, country FROM read_parquet('{path.Replace('\\', '/')}')";
        using var reader = cmd.ExecuteReader();
        var rows = new List<RetailTransaction>();
        while (reader.Read())
        {
            rows.Add(Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetDateTime(4),
                reader.GetDecimal(5), reader.GetString(6), reader.GetString(7)));
        }
        return rows;
    }

    private static async Task<List<RetailTransaction>> ReadWithParquetNetAsync(string path)
    {
        using var file = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(file);
        var fields = reader.Schema.GetDataFields();
        var rows = new List<RetailTransaction>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            var text = new string[8][];
            foreach (int c in new[] { 0, 1, 2, 6, 7 })
            {
                var buffer = new ReadOnlyMemory<char>[n];
                await rg.ReadRawAsync<ReadOnlyMemory<char>>(fields[c], buffer.AsMemory(), null, null);
                text[c] = buffer.Select(m => m.ToString()).ToArray();
            }
            var quantity = new int[n];
            await rg.ReadAsync<int>(fields[3], quantity.AsMemory(), null);
            var dates = new DateTime[n];
            await rg.ReadAsync<DateTime>(fields[4], dates.AsMemory(), null);
            var prices = new decimal[n];
            await rg.ReadAsync<decimal>(fields[5], prices.AsMemory(), null);
            for (int i = 0; i < n; i++)
                rows.Add(Row(text[0][i], text[1][i], text[2][i], quantity[i], dates[i], prices[i], text[6][i], text[7][i]));
        }
        return rows;
    }

    /// <summary>DuckDB's <c>parquet_metadata</c> rows of one column: (row group, encodings, min, max, compression).</summary>
    private static List<(long Group, string Encodings, string? Min, string? Max, string Compression)> Metadata(string path, string column)
    {
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT row_group_id, encodings, stats_min_value, stats_max_value, compression FROM parquet_metadata('{path.Replace('\\', '/')}') " +
            "WHERE path_in_schema = $column ORDER BY row_group_id";
        var p = cmd.CreateParameter();
        p.ParameterName = "column";
        p.Value = column;
        cmd.Parameters.Add(p);
        using var reader = cmd.ExecuteReader();
        var result = new List<(long, string, string?, string?, string)>();
        while (reader.Read())
            result.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4)));
        return result;
    }

    [Fact]
    public async Task CompleteAsync_EdgeValues_BothReadersReadEveryValueExactly()
    {
        var t = new DateTime(2010, 12, 9, 20, 0, 0);
        var rows = new List<RetailTransaction>
        {
            Row("", "", "", 0, t, 0m, "", ""),
            Row("C536379", "85123A", " WHITE HANGING HEART T-LIGHT HOLDER ", -12, t.AddSeconds(1), 2.55m, "17850.0", "United Kingdom"),
            Row("536380", "POST", "£ and é and 🎄, \"quoted\", back\\slash\ttab\r\nnewline", int.MaxValue, new DateTime(1969, 12, 31, 23, 59, 59), -RetailPrice.MaxMagnitude, "12345", "Côte d'Ivoire"),
            Row("536381", "M", new string('x', 3000), int.MinValue, new DateTime(2999, 1, 1), RetailPrice.MaxMagnitude, "00042", "RSA"),
            Row("536382", "DOT", "tiny", 1, new DateTime(1900, 1, 1, 0, 0, 1), 0.0001m, "-1", "EIRE"),
        };
        for (int i = 0; i < 40; i++) rows.Add(rows[i % 5] with { Quantity = i });

        // Row groups of 7: several, the last one partial.
        string path = await WriteAsync(rows, rowGroupSize: 7);

        Assert.Equal(rows, ReadWithDuckDb(path));
        Assert.Equal(rows, await ReadWithParquetNetAsync(path));
        Assert.Equal(7, Metadata(path, "invoice").Count);
    }

    [Fact]
    public async Task CompleteAsync_Schema_IsTheWorkshopTableRequiredWithLogicalAndConvertedTypes()
    {
        string path = await WriteAsync([Row("1", "2", "3", 4, new DateTime(2010, 12, 1, 8, 26, 0), 5m, "6", "7")], rowGroupSize: 10);

        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT name, type, repetition_type, converted_type, coalesce(CAST(logical_type AS VARCHAR), '') FROM parquet_schema('{path}') WHERE type IS NOT NULL";
        using var reader = cmd.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read())
            columns.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetString(3)} {reader.GetString(4)}");
        Assert.Equal(8, columns.Count);
        Assert.StartsWith("invoice BYTE_ARRAY REQUIRED UTF8 StringType", columns[0], StringComparison.Ordinal);
        Assert.StartsWith("quantity INT32 REQUIRED INT_32", columns[3], StringComparison.Ordinal);
        Assert.StartsWith("invoicedate INT64 REQUIRED TIMESTAMP_MILLIS TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=MilliSeconds()", columns[4], StringComparison.Ordinal);
        Assert.StartsWith("price INT64 REQUIRED DECIMAL DecimalType(scale=4, precision=18)", columns[5], StringComparison.Ordinal);
        Assert.Equal(["invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country"], columns.Select(c => c.Split(' ')[0]));

        // DuckDB types the columns as the workshop's table declares them.
        cmd.CommandText = $"SELECT typeof(invoicedate), typeof(price), typeof(quantity), typeof(country) FROM read_parquet('{path}')";
        using var types = cmd.ExecuteReader();
        Assert.True(types.Read());
        Assert.Equal(["TIMESTAMP", "DECIMAL(18,4)", "INTEGER", "VARCHAR"], Enumerable.Range(0, 4).Select(types.GetString));
    }

    [Fact]
    public async Task CompleteAsync_RepeatedAndUniqueValues_DictionaryOnlyWhereValuesRepeat()
    {
        var t = new DateTime(2011, 3, 1, 10, 0, 0);
        var rows = Enumerable.Range(0, 20_000).Select(i => Row(
            invoice: (600_000 + i).ToString(CultureInfo.InvariantCulture),                 // unique: plain
            stockCode: "2" + (i % 300).ToString("0000", CultureInfo.InvariantCulture),     // repeats: dictionary
            description: "ITEM " + i.ToString(CultureInfo.InvariantCulture),               // unique: plain
            quantity: i % 12 + 1,                                                          // dictionary
            date: t.AddSeconds(i % 3600),                                                  // dictionary
            price: i * 0.0001m + 1000m,                                                    // unique: plain
            customer: i < 19_000 ? "" : "13047",                                           // long runs: dictionary
            country: "United Kingdom")).ToList();                                          // one value: dictionary

        string path = await WriteAsync(rows, rowGroupSize: 10_000);

        Assert.Equal(rows, ReadWithDuckDb(path));
        foreach (string column in new[] { "invoice", "description", "price" })
            Assert.All(Metadata(path, column), m => Assert.Equal("PLAIN", m.Encodings));
        foreach (string column in new[] { "stockcode", "quantity", "invoicedate", "customer_id", "country" })
            Assert.All(Metadata(path, column), m => Assert.Contains("RLE_DICTIONARY", m.Encodings, StringComparison.Ordinal));
        Assert.All(Metadata(path, "country"), m => Assert.Equal("SNAPPY", m.Compression));
    }

    [Fact]
    public async Task CompleteAsync_Statistics_AreEachRowGroupsMinAndMax()
    {
        var t = new DateTime(2010, 1, 4, 9, 0, 0);
        var rng = new Random(11);
        var rows = Enumerable.Range(0, 3_000).Select(i => Row(
            (500_000 + rng.Next(1000)).ToString(CultureInfo.InvariantCulture), "S" + rng.Next(50), "D", rng.Next(-80, 80),
            t.AddSeconds(rng.Next(86_400)), rng.Next(-5000, 5000) / 100m, rng.Next(3) == 0 ? "" : "1" + rng.Next(9999), rng.Next(2) == 0 ? "France" : "Ägypten")).ToList();

        string path = await WriteAsync(rows, rowGroupSize: 1_000);

        var quantity = Metadata(path, "quantity");
        var invoice = Metadata(path, "invoice");
        var country = Metadata(path, "country");
        var dates = Metadata(path, "invoicedate");
        Assert.Equal(3, quantity.Count);
        for (int g = 0; g < 3; g++)
        {
            var group = rows.Skip(g * 1000).Take(1000).ToList();
            Assert.Equal(group.Min(r => r.Quantity).ToString(CultureInfo.InvariantCulture), quantity[g].Min);
            Assert.Equal(group.Max(r => r.Quantity).ToString(CultureInfo.InvariantCulture), quantity[g].Max);
            Assert.Equal(group.Select(r => r.Invoice).Min(StringComparer.Ordinal), invoice[g].Min);
            Assert.Equal(group.Select(r => r.Invoice).Max(StringComparer.Ordinal), invoice[g].Max);
            // Text order is UTF-8 byte order: "Ä" (C3 84) sorts after "F".
            Assert.Equal("France", country[g].Min);
            Assert.Equal("Ägypten", country[g].Max);
            Assert.Equal(group.Min(r => r.InvoiceDate), DateTime.Parse(dates[g].Min!, CultureInfo.InvariantCulture));
            Assert.Equal(group.Max(r => r.InvoiceDate), DateTime.Parse(dates[g].Max!, CultureInfo.InvariantCulture));
        }

        // DuckDB answers from them: a filter outside every group's date range reads nothing and finds nothing.
        Assert.Equal(rows.Count(r => r.InvoiceDate >= t.AddHours(12)), CountWhere(path, $"invoicedate >= TIMESTAMP '{t.AddHours(12):yyyy-MM-dd HH:mm:ss}'"));
        Assert.Equal(0, CountWhere(path, "invoicedate < TIMESTAMP '2010-01-01 00:00:00'"));
    }

    private static long CountWhere(string path, string where)
    {
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM read_parquet('{path.Replace('\\', '/')}') WHERE {where}";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task CompleteAsync_LargeRowGroup_ManyPagesWideIndicesAndLongTextReadBack()
    {
        // 300,000 rows in one row group: 70,000 distinct prices, each twice in a row (17-bit indices over three index
        // pages, and a sample that does not look like ids), descriptions
        // unique and long (plain pages cut at 1 MiB), and a maximum too long for statistics.
        var t = new DateTime(2011, 11, 30, 15, 0, 0);
        const int Rows = 300_000;
        var rows = new List<RetailTransaction>(Rows);
        for (int i = 0; i < Rows; i++)
        {
            rows.Add(Row("5" + (i / 4).ToString("00000", CultureInfo.InvariantCulture), "S", i == 17 ? new string('z', 400) : "DESCRIPTION OF ITEM NUMBER " + i.ToString("000000", CultureInfo.InvariantCulture),
                i % 5, t.AddSeconds(i % 3600), (i / 2 % 70_000) / 100m, "", "Netherlands"));
        }

        string path = await WriteAsync(rows, rowGroupSize: Rows);

        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT count(*), count(DISTINCT price), sum(price), count(DISTINCT description), sum(length(description))::BIGINT, count(DISTINCT invoice) FROM read_parquet('{path}')";
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(Rows, reader.GetInt64(0));
        Assert.Equal(70_000, reader.GetInt64(1));
        Assert.Equal(rows.Sum(r => r.Price), reader.GetDecimal(2));
        Assert.Equal(Rows, reader.GetInt64(3));
        Assert.Equal(rows.Sum(r => (long)r.Description.Length), reader.GetInt64(4));
        Assert.Equal(Rows / 4, reader.GetInt64(5));
        Assert.Contains("RLE_DICTIONARY", Metadata(path, "price").Single().Encodings, StringComparison.Ordinal);
        var description = Metadata(path, "description").Single();
        Assert.Equal("PLAIN", description.Encodings);
        Assert.Null(description.Min);
        Assert.Equal(rows, await ReadWithParquetNetAsync(path));
    }

    [Fact]
    public async Task Utf8Path_EscapedJsonText_IsUnescapedIntoTheColumn()
    {
        string line = "{\"Invoice\":\"5\\u0033\\u0036\",\"StockCode\":\"A\\\"B\",\"Description\":\"\\u00a3 \\ud83c\\udf84 tab\\t\",\"Quantity\":1," +
            "\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":2.5,\"Customer_ID\":17850,\"Country\":\"\\/\"}\n";
        var rows = new RetailRows(4);
        using (var reader = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(line))))
        {
            Assert.True(reader.TryReadUtf8(out var r));
            Assert.True(RetailPrice.TryGetUnscaled(r.Price, out long price, out _));
            rows.Add(r, price);
        }
        string path = Path.Combine(_dir, "escaped.parquet");
        var writer = await PartFileWriter.CreateAsync(path, 10, CancellationToken.None);
        await writer.AddAsync(rows, 0, 1, CancellationToken.None);
        await writer.CompleteAsync(CancellationToken.None);

        var got = Assert.Single(ReadWithDuckDb(path));
        Assert.Equal(Row("536", "A\"B", "£ 🎄 tab\t", 1, new DateTime(2010, 12, 1, 8, 26, 0), 2.5m, "17850", "/"), got);
    }
}
