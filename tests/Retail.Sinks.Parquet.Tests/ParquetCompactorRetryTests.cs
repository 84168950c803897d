using System.Net;
using Retail.Compaction;
using Retail.Core.Tests.Resilience;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

/// <summary>The compactor's store calls retry through the one pipeline, on a fake clock and seeded jitter.</summary>
public sealed class ParquetCompactorRetryTests : IDisposable
{
    private static readonly DateTime Hour7 = TestLake.Hour7;
    private static readonly DateTime Hour8 = TestLake.Hour7.AddHours(1);
    private static readonly DateTimeOffset Later = new(2009, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private readonly TestLake _lake = new();

    public void Dispose() => _lake.Dispose();

    /// <summary>
    /// A store that fails with S3's 503 SlowDown: every <see cref="FailEvery"/>th call (0: none), or every call whose
    /// operation and key <see cref="FailWhen"/> picks. A failing stream put first reads the whole stream, as a
    /// connection cut at the end of an upload does, so a retry must rewind it.
    /// </summary>
    private sealed class FlakyStore(IObjectStore inner) : IObjectStore
    {
        public int FailEvery;
        public Func<string, string, bool>? FailWhen;
        public int Calls;
        public int Failures;
        public List<string> Failed { get; } = [];

        private async ValueTask FailOrPassAsync(string operation, string key, Stream? content = null)
        {
            int call = Interlocked.Increment(ref Calls);
            if ((FailEvery > 0 && call % FailEvery == 0) || FailWhen?.Invoke(operation, key) == true)
            {
                Interlocked.Increment(ref Failures);
                lock (Failed) Failed.Add($"{operation} {key}");
                if (content is not null) await content.CopyToAsync(Stream.Null).ConfigureAwait(false);
                throw new HttpRequestException($"503 SlowDown: Please reduce your request rate ({operation} {key}).", null, HttpStatusCode.ServiceUnavailable);
            }
        }

        public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("put", key);
            await inner.PutAsync(key, data, cancellationToken);
        }

        public async ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("put", key, content);
            await inner.PutAsync(key, content, cancellationToken);
        }

        public async ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("get", key);
            return await inner.OpenReadAsync(key, cancellationToken);
        }

        public async ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("head", key);
            return await inner.GetInfoAsync(key, cancellationToken);
        }

        public async ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("list", prefix);
            return await inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        }

        public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            await FailOrPassAsync("delete", key);
            await inner.DeleteAsync(key, cancellationToken);
        }
    }

    private static ParquetCompactorOptions Options(int? maxAttempts = null) => new()
    {
        Retry = new RetryOptions
        {
            MaxAttempts = maxAttempts,
            BaseDelay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(5),
            MaxTotalDuration = TimeSpan.FromMinutes(1),
            Randomizer = new Random(5).NextDouble,
        },
        LocalTempPath = null,
    };

    private long ParquetRows(DateTime hour) => Convert.ToInt64(_lake.Scalar(
        $"SELECT count(*) FROM read_parquet('{Path.Combine(Path.GetDirectoryName(_lake.Store.GetPath(TestLake.TablePrefix(hour) + "x"))!, "*.parquet")}')"),
        System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task CompactAsync_EveryFifthStoreCallFailsTransiently_CompletesWithExactCounts()
    {
        var a = TestLake.Records(100, Hour7, seed: 1);
        var b = TestLake.Records(50, Hour7, seed: 2, firstInvoice: 600000);
        var c = TestLake.Records(30, Hour8, seed: 3, firstInvoice: 700000);
        string ka = _lake.WriteObject(Hour7, a), kb = _lake.WriteObject(Hour7, b), kc = _lake.WriteObject(Hour8, c);
        var store = new FlakyStore(_lake.Store) { FailEvery = 5 };
        var time = new SelfAdvancingTimeProvider();
        var options = Options();
        options.DeleteSourceAfterPublish = true;
        var compactor = new ParquetHourlyCompactor(store, options, time);

        var report = await compactor.CompactAsync(Later);

        Assert.All(report.Hours, h => Assert.Equal(HourCompactionOutcome.Compacted, h.Outcome));
        Assert.Equal([150L, 30L], report.Hours.Select(h => h.RowsIn));
        Assert.Equal([150L, 30L], report.Hours.Select(h => h.RowsOut));
        Assert.Equal(store.Calls / 5, store.Failures);
        Assert.True(store.Failures >= 4, $"only {store.Failures} failures in {store.Calls} calls");
        Assert.Contains(store.Failed, f => f.StartsWith("put ", StringComparison.Ordinal));
        Assert.Equal(store.Failures, time.Delays.Count); // one back-off per failed call, each retried once
        Assert.Equal(150, ParquetRows(Hour7));
        Assert.Equal(30, ParquetRows(Hour8));
        Assert.False(_lake.Exists(ka) || _lake.Exists(kb) || _lake.Exists(kc));
        var again = await new ParquetHourlyCompactor(_lake.Store, Options()).CompactAsync(Later);
        Assert.Empty(again.Hours); // the sources were deleted only after their manifests were written
    }

    [Fact]
    public async Task CompactHourAsync_FlakyStreamPut_RewoundAndPublishedWhole()
    {
        var rows = TestLake.Records(200, Hour7, seed: 4);
        _lake.WriteObject(Hour7, rows);
        int partFailures = 0;
        var store = new FlakyStore(_lake.Store) { FailWhen = (op, key) => op == "put" && key.EndsWith(".parquet", StringComparison.Ordinal) && partFailures++ < 2 };
        var compactor = new ParquetHourlyCompactor(store, Options(), new SelfAdvancingTimeProvider());

        var result = await compactor.CompactHourAsync(Hour7);

        Assert.Equal(HourCompactionOutcome.Compacted, result.Outcome);
        Assert.Equal(2, store.Failures);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactHourAsync_EveryPartPutFails_HourFailsNamingTheErrorPublishesNothingAndALaterRunSucceeds()
    {
        var rows = TestLake.Records(80, Hour7, seed: 6);
        _lake.WriteObject(Hour7, rows);
        var store = new FlakyStore(_lake.Store) { FailWhen = (op, key) => op == "put" && key.StartsWith(LakeLayout.ParquetPrefix, StringComparison.Ordinal) };
        var time = new SelfAdvancingTimeProvider();

        var failed = await new ParquetHourlyCompactor(store, Options(maxAttempts: 3), time).CompactHourAsync(Hour7);

        Assert.Equal(HourCompactionOutcome.Failed, failed.Outcome);
        Assert.Equal(3, store.Failures);
        Assert.Contains("put 'parquet-retail-trans/year=2009/month=12/day=01/hour=07/part-00000.parquet'", failed.Error, StringComparison.Ordinal);
        Assert.Contains("Gave up after 3 attempts", failed.Error, StringComparison.Ordinal);
        Assert.Contains("503 SlowDown", failed.Error, StringComparison.Ordinal);
        Assert.Empty(_lake.ParquetKeys());
        Assert.False(_lake.Exists(TestLake.ManifestKey(Hour7)));

        store.FailWhen = null;
        var later = await new ParquetHourlyCompactor(store, Options(maxAttempts: 3), time).CompactHourAsync(Hour7);
        Assert.Equal(HourCompactionOutcome.Compacted, later.Outcome);
        Assert.Equal(80, later.RowsOut);
        _lake.AssertTableEquals(rows);
    }

    [Fact]
    public async Task CompactAsync_EveryStoreCallFails_StopsAfterMaxAttemptsNamingTheError()
    {
        _lake.WriteObject(Hour7, TestLake.Records(10, Hour7));
        var store = new FlakyStore(_lake.Store) { FailEvery = 1 };
        var time = new SelfAdvancingTimeProvider();

        var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => new ParquetHourlyCompactor(store, Options(maxAttempts: 4), time).CompactAsync(Later).AsTask());

        Assert.Equal(4, store.Calls);
        Assert.Equal(4, e.Attempts);
        Assert.Equal(3, time.Delays.Count);
        // The first listing of the pass: the oldest hour of the 24-hour window that ends at 2009-12-01 22:00.
        Assert.StartsWith("Store list 'json-data/year=2009/month=11/day=30/hour=23/' failed: Gave up after 4 attempts", e.Message, StringComparison.Ordinal);
        Assert.Contains("503 SlowDown", e.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(e.InnerException);
        Assert.Empty(_lake.ParquetKeys());
    }

    [Fact]
    public async Task CompactAsync_NotFoundAndValidationErrors_AreNotRetried()
    {
        // The first run reads a manifest that does not exist yet: not found is an answer, not a failure to retry.
        _lake.WriteObject(Hour7, TestLake.Records(10, Hour7));
        var time = new SelfAdvancingTimeProvider();
        var report = await new ParquetHourlyCompactor(new FlakyStore(_lake.Store), Options(), time).CompactAsync(Later);

        Assert.Equal(HourCompactionOutcome.Compacted, Assert.Single(report.Hours).Outcome);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task CompactAsync_ProgressObserverThrows_EveryHourIsStillCompacted()
    {
        _lake.WriteObject(Hour7, TestLake.Records(10, Hour7));
        _lake.WriteObject(Hour8, TestLake.Records(20, Hour8, firstInvoice: 600000));
        var reported = new List<DateTime>();
        var progress = new ThrowingProgress(h =>
        {
            reported.Add(h.Hour);
            throw new InvalidOperationException("observer bug");
        });

        var report = await new ParquetHourlyCompactor(_lake.Store, new ParquetCompactorOptions()).CompactAsync(Later, progress: progress);

        Assert.Equal([Hour7, Hour8], reported);
        Assert.Equal([HourCompactionOutcome.Compacted, HourCompactionOutcome.Compacted], report.Hours.Select(h => h.Outcome));
        Assert.Equal(10, ParquetRows(Hour7));
        Assert.Equal(20, ParquetRows(Hour8));
    }

    private sealed class ThrowingProgress(Action<HourCompaction> report) : IProgress<HourCompaction>
    {
        public void Report(HourCompaction value) => report(value);
    }
}
