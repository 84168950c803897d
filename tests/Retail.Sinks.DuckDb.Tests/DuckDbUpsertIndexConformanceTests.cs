using Retail.Core.Tests;
using Retail.Core.Tests.Indexing;
using Retail.Indexing;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>The <see cref="IUpsertIndex"/> conformance suite against the DuckDB index (a fresh database file per test).</summary>
public sealed class DuckDbUpsertIndexConformanceTests : UpsertIndexConformanceTests, IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly List<DuckDbUpsertIndex> _indexes = [];

    protected override Task<IUpsertIndex> CreateIndexAsync()
    {
        var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { DatabasePath = Path.Combine(_dir.Path, $"index-{_indexes.Count}.duckdb") });
        _indexes.Add(index);
        return Task.FromResult<IUpsertIndex>(index);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var index in _indexes) await index.DisposeAsync();
        _dir.Dispose();
    }
}
