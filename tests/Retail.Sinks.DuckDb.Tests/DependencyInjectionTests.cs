using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Core.Tests;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Sinks.DuckDb.Tests;

public class DependencyInjectionTests
{
    [Fact]
    public async Task AddDuckDbQueries_Configured_ResolvesEngineOverTheLake()
    {
        using var dir = new TempDir();
        TestLake.WriteJson(dir.Path, TestLake.ReadSample());
        var services = new ServiceCollection();
        new RetailBuilder(services).AddDuckDbQueries(o => o.LakePath = dir.Path);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var engine = provider.GetRequiredService<IQueryEngine>();

        Assert.Same(provider.GetRequiredService<DuckDbQueryEngine>(), engine);
        Assert.Equal(1051L, (await engine.QueryAsync("SELECT count(*) FROM retail_trans_json")).Rows.Single()[0]);
    }

    [Fact]
    public void AddDuckDbQueries_MissingLakePath_FailsOnStartNamingTheSetting()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services).AddDuckDbQueries();
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("DuckDbQueryOptions.LakePath is required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDuckDbUpsertIndex_Configured_ResolvesIndex()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        new RetailBuilder(services).AddDuckDbUpsertIndex(o => o.LakePath = dir.Path);
        await using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            var index = provider.GetRequiredService<IUpsertIndex>();
            Assert.Same(provider.GetRequiredService<DuckDbUpsertIndex>(), index);
            Assert.Equal(0, await index.CountAsync());
        }
        Assert.True(File.Exists(Path.Combine(dir.Path, "_retail", "speed-layer.duckdb")));
    }

    [Fact]
    public async Task AddDuckDbUpsertIndex_Named_TwoIndexesSideBySide()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddDuckDbUpsertIndex("a", o => o.DatabasePath = Path.Combine(dir.Path, "a.duckdb"))
            .AddDuckDbUpsertIndex("b", o => { o.DatabasePath = Path.Combine(dir.Path, "b.duckdb"); o.TableName = "trans"; })
            .AddDuckDbQueries("lake", o => o.LakePath = dir.Path);
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var a = provider.GetRequiredKeyedService<IUpsertIndex>("a");
        var b = (DuckDbUpsertIndex)provider.GetRequiredKeyedService<IUpsertIndex>("b");
        await a.UpsertAsync([new IndexDocument("x", TestLake.ReadSample()[0])]);

        Assert.Equal(1, await a.CountAsync());
        Assert.Equal(0, await b.CountAsync());
        Assert.Equal("trans", b.TableName);
        Assert.NotNull(provider.GetRequiredKeyedService<IQueryEngine>("lake"));
    }

    [Fact]
    public void AddDuckDbUpsertIndex_NamedWithBadTable_FailsOnStartNamingTheInstance()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services).AddDuckDbUpsertIndex("speed", o => { o.DatabasePath = ":memory:"; o.TableName = "1retail"; });
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("[speed] DuckDbIndexOptions.TableName", e.Message, StringComparison.Ordinal);
        Assert.Contains("'1retail'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDuckDbQueries_CalledTwice_OneEngineAndEveryCallsOptionsKept()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .ConfigureLake(l => l.JsonPrefix = "raw/")
            .AddDuckDbQueries(o => { o.LakePath = "/lake"; o.Lake.ParquetPrefix = "table/"; })
            .AddDuckDbQueries(o => o.Threads = 2)
            .AddDuckDbQueries("b", o => o.LakePath = "/b")
            .AddDuckDbQueries("b", o => o.Threads = 3);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        foreach (var type in new[] { typeof(IQueryEngine), typeof(DuckDbQueryEngine) })
        {
            Assert.Single(services, d => d.ServiceType == type && !d.IsKeyedService);
            Assert.Single(services, d => d.ServiceType == type && d.IsKeyedService && Equals(d.ServiceKey, "b"));
        }
        var options = provider.GetRequiredService<IOptionsMonitor<DuckDbQueryOptions>>();
        var unnamed = options.CurrentValue;
        // The builder's lake is applied once, first: the second call does not reset the first call's change to it.
        Assert.Equal(("/lake", "raw/", "table/", 2), (unnamed.LakePath, unnamed.Lake.JsonPrefix, unnamed.Lake.ParquetPrefix, unnamed.Threads));
        var b = options.Get("b");
        Assert.Equal(("/b", "raw/", "parquet-retail-trans/", 3), (b.LakePath, b.Lake.JsonPrefix, b.Lake.ParquetPrefix, b.Threads));
    }

    [Fact]
    public void AddDuckDbUpsertIndex_CalledTwice_OneIndexAndEveryCallsOptionsKept()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddDuckDbUpsertIndex(o => o.DatabasePath = ":memory:").AddDuckDbUpsertIndex(o => o.TableName = "trans")
            .AddDuckDbUpsertIndex("a", o => o.DatabasePath = ":memory:").AddDuckDbUpsertIndex("a", o => o.Threads = 1);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        foreach (var type in new[] { typeof(IUpsertIndex), typeof(DuckDbUpsertIndex) })
        {
            Assert.Single(services, d => d.ServiceType == type && !d.IsKeyedService);
            Assert.Single(services, d => d.ServiceType == type && d.IsKeyedService && Equals(d.ServiceKey, "a"));
        }
        var options = provider.GetRequiredService<IOptionsMonitor<DuckDbIndexOptions>>();
        Assert.Equal((":memory:", "trans"), (options.CurrentValue.DatabasePath, options.CurrentValue.TableName));
        Assert.Equal((":memory:", 1), (options.Get("a").DatabasePath, options.Get("a").Threads));
    }
}
