using Retail.Core.Tests;
using Retail.Indexing;

namespace Retail.Sinks.DuckDb.Tests;

public sealed class DuckDbFactoryTests
{
    [Fact]
    public async Task CreateQueryEngine_WithoutDi_QueriesTheLakeAndIsDisposable()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        var engine = DuckDbFactory.CreateQueryEngine(new DuckDbQueryOptions { LakePath = dir.Path });
        await using (var owned = Assert.IsAssignableFrom<IAsyncDisposable>(engine))
        {
            var result = await engine.QueryAsync("SELECT count(*) AS n FROM retail_trans_json");
            Assert.Equal((long)records.Count, Assert.Single(result.Rows)[0]);
        }
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.QueryAsync("SELECT 1"));
    }

    [Fact]
    public async Task CreateUpsertIndex_WithoutDi_UpsertsByIdAndIsDisposable()
    {
        var record = TestLake.ReadSample()[0];
        var index = DuckDbFactory.CreateUpsertIndex(new DuckDbIndexOptions { DatabasePath = ":memory:" });
        await using var owned = Assert.IsAssignableFrom<IAsyncDisposable>(index);
        await index.UpsertAsync([new IndexDocument("a", record), new IndexDocument("a", record), new IndexDocument("b", record)]);
        Assert.Equal(2, await index.CountAsync());
    }

    [Fact]
    public void Factory_BadOptions_ErrorNamesTheSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => DuckDbFactory.CreateQueryEngine(new DuckDbQueryOptions()));
        Assert.Contains("LakePath", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Retail.Sinks.DuckDb.DuckDbQueryEngine")]
    [InlineData("Retail.Sinks.DuckDb.DuckDbUpsertIndex")]
    public void Implementations_AreNotPublic_ReachedThroughTheFactoryOrTheBuilder(string type)
        => Assert.False(typeof(DuckDbFactory).Assembly.GetType(type, throwOnError: true)!.IsPublic);
}
