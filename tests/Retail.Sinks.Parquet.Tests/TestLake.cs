using System.Globalization;
using DuckDB.NET.Data;
using Retail.Codecs;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>A local-folder lake in a fresh temporary folder (deleted on dispose), with DuckDB as the independent reader.</summary>
internal sealed class TestLake : IDisposable
{
    public static readonly DateTime Hour7 = new(2009, 12, 1, 7, 0, 0);

    private int _objectNumber;

    public TestLake()
    {
        Root = Path.Combine(Path.GetTempPath(), "retail-parquet-tests-" + Guid.NewGuid().ToString("N"));
        Store = new LocalFolderObjectStore(Root);
    }

    public string Root { get; }

    public LocalFolderObjectStore Store { get; }

    public static string HourPrefix(DateTime hour) => LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour);

    public static string TablePrefix(DateTime hour) => LakeLayout.ParquetPrefix + LakeLayout.HourPartition(hour);

    public static string ManifestKey(DateTime hour) => LakeLayout.ControlPrefix + "compaction/" + TablePrefix(hour) + "manifest.json";

    public static string LockKey(DateTime hour) => LakeLayout.ControlPrefix + "compaction/" + TablePrefix(hour) + "compaction.lock";

    /// <summary>Writes <paramref name="records"/> as one JSON-lines object in <paramref name="hour"/>'s partition; returns its key.</summary>
    public string WriteObject(DateTime hour, IEnumerable<RetailTransaction> records, string? name = null)
    {
        var ms = new MemoryStream();
        using (var w = new JsonLinesWriter(ms, leaveOpen: true))
            foreach (var r in records) w.Write(r);
        string key = HourPrefix(hour) + (name ?? string.Create(CultureInfo.InvariantCulture, $"retail-stream-1-2009-12-01-07-00-00-{Interlocked.Increment(ref _objectNumber):0000}"));
        Store.PutAsync(key, ms.ToArray()).AsTask().GetAwaiter().GetResult();
        return key;
    }

    public string WriteRaw(DateTime hour, string name, string text)
    {
        string key = HourPrefix(hour) + name;
        Store.PutAsync(key, System.Text.Encoding.UTF8.GetBytes(text)).AsTask().GetAwaiter().GetResult();
        return key;
    }

    public bool Exists(string key) => File.Exists(Store.GetPath(key));

    public byte[] Bytes(string key) => File.ReadAllBytes(Store.GetPath(key));

    /// <summary>Keys under <paramref name="prefix"/>, in order.</summary>
    public List<string> Keys(string prefix) => Store.ListAsync(prefix).ToBlockingEnumerable().Select(o => o.Key).ToList();

    public List<string> ParquetKeys() => Keys(LakeLayout.ParquetPrefix);

    /// <summary>A DuckDB connection with extension auto-loading off.</summary>
    public static DuckDBConnection OpenDuckDb()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;";
        cmd.ExecuteNonQuery();
        return connection;
    }

    /// <summary>The table as DuckDB reads it: <c>read_parquet(…/**/*.parquet, hive_partitioning)</c>.</summary>
    public string TableSql => string.Create(CultureInfo.InvariantCulture,
        $"read_parquet('{Path.Combine(Root, LakeLayout.ParquetPrefix).Replace('\\', '/')}**/*.parquet', hive_partitioning=true, hive_types={{'year':INTEGER,'month':INTEGER,'day':INTEGER,'hour':INTEGER}})");

    public object? Scalar(string sql)
    {
        using var db = OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public long Count(string where = "") => Convert.ToInt64(Scalar($"SELECT count(*) FROM {TableSql} {where}"), CultureInfo.InvariantCulture);

    /// <summary>Every row DuckDB reads, as records, with the hive partition values checked against invoicedate.</summary>
    public List<RetailTransaction> ReadAll()
    {
        if (ParquetKeys().Count == 0) return [];
        using var db = OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT invoice, stockcode, description, quantity, invoicedate, price, customer_id, country, year, month, day, hour FROM {TableSql}";
        using var reader = cmd.ExecuteReader();
        var rows = new List<RetailTransaction>();
        while (reader.Read())
        {
            var date = reader.GetDateTime(4);
            Assert.Equal(date.Year, reader.GetInt32(8));
            Assert.Equal(date.Month, reader.GetInt32(9));
            Assert.Equal(date.Day, reader.GetInt32(10));
            Assert.Equal(date.Hour, reader.GetInt32(11));
            rows.Add(new RetailTransaction
            {
                Invoice = reader.GetString(0), StockCode = reader.GetString(1), Description = reader.GetString(2),
                Quantity = reader.GetInt32(3), InvoiceDate = date, Price = reader.GetDecimal(5),
                CustomerId = reader.GetString(6), Country = reader.GetString(7),
            });
        }
        return rows;
    }

    /// <summary>Asserts that the table holds exactly <paramref name="expected"/> (as a multiset), value by value.</summary>
    public void AssertTableEquals(IEnumerable<RetailTransaction> expected)
    {
        var want = Sorted(expected);
        var got = Sorted(ReadAll());
        Assert.Equal(want.Count, got.Count);
        for (int i = 0; i < want.Count; i++) Assert.Equal(want[i], got[i]);
    }

    private static List<RetailTransaction> Sorted(IEnumerable<RetailTransaction> rows) => rows
        .OrderBy(r => r.InvoiceDate).ThenBy(r => r.Invoice, StringComparer.Ordinal).ThenBy(r => r.StockCode, StringComparer.Ordinal)
        .ThenBy(r => r.Description, StringComparer.Ordinal).ThenBy(r => r.Quantity).ThenBy(r => r.Price)
        .ThenBy(r => r.CustomerId, StringComparer.Ordinal).ThenBy(r => r.Country, StringComparer.Ordinal).ToList();

    public static List<RetailTransaction> Records(int count, DateTime hour, int seed = 1, int firstInvoice = 500000)
    {
        var list = new List<RetailTransaction>(count);
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            list.Add(new RetailTransaction
            {
                Invoice = (firstInvoice + i / 3).ToString(CultureInfo.InvariantCulture),
                StockCode = "2" + rng.Next(1000, 9999).ToString(CultureInfo.InvariantCulture) + (i % 4 == 0 ? "A" : ""),
                Description = i % 5 == 0 ? " LEADING AND TRAILING " : "WHITE HANGING HEART T-LIGHT HOLDER",
                Quantity = i % 7 == 0 ? -rng.Next(1, 50) : rng.Next(1, 50),
                InvoiceDate = hour.AddSeconds(rng.Next(0, 3600)),
                Price = rng.Next(0, 100000) / 100m,
                CustomerId = i % 6 == 0 ? "" : (12000 + i % 97).ToString(CultureInfo.InvariantCulture) + ".0",
                Country = i % 3 == 0 ? "United Kingdom" : "France",
            });
        }
        return list;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
