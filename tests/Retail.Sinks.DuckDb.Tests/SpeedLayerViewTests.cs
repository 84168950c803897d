using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Core.Tests;
using Retail.Indexing;
using Retail.Synthetic;
using Xunit.Abstractions;

namespace Retail.Sinks.DuckDb.Tests;

/// <summary>
/// <see cref="ISpeedLayerView"/> on DuckDB: the index's own histogram, and the read-only view of a database file
/// (<see cref="DuckDbFactory.CreateSpeedLayerView"/>), against LINQ over the documents upserted.
/// </summary>
public sealed class SpeedLayerViewTests(ITestOutputHelper output)
{
    private static readonly SpeedLayerHistogramRequest All = new() { MaxBuckets = SpeedLayerHistogramRequest.MaxBucketsLimit };

    [Theory]
    [InlineData(HistogramInterval.Minute)]
    [InlineData(HistogramInterval.Hour)]
    [InlineData(HistogramInterval.Day)]
    [InlineData(HistogramInterval.Week)]
    [InlineData(HistogramInterval.Month)]
    public async Task HistogramAsync_EachInterval_BucketsEqualLinqOverTheDocuments(HistogramInterval interval)
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        var docs = SpreadDocuments();
        var request = All with { Interval = interval };
        SpeedLayerHistogram fromIndex;
        await using (var index = new DuckDbUpsertIndex(options))
        {
            foreach (var batch in docs.Chunk(1_000)) Assert.Equal(0, (await index.UpsertAsync(batch)).FailedCount);
            fromIndex = await index.HistogramAsync(request);
        }
        var fromFile = await DuckDbFactory.CreateSpeedLayerView(options).HistogramAsync(request);

        var expected = Expected(docs, request);
        output.WriteLine($"{interval}: {expected.Buckets.Count} buckets over {docs.Count} documents");
        AssertHistogram(expected, fromIndex);
        AssertHistogram(expected, fromFile);
        Assert.All(fromIndex.Buckets, b => Assert.Equal(DateTimeKind.Utc, b.Start.Kind));
    }

    [Fact]
    public async Task HistogramAsync_WeekAndMonthBoundaries_MondayAndTheFirstStartNewBuckets()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        await index.UpsertAsync(BoundaryDocuments());

        var weeks = await index.HistogramAsync(All with { Interval = HistogramInterval.Week });
        var months = await index.HistogramAsync(All with { Interval = HistogramInterval.Month });

        // Sunday 2010-01-03 ends the week of Monday 2009-12-28; Friday 2010-12-31 and Saturday 2011-01-01 share the
        // week of Monday 2010-12-27 (ISO weeks, as OpenSearch's calendar_interval: week).
        Assert.Equal(
            [B(2009, 12, 28, 1, 3), B(2010, 1, 4, 1, -2), B(2010, 1, 25, 1, 4), B(2010, 2, 1, 1, 5), B(2010, 12, 27, 2, 13), B(2011, 1, 3, 1, 8), B(2012, 2, 27, 2, 19)],
            weeks.Buckets);
        Assert.All(weeks.Buckets, b => Assert.Equal(DayOfWeek.Monday, b.Start.DayOfWeek));
        Assert.Equal([B(2010, 1, 1, 3, 5), B(2010, 2, 1, 1, 5), B(2010, 12, 1, 1, 6), B(2011, 1, 1, 2, 15), B(2012, 2, 1, 1, 9), B(2012, 3, 1, 1, 10)], months.Buckets);
        Assert.Equal((9L, 50L), (weeks.Documents, weeks.Quantity));
        Assert.Equal((9L, 50L), (months.Documents, months.Quantity));
    }

    [Fact]
    public async Task HistogramAsync_FromAndToAtABoundary_FromInclusiveToExclusive()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var ten = new DateTime(2010, 6, 15, 10, 0, 0);
        await index.UpsertAsync([Doc("a", ten.AddSeconds(-1), 1), Doc("b", ten, 2), Doc("c", ten.AddMinutes(30), 4), Doc("d", ten.AddHours(1).AddSeconds(-1), 8), Doc("e", ten.AddHours(1), 16)]);
        var hours = All with { Interval = HistogramInterval.Hour };

        async Task<(long, long)> Count(DateTime? from, DateTime? to)
        {
            var h = await index.HistogramAsync(hours with { From = from, To = to });
            Assert.Equal((h.Buckets.Sum(b => b.Documents), h.Buckets.Sum(b => b.Quantity)), (h.Documents, h.Quantity));
            return (h.Documents, h.Quantity);
        }

        Assert.Equal((3, 2 + 4 + 8), await Count(ten, ten.AddHours(1)));
        Assert.Equal((4, 2 + 4 + 8 + 16), await Count(ten, null));
        Assert.Equal((1, 1), await Count(null, ten));
        Assert.Equal((5, 31), await Count(null, null));
        Assert.Equal((0, 0), await Count(ten, ten));
        // Bounds finer than DuckDB's microseconds still hold exactly: just after 10:00 leaves 10:00:00 out, just after 11:00 takes 11:00:00 in.
        Assert.Equal((2, 4 + 8), await Count(ten.AddTicks(1), ten.AddHours(1)));
        Assert.Equal((4, 2 + 4 + 8 + 16), await Count(ten, ten.AddHours(1).AddTicks(1)));
        // A bound's kind does not shift it: read as UTC wall-clock time, as the invoice dates.
        Assert.Equal((3, 14), await Count(DateTime.SpecifyKind(ten, DateTimeKind.Utc), DateTime.SpecifyKind(ten.AddHours(1), DateTimeKind.Utc)));

        var bounded = await index.HistogramAsync(hours with { From = ten, To = ten.AddHours(1) });
        Assert.Equal([new HistogramBucket(ten, 3, 14)], bounded.Buckets);
    }

    [Fact]
    public async Task HistogramAsync_Country_OnlyExactMatches()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var day = new DateTime(2010, 6, 15, 12, 0, 0);
        await index.UpsertAsync([Doc("a", day, 1, "France"), Doc("b", day.AddDays(1), 2, "France"), Doc("c", day, 4, "france"),
            Doc("d", day, 8, "France "), Doc("e", day, 16, "EIRE")]);

        var france = await index.HistogramAsync(All with { Country = "France" });
        var nowhere = await index.HistogramAsync(All with { Country = "Nowhere" });
        // DuckDB would bind text cut at a NUL ("France"); no document can hold one, so nothing matches.
        var nul = await index.HistogramAsync(All with { Country = "France\0" });

        Assert.Equal([new HistogramBucket(day.Date, 1, 1), new HistogramBucket(day.Date.AddDays(1), 1, 2)], france.Buckets);
        Assert.Equal((2L, 3L, false), (france.Documents, france.Quantity, france.Truncated));
        Assert.Empty(nowhere.Buckets);
        Assert.Equal((0L, 0L, false), (nowhere.Documents, nowhere.Quantity, nowhere.Truncated));
        Assert.Empty(nul.Buckets);
        Assert.Equal(0, nul.Documents);
    }

    [Fact]
    public async Task HistogramAsync_MoreBucketsThanMaxBuckets_OldestKeptTruncatedTotalsOverAll()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var first = new DateTime(2010, 3, 1);
        // Ten days, inserted newest first: the order of the rows must not matter.
        await index.UpsertAsync(Enumerable.Range(1, 10).Reverse().Select(i => Doc($"d{i}", first.AddDays(i - 1).AddHours(i), i)).ToList());

        var three = await index.HistogramAsync(new SpeedLayerHistogramRequest { MaxBuckets = 3 });
        var one = await index.HistogramAsync(new SpeedLayerHistogramRequest { MaxBuckets = 1 });
        var exactly = await index.HistogramAsync(new SpeedLayerHistogramRequest { MaxBuckets = 10 });

        Assert.Equal([new HistogramBucket(first, 1, 1), new HistogramBucket(first.AddDays(1), 1, 2), new HistogramBucket(first.AddDays(2), 1, 3)], three.Buckets);
        Assert.Equal((10L, 55L, true), (three.Documents, three.Quantity, three.Truncated));
        Assert.Equal([new HistogramBucket(first, 1, 1)], one.Buckets);
        Assert.Equal((10L, 55L, true), (one.Documents, one.Quantity, one.Truncated));
        Assert.Equal(10, exactly.Buckets.Count);
        Assert.Equal((10L, 55L, false), (exactly.Documents, exactly.Quantity, exactly.Truncated));
    }

    [Fact]
    public async Task HistogramAsync_UpsertOverwritesADocument_CountedOnceWithItsNewValues()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var monday = new DateTime(2010, 3, 1, 9, 0, 0);
        await index.UpsertAsync([Doc("a", monday, 5), Doc("b", monday, 1)]);
        var before = await index.HistogramAsync(All);

        await index.UpsertAsync([Doc("a", monday.AddDays(2), 7)]);
        var after = await index.HistogramAsync(All);

        Assert.Equal([new HistogramBucket(monday.Date, 2, 6)], before.Buckets);
        Assert.Equal([new HistogramBucket(monday.Date, 1, 1), new HistogramBucket(monday.Date.AddDays(2), 1, 7)], after.Buckets);
        Assert.Equal((2L, 8L), (after.Documents, after.Quantity));
    }

    [Theory]
    [InlineData("MaxBuckets", HistogramInterval.Day, 0, false, null)]
    [InlineData("MaxBuckets", HistogramInterval.Day, SpeedLayerHistogramRequest.MaxBucketsLimit + 1, false, null)]
    [InlineData("To", HistogramInterval.Day, 10, true, null)]
    [InlineData("Interval", (HistogramInterval)99, 10, false, null)]
    [InlineData("Country", HistogramInterval.Day, 10, false, "")]
    public async Task HistogramAsync_InvalidRequest_ArgumentExceptionNamingTheProperty(string property, HistogramInterval interval, int maxBuckets, bool toBeforeFrom, string? country)
    {
        var day = new DateTime(2010, 3, 1);
        var request = new SpeedLayerHistogramRequest { Interval = interval, MaxBuckets = maxBuckets, From = day, To = toBeforeFrom ? day.AddDays(-1) : null, Country = country };
        using var dir = new TempDir();
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        // The view checks the request before it looks for the file (missing here).
        var view = DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { LakePath = dir.Path });

        foreach (var target in new ISpeedLayerView[] { index, view })
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(async () => await target.HistogramAsync(request));
            Assert.Equal("request", e.ParamName);
            Assert.StartsWith(request.Validate().Single(), e.Message, StringComparison.Ordinal);
            Assert.Contains(property, e.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ArgumentNullException>(async () => await target.HistogramAsync(null!));
        }
    }

    [Fact]
    public async Task HistogramAsync_WhileUpsertsRun_EachHistogramIsACommittedStateAndTheLastEqualsTheContents()
    {
        using var dir = new TempDir();
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });
        var docs = SpreadDocuments();
        var batches = docs.Chunk(250).ToList();
        var request = All with { Interval = HistogramInterval.Week };
        var seen = new List<SpeedLayerHistogram>();
        var upserts = Task.Run(async () =>
        {
            foreach (var batch in batches) Assert.Equal(0, (await index.UpsertAsync(batch)).FailedCount);
        });
        var reads = Task.Run(async () =>
        {
            do seen.Add(await index.HistogramAsync(request));
            while (!upserts.IsCompleted);
        });

        await Task.WhenAll(upserts, reads);
        var final = await index.HistogramAsync(request);

        // Each batch is one transaction of new ids: every histogram read shows the first n batches, never part of one.
        var committed = new HashSet<long>(Enumerable.Range(0, batches.Count + 1).Select(n => (long)batches.Take(n).Sum(b => b.Length)));
        foreach (var h in seen)
        {
            Assert.Contains(h.Documents, committed);
            AssertHistogram(Expected(docs.Take((int)h.Documents).ToList(), request), h);
        }
        output.WriteLine($"{seen.Count} histograms read while {batches.Count} batches were upserted; " +
                         $"{seen.Count(h => h.Documents > 0 && h.Documents < docs.Count)} of them saw a partly written index");
        AssertHistogram(Expected(docs, request), final);
    }

    [Fact]
    public async Task CreateSpeedLayerView_MissingFile_EmptyAndFileNotCreated()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        var view = DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { LakePath = lake });

        var histogram = await view.HistogramAsync(All);

        Assert.Empty(histogram.Buckets);
        Assert.Equal((0L, 0L, false), (histogram.Documents, histogram.Quantity, histogram.Truncated));
        Assert.False(Directory.Exists(lake));
        Assert.False(view is IDisposable);
    }

    [Fact]
    public async Task CreateSpeedLayerView_AfterTheWriterIsDisposed_ReadsExactlyWhatItWroteAndHoldsNothing()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { DatabasePath = Path.Combine(dir.Path, "speed.duckdb"), TableName = "trans" };
        var docs = SpreadDocuments();
        var request = All with { Interval = HistogramInterval.Day, From = new DateTime(2010, 2, 1), To = new DateTime(2010, 11, 1), Country = "United Kingdom", MaxBuckets = 20 };
        SpeedLayerHistogram written;
        await using (var index = new DuckDbUpsertIndex(options))
        {
            await index.UpsertAsync(docs);
            written = await index.HistogramAsync(request);
        }
        var view = DuckDbFactory.CreateSpeedLayerView(options);

        var read = await view.HistogramAsync(request);
        var again = await view.HistogramAsync(request);

        Assert.True(written.Truncated);
        AssertHistogram(written, read);
        AssertHistogram(written, again);
        AssertHistogram(Expected(docs, request), read);
        // Nothing held between calls: a writer opens the file (also from another process, see the cross-process test).
        await using var writer = new DuckDbUpsertIndex(options);
        Assert.Equal(docs.Count, await writer.CountAsync());
    }

    [Fact]
    public async Task CreateSpeedLayerView_WriterOpenInThisProcess_ReadsThroughTheWriterThenTheFile()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        var view = DuckDbFactory.CreateSpeedLayerView(options);
        var docs = SpreadDocuments();
        var index = new DuckDbUpsertIndex(options);
        await using (index)
        {
            await index.UpsertAsync(docs[..100]);
            AssertHistogram(Expected(docs[..100], All), await view.HistogramAsync(All));
            await index.UpsertAsync(docs[100..]);
            var viewed = await view.HistogramAsync(All);
            AssertHistogram(await index.HistogramAsync(All), viewed);
            // Another table of the same file, read through the writer's connection too.
            await Assert.ThrowsAsync<InvalidOperationException>(async () =>
                await DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { LakePath = dir.Path, TableName = "other" }).HistogramAsync(All));
            // Reading never took the writer's place: it still writes.
            Assert.Equal(0, (await index.UpsertAsync([Doc("late", new DateTime(2011, 5, 5), 3)])).FailedCount);
        }
        docs.Add(Doc("late", new DateTime(2011, 5, 5), 3));

        AssertHistogram(Expected(docs, All), await view.HistogramAsync(All));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await index.HistogramAsync(All));
    }

    [Fact]
    public async Task CreateSpeedLayerView_ConcurrentCallsInOneProcess_AllReadTheFile()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        var docs = SpreadDocuments();
        await using (var index = new DuckDbUpsertIndex(options)) await index.UpsertAsync(docs);
        var views = Enumerable.Range(0, 2).Select(_ => DuckDbFactory.CreateSpeedLayerView(options)).ToList();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () => await views[i % 2].HistogramAsync(All with { Interval = HistogramInterval.Hour }))));

        var expected = Expected(docs, All with { Interval = HistogramInterval.Hour });
        Assert.All(results, r => AssertHistogram(expected, r));
    }

    [Fact]
    public async Task CreateSpeedLayerView_WriterOpenInAnotherProcess_FailsNamingThePathAndTheOtherProcess()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        string path = options.ResolveDatabasePath();
        var docs = SpreadDocuments();
        await using (var index = new DuckDbUpsertIndex(options)) await index.UpsertAsync(docs[..1_000]);
        var view = DuckDbFactory.CreateSpeedLayerView(options);
        AssertHistogram(Expected(docs[..1_000], All), await view.HistogramAsync(All));

        // A real writer in a second process (this test assembly's Main): it opens the file the view just read (so the
        // view let go of it), upserts the rest of the documents and keeps the index open until its input closes.
        using var child = ChildProcess.Start("hold-index", path, "1000");
        try
        {
            await ReadWhileAnotherProcessWritesAsync(child, view, path, docs);
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// A reader in another process (retail serve's view polls, holding the file for milliseconds) must not make a writer
    /// that starts in that moment fail: opening waits out the other process's lock, and fails only if it is kept.
    /// </summary>
    [Fact]
    public async Task UpsertIndex_AnotherProcessHoldsTheFileThenLetsGo_OpeningWaitsAndThenOpens()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        string path = options.ResolveDatabasePath();
        var docs = SpreadDocuments();
        using var child = ChildProcess.Start("hold-index", path, "0");
        try
        {
            string? ready = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            if (ready != "open") Assert.Fail($"the other process did not open the index: {ready} {await ChildProcess.ErrorsAsync(child)}");
            var opening = Task.Run(() => new DuckDbUpsertIndex(options));
            Assert.False(opening.IsCompleted); // it cannot open while the other process holds the file

            child.StandardInput.Close(); // the other process lets go
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            await using var index = await opening.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(docs.Count, await index.CountAsync());
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }
    }

    private async Task ReadWhileAnotherProcessWritesAsync(Process child, ISpeedLayerView view, string path, List<IndexDocument> docs)
    {
        string? ready = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (ready != "open") Assert.Fail($"the writer process did not open the index: {ready} {await ChildProcess.ErrorsAsync(child)}");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await view.HistogramAsync(All));
        output.WriteLine(e.Message);
        Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("another process", e.Message, StringComparison.Ordinal);
        Assert.Contains("retail demo", e.Message, StringComparison.Ordinal);

        child.StandardInput.Close();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (child.ExitCode != 0) Assert.Fail($"exit {child.ExitCode}: {await ChildProcess.ErrorsAsync(child)}");
        AssertHistogram(Expected(docs, All), await view.HistogramAsync(All));
    }

    [Fact]
    public async Task CreateSpeedLayerView_TableWithOtherColumns_FailsNamingTheColumnsAndTheFix()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "old.duckdb");
        using (var connection = new DuckDBConnection("Data Source=" + path))
        {
            connection.Open();
            TestLake.Execute(connection, "CREATE TABLE retail (doc_id VARCHAR PRIMARY KEY, invoice VARCHAR NOT NULL); CREATE TABLE other (a INTEGER)");
        }

        var wrong = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { DatabasePath = path }).HistogramAsync(All));
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { DatabasePath = path, TableName = "trans" }).HistogramAsync(All));

        Assert.Contains("(doc_id, invoice)", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("doc_key", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("TableName", wrong.Message, StringComparison.Ordinal);
        Assert.Contains($"no table 'trans'", missing.Message, StringComparison.Ordinal);
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateSpeedLayerView_NotADatabase_FailsNamingThePath()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "speed.duckdb");
        await File.WriteAllTextAsync(path, "not a DuckDB database, but long enough to have a header of sorts: " + new string('x', 8192));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { DatabasePath = path }).HistogramAsync(All));

        Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("not a DuckDB", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadOnly_IndexFile_ReadOnlyOfflineAndLockedLikeTheIndex()
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        await using (var index = new DuckDbUpsertIndex(options)) await index.UpsertAsync(SpreadDocuments()[..10]);

        using var connection = DuckDbSpeedLayerView.OpenReadOnly(options.ResolveDatabasePath(), threads: 1, memoryLimit: "256MB");

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT current_setting('access_mode'), current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions'), " +
                "current_setting('enable_external_access'), current_setting('lock_configuration'), current_setting('threads')";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal<object?>(["read_only", false, false, false, true, 1L], Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue));
        }
        Assert.ThrowsAny<DuckDBException>(() => TestLake.Execute(connection, "DELETE FROM retail"));
        Assert.ThrowsAny<DuckDBException>(() => TestLake.Execute(connection, "SET enable_external_access = true"));
    }

    [Fact]
    public void CreateSpeedLayerView_BadOrInMemoryOptions_ArgumentExceptionNamingTheSetting()
    {
        var bad = Assert.Throws<ArgumentException>(() => DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions()));
        var memory = Assert.Throws<ArgumentException>(() => DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { DatabasePath = ":memory:" }));

        Assert.Contains("DuckDbIndexOptions.DatabasePath is required", bad.Message, StringComparison.Ordinal);
        Assert.Contains("DuckDbIndexOptions.DatabasePath is ':memory:'", memory.Message, StringComparison.Ordinal);
        Assert.False(typeof(DuckDbFactory).Assembly.GetType("Retail.Sinks.DuckDb.DuckDbSpeedLayerView", throwOnError: true)!.IsPublic);
    }

    [Fact]
    public async Task AddDuckDbUpsertIndex_SpeedLayerView_TheSameIndexInstance()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddDuckDbUpsertIndex(o => o.DatabasePath = ":memory:")
            .AddDuckDbUpsertIndex("b", o => o.DatabasePath = Path.Combine(dir.Path, "b.duckdb"))
            .AddDuckDbUpsertIndex("b", o => o.TableName = "trans");
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var view = provider.GetRequiredService<ISpeedLayerView>();
        var named = provider.GetRequiredKeyedService<ISpeedLayerView>("b");
        await provider.GetRequiredKeyedService<IUpsertIndex>("b").UpsertAsync([Doc("x", new DateTime(2010, 1, 1, 8, 0, 0), 4)]);

        Assert.Same(provider.GetRequiredService<DuckDbUpsertIndex>(), view);
        Assert.Same(provider.GetRequiredService<IUpsertIndex>(), view);
        Assert.Same(provider.GetRequiredKeyedService<DuckDbUpsertIndex>("b"), named);
        Assert.Single(services, d => d.ServiceType == typeof(ISpeedLayerView) && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(ISpeedLayerView) && d.IsKeyedService && Equals(d.ServiceKey, "b"));
        Assert.Equal([new HistogramBucket(new DateTime(2010, 1, 1), 1, 4)], (await named.HistogramAsync(All)).Buckets);
        Assert.Empty((await view.HistogramAsync(All)).Buckets);
    }

    [Fact]
    public void AddDuckDbUpsertIndex_SpeedLayerViewRegisteredBefore_Kept()
    {
        using var dir = new TempDir();
        var services = new ServiceCollection();
        var registered = DuckDbFactory.CreateSpeedLayerView(new DuckDbIndexOptions { LakePath = dir.Path });
        services.AddSingleton(registered);
        new RetailBuilder(services).AddDuckDbUpsertIndex(o => o.DatabasePath = ":memory:");
        using var provider = services.BuildServiceProvider();

        Assert.Same(registered, provider.GetRequiredService<ISpeedLayerView>());
    }

    // --- documents and the independent computation ---

    private static HistogramBucket B(int year, int month, int day, long documents, long quantity) => new(new DateTime(year, month, day), documents, quantity);

    private static IndexDocument Doc(string id, DateTime date, int quantity, string country = "United Kingdom") => new(id, new RetailTransaction
    {
        Invoice = "536365", StockCode = "85123A", Description = "WHITE HANGING HEART T-LIGHT HOLDER", Quantity = quantity,
        InvoiceDate = date, Price = 2.55m, CustomerId = "17850", Country = country,
    });

    /// <summary>Records either side of week and month boundaries (quantities 1 to 10, one negative, a cancellation).</summary>
    private static List<IndexDocument> BoundaryDocuments() =>
    [
        Doc("sunday-end", new DateTime(2010, 1, 3, 23, 59, 59), 3),
        Doc("monday-start", new DateTime(2010, 1, 4, 0, 0, 0), -2),
        Doc("january-end", new DateTime(2010, 1, 31, 23, 59, 59), 4),
        Doc("february-start", new DateTime(2010, 2, 1, 0, 0, 0), 5),
        Doc("year-end-friday", new DateTime(2010, 12, 31, 23, 59, 59), 6),
        Doc("new-year-saturday", new DateTime(2011, 1, 1, 0, 0, 0), 7),
        Doc("first-monday", new DateTime(2011, 1, 3, 0, 0, 0), 8),
        Doc("leap-day", new DateTime(2012, 2, 29, 12, 0, 0), 9),
        Doc("march-start", new DateTime(2012, 3, 1, 0, 0, 0), 10),
    ];

    /// <summary>About 5,000 synthetic records over 14 months (the generator's days, 79 hours apart), and the boundary records.</summary>
    internal static List<IndexDocument> SpreadDocuments()
    {
        var docs = new List<IndexDocument>();
        for (int k = 0; k < 130; k++)
        {
            var generator = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = (ulong)k + 1, Clock = new DateTime(2009, 12, 1, 22, 0, 0).AddHours(79 * k) });
            foreach (var r in generator.Generate(40)) docs.Add(new IndexDocument("s" + docs.Count.ToString(CultureInfo.InvariantCulture), r));
        }
        docs.AddRange(BoundaryDocuments());
        return docs;
    }

    /// <summary>The histogram by LINQ: each bucket's start from the calendar (ISO weeks start on Monday), filters as the contract says.</summary>
    private static SpeedLayerHistogram Expected(IReadOnlyList<IndexDocument> docs, SpeedLayerHistogramRequest request)
    {
        var matching = docs.Select(d => d.Record)
            .Where(r => (request.From is not { } f || r.InvoiceDate >= f) && (request.To is not { } t || r.InvoiceDate < t))
            .Where(r => request.Country is null || string.Equals(r.Country, request.Country, StringComparison.Ordinal))
            .ToList();
        var buckets = matching.GroupBy(r => Start(r.InvoiceDate, request.Interval)).OrderBy(g => g.Key)
            .Select(g => new HistogramBucket(g.Key, g.LongCount(), g.Sum(r => (long)r.Quantity))).ToList();
        return new SpeedLayerHistogram(buckets.Take(request.MaxBuckets).ToList(), matching.Count, matching.Sum(r => (long)r.Quantity), buckets.Count > request.MaxBuckets);
    }

    private static DateTime Start(DateTime d, HistogramInterval interval) => interval switch
    {
        HistogramInterval.Minute => new DateTime(d.Year, d.Month, d.Day, d.Hour, d.Minute, 0),
        HistogramInterval.Hour => new DateTime(d.Year, d.Month, d.Day, d.Hour, 0, 0),
        HistogramInterval.Day => d.Date,
        HistogramInterval.Week => d.Date.AddDays(-(((int)d.DayOfWeek + 6) % 7)),
        HistogramInterval.Month => new DateTime(d.Year, d.Month, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(interval)),
    };

    private static void AssertHistogram(SpeedLayerHistogram expected, SpeedLayerHistogram actual)
    {
        Assert.Equal((expected.Documents, expected.Quantity, expected.Truncated, expected.Buckets.Count), (actual.Documents, actual.Quantity, actual.Truncated, actual.Buckets.Count));
        Assert.Equal(expected.Buckets, actual.Buckets);
    }
}

/// <summary>A second process running this assembly's <see cref="Program.Main"/>.</summary>
internal static class ChildProcess
{
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        return Process.Start(start)!;
    }

    public static async Task<string> ErrorsAsync(Process process)
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        return await process.StandardError.ReadToEndAsync();
    }
}

/// <summary>
/// The test assembly as a program, for tests that need a second process: <c>hold-index PATH SKIP</c> opens the upsert
/// index at PATH, upserts the spread documents after the first SKIP, prints <c>open</c> and keeps the index open until
/// its standard input closes.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["hold-index", var path, var skip])
        {
            Console.Error.WriteLine("usage: hold-index PATH SKIP");
            return 2;
        }
        using var index = new DuckDbUpsertIndex(path);
        var docs = SpeedLayerViewTests.SpreadDocuments().Skip(int.Parse(skip, CultureInfo.InvariantCulture)).ToList();
        var result = index.UpsertAsync(docs).AsTask().GetAwaiter().GetResult();
        if (result.FailedCount > 0)
        {
            Console.Error.WriteLine($"{result.FailedCount} documents failed");
            return 1;
        }
        Console.WriteLine("open");
        Console.In.ReadToEnd();
        return 0;
    }
}
