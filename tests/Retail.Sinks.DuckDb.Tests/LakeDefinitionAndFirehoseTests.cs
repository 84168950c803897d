using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Query;
using Retail.Sinks.Parquet;
using Retail.Storage;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>
/// The JSON table over lakes written by real Firehose (UUID names, concatenated records, GZIP), and one lake definition
/// that reaches delivery's defaults, the compactor and the query views.
/// </summary>
public class LakeDefinitionAndFirehoseTests
{
    private static readonly DateTimeOffset Later = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Json(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r)).TrimEnd('\n');

    private static byte[] Gzip(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    private static string Uuid(int i) => new Guid(i, 0x4f89, 0x11d3, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01).ToString("D");

    /// <summary>
    /// Writes each InvoiceDate hour of <paramref name="records"/> the ways real Firehose does, in turn: concatenated
    /// without newlines, GZIP-compressed concatenated, mixed (some newlines, a multi-line object, whitespace), JSON lines.
    /// </summary>
    private static void WriteFirehoseObjects(LocalFolderObjectStore store, RetailLakeDefinition lake, IEnumerable<RetailTransaction> records)
    {
        int n = 0;
        foreach (var hour in records.GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)))
        {
            var rows = hour.ToList();
            string name = string.Create(CultureInfo.InvariantCulture, $"retail-trans-1-{hour.Key:yyyy-MM-dd-HH}-00-00-{Uuid(++n)}");
            byte[] bytes;
            switch (n % 4)
            {
                case 0: bytes = Encoding.UTF8.GetBytes(string.Concat(rows.Select(Json))); break;
                case 1: bytes = Gzip(string.Concat(rows.Select(Json))); name += ".gz"; break;
                case 2:
                    var text = new StringBuilder();
                    for (int i = 0; i < rows.Count; i++)
                        text.Append(i % 5 == 3 ? Json(rows[i]).Replace(",\"", ",\n  \"", StringComparison.Ordinal) : Json(rows[i])).Append(i % 3 == 0 ? "\n" : i % 3 == 1 ? " \r\n\t" : "");
                    bytes = Encoding.UTF8.GetBytes(text.ToString());
                    break;
                default: bytes = Encoding.UTF8.GetBytes(string.Concat(rows.Select(r => Json(r) + "\n"))); break;
            }
            store.PutAsync(lake.JsonPrefix + LakeLayout.HourPartition(hour.Key) + name, bytes).AsTask().GetAwaiter().GetResult();
        }
    }

    private static async Task<(long Count, decimal Revenue)> CountAndRevenue(IQueryEngine engine, string table)
    {
        var row = (await engine.QueryAsync($"SELECT count(*), sum(quantity * price) FROM {table}")).Rows.Single();
        return (Convert.ToInt64(row[0], CultureInfo.InvariantCulture), row[1] is null ? 0m : Convert.ToDecimal(row[1], CultureInfo.InvariantCulture));
    }

    private static (long, decimal) Expected(IReadOnlyCollection<RetailTransaction> records) => (records.Count, records.Sum(r => r.Quantity * r.Price));

    [Fact]
    public async Task JsonTable_FirehoseObjects_CountAndRevenueExactAndEqualToCompactedParquet()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        var lake = new RetailLakeDefinition();
        var store = new LocalFolderObjectStore(dir.Path);
        WriteFirehoseObjects(store, lake, records);
        var keys = await store.ListAsync(lake.JsonPrefix).Select(o => o.Key).ToListAsync();
        Assert.Contains(keys, k => k.EndsWith(".gz", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.EndsWith(Uuid(4), StringComparison.Ordinal));

        var report = await ParquetCompactorFactory.Create(store, new ParquetCompactorOptions().UseLake(lake)).CompactAsync(Later, Retail.Compaction.CompactionScope.AllClosed);
        Assert.Equal(0, report.FailedHours);
        // Not part of the JSON table: an in-flight temporary file named like a Firehose object.
        await store.PutAsync(lake.JsonPrefix + LakeLayout.HourPartition(records[0].InvoiceDate) + $".retail-trans-1-2009-12-01-07-00-00-{Uuid(999)}", "{\"Invoice\":"u8.ToArray());
        using var engine = new DuckDbQueryEngine(dir.Path);

        var expected = Expected(records);
        Assert.Equal(expected, await CountAndRevenue(engine, DuckDbQueryEngine.JsonTableName));
        Assert.Equal(expected, await CountAndRevenue(engine, DuckDbQueryEngine.ParquetTableName));
        // Row for row, the two tables hold the same values.
        var diff = await engine.QueryAsync(
            "SELECT count(*) FROM (SELECT * EXCLUDE (year, month, day, hour) FROM retail_trans_json EXCEPT ALL SELECT * EXCLUDE (year, month, day, hour) FROM ctas_retail_trans_parquet)");
        Assert.Equal(0L, diff.Rows.Single()[0]);
    }

    [Fact]
    public async Task JsonTable_ConcatenatedObjectWithBadQuantity_FailsNamingTableAndFile()
    {
        using var dir = new TempDir();
        var r = TestLake.ReadSample().Take(3).ToList();
        string name = $"retail-trans-1-2009-12-01-07-00-00-{Uuid(1)}";
        await new LocalFolderObjectStore(dir.Path).PutAsync("json-data/" + LakeLayout.HourPartition(r[0].InvoiceDate) + name,
            Encoding.UTF8.GetBytes(Json(r[0]) + Json(r[1]).Replace($"\"Quantity\":{r[1].Quantity}", "\"Quantity\":1.5", StringComparison.Ordinal) + Json(r[2])));
        using var engine = new DuckDbQueryEngine(dir.Path);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await engine.QueryAsync("SELECT sum(quantity) FROM retail_trans_json"));

        Assert.Contains("retail_trans_json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.Contains("Quantity is not a 32-bit integer", e.Message, StringComparison.Ordinal);
    }

    private static RetailLakeDefinition CustomLake() => new()
    {
        JsonTableName = "sales_json", ParquetTableName = "sales_parquet",
        JsonPrefix = "raw/firehose/", ErrorPrefix = "raw/errors/", ParquetPrefix = "curated/sales/", ControlPrefix = "meta/",
    };

    [Fact]
    public async Task Views_LakeWithOtherPrefixesAndTableNames_QueryableOnceConfigured()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        var lake = CustomLake();
        var store = new LocalFolderObjectStore(dir.Path);
        WriteFirehoseObjects(store, lake, records);
        var report = await ParquetCompactorFactory.Create(store, new ParquetCompactorOptions().UseLake(lake)).CompactAsync(Later, Retail.Compaction.CompactionScope.AllClosed);
        Assert.Equal(0, report.FailedHours);
        Assert.NotEmpty(await store.ListAsync("curated/sales/").ToListAsync());
        Assert.NotEmpty(await store.ListAsync("meta/compaction/").ToListAsync());

        using var configured = new DuckDbQueryEngine(new DuckDbQueryOptions { LakePath = dir.Path, Lake = lake });
        using var defaults = new DuckDbQueryEngine(dir.Path);

        var expected = Expected(records);
        Assert.Equal(expected, await CountAndRevenue(configured, "sales_json"));
        Assert.Equal(expected, await CountAndRevenue(configured, "sales_parquet"));
        // Without the definition the same lake looks empty: the prefix is what reaches the views.
        Assert.Equal((0L, 0m), await CountAndRevenue(defaults, DuckDbQueryEngine.JsonTableName));
        Assert.Equal((0L, 0m), await CountAndRevenue(defaults, DuckDbQueryEngine.ParquetTableName));
    }

    [Fact]
    public async Task ConfigureLake_OnceInTheBuilder_ReachesQueriesCompactorAndDeliveryDefaults()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        var lake = CustomLake();
        WriteFirehoseObjects(new LocalFolderObjectStore(dir.Path), lake, records);
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(new LocalFolderObjectStore(dir.Path));
        new RetailBuilder(services)
            .ConfigureLake(l => { l.JsonTableName = "sales_json"; l.ParquetTableName = "sales_parquet"; l.JsonPrefix = "raw/firehose/"; l.ErrorPrefix = "raw/errors/"; l.ParquetPrefix = "curated/sales/"; l.ControlPrefix = "meta/"; })
            .AddParquetCompactor()
            .AddDuckDbQueries(o => o.LakePath = dir.Path);
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var compacted = await provider.GetRequiredService<Retail.Compaction.IHourlyCompactor>().CompactAsync(Later, Retail.Compaction.CompactionScope.AllClosed);
        Assert.Equal(0, compacted.FailedHours);
        var engine = provider.GetRequiredService<IQueryEngine>();
        Assert.Equal(Expected(records), await CountAndRevenue(engine, "sales_parquet"));
        Assert.Equal(Expected(records), await CountAndRevenue(engine, "sales_json"));
        var compactorOptions = provider.GetRequiredService<IOptionsMonitor<ParquetCompactorOptions>>().Get(Options.DefaultName);
        Assert.Equal(("raw/firehose/", "curated/sales/", "meta/compaction/"), (compactorOptions.SourcePrefix, compactorOptions.TargetPrefix, compactorOptions.ManifestPrefix));
        var delivery = new Retail.Delivery.DeliveryOptions().UseLake(provider.GetRequiredService<IOptions<RetailLakeDefinition>>().Value);
        Assert.StartsWith("raw/firehose/year=!{timestamp:yyyy}/", delivery.Prefix, StringComparison.Ordinal);
        Assert.StartsWith("raw/errors/year=", delivery.ErrorOutputPrefix, StringComparison.Ordinal);
        Assert.Empty(delivery.Validate());
    }

    [Fact]
    public void ConfigureLake_InvalidDefinition_FailsOnStartNamingTheSetting()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services).ConfigureLake(l => { l.JsonTableName = "drop table;"; l.ParquetPrefix = "json-data/parquet/"; })
            .AddDuckDbQueries(o => o.LakePath = "/tmp/x");
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate()); // the lake's and the query options' validators both fail

        Assert.Contains("RetailLakeDefinition.JsonTableName must be a SQL identifier", e.Message, StringComparison.Ordinal);
        Assert.Contains("RetailLakeDefinition.JsonPrefix ('json-data/') and RetailLakeDefinition.ParquetPrefix ('json-data/parquet/') must not contain one another", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuckDbQueryOptions_GlobCharacterInAPrefix_NamesTheSetting()
    {
        var options = new DuckDbQueryOptions { LakePath = "/tmp/x", Lake = new RetailLakeDefinition { JsonPrefix = "json-[data]/" } };

        Assert.Contains(options.Validate(), f => f.StartsWith("DuckDbQueryOptions.Lake.JsonPrefix 'json-[data]/' contains '['", StringComparison.Ordinal));
    }
}
