using System.Diagnostics.Metrics;
using System.Text.Json;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

public sealed class ParquetHourlyCompactorTests : IDisposable
{
    private static readonly DateTime Hour7 = TestLake.Hour7;
    private static readonly DateTimeOffset Later = new(2009, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private readonly TestLake _lake = new();

    public void Dispose() => _lake.Dispose();

    private ParquetHourlyCompactor Compactor(Action<ParquetCompactorOptions>? configure = null)
    {
        var options = new ParquetCompactorOptions();
        configure?.Invoke(options);
        return new ParquetHourlyCompactor(_lake.Store, options);
    }

    private static string Part(int i) => TestLake.TablePrefix(Hour7) + $"part-{i:00000}.parquet";

    private long CountFile(string key) => Convert.ToInt64(_lake.Scalar($"SELECT count(*) FROM read_parquet('{_lake.Store.GetPath(key)}')"), System.Globalization.CultureInfo.InvariantCulture);

    private JsonElement Manifest()
    {
        using var doc = JsonDocument.Parse(_lake.Bytes(TestLake.ManifestKey(Hour7)));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task CompactHourAsync_ThreeObjects_OnePartAndManifestOutsideTable()
    {
        var a = TestLake.Records(100, Hour7, seed: 1);
        var b = TestLake.Records(50, Hour7, seed: 2, firstInvoice: 600000);
        var c = TestLake.Records(1, Hour7, seed: 3, firstInvoice: 700000);
        string ka = _lake.WriteObject(Hour7, a), kb = _lake.WriteObject(Hour7, b), kc = _lake.WriteObject(Hour7, c);

        var result = await Compactor().CompactHourAsync(Hour7.AddMinutes(30));

        Assert.Equal(new HourCompaction(Hour7, HourCompactionOutcome.Compacted, 3, 151, 151, 1, new FileInfo(_lake.Store.GetPath(Part(0))).Length), result);
        Assert.Equal([Part(0)], _lake.ParquetKeys());
        Assert.Equal("_retail/compaction/parquet-retail-trans/year=2009/month=12/day=01/hour=07/manifest.json", TestLake.ManifestKey(Hour7));
        var manifest = Manifest();
        var part = Assert.Single(manifest.GetProperty("parts").EnumerateArray());
        Assert.Equal(Part(0), part.GetProperty("key").GetString());
        Assert.Equal(151, part.GetProperty("rows").GetInt64());
        Assert.Equal([ka, kb, kc], part.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("key").GetString()));
        Assert.Equal(_lake.Bytes(ka).Length, part.GetProperty("sources")[0].GetProperty("size").GetInt64());
        Assert.Equal([100L, 50L, 1L], part.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("rows").GetInt64()));
        _lake.AssertTableEquals([.. a, .. b, .. c]);
    }

    [Fact]
    public async Task CompactAsync_FakeTimeProvider_ManifestRecordsItsTime()
    {
        _lake.WriteObject(Hour7, TestLake.Records(5, Hour7));
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2009, 12, 1, 8, 5, 0, TimeSpan.Zero));
        var compactor = new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions(), time);

        await compactor.CompactAsync(time.GetUtcNow());

        Assert.Equal(new DateTimeOffset(2009, 12, 1, 8, 5, 0, TimeSpan.Zero), Manifest().GetProperty("compactedAt").GetDateTimeOffset());
        Assert.Equal("2009-12-01T07:00:00", Manifest().GetProperty("hour").GetString());
    }

    [Fact]
    public async Task CompactAsync_RunTwice_SecondIsUpToDateAndBytesUnchanged()
    {
        var rows = TestLake.Records(200, Hour7);
        _lake.WriteObject(Hour7, rows.Take(120));
        _lake.WriteObject(Hour7, rows.Skip(120));
        var compactor = Compactor();
        await compactor.CompactAsync(Later);
        byte[] part = _lake.Bytes(Part(0));
        byte[] manifest = _lake.Bytes(TestLake.ManifestKey(Hour7));
        var written = File.GetLastWriteTimeUtc(_lake.Store.GetPath(Part(0)));

        var second = await compactor.CompactAsync(Later);

        var hour = Assert.Single(second.Hours);
        Assert.Equal(new HourCompaction(Hour7, HourCompactionOutcome.UpToDate, 2, 0, 0, 0, 0), hour);
        Assert.Equal(part, _lake.Bytes(Part(0)));
        Assert.Equal(manifest, _lake.Bytes(TestLake.ManifestKey(Hour7)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(_lake.Store.GetPath(Part(0))));
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_SameInputInTwoLakes_ByteIdenticalParts()
    {
        var rows = TestLake.Records(500, Hour7);
        using var other = new TestLake();
        foreach (var lake in new[] { _lake, other })
        {
            lake.WriteObject(Hour7, rows.Take(300), "a");
            lake.WriteObject(Hour7, rows.Skip(300), "b");
            await new ParquetHourlyCompactor(lake.Store, new ParquetCompactorOptions { MaxRowsPerFile = 200 }).CompactAsync(Later);
        }
        Assert.Equal(3, _lake.ParquetKeys().Count);
        foreach (var key in _lake.ParquetKeys()) Assert.Equal(_lake.Bytes(key), other.Bytes(key));
    }

    [Fact]
    public async Task CompactAsync_SmallMaxRowsPerFile_SeveralPartsEachBoundedTotalExact()
    {
        var rows = TestLake.Records(1051, Hour7);
        for (int i = 0; i < rows.Count; i += 150) _lake.WriteObject(Hour7, rows.Skip(i).Take(150));

        var report = await Compactor(o => { o.MaxRowsPerFile = 300; o.RowGroupSize = 64; }).CompactAsync(Later);

        Assert.Equal(4, report.FilesWritten);
        Assert.Equal([Part(0), Part(1), Part(2), Part(3)], _lake.ParquetKeys());
        var parts = Manifest().GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal([300L, 300L, 300L, 151L], parts.Select(p => p.GetProperty("rows").GetInt64()));
        // Objects are split across parts; each part's sources add up to its rows.
        Assert.All(parts, p => Assert.Equal(p.GetProperty("rows").GetInt64(), p.GetProperty("sources").EnumerateArray().Sum(s => s.GetProperty("rows").GetInt64())));
        for (int i = 0; i < 4; i++) Assert.Equal(parts[i].GetProperty("rows").GetInt64(), CountFile(Part(i)));
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_ObjectsSpanningBatchesRowGroupsAndParts_EveryRowOnce()
    {
        // Objects larger than a parser batch (16,384 rows), parsed in parallel, split across row groups and parts.
        var rows = TestLake.Records(100_000, Hour7, seed: 11);
        _lake.WriteObject(Hour7, rows.Take(45_000), "a");
        _lake.WriteObject(Hour7, rows.Skip(45_000).Take(5), "b");
        _lake.WriteObject(Hour7, rows.Skip(45_005), "c");

        var hour = Assert.Single((await Compactor(o => { o.MaxRowsPerFile = 30_000; o.RowGroupSize = 7_000; o.MaxParallelObjects = 3; }).CompactAsync(Later)).Hours);

        Assert.Equal((HourCompactionOutcome.Compacted, 100_000L, 4), (hour.Outcome, hour.RowsOut, hour.FilesWritten));
        var parts = Manifest().GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal([30_000L, 30_000L, 30_000L, 10_000L], parts.Select(p => p.GetProperty("rows").GetInt64()));
        Assert.Equal(["a"], parts[0].GetProperty("sources").EnumerateArray().Select(x => x.GetProperty("key").GetString()![^1..]));
        Assert.Equal(["a", "b", "c"], parts[1].GetProperty("sources").EnumerateArray().Select(x => x.GetProperty("key").GetString()![^1..]));
        Assert.Equal([15_000L, 5L, 14_995L], parts[1].GetProperty("sources").EnumerateArray().Select(x => x.GetProperty("rows").GetInt64()));
        _lake.AssertTableEquals(rows);
        // Rows are written in arrival order: the first part holds exactly the first 30,000 rows of "a".
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT invoice, stockcode, quantity FROM read_parquet('{_lake.Store.GetPath(Part(0))}', file_row_number=true) ORDER BY file_row_number";
        using var reader = cmd.ExecuteReader();
        for (int i = 0; reader.Read(); i++)
            Assert.Equal((rows[i].Invoice, rows[i].StockCode, rows[i].Quantity), (reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
    }

    [Fact]
    public async Task CompactAsync_LateObject_RewritesOnlyLastPartNoDuplicates()
    {
        var first = TestLake.Records(250, Hour7, seed: 1);
        _lake.WriteObject(Hour7, first, "a");
        var compactor = Compactor(o => o.MaxRowsPerFile = 200);
        await compactor.CompactAsync(Later);
        byte[] part0 = _lake.Bytes(Part(0));
        var part0Written = File.GetLastWriteTimeUtc(_lake.Store.GetPath(Part(0)));
        var lastBefore = _lake.ReadAll().Count; // 250

        var late = TestLake.Records(30, Hour7, seed: 9, firstInvoice: 900000);
        string lateKey = _lake.WriteObject(Hour7, late, "b");
        var report = await compactor.CompactAsync(Later.AddHours(5));

        var hour = Assert.Single(report.Hours);
        Assert.Equal(HourCompactionOutcome.Compacted, hour.Outcome);
        Assert.Equal((30L, 30L, 1, 2), (hour.RowsIn, hour.RowsOut, hour.FilesWritten, hour.SourceObjects));
        Assert.Equal(part0, _lake.Bytes(Part(0)));
        Assert.Equal(part0Written, File.GetLastWriteTimeUtc(_lake.Store.GetPath(Part(0))));
        Assert.Equal([Part(0), Part(1)], _lake.ParquetKeys());
        var parts = Manifest().GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal([200L, 80L], parts.Select(p => p.GetProperty("rows").GetInt64()));
        Assert.Equal([TestLake.HourPrefix(Hour7) + "a", lateKey], parts[1].GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("key").GetString()));
        Assert.Equal([50L, 30L], parts[1].GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("rows").GetInt64()));
        Assert.Equal(250, lastBefore);
        _lake.AssertTableEquals([.. first, .. late]);
    }

    [Fact]
    public async Task CompactAsync_LateObjectsBeyondMaxRows_FillLastPartThenAppendParts()
    {
        var first = TestLake.Records(150, Hour7, seed: 1);
        _lake.WriteObject(Hour7, first, "a");
        var compactor = Compactor(o => o.MaxRowsPerFile = 200);
        await compactor.CompactAsync(Later);

        var late = TestLake.Records(290, Hour7, seed: 5, firstInvoice: 800000);
        _lake.WriteObject(Hour7, late, "b");
        var hour = Assert.Single((await compactor.CompactAsync(Later)).Hours);

        Assert.Equal((290L, 3), (hour.RowsOut, hour.FilesWritten));
        var parts = Manifest().GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal([200L, 200L, 40L], parts.Select(p => p.GetProperty("rows").GetInt64()));
        _lake.AssertTableEquals([.. first, .. late]);

        // The rewritten part kept its published rows first, in their published order.
        using var db = TestLake.OpenDuckDb();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT count(DISTINCT invoice) FILTER (WHERE file_row_number < 150 AND invoice >= '800000') FROM read_parquet('{_lake.Store.GetPath(Part(0))}', file_row_number=true)";
        Assert.Equal(0L, Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task CompactAsync_CrashBetweenWriteAndPublish_NothingPublishedRerunExact()
    {
        var rows = TestLake.Records(300, Hour7);
        _lake.WriteObject(Hour7, rows.Take(100));
        _lake.WriteObject(Hour7, rows.Skip(100));
        var crashing = Compactor(o => o.MaxRowsPerFile = 120);
        crashing.BeforePublish = (_, _) => throw new IOException("simulated crash before publishing");

        var failed = Assert.Single((await crashing.CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, failed.Outcome);
        Assert.Contains("simulated crash", failed.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.Keys(LakeLayout.ParquetPrefix));
        Assert.Equal([TestLake.LockKey(Hour7)], _lake.Keys(LakeLayout.ControlPrefix)); // no manifest: only the hour's (released) lock file
        Assert.Equal(2, _lake.Keys(LakeLayout.JsonPrefix).Count);

        var again = Assert.Single((await Compactor(o => o.MaxRowsPerFile = 120).CompactAsync(Later)).Hours);
        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_CrashBetweenPublishAndManifest_RerunExact()
    {
        var rows = TestLake.Records(300, Hour7);
        _lake.WriteObject(Hour7, rows.Take(100), "a");
        _lake.WriteObject(Hour7, rows.Skip(100), "b");
        var crashing = Compactor(o => o.MaxRowsPerFile = 120);
        crashing.BeforePublish = (key, _) => key.EndsWith("manifest.json", StringComparison.Ordinal) ? throw new IOException("simulated crash before the manifest") : ValueTask.CompletedTask;

        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await crashing.CompactAsync(Later)).Hours).Outcome);
        Assert.Equal(3, _lake.ParquetKeys().Count); // published, uncommitted
        Assert.False(_lake.Exists(TestLake.ManifestKey(Hour7)));

        // Another object arrives before the re-run, changing the plan: still every row exactly once.
        var late = TestLake.Records(10, Hour7, seed: 4, firstInvoice: 900000);
        _lake.WriteObject(Hour7, late, "0-first-by-key");
        var again = Assert.Single((await Compactor(o => o.MaxRowsPerFile = 120).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        Assert.Equal(310, again.RowsOut);
        _lake.AssertTableEquals([.. rows, .. late]);
    }

    [Fact]
    public async Task CompactAsync_CrashAfterRewritingLastPartBeforeManifest_RerunKeepsEachRowOnce()
    {
        var first = TestLake.Records(150, Hour7, seed: 1);
        _lake.WriteObject(Hour7, first, "a");
        await Compactor(o => o.MaxRowsPerFile = 200).CompactAsync(Later);

        // A late object: part 0 is rewritten with 200 rows and part 1 added; the crash comes after part 0 is published.
        var late = TestLake.Records(100, Hour7, seed: 2, firstInvoice: 800000);
        _lake.WriteObject(Hour7, late, "b");
        var crashing = Compactor(o => o.MaxRowsPerFile = 200);
        crashing.BeforePublish = (key, _) => key.EndsWith("part-00001.parquet", StringComparison.Ordinal) ? throw new IOException("simulated crash") : ValueTask.CompletedTask;
        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await crashing.CompactAsync(Later)).Hours).Outcome);
        Assert.Equal(200, _lake.Count()); // part 0 now holds 50 uncommitted rows of "b"; part 1 is not there
        Assert.Equal(150, Manifest().GetProperty("parts")[0].GetProperty("rows").GetInt64());

        // Yet another late object, then the re-run.
        var later = TestLake.Records(20, Hour7, seed: 3, firstInvoice: 850000);
        _lake.WriteObject(Hour7, later, "c");
        var again = Assert.Single((await Compactor(o => o.MaxRowsPerFile = 200).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        Assert.Equal(120, again.RowsOut);
        _lake.AssertTableEquals([.. first, .. late, .. later]);
        Assert.Equal([200L, 70L], Manifest().GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("rows").GetInt64()));
    }

    [Fact]
    public async Task CompactAsync_CrashAfterRewritingLastPartThenMaxRowsLowered_RerunRepairsPart()
    {
        var first = TestLake.Records(150, Hour7, seed: 1);
        _lake.WriteObject(Hour7, first, "a");
        await Compactor(o => o.MaxRowsPerFile = 200).CompactAsync(Later);
        byte[] committed = _lake.Bytes(Part(0));
        var late = TestLake.Records(100, Hour7, seed: 2, firstInvoice: 800000);
        _lake.WriteObject(Hour7, late, "b");
        var crashing = Compactor(o => o.MaxRowsPerFile = 200);
        crashing.BeforePublish = (key, _) => key.EndsWith("part-00001.parquet", StringComparison.Ordinal) ? throw new IOException("simulated crash") : ValueTask.CompletedTask;
        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await crashing.CompactAsync(Later)).Hours).Outcome);
        Assert.Equal(200, CountFile(Part(0)));

        // Re-run with a smaller MaxRowsPerFile: part 0 (150 committed rows) is full, so it is not extended,
        // but its uncommitted 50 rows must go.
        var again = Assert.Single((await Compactor(o => o.MaxRowsPerFile = 150).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        Assert.Equal(committed, _lake.Bytes(Part(0)));
        Assert.Equal([150L, 100L], Manifest().GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("rows").GetInt64()));
        _lake.AssertTableEquals([.. first, .. late]);
    }

    [Fact]
    public async Task CompactAsync_CrashMidwayThroughParts_RerunRemovesLeftoversAndIsExact()
    {
        var rows = TestLake.Records(500, Hour7);
        _lake.WriteObject(Hour7, rows.Take(250), "m");
        _lake.WriteObject(Hour7, rows.Skip(250), "n");
        var crashing = Compactor(o => o.MaxRowsPerFile = 100);
        crashing.BeforePublish = (key, _) => key.EndsWith("part-00004.parquet", StringComparison.Ordinal) ? throw new IOException("simulated crash") : ValueTask.CompletedTask;
        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await crashing.CompactAsync(Later)).Hours).Outcome);
        Assert.Equal(4, _lake.ParquetKeys().Count);

        // The re-run needs fewer parts (a bigger MaxRowsPerFile): the leftovers must not survive as duplicates.
        var again = Assert.Single((await Compactor(o => o.MaxRowsPerFile = 300).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        Assert.Equal([Part(0), Part(1)], _lake.ParquetKeys());
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_MalformedLine_FailsNamingKeyAndLineNothingPublished()
    {
        var good = TestLake.Records(20, Hour7);
        _lake.WriteObject(Hour7, good, "good");
        string line = System.Text.Encoding.UTF8.GetString(Retail.Codecs.RetailJson.ToJsonLine(good[0]));
        string bad = _lake.WriteRaw(Hour7, "bad", line + "\n" + line + "{\"Invoice\":\"1\",\n" + line);

        var hour = Assert.Single((await Compactor().CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(bad + " line 4:", hour.Error, StringComparison.Ordinal); // line 2 is blank
        Assert.Contains("malformed JSON", hour.Error, StringComparison.Ordinal);
        Assert.Equal((0L, 0, 0L), (hour.RowsOut, hour.FilesWritten, hour.BytesWritten));
        Assert.Empty(_lake.Keys(LakeLayout.ParquetPrefix));
        Assert.Equal([TestLake.LockKey(Hour7)], _lake.Keys(LakeLayout.ControlPrefix)); // no manifest: only the hour's (released) lock file
        Assert.True(_lake.Exists(bad));
    }

    [Fact]
    public async Task CompactAsync_PriceWithFiveDecimals_FailsNamingKeyAndLine()
    {
        var rows = TestLake.Records(5, Hour7);
        rows[3] = rows[3] with { Price = 1.23456m };
        rows[4] = rows[4] with { Price = 2.50000m }; // more digits, but nothing to round
        string key = _lake.WriteObject(Hour7, rows);
        // a blank line before the bad record shifts its line number
        await _lake.Store.PutAsync(key, System.Text.Encoding.UTF8.GetBytes("\n" + System.Text.Encoding.UTF8.GetString(_lake.Bytes(key))));

        var hour = Assert.Single((await Compactor().CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(key + " line 5", hour.Error, StringComparison.Ordinal);
        Assert.Contains("1.23456", hour.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.Keys(LakeLayout.ParquetPrefix));
    }

    [Fact]
    public async Task CompactAsync_PriceWithTrailingZeros_Compacted()
    {
        var rows = TestLake.Records(3, Hour7);
        rows[0] = rows[0] with { Price = 2.50000m };
        rows[1] = rows[1] with { Price = 99999.9999m };
        _lake.WriteObject(Hour7, rows);
        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single((await Compactor().CompactAsync(Later)).Hours).Outcome);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_AllClosedGivenNow_CompactsOnlyClosedHours()
    {
        var hour8 = Hour7.AddHours(1);
        _lake.WriteObject(Hour7, TestLake.Records(5, Hour7));
        _lake.WriteObject(hour8, TestLake.Records(5, hour8));
        var compactor = Compactor();
        var seen = new List<HourCompaction>();
        var progress = new SyncProgress(seen.Add);

        var at0804 = await compactor.CompactAsync(new DateTimeOffset(2009, 12, 1, 8, 4, 59, TimeSpan.Zero), CompactionScope.AllClosed, progress);
        Assert.Equal([HourCompactionOutcome.NotClosed, HourCompactionOutcome.NotClosed], at0804.Hours.Select(h => h.Outcome));
        Assert.Equal(at0804.Hours, seen);
        Assert.Empty(_lake.ParquetKeys());

        // 07:00 + 1 h + 5 min grace = 08:05 (an offset is converted to UTC first).
        var at0805 = await compactor.CompactAsync(new DateTimeOffset(2009, 12, 1, 9, 5, 0, TimeSpan.FromHours(1)), CompactionScope.AllClosed);
        Assert.Equal([(Hour7, HourCompactionOutcome.Compacted), (hour8, HourCompactionOutcome.NotClosed)], at0805.Hours.Select(h => (h.Hour, h.Outcome)));

        var open = await compactor.CompactAsync(new DateTimeOffset(2009, 12, 1, 8, 10, 0, TimeSpan.Zero), CompactionScope.All);
        Assert.Equal([HourCompactionOutcome.UpToDate, HourCompactionOutcome.Compacted], open.Hours.Select(h => h.Outcome));
        Assert.Equal(2, _lake.ParquetKeys().Count);
    }

    [Fact]
    public async Task CompactAsync_GraceZero_HourClosedAtItsEnd()
    {
        _lake.WriteObject(Hour7, TestLake.Records(5, Hour7));
        var report = await Compactor(o => o.Grace = TimeSpan.Zero).CompactAsync(new DateTimeOffset(2009, 12, 1, 8, 0, 0, TimeSpan.Zero));
        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single(report.Hours).Outcome);
    }

    [Fact]
    public async Task CompactAsync_DeleteSourceAfterPublish_DeletesOnlyAfterManifest()
    {
        var rows = TestLake.Records(50, Hour7);
        string a = _lake.WriteObject(Hour7, rows.Take(20)), b = _lake.WriteObject(Hour7, rows.Skip(20));
        var events = new List<string>();

        // A crash before the manifest: nothing is deleted.
        var crashing = Compactor(o => o.DeleteSourceAfterPublish = true);
        crashing.BeforePublish = (key, _) => key.EndsWith("manifest.json", StringComparison.Ordinal) ? throw new IOException("crash") : ValueTask.CompletedTask;
        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await crashing.CompactAsync(Later)).Hours).Outcome);
        Assert.True(_lake.Exists(a) && _lake.Exists(b));

        var compactor = Compactor(o => o.DeleteSourceAfterPublish = true);
        compactor.BeforePublish = (key, _) =>
        {
            events.Add($"{key.Split('/')[^1]} sources:{(_lake.Exists(a) ? 1 : 0) + (_lake.Exists(b) ? 1 : 0)}");
            return ValueTask.CompletedTask;
        };
        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single((await compactor.CompactAsync(Later)).Hours).Outcome);

        Assert.Equal(["part-00000.parquet sources:2", "manifest.json sources:2"], events);
        Assert.False(_lake.Exists(a) || _lake.Exists(b));
        Assert.True(_lake.Exists(TestLake.ManifestKey(Hour7)));
        _lake.AssertTableEquals(rows);

        // Nothing left to discover: the next pass has no hours, and the data is still there.
        Assert.Empty((await compactor.CompactAsync(Later)).Hours);
        Assert.Equal(50, _lake.Count());
    }

    [Fact]
    public async Task CompactAsync_DeleteSourceAfterPublishOnUpToDateHour_DeletesCoveredObjects()
    {
        string a = _lake.WriteObject(Hour7, TestLake.Records(10, Hour7));
        await Compactor().CompactAsync(Later);
        Assert.True(_lake.Exists(a));

        var hour = Assert.Single((await Compactor(o => o.DeleteSourceAfterPublish = true).CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.UpToDate, hour.Outcome);
        Assert.False(_lake.Exists(a));
        Assert.Equal(10, _lake.Count());
    }

    [Fact]
    public async Task CompactAsync_BlankLinesAndEmptyObject_IgnoredButCovered()
    {
        var rows = TestLake.Records(3, Hour7);
        string text = string.Concat(rows.Select(r => System.Text.Encoding.UTF8.GetString(Retail.Codecs.RetailJson.ToJsonLine(r)) + "\r\n  \n"));
        _lake.WriteRaw(Hour7, "blanks", "\n" + text);
        string empty = _lake.WriteRaw(Hour7, "empty", "");
        var compactor = Compactor();

        var hour = Assert.Single((await compactor.CompactAsync(Later)).Hours);

        Assert.Equal((HourCompactionOutcome.Compacted, 2, 3L, 3L), (hour.Outcome, hour.SourceObjects, hour.RowsIn, hour.RowsOut));
        Assert.Equal(empty, Manifest().GetProperty("emptySources")[0].GetProperty("key").GetString());
        Assert.Equal(HourCompactionOutcome.UpToDate, Assert.Single((await compactor.CompactAsync(Later)).Hours).Outcome);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_OnlyAnEmptyObject_CommitsManifestWithoutParts()
    {
        _lake.WriteRaw(Hour7, "empty", "\n\n");
        var compactor = Compactor();
        var hour = Assert.Single((await compactor.CompactAsync(Later)).Hours);
        Assert.Equal((HourCompactionOutcome.Compacted, 0, 1), (hour.Outcome, hour.FilesWritten, hour.SourceObjects));
        Assert.Empty(_lake.ParquetKeys());
        Assert.Equal(HourCompactionOutcome.UpToDate, Assert.Single((await compactor.CompactAsync(Later)).Hours).Outcome);
    }

    [Fact]
    public async Task CompactAsync_CompactedObjectChangedSize_FailsWithoutTouchingOutput()
    {
        string a = _lake.WriteObject(Hour7, TestLake.Records(10, Hour7), "a");
        var compactor = Compactor();
        await compactor.CompactAsync(Later);
        byte[] part = _lake.Bytes(Part(0));
        _lake.WriteObject(Hour7, TestLake.Records(11, Hour7), "a");

        var hour = Assert.Single((await compactor.CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(a, hour.Error, StringComparison.Ordinal);
        Assert.Equal(part, _lake.Bytes(Part(0)));
    }

    [Fact]
    public async Task CompactAsync_CompactedObjectSameSizeOtherContent_FailsNamingTheETagsWithoutTouchingOutput()
    {
        string a = _lake.WriteObject(Hour7, TestLake.Records(10, Hour7), "a");
        var compactor = Compactor();
        await compactor.CompactAsync(Later);
        byte[] part = _lake.Bytes(Part(0));
        string before = (await _lake.Store.GetInfoAsync(a))!.ETag;
        string text = System.Text.Encoding.UTF8.GetString(_lake.Bytes(a));
        int q = text.IndexOf("\"Quantity\":", StringComparison.Ordinal) + "\"Quantity\":".Length;
        char digit = text[q] == '9' ? '8' : (char)(text[q] + 1);
        await _lake.Store.PutAsync(a, System.Text.Encoding.UTF8.GetBytes(text[..q] + digit + text[(q + 1)..])); // same size, other rows

        var hour = Assert.Single((await compactor.CompactAsync(Later)).Hours);

        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains(a, hour.Error, StringComparison.Ordinal);
        Assert.Contains($"ETag {before}", hour.Error, StringComparison.Ordinal);
        Assert.Equal(part, _lake.Bytes(Part(0)));
    }

    [Fact]
    public async Task CompactAsync_TrickyStrings_KeptByteForByte()
    {
        var rows = TestLake.Records(6, Hour7);
        rows[0] = rows[0] with { Description = "  £ PAPER \"BUNTING\", WHITE  ", CustomerId = "" };
        rows[1] = rows[1] with { Description = "", StockCode = "BANK CHARGES", Invoice = "C489449", Quantity = -1 };
        rows[2] = rows[2] with { Description = "Ünïcødé 😀 tab\tnew\nline", CustomerId = "13085.0", Country = "EIRE" };
        rows[3] = rows[3] with { Price = 0.0m, StockCode = "POST" };
        rows[4] = rows[4] with { Quantity = int.MinValue, Price = -RetailPrice.MaxMagnitude };
        rows[5] = rows[5] with { Quantity = int.MaxValue, Price = RetailPrice.MaxMagnitude, InvoiceDate = Hour7.AddSeconds(3599) };
        _lake.WriteObject(Hour7, rows);

        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single((await Compactor().CompactAsync(Later)).Hours).Outcome);

        _lake.AssertTableEquals(rows);
        Assert.Equal(1L, _lake.Count("WHERE customer_id = '' AND description LIKE '  £%  '"));
    }

    [Fact]
    public async Task CompactHourAsync_OtherHoursUntouched_OnlyThatHour()
    {
        _lake.WriteObject(Hour7, TestLake.Records(5, Hour7));
        _lake.WriteObject(Hour7.AddHours(1), TestLake.Records(5, Hour7.AddHours(1)));
        var hour = await Compactor().CompactHourAsync(Hour7.AddHours(1).AddMinutes(59));
        Assert.Equal((Hour7.AddHours(1), HourCompactionOutcome.Compacted), (hour.Hour, hour.Outcome));
        Assert.Equal([TestLake.TablePrefix(Hour7.AddHours(1)) + "part-00000.parquet"], _lake.ParquetKeys());
    }

    [Fact]
    public async Task CompactAsync_Counters_CountRowsFilesBytesAndFailedHours()
    {
        _lake.WriteObject(Hour7, TestLake.Records(40, Hour7));
        _lake.WriteRaw(Hour7.AddHours(1), "bad", "not json\n");
        var totals = new Dictionary<string, long>();
        using var meters = new TestMeterFactory();
        var compactor = new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions(), null, null, meters);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this compactor's meter: other tests run compactors at the same time.
            if (meters.Created.Contains(instrument.Meter)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals) totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
        });
        listener.Start();

        var report = await compactor.CompactAsync(Later);

        Assert.Equal(1, report.FailedHours);
        Assert.Equal(40, totals[ParquetCompactorDiagnostics.RowsInCounter]);
        Assert.Equal(40, totals[ParquetCompactorDiagnostics.RowsOutCounter]);
        Assert.Equal(1, totals[ParquetCompactorDiagnostics.FilesCounter]);
        Assert.Equal(report.BytesWritten, totals[ParquetCompactorDiagnostics.BytesCounter]);
        Assert.Equal(1, totals[ParquetCompactorDiagnostics.FailedHoursCounter]);
        Assert.Equal(ParquetCompactorDiagnostics.MeterName, Assert.Single(meters.Created).Name);
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var m in Created) m.Dispose();
        }
    }

    [Fact]
    public async Task CompactAsync_ObjectsOutsideHourPartitions_Ignored()
    {
        await _lake.Store.PutAsync(LakeLayout.JsonPrefix + "2009/12/01/07/legacy-object", "garbage"u8.ToArray());
        _lake.WriteObject(Hour7, TestLake.Records(5, Hour7));
        var hour = Assert.Single((await Compactor().CompactAsync(Later)).Hours);
        Assert.Equal((HourCompactionOutcome.Compacted, 1), (hour.Outcome, hour.SourceObjects));
    }

    private sealed class SyncProgress(Action<HourCompaction> report) : IProgress<HourCompaction>
    {
        public void Report(HourCompaction value) => report(value);
    }
}
