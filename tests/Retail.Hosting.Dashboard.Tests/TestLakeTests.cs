using System.Globalization;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>The helper itself: the pipeline it runs fills both tables and the index with exactly its records.</summary>
public sealed class TestLakeTests
{
    [Fact]
    public async Task CreateAsync_SyntheticRecords_DeliveredIndexedAndPartlyCompacted()
    {
        var records = TestLake.Synthetic(200);
        await using var lake = await TestLake.CreateAsync(records);

        Assert.Equal(records.Count, lake.Records.Count);
        Assert.Equal(records.Count, await lake.Index.CountAsync());
        var hours = await lake.HoursAsync();
        Assert.Equal(records.Select(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)).Distinct().Count(), hours.Count);

        var json = await lake.Query.QueryAsync("SELECT count(*), sum(quantity * price) FROM retail_trans_json");
        Assert.Equal((long)records.Count, Convert.ToInt64(json.Rows[0][0], CultureInfo.InvariantCulture));
        Assert.Equal(records.Sum(r => r.Quantity * r.Price), (decimal)json.Rows[0][1]!);

        var compacted = await lake.CompactAsync(h => h.Day == 1);
        Assert.NotEmpty(compacted);
        var parquet = await lake.Query.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet");
        Assert.Equal((long)records.Count(r => r.InvoiceDate.Day == 1), Convert.ToInt64(parquet.Rows[0][0], CultureInfo.InvariantCulture));

        // More records stream into the running pipeline.
        await lake.AddAsync(TestLake.Synthetic(10, seed: 99, new DateOnly(2010, 12, 3)));
        Assert.Equal(records.Count + 10, await lake.Index.CountAsync());
    }
}
