using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>
/// Compacting one hour costs store calls for that hour only, and a default pass store calls for the hours of its lookback
/// window only, however many hours the lake holds; a full rescan looks at every hour.
/// </summary>
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

    /// <summary>When the last closed hour is <paramref name="lastClosed"/> (05 past the hour after it: the default grace).</summary>
    private static DateTimeOffset NowWhenLastClosed(DateTime lastClosed) => new DateTimeOffset(lastClosed, TimeSpan.Zero).AddHours(1).AddMinutes(5);

    [Theory]
    [InlineData(null, 24)]
    [InlineData(3, 3)]
    public async Task CompactAsync_LakeOfManyHours_ListsOnlyTheLookbackWindowsHourPrefixes(int? lookbackHours, int windowHours)
    {
        var first = TestLake.Hour7;
        for (int h = 0; h < 200; h++)
            _lake.WriteObject(first.AddHours(h), TestLake.Records(2, first.AddHours(h), seed: h + 1));
        var lastClosed = first.AddHours(150);
        var store = new ListCountingStore(_lake.Store);
        var options = new ParquetCompactorOptions();
        if (lookbackHours is { } n) options.Lookback = TimeSpan.FromHours(n);
        var compactor = new ParquetHourlyCompactor(store, options);

        var report = await compactor.CompactAsync(NowWhenLastClosed(lastClosed));

        var window = Enumerable.Range(0, windowHours).Select(i => lastClosed.AddHours(i - windowHours + 1)).ToList();
        Assert.Equal(window, report.Hours.Select(h => h.Hour));
        Assert.All(report.Hours, h => Assert.Equal(HourCompactionOutcome.Compacted, h.Outcome));
        Assert.Equal(2 * windowHours, report.RowsOut);
        // The sources are listed one window hour at a time, never the whole source prefix.
        var sourceListings = store.Listings.Where(p => p.StartsWith(LakeLayout.JsonPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(window.Select(TestLake.HourPrefix), sourceListings);
        // Every other listing is inside a window hour's own partitions (its table folder, its bookkeeping).
        var partitions = window.Select(LakeLayout.HourPartition).ToHashSet();
        Assert.All(store.Listings, prefix => Assert.Contains(partitions, p => prefix.Contains(p, StringComparison.Ordinal)));
        Assert.Equal(windowHours, _lake.ParquetKeys().Count);
    }

    [Theory]
    [InlineData(CompactionScope.AllClosed)]
    [InlineData(CompactionScope.All)]
    public async Task CompactAsync_HourOlderThanWindow_NotCompactedByDefaultPassButByFullRescan(CompactionScope rescan)
    {
        var old = TestLake.Hour7;
        var recent = old.AddHours(30);
        _lake.WriteObject(old, TestLake.Records(4, old, seed: 1));
        _lake.WriteObject(recent, TestLake.Records(6, recent, seed: 2));
        var now = NowWhenLastClosed(recent.AddHours(2)); // the window is recent-21 h … recent+2 h
        var store = new ListCountingStore(_lake.Store);
        var compactor = new ParquetHourlyCompactor(store, new ParquetCompactorOptions());

        var pass = await compactor.CompactAsync(now);

        Assert.Equal([(recent, HourCompactionOutcome.Compacted)], pass.Hours.Select(h => (h.Hour, h.Outcome)));
        Assert.Empty(_lake.Keys(TestLake.TablePrefix(old)));
        Assert.DoesNotContain(LakeLayout.JsonPrefix, store.Listings);

        var full = await compactor.CompactAsync(now, rescan);

        Assert.Equal([(old, HourCompactionOutcome.Compacted), (recent, HourCompactionOutcome.UpToDate)], full.Hours.Select(h => (h.Hour, h.Outcome)));
        Assert.Contains(LakeLayout.JsonPrefix, store.Listings);
        Assert.Equal(10, _lake.Count());
    }

    [Fact]
    public async Task CompactAsync_LateObjectForHourInWindow_PickedUpByNextDefaultPass()
    {
        var hour = TestLake.Hour7;
        _lake.WriteObject(hour, TestLake.Records(5, hour, seed: 1));
        var compactor = new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions());
        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single((await compactor.CompactAsync(NowWhenLastClosed(hour))).Hours).Outcome);

        _lake.WriteObject(hour, TestLake.Records(3, hour, seed: 2, firstInvoice: 600000)); // 20 hours late
        var later = await compactor.CompactAsync(NowWhenLastClosed(hour.AddHours(20)));

        var result = Assert.Single(later.Hours);
        Assert.Equal((hour, HourCompactionOutcome.Compacted, 2, 3L), (result.Hour, result.Outcome, result.SourceObjects, result.RowsOut));
        Assert.Equal(8, _lake.Count());
    }

    [Fact]
    public async Task CompactAsync_NoHourClosedYet_ListsNothing()
    {
        var store = new ListCountingStore(_lake.Store);
        var compactor = new ParquetHourlyCompactor(store, new ParquetCompactorOptions());

        var report = await compactor.CompactAsync(DateTimeOffset.MinValue.AddMinutes(64));

        Assert.Empty(report.Hours);
        Assert.Empty(store.Listings);
    }

    [Fact]
    public async Task CompactAsync_StaleTemporaryFiles_DefaultPassRemovesThemOnlyInWindowHours()
    {
        var old = TestLake.Hour7;
        var recent = old.AddHours(30);
        // Delivery's temporary files of a killed writer (a name without a process id, untouched for two hours: stale).
        string Stale(DateTime hour)
        {
            string path = Path.Combine(Path.GetDirectoryName(_lake.Store.GetPath(TestLake.HourPrefix(hour) + "x"))!, LocalFolderObjectStore.TemporaryFilePrefix + "0123456789abcdef0123456789abcdef");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "{\"Invoice\":\"PARTIAL");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-2));
            return path;
        }
        string outside = Stale(old), inside = Stale(recent);
        var compactor = new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions());
        var now = NowWhenLastClosed(recent);

        await compactor.CompactAsync(now);

        Assert.False(File.Exists(inside));
        Assert.True(File.Exists(outside));

        await compactor.CompactAsync(now, CompactionScope.AllClosed);

        Assert.False(File.Exists(outside));
    }

    [Fact]
    public async Task CompactAsync_UndefinedScope_Throws()
    {
        var compactor = new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => compactor.CompactAsync(DateTimeOffset.UtcNow, (CompactionScope)7).AsTask());
    }
}
