using System.Globalization;
using System.IO.Compression;
using System.Text;
using Retail.Codecs;
using Retail.Compaction;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>Lakes written by real Firehose: UUID object names, records concatenated without newlines, GZIP objects.</summary>
public sealed class FirehoseObjectsTests : IDisposable
{
    private static readonly DateTime Hour7 = TestLake.Hour7;
    private static readonly DateTimeOffset Later = new(2009, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private readonly TestLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private static string Json(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r)).TrimEnd('\n');

    private static string FirehoseName(int i) => string.Create(CultureInfo.InvariantCulture, $"retail-trans-1-2009-12-01-07-{i:00}-00-{new Guid(i, 0x4f89, 0x11d3, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01):D}");

    private string Put(string name, byte[] bytes)
    {
        string key = TestLake.HourPrefix(Hour7) + name;
        _lake.Store.PutAsync(key, bytes).AsTask().GetAwaiter().GetResult();
        return key;
    }

    private static byte[] Gzip(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    [Fact]
    public async Task CompactAsync_FirehoseObjects_EveryRecordInParquetWithExactRevenue()
    {
        var concatenated = TestLake.Records(300, Hour7, seed: 11);
        var gzipped = TestLake.Records(200, Hour7, seed: 12, firstInvoice: 600000);
        var mixed = TestLake.Records(7, Hour7, seed: 13, firstInvoice: 700000);
        var lines = TestLake.Records(50, Hour7, seed: 14, firstInvoice: 800000);
        Put(FirehoseName(1), Encoding.UTF8.GetBytes(string.Concat(concatenated.Select(Json))));
        Put(FirehoseName(2) + ".gz", Gzip(string.Concat(gzipped.Select((r, i) => Json(r) + (i % 10 == 0 ? "\n" : "")))));
        Put(FirehoseName(3), Encoding.UTF8.GetBytes(
            Json(mixed[0]) + "\n" + Json(mixed[1]) + Json(mixed[2]) + "  \r\n\t" + Json(mixed[3]).Replace(",\"", ",\n\"", StringComparison.Ordinal)
            + Json(mixed[4]) + "\n\n" + Json(mixed[5]) + " " + Json(mixed[6])));
        Put(FirehoseName(4), Encoding.UTF8.GetBytes(string.Concat(lines.Select(r => Json(r) + "\n"))));

        var hour = Assert.Single((await new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions()).CompactAsync(Later)).Hours);

        Assert.Null(hour.Error);
        Assert.Equal(HourCompactionOutcome.Compacted, hour.Outcome);
        List<RetailTransaction> all = [.. concatenated, .. gzipped, .. mixed, .. lines];
        Assert.Equal((4, 557L, 557L), (hour.SourceObjects, hour.RowsIn, hour.RowsOut));
        _lake.AssertTableEquals(all);
        decimal revenue = all.Sum(r => r.Quantity * r.Price);
        Assert.Equal(revenue, Convert.ToDecimal(_lake.Scalar($"SELECT sum(quantity * CAST(price AS DECIMAL(38,4))) FROM {_lake.TableSql}"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task CompactAsync_BadRecordAmongConcatenated_FailsNamingKeyLineAndByteNothingPublished()
    {
        var rows = TestLake.Records(3, Hour7);
        string bad = Json(rows[1]).Replace("\"Quantity\":", "\"Quantity\":\"x", StringComparison.Ordinal);
        string key = Put(FirehoseName(1), Encoding.UTF8.GetBytes(Json(rows[0]) + bad + Json(rows[2])));

        var hour = Assert.Single((await new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions()).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{key} line 1, byte {Encoding.UTF8.GetByteCount(Json(rows[0]))}:"), hour.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.ParquetKeys());
    }

    [Fact]
    public async Task CompactAsync_GzSuffixButNotGzip_FailsNamingTheKey()
    {
        string key = Put(FirehoseName(1) + ".gz", Encoding.UTF8.GetBytes(Json(TestLake.Records(1, Hour7)[0])));

        var hour = Assert.Single((await new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions()).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(key + " is not a valid GZIP object", hour.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.ParquetKeys());
    }
}
