using System.Globalization;
using DuckDB.NET.Data;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>Builds data lakes the way the pipeline lays them out: JSON lines objects per hour, and Parquet written by DuckDB's COPY.</summary>
internal static class TestLake
{
    public static List<RetailTransaction> ReadSample(string fileName = SharedData.DevSample)
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(fileName));
        var records = new List<RetailTransaction>();
        while (reader.TryRead(out var record)) records.Add(record);
        return records;
    }

    /// <summary>Writes one JSON lines object per InvoiceDate hour: <c>json-data/year=…/month=…/day=…/hour=…/retail-trans-1-…-&lt;id&gt;</c>.</summary>
    public static void WriteJson(string lakePath, IEnumerable<RetailTransaction> records, string id = "0")
    {
        var store = new LocalFolderObjectStore(lakePath);
        foreach (var hour in records.GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)))
        {
            var first = hour.Min(r => r.InvoiceDate);
            string key = LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour.Key)
                + string.Create(CultureInfo.InvariantCulture, $"retail-trans-1-{first:yyyy-MM-dd-HH-mm-ss}-{id}");
            using var buffer = new MemoryStream();
            using (var writer = new JsonLinesWriter(buffer, leaveOpen: true))
                foreach (var r in hour) writer.Write(r);
            store.PutAsync(key, buffer.ToArray()).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Writes the records as Parquet with DuckDB's own COPY (not the Parquet sink): lowercase columns,
    /// quantity int32, invoicedate timestamp(ms), price decimal(18,4), partition values only in the path
    /// <c>parquet-retail-trans/year=YYYY/month=MM/day=DD/hour=HH/</c>, files named like the compactor's parts
    /// (<c>part-00000.parquet</c>; <paramref name="partPrefix"/> 1 gives <c>part-00010.parquet</c>, …).
    /// </summary>
    public static void WriteParquet(string lakePath, IEnumerable<RetailTransaction> records, int partPrefix = 0)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;" +
            "CREATE TABLE t (invoice VARCHAR, stockcode VARCHAR, description VARCHAR, quantity INTEGER, invoicedate TIMESTAMP, price DECIMAL(18,4), customer_id VARCHAR, country VARCHAR)");
        using (var appender = connection.CreateAppender("t"))
        {
            foreach (var r in records)
                appender.CreateRow().AppendValue(r.Invoice).AppendValue(r.StockCode).AppendValue(r.Description).AppendValue((int?)r.Quantity)
                    .AppendValue((DateTime?)r.InvoiceDate).AppendValue((decimal?)r.Price).AppendValue(r.CustomerId).AppendValue(r.Country).EndRow();
        }
        string target = Path.Combine(lakePath, "parquet-retail-trans").Replace('\'', '_');
        string part = partPrefix.ToString("0000", CultureInfo.InvariantCulture);
        Execute(connection,
            "COPY (SELECT invoice, stockcode, description, quantity, CAST(invoicedate AS TIMESTAMP_MS) AS invoicedate, price, customer_id, country, " +
            "strftime(invoicedate, '%Y') AS year, strftime(invoicedate, '%m') AS month, strftime(invoicedate, '%d') AS day, strftime(invoicedate, '%H') AS hour FROM t) " +
            $"TO '{target}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year, month, day, hour), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-{part}{{i}}')");
    }

    /// <summary>Compacts every hour of the lake's JSON into Parquet with the real compactor (<c>ParquetCompactorFactory</c>).</summary>
    public static void Compact(string lakePath)
    {
        var compactor = Retail.Sinks.Parquet.ParquetCompactorFactory.Create(new LocalFolderObjectStore(lakePath));
        var report = compactor.CompactAsync(DateTimeOffset.UtcNow, Retail.Compaction.CompactionScope.All).AsTask().GetAwaiter().GetResult();
        if (report.FailedHours > 0)
            throw new InvalidOperationException("Compaction failed: " + string.Join("; ", report.Hours.Where(h => h.Error is not null).Select(h => h.Error)));
    }

    /// <summary>Every file and folder under <paramref name="root"/> with the SHA-256 of each file's bytes (folders map to "dir").</summary>
    public static SortedDictionary<string, string> Snapshot(string root)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
            snapshot[Path.GetRelativePath(root, entry.FullName)] = entry is FileInfo file
                ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file.FullName)))
                : "dir";
        return snapshot;
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>One lake built from the dev sample, shared by the read-only query tests.</summary>
public sealed class SampleLakeFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public SampleLakeFixture()
    {
        Records = TestLake.ReadSample();
        TestLake.WriteJson(LakePath, Records);
        TestLake.WriteParquet(LakePath, Records);
        // Things the tables must never read.
        File.WriteAllText(Path.Combine(LakePath, "_retail", "checkpoint.json").EnsureFolder(), "{\"not\":\"a record\"}\n");
        File.WriteAllText(Path.Combine(LakePath, "error-json", "year=2009", "month=12", "day=01", "hour=11", "retail-trans-1-processing-failed-x").EnsureFolder(),
            "{\"attemptsMade\":1,\"errorCode\":\"x\"}\n");
        File.WriteAllText(Path.Combine(LakePath, "json-data", "year=2009", "month=12", "day=01", "hour=11", ".retail-tmp-0123456789abcdef").EnsureFolder(), "{\"Invoice\":\"PARTIAL");
        File.WriteAllText(Path.Combine(LakePath, "json-data", "stray-object-outside-partitions").EnsureFolder(), "not json");
        Engine = new DuckDbQueryEngine(LakePath);
    }

    public string LakePath => _dir.Path;

    public List<RetailTransaction> Records { get; }

    internal DuckDbQueryEngine Engine { get; }

    public void Dispose()
    {
        Engine.Dispose();
        _dir.Dispose();
    }
}

internal static class PathExtensions
{
    public static string EnsureFolder(this string filePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);
        return filePath;
    }
}
