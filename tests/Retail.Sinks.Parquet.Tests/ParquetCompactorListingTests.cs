using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>Compacting one hour costs store calls for that hour only, however many hours the lake holds.</summary>
public sealed class ParquetCompactorListingTests : IDisposable
{
    private readonly TestLake _lake = new();

    public void Dispose() => _lake.Dispose();

    /// <summary>Records the prefix of every listing; everything else goes straight to the lake.</summary>
    private sealed class ListCountingStore(IObjectStore inner) : IObjectStore
    {
        public List<string> Listings { get; } = [];

        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.PutAsync(key, data, cancellationToken);
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, cancellationToken);
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default)
        {
            lock (Listings) Listings.Add(prefix);
            return inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        }
    }

    [Fact]
    public async Task CompactHourAsync_LakeOfThousandHours_ListsOnlyThatHour()
    {
        var first = TestLake.Hour7;
        for (int h = 0; h < 1000; h++)
            _lake.WriteObject(first.AddHours(h), TestLake.Records(2, first.AddHours(h), seed: h + 1));
        var hour = first.AddHours(500);
        var store = new ListCountingStore(_lake.Store);
        var compactor = new ParquetHourlyCompactor(store, new ParquetCompactorOptions());

        var result = await compactor.CompactHourAsync(hour);

        Assert.Equal(Retail.Compaction.HourCompactionOutcome.Compacted, result.Outcome);
        Assert.Equal(1, result.SourceObjects);
        Assert.Equal(2, result.RowsOut);
        Assert.NotEmpty(store.Listings);
        // Every listing is inside the hour's own partitions (its sources, its table folder, its bookkeeping).
        string partition = LakeLayout.HourPartition(hour);
        Assert.All(store.Listings, prefix => Assert.Contains(partition, prefix, StringComparison.Ordinal));
        Assert.Single(_lake.ParquetKeys());
    }
}
