using System.Globalization;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>The real Online Retail II sample, through JSON lines, compaction and DuckDB.</summary>
public sealed class RealSampleTests : IDisposable
{
    private readonly TestLake _lake = new();
    private readonly List<RetailTransaction> _rows;

    public RealSampleTests()
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        _rows = reader.ReadAll().ToList();
        // Grouped into their InvoiceDate hours, each hour split into objects of at most 100 rows (arrival order kept).
        foreach (var hour in _rows.GroupBy(r => Hour(r.InvoiceDate)))
        {
            var inHour = hour.ToList();
            for (int i = 0; i < inHour.Count; i += 100) _lake.WriteObject(hour.Key, inHour.Skip(i).Take(100));
        }
    }

    public void Dispose() => _lake.Dispose();

    private static DateTime Hour(DateTime t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0);

    private async Task<CompactionReport> CompactAllAsync(Action<ParquetCompactorOptions>? configure = null)
    {
        var options = new ParquetCompactorOptions();
        configure?.Invoke(options);
        var compactor = new ParquetHourlyCompactor(_lake.Store, options);
        var report = await compactor.CompactAsync(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), CompactionScope.AllClosed);
        Assert.All(report.Hours, h => Assert.Equal(HourCompactionOutcome.Compacted, h.Outcome));
        return report;
    }

    [Fact]
    public async Task CompactAsync_RealDevSample_DuckDbReadsEveryValueExactly()
    {
        var report = await CompactAllAsync();

        Assert.Equal(_rows.GroupBy(r => Hour(r.InvoiceDate)).Count(), report.Hours.Count);
        Assert.Equal(_rows.Count, report.RowsOut);
        Assert.Equal(_rows.Count, _lake.Count());
        decimal expectedRevenue = _rows.Sum(r => r.Quantity * r.Price);
        Assert.Equal(expectedRevenue, Convert.ToDecimal(_lake.Scalar($"SELECT sum(quantity * price) FROM {_lake.TableSql}"), CultureInfo.InvariantCulture));
        _lake.AssertTableEquals(_rows);

        // The real data's quirks survived (they are in the sample, and now in the table).
        var table = _lake.ReadAll();
        Assert.Contains(table, r => r.Description.EndsWith(' ') && r.Description.Length > 1);
        Assert.Contains(table, r => r.CustomerId.Length == 0);
        Assert.Contains(table, r => r.CustomerId.EndsWith(".0", StringComparison.Ordinal));
        Assert.Contains(table, r => r.Invoice.StartsWith('C') && r.Quantity < 0);
    }

    [Fact]
    public async Task CompactAsync_VerifyValues_DecodesEveryPartAndPublishesTheSameRows()
    {
        var report = await CompactAllAsync(o =>
        {
            o.VerifyValues = true;
            o.RowGroupSize = 50; // many row groups, each decoded and compared
            o.MaxRowsPerFile = 120;
        });

        Assert.Equal(_rows.Count, report.RowsOut);
        _lake.AssertTableEquals(_rows);
    }

    [Fact]
    public async Task CompactAsync_RealDevSample_DuckDbDateFilterMatchesStatistics()
    {
        await CompactAllAsync(o => o.RowGroupSize = 50);

        long expected = _rows.Count(r => r.InvoiceDate >= new DateTime(2009, 12, 2));
        Assert.True(expected > 0 && expected < _rows.Count);
        Assert.Equal(expected, _lake.Count("WHERE invoicedate >= TIMESTAMP '2009-12-02'"));
        Assert.Equal(_rows.Count(r => r.InvoiceDate < new DateTime(2009, 12, 1, 12, 30, 0)),
            _lake.Count("WHERE invoicedate < TIMESTAMP '2009-12-01 12:30:00'"));

        // Every row group's min/max statistics of invoicedate bracket its values (what DuckDB and Athena trust).
        string glob = Path.Combine(_lake.Root, LakeLayout.ParquetPrefix).Replace('\\', '/') + "**/*.parquet";
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT file_name, row_group_id, stats_min_value, stats_max_value FROM parquet_metadata('{glob}') WHERE path_in_schema = 'invoicedate'";
        using var reader = cmd.ExecuteReader();
        int groups = 0;
        while (reader.Read())
        {
            groups++;
            using var check = db.CreateCommand();
            check.CommandText = $"SELECT min(invoicedate)::VARCHAR, max(invoicedate)::VARCHAR FROM read_parquet('{reader.GetString(0)}', file_row_number=true) WHERE file_row_number // 50 = {reader.GetInt64(1)}";
            using var values = check.ExecuteReader();
            Assert.True(values.Read());
            Assert.Equal(values.GetString(0), reader.GetString(2));
            Assert.Equal(values.GetString(1), reader.GetString(3));
        }
        Assert.True(groups > 14, $"{groups} row groups");
    }

    [Fact]
    public async Task CompactAsync_RealDevSample_SchemaIsAthenaCtasColumnsWithoutPartitions()
    {
        await CompactAllAsync();
        string file = Path.Combine(_lake.Root, _lake.ParquetKeys()[0]).Replace('\\', '/');
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{file}', hive_partitioning=false))";
        using var reader = cmd.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read()) columns.Add(reader.GetString(0) + " " + reader.GetString(1));
        Assert.Equal(
            ["invoice VARCHAR", "stockcode VARCHAR", "description VARCHAR", "quantity INTEGER", "invoicedate TIMESTAMP",
             "price DECIMAL(18,4)", "customer_id VARCHAR", "country VARCHAR"],
            columns);

        cmd.CommandText = $"SELECT DISTINCT compression FROM parquet_metadata('{file}')";
        Assert.Equal("SNAPPY", cmd.ExecuteScalar());
    }
}
