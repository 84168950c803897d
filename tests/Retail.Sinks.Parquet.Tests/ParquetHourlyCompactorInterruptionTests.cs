using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>
/// What a killed compaction leaves behind, and two compactions of one hour at once: the next run removes a dead
/// run's temporary files, and never a live run's.
/// </summary>
public sealed class ParquetHourlyCompactorInterruptionTests : IDisposable
{
    private static readonly DateTime Hour7 = TestLake.Hour7;
    private static readonly DateTime Hour8 = TestLake.Hour7.AddHours(1);
    private static readonly DateTimeOffset Later = new(2009, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private readonly TestLake _lake = new();
    private readonly string _work;

    public ParquetHourlyCompactorInterruptionTests()
    {
        _work = Path.Combine(_lake.Root + "-work");
        Directory.CreateDirectory(_work);
    }

    public void Dispose()
    {
        _lake.Dispose();
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private ParquetHourlyCompactor Compactor(IObjectStore? store = null, Action<ParquetCompactorOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ParquetCompactorOptions { LocalTempPath = _work, MaxRowsPerFile = 120 };
        configure?.Invoke(options);
        return new ParquetHourlyCompactor(store ?? _lake.Store, options, time);
    }

    private string TableFolder(DateTime hour) => Path.GetDirectoryName(_lake.Store.GetPath(TestLake.TablePrefix(hour) + "x"))!;

    private string ManifestFolder(DateTime hour) => Path.GetDirectoryName(_lake.Store.GetPath(TestLake.ManifestKey(hour)))!;

    /// <summary>Every temporary file in the lake: the store's partial puts, which it never lists.</summary>
    private List<string> LakeTemporaries() =>
        Directory.EnumerateFiles(_lake.Root, HourCompactionRun.StoreTempMarker + "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

    private List<string> WorkEntries() => Directory.EnumerateFileSystemEntries(_work).Order(StringComparer.Ordinal).ToList();

    /// <summary>Pauses the put of <paramref name="key"/> inside the store (its temporary file exists) until released.</summary>
    private static PausedPut PauseInsidePut(ParquetHourlyCompactor compactor, string key)
    {
        var paused = new PausedPut();
        compactor.PublishContent = (k, content) => k == key ? new PausingStream(content, paused) : content;
        return paused;
    }

    [Fact]
    public async Task CompactAsync_LeftoversOfKilledRun_NextRunRemovesThemAndTableEqualsJson()
    {
        var rows = TestLake.Records(300, Hour7);
        _lake.WriteObject(Hour7, rows.Take(100));
        _lake.WriteObject(Hour7, rows.Skip(100));

        // Run 1 publishes part-00000, then stops inside the put of part-00001: what a kill at that instant leaves is
        // copied (the store's partial part, the run's work folder), then run 1 is failed, and the copies restored.
        var first = Compactor();
        var paused = PauseInsidePut(first, TestLake.TablePrefix(Hour7) + "part-00001.parquet");
        var run1 = first.CompactAsync(Later).AsTask();
        await paused.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var partial = Assert.Single(Directory.GetFiles(TableFolder(Hour7), HourCompactionRun.StoreTempMarker + "*"));
        string liveWork = Assert.Single(Directory.GetDirectories(_work));
        var workFiles = Directory.GetFiles(liveWork).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        byte[] part1 = workFiles["part-00001.parquet"];
        byte[] partialBytes = part1[..(part1.Length / 2)]; // the store's copy had got halfway (its writer holds it locked)
        paused.Release.SetException(new IOException("simulated kill"));
        Assert.Equal(HourCompactionOutcome.Failed, Assert.Single((await run1).Hours).Outcome);
        Assert.Empty(LakeTemporaries()); // an exception cleans up after itself; a kill does not:
        File.WriteAllBytes(partial, partialBytes);
        Directory.CreateDirectory(liveWork);
        foreach (var (name, bytes) in workFiles) File.WriteAllBytes(Path.Combine(liveWork, name), bytes);
        File.WriteAllText(liveWork + ".lock", ""); // released by the kernel when the process died
        // A kill during the manifest's put leaves a partial manifest beside it.
        string partialManifest = Path.Combine(ManifestFolder(Hour7), HourCompactionRun.StoreTempMarker + Guid.NewGuid().ToString("N"));
        File.WriteAllText(partialManifest, "{\"version\":1,\"hour\":\"2009-12-01T07:00:00\",\"par");
        Assert.Equal(new[] { partialManifest, partial }.Order(StringComparer.Ordinal), LakeTemporaries());
        Assert.Equal([TestLake.TablePrefix(Hour7) + "part-00000.parquet"], _lake.ParquetKeys()); // published, uncommitted

        var again = Assert.Single((await Compactor().CompactAsync(Later)).Hours);

        Assert.Equal((HourCompactionOutcome.Compacted, 300L), (again.Outcome, again.RowsOut));
        Assert.Empty(LakeTemporaries());
        Assert.Empty(WorkEntries());
        Assert.Equal(3, _lake.ParquetKeys().Count);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_CancelledAfterPartWrittenBeforePublish_NoTemporaryLeftAndRerunExact()
    {
        var rows = TestLake.Records(200, Hour7);
        _lake.WriteObject(Hour7, rows);
        using var cts = new CancellationTokenSource();
        var cancelled = Compactor();
        cancelled.BeforePublish = (_, _) =>
        {
            Assert.NotEmpty(Directory.GetFiles(Assert.Single(Directory.GetDirectories(_work)))); // the part is written
            cts.Cancel();
            return ValueTask.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.CompactAsync(Later, cancellationToken: cts.Token).AsTask());
        Assert.Empty(_lake.ParquetKeys());

        var again = Assert.Single((await Compactor().CompactAsync(Later)).Hours);
        Assert.Equal(HourCompactionOutcome.Compacted, again.Outcome);
        Assert.Empty(LakeTemporaries());
        Assert.Empty(WorkEntries());
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactHourAsync_SecondRunWhileFirstIsInsidePut_LiveTemporaryKeptSecondWaitsThenUpToDate()
    {
        var rows7 = TestLake.Records(100, Hour7);
        var rows8 = TestLake.Records(50, Hour8, seed: 2, firstInvoice: 600000);
        _lake.WriteObject(Hour7, rows7);
        _lake.WriteObject(Hour8, rows8);
        var first = Compactor();
        var paused = PauseInsidePut(first, TestLake.TablePrefix(Hour7) + "part-00000.parquet");
        var run1 = first.CompactHourAsync(Hour7).AsTask();
        await paused.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        string live = Assert.Single(Directory.GetFiles(TableFolder(Hour7), HourCompactionRun.StoreTempMarker + "*"));
        string liveWork = Assert.Single(Directory.GetDirectories(_work));

        // A run that does not wait: the hour is refused, naming why; the live run's files are untouched.
        var refused = await Compactor(configure: o => o.LockWaitTimeout = TimeSpan.Zero).CompactHourAsync(Hour7);
        Assert.Equal(HourCompactionOutcome.Failed, refused.Outcome);
        Assert.Contains("is being compacted by another run", refused.Error, StringComparison.Ordinal);
        Assert.Contains(TestLake.LockKey(Hour7), refused.Error, StringComparison.Ordinal);

        // A pass over another hour at the same time: its work-folder clean-up skips the live run's folder.
        var other = await Compactor().CompactHourAsync(Hour8);
        Assert.Equal(HourCompactionOutcome.Compacted, other.Outcome);

        // A run that waits: it finds the hour busy, and goes on once the first run has committed.
        var waiting = Compactor();
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.HourBusy = (_, _) => { busy.TrySetResult(); return ValueTask.CompletedTask; };
        var run3 = waiting.CompactHourAsync(Hour7).AsTask();
        await busy.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(File.Exists(live), "a live run's temporary file was removed");
        Assert.True(Directory.Exists(liveWork), "a live run's work folder was removed");
        Assert.Empty(_lake.Keys(TestLake.TablePrefix(Hour7)));

        paused.Release.SetResult();
        Assert.Equal(HourCompactionOutcome.Compacted, (await run1).Outcome);
        Assert.Equal(HourCompactionOutcome.UpToDate, (await run3.WaitAsync(TimeSpan.FromSeconds(30))).Outcome);
        Assert.Empty(LakeTemporaries());
        Assert.Empty(WorkEntries());
        _lake.AssertTableEquals([.. rows7, .. rows8]);
    }

    [Fact]
    public async Task CompactHourAsync_StoreWithoutOsLocksWhileFirstRunHoldsLease_SecondRefusedFirstCommits()
    {
        var rows = TestLake.Records(100, Hour7);
        _lake.WriteObject(Hour7, rows);
        var store = new ForwardingStore(_lake.Store);
        var first = Compactor(store);
        var atPublish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        first.BeforePublish = async (_, _) => { atPublish.TrySetResult(); await release.Task; };
        var run1 = first.CompactHourAsync(Hour7).AsTask();
        await atPublish.Task.WaitAsync(TimeSpan.FromSeconds(30));

        using (var lease = JsonDocument.Parse(_lake.Bytes(TestLake.LockKey(Hour7))))
            Assert.True(lease.RootElement.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        var refused = await Compactor(store, o => o.LockWaitTimeout = TimeSpan.Zero).CompactHourAsync(Hour7);
        Assert.Equal(HourCompactionOutcome.Failed, refused.Outcome);
        Assert.Contains("whose lease " + TestLake.LockKey(Hour7) + " runs until", refused.Error, StringComparison.Ordinal);

        release.SetResult();
        Assert.Equal(HourCompactionOutcome.Compacted, (await run1).Outcome);
        Assert.False(_lake.Exists(TestLake.LockKey(Hour7))); // released
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactHourAsync_StoreWithoutOsLocksAndLeaseOfKilledRun_RefusedUntilItLapses()
    {
        var rows = TestLake.Records(40, Hour7);
        _lake.WriteObject(Hour7, rows);
        var time = new FakeTimeProvider(new DateTimeOffset(2009, 12, 2, 0, 0, 0, TimeSpan.Zero));
        await _lake.Store.PutAsync(TestLake.LockKey(Hour7), JsonSerializer.SerializeToUtf8Bytes(new Lease("deadbeef", "process 1 on elsewhere", time.GetUtcNow().AddMinutes(2)), LeaseJsonContext.Default.Lease));
        var store = new ForwardingStore(_lake.Store);

        var refused = await Compactor(store, o => o.LockWaitTimeout = TimeSpan.Zero, time).CompactHourAsync(Hour7);
        Assert.Equal(HourCompactionOutcome.Failed, refused.Outcome);
        Assert.Contains("run deadbeef (process 1 on elsewhere)", refused.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.ParquetKeys());

        time.Advance(TimeSpan.FromMinutes(2));
        var taken = await Compactor(store, o => o.LockWaitTimeout = TimeSpan.Zero, time).CompactHourAsync(Hour7);
        Assert.Equal(HourCompactionOutcome.Compacted, taken.Outcome);
        Assert.False(_lake.Exists(TestLake.LockKey(Hour7)));
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactHourAsync_LeaseLapsedAndTakenWhileRunWorked_RunFailsBeforePublishing()
    {
        _lake.WriteObject(Hour7, TestLake.Records(40, Hour7));
        var time = new FakeTimeProvider(new DateTimeOffset(2009, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var store = new ForwardingStore(_lake.Store);
        var slow = Compactor(store, o => o.LeaseDuration = TimeSpan.FromMinutes(1), time);
        slow.BeforePublish = async (_, ct) =>
        {
            // The run stalls past its lease; another run takes the hour.
            time.Advance(TimeSpan.FromMinutes(2));
            await _lake.Store.PutAsync(TestLake.LockKey(Hour7), JsonSerializer.SerializeToUtf8Bytes(new Lease("other", "process 2 on elsewhere", time.GetUtcNow().AddMinutes(1)), LeaseJsonContext.Default.Lease), ct);
        };

        var lost = await slow.CompactHourAsync(Hour7);

        Assert.Equal(HourCompactionOutcome.Failed, lost.Outcome);
        Assert.Contains("lost the hour's lease " + TestLake.LockKey(Hour7) + " to run other", lost.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.ParquetKeys());
        Assert.False(_lake.Exists(TestLake.ManifestKey(Hour7)));
        Assert.True(_lake.Exists(TestLake.LockKey(Hour7))); // the other run's lease is not released by the loser
    }

    /// <summary>The local lake behind <see cref="IObjectStore"/> alone, like a remote store: no OS locks, no local paths.</summary>
    private sealed class ForwardingStore(IObjectStore inner) : IObjectStore
    {
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.PutAsync(key, data, cancellationToken);
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, cancellationToken);
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) => inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    private sealed class PausedPut
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A read-only stream whose first read signals <see cref="PausedPut.Entered"/> and waits for <see cref="PausedPut.Release"/>.</summary>
    private sealed class PausingStream(Stream inner, PausedPut paused) : Stream
    {
        private bool _released;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the store reads asynchronously");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_released)
            {
                paused.Entered.TrySetResult();
                await paused.Release.Task.ConfigureAwait(false);
                _released = true;
            }
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
