using Retail.Core.Tests.Indexing;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>The <see cref="IUpsertIndex"/> conformance suite against the OpenSearch index on the loopback fake (no OpenSearch server installs here): one fake per test.</summary>
public sealed class OpenSearchUpsertIndexOnOpenSearchFakeConformanceTests : UpsertIndexConformanceTests, IAsyncLifetime
{
    private readonly List<(OpenSearchLoopbackFake Fake, OpenSearchUpsertIndex Index)> _created = [];

    protected override async Task<IUpsertIndex> CreateIndexAsync()
    {
        var fake = await OpenSearchLoopbackFake.StartAsync();
        var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        _created.Add((fake, index));
        return index;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (fake, index) in _created)
        {
            index.Dispose();
            await fake.DisposeAsync();
        }
    }
}
