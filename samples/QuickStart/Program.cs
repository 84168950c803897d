// Retail quick start: produce → deliver → compact → query, on one machine, no services.
using Microsoft.Extensions.DependencyInjection;
using Retail;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Delivery;
using Retail.Query;
using Retail.Streaming;
using Retail.Synthetic;

string lake = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "retail-quickstart");

// 1. Compose the embedded pipeline: a local-folder lake, an in-process stream, Firehose-style
//    delivery, the Parquet compactor and DuckDB for SQL. Bad settings fail here, by name.
var services = new ServiceCollection();
services.AddRetail()
    .AddLocalLake(o => o.Path = lake)
    .AddInProcessStream()
    .AddDelivery(o => o.BufferIntervalSeconds = 60)
    .AddParquetCompactor()
    .AddDuckDbQueries(o => o.LakePath = lake);
await using var provider = services.BuildServiceProvider();
provider.ValidateRetailOptions();

var stream = provider.GetRequiredService<InProcessRecordStream>();
var delivery = provider.GetRequiredService<DeliveryEngine>();
var deliveryRun = delivery.RunAsync();

// 2. Produce 10,000 synthetic transactions (the workshop generator's schema), as JSON.
var random = new Random(7);
await using (var producer = new StreamProducer(stream))
{
    foreach (var t in new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(10_000))
        await producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), RetailJson.ToJsonLine(t));
}
stream.Complete();

// 3. Delivery ends once the stream is drained: every record is in json-data/year=…/hour=…/.
await deliveryRun;
Console.WriteLine($"delivered {delivery.Stats.RecordsDelivered} records in {delivery.Stats.ObjectsWritten} objects");

// 4. Compact every hour into Snappy Parquet under parquet-retail-trans/.
var compactor = provider.GetRequiredService<IHourlyCompactor>();
var report = await compactor.CompactAsync(DateTimeOffset.UtcNow, CompactionScope.All);
Console.WriteLine($"compacted {report.RowsOut} rows into {report.FilesWritten} Parquet files ({report.BytesWritten} bytes)");

// 5. The workshop's Athena query, unchanged, on the embedded engine.
var sql = provider.GetRequiredService<IQueryEngine>();
var result = await sql.QueryAsync(
    "SELECT date_trunc('month', invoicedate) invoice_year_month, sum(price*quantity) revenue " +
    "FROM ctas_retail_trans_parquet WHERE invoicedate BETWEEN timestamp '2010-01-01' AND timestamp '2010-12-31' GROUP BY 1");
foreach (var row in result.Rows)
    Console.WriteLine($"{row[0]:yyyy-MM}  revenue {row[1]}");

return report.FailedHours == 0 && result.Rows.Count > 0 ? 0 : 1;
