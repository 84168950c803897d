using Amazon.Runtime;
using Retail.Query;
using Retail.Sinks.Athena.Tests.Fakes;
using Retail.Sinks.DuckDb;

namespace Retail.Sinks.Athena.Tests.Conformance;

/// <summary>
/// The workshop's and the dashboard's queries (valid in Trino and DuckDB, ordered so rows are deterministic), run on one
/// engine and checked against the values computed from the lake's records: the same columns, types and typed rows on
/// every engine.
/// </summary>
public abstract class QueryEngineConformanceTests(ConformanceLake lake) : IAsyncLifetime
{
    private static readonly string[] RecordColumns = ["invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country"];
    private static readonly string[] RecordTypes = ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP", "DECIMAL(38,4)", "VARCHAR", "VARCHAR"];

    /// <summary>The engine under test.</summary>
    protected IQueryEngine Engine { get; private set; } = null!;

    /// <summary>The lake the engine reads.</summary>
    protected ConformanceLake Lake => lake;

    /// <summary>Creates the engine over <see cref="Lake"/>.</summary>
    protected abstract ValueTask<IQueryEngine> CreateEngineAsync();

    /// <summary>Releases what <see cref="CreateEngineAsync"/> made.</summary>
    protected abstract ValueTask DisposeEngineAsync();

    public async Task InitializeAsync() => Engine = await CreateEngineAsync();

    public async Task DisposeAsync() => await DisposeEngineAsync();

    private IEnumerable<RetailTransaction> Ordered => lake.Records
        .OrderBy(r => r.InvoiceDate).ThenBy(r => r.Invoice, StringComparer.Ordinal).ThenBy(r => r.StockCode, StringComparer.Ordinal)
        .ThenBy(r => r.Quantity).ThenBy(r => r.Price).ThenBy(r => r.Description, StringComparer.Ordinal).ThenBy(r => r.CustomerId, StringComparer.Ordinal);

    [Theory]
    [InlineData("retail_trans_json")]
    [InlineData("ctas_retail_trans_parquet")]
    public async Task SelectLimit10_WorkshopQuery_ReturnsTheFirstTenRecordsTyped(string table)
    {
        var result = await Engine.QueryAsync(
            $"select invoice, stockcode, description, quantity, invoicedate, price, customer_id, country from {table} " +
            "order by invoicedate, invoice, stockcode, quantity, price, description, customer_id limit 10");
        Assert.Equal(RecordColumns, result.Columns);
        Assert.Equal(RecordTypes, result.ColumnTypes);
        var expected = Ordered.Take(10).Select(r => new object?[] { r.Invoice, r.StockCode, r.Description, r.Quantity, r.InvoiceDate, r.Price, r.CustomerId, r.Country });
        Assert.Equal(expected, result.Rows);
        Assert.False(result.Truncated);
    }

    [Theory]
    [InlineData("retail_trans_json")]
    [InlineData("ctas_retail_trans_parquet")]
    public async Task CountByCountry_WorkshopQuery_CountsEveryRecordOnce(string table)
    {
        var result = await Engine.QueryAsync($"select country, count(*) as n from {table} group by country order by country");
        Assert.Equal(["country", "n"], result.Columns);
        Assert.Equal(["VARCHAR", "BIGINT"], result.ColumnTypes);
        var expected = lake.Records.GroupBy(r => r.Country).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new object?[] { g.Key, (long)g.Count() });
        Assert.Equal(expected, result.Rows);
    }

    [Theory]
    [InlineData("retail_trans_json")]
    [InlineData("ctas_retail_trans_parquet")]
    public async Task Revenue_WorkshopQuery_IsTheExactSumOfQuantityTimesPrice(string table)
    {
        var result = await Engine.QueryAsync($"select sum(quantity * price) as revenue from {table}");
        Assert.Equal(["revenue"], result.Columns);
        var row = Assert.Single(result.Rows);
        Assert.Equal(lake.Records.Sum(r => r.Quantity * r.Price), Assert.IsType<decimal>(row[0]));
    }

    [Fact]
    public async Task QuantityByDay_DashboardAggregate_SumsEveryDay()
    {
        var result = await Engine.QueryAsync(
            "select cast(invoicedate as date) as day, cast(sum(quantity) as bigint) as quantity from retail_trans_json " +
            "group by cast(invoicedate as date) order by day");
        Assert.Equal(["day", "quantity"], result.Columns);
        Assert.Equal(["DATE", "BIGINT"], result.ColumnTypes);
        var expected = lake.Records.GroupBy(r => DateOnly.FromDateTime(r.InvoiceDate))
            .OrderBy(g => g.Key).Select(g => new object?[] { g.Key, g.Sum(r => (long)r.Quantity) });
        Assert.Equal(expected, result.Rows);
    }

    [Fact]
    public async Task TopCountries_DashboardAggregate_RanksByRevenueThenName()
    {
        var result = await Engine.QueryAsync(
            "select country, sum(quantity * price) as revenue, count(*) as n from ctas_retail_trans_parquet " +
            "group by country order by revenue desc, country limit 5");
        Assert.Equal(["country", "revenue", "n"], result.Columns);
        var expected = lake.Records.GroupBy(r => r.Country)
            .Select(g => new object?[] { g.Key, g.Sum(r => r.Quantity * r.Price), (long)g.Count() })
            .OrderByDescending(r => (decimal)r[1]!).ThenBy(r => (string)r[0]!, StringComparer.Ordinal).Take(5);
        Assert.Equal(expected, result.Rows);
    }

    [Fact]
    public async Task Parameters_CountryAndQuantity_FilterLikeTheLinqQuery()
    {
        var result = await Engine.QueryAsync("select count(*) as n from retail_trans_json where country = ? and quantity > ?", ["United Kingdom", 5]);
        Assert.Equal((long)lake.Records.Count(r => r.Country == "United Kingdom" && r.Quantity > 5), Assert.Single(result.Rows)[0]);
    }
}

/// <summary>The conformance suite on the embedded DuckDB engine.</summary>
public sealed class DuckDbQueryEngineConformanceTests(ConformanceLake lake) : QueryEngineConformanceTests(lake), IClassFixture<ConformanceLake>
{
    private DuckDbQueryEngine? _engine;

    protected override ValueTask<IQueryEngine> CreateEngineAsync() => ValueTask.FromResult<IQueryEngine>(_engine = new DuckDbQueryEngine(Lake.LakePath));

    protected override ValueTask DisposeEngineAsync()
    {
        _engine?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The conformance suite on the Athena client against the loopback fake (answering with DuckDB over the same lake).</summary>
public sealed class AthenaOnFakeQueryEngineConformanceTests(ConformanceLake lake) : QueryEngineConformanceTests(lake), IClassFixture<ConformanceLake>
{
    private DuckDbStatementExecutor? _executor;
    private AthenaLoopbackFake? _fake;

    protected override async ValueTask<IQueryEngine> CreateEngineAsync()
    {
        _executor = new DuckDbStatementExecutor(Lake.LakePath);
        _fake = await AthenaLoopbackFake.StartAsync(_executor.Executor);
        return AthenaClientFactory.CreateQueryEngine(
            new AthenaOptions
            {
                ServiceUrl = _fake.Url.ToString(), Region = "us-east-1", PollInterval = TimeSpan.FromMilliseconds(1), MaxPollInterval = TimeSpan.FromMilliseconds(2),
                OutputLocation = "s3://bucket/results/",
            },
            new BasicAWSCredentials("AKIDEXAMPLE", "secret"));
    }

    protected override async ValueTask DisposeEngineAsync()
    {
        (Engine as IDisposable)?.Dispose();
        if (_fake is not null) await _fake.DisposeAsync();
        _executor?.Dispose();
    }
}
