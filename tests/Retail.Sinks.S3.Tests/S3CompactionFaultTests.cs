using System.Globalization;
using System.Net;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Sinks.S3.Tests;

/// <summary>
/// A real compaction (the Parquet compactor over the S3 store on s3rver, built by <c>AddS3Lake</c> and
/// <c>AddParquetCompactor</c>, as an application's container builds it) while S3 throttles: faults are injected at the HTTP layer, below the SDK, and the
/// compactor's retry pipeline (its <see cref="Parquet.ParquetCompactorOptions.Retry"/>, delays of a few milliseconds)
/// is the only thing that retries.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3CompactionFaultTests(S3rverFixture s3rver)
{
    /// <summary>Hours of the real sample compacted (each split into objects of at most 40 rows).</summary>
    private const int SampleHours = 6;

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTime Hour(DateTime t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0);

    /// <summary>The first <see cref="SampleHours"/> hours of the real Online Retail II sample.</summary>
    private static List<RetailTransaction> SampleRows()
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        var hours = reader.ReadAll().GroupBy(r => Hour(r.InvoiceDate)).OrderBy(g => g.Key).Take(SampleHours).ToList();
        Assert.Equal(SampleHours, hours.Count);
        return [.. hours.SelectMany(h => h)];
    }

    /// <summary>Writes the rows as JSON-lines objects under their hours (through a store without faults); returns the object count.</summary>
    private static async Task<int> UploadAsync(IObjectStore store, List<RetailTransaction> rows)
    {
        int objects = 0;
        foreach (var hour in rows.GroupBy(r => Hour(r.InvoiceDate)))
            foreach (var chunk in hour.Chunk(40))
            {
                var ms = new MemoryStream();
                using (var w = new JsonLinesWriter(ms, leaveOpen: true))
                    foreach (var r in chunk) w.Write(r);
                await store.PutAsync(string.Create(CultureInfo.InvariantCulture, $"{LakeLayout.JsonPrefix}{LakeLayout.HourPartition(hour.Key)}retail-trans-1-{hour.Key:yyyy-MM-dd-HH}-{objects:0000}"), ms.ToArray());
                objects++;
            }
        return objects;
    }

    /// <summary>The compactor as an application builds it, over the bucket under <paramref name="prefix"/>, its HTTP through <paramref name="handler"/>.</summary>
    private ServiceProvider Compactor(string prefix, FaultInjectingHandler? handler, int? maxAttempts = null)
    {
        // The SDK's default chain (environment first) gives the store s3rver's credentials.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
        var jitter = new Random(5);
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddS3Lake(o =>
            {
                o.Bucket = S3rverFixture.Bucket;
                o.Prefix = prefix;
                o.ServiceUrl = s3rver.ServiceUrl;
                if (handler is not null) o.ConfigureClient = FaultConfig.Through(handler);
            })
            .AddParquetCompactor(o => o.Retry = new RetryOptions
            {
                MaxAttempts = maxAttempts,
                BaseDelay = TimeSpan.FromMilliseconds(1),
                MaxDelay = TimeSpan.FromMilliseconds(4),
                MaxTotalDuration = TimeSpan.FromMinutes(1),
                Randomizer = () => { lock (jitter) return jitter.NextDouble(); },
            });
        var provider = services.BuildServiceProvider(validateScopes: true);
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }

    /// <summary>The Parquet table in the bucket, copied to a folder and read by DuckDB: (rows, revenue).</summary>
    private static async Task<(long Rows, decimal Revenue, int Parts)> ReadTableAsync(IObjectStore store)
    {
        using var dir = new TempDir();
        int parts = 0;
        await foreach (var o in store.ListAsync(LakeLayout.ParquetPrefix))
        {
            string path = Path.Combine(dir.Path, o.Key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await store.GetBytesAsync(o.Key));
            parts++;
        }
        if (parts == 0) return (0, 0, 0);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;";
        cmd.ExecuteNonQuery();
        cmd.CommandText = $"SELECT count(*), sum(quantity * price)::VARCHAR FROM read_parquet('{dir.Path}/{LakeLayout.ParquetPrefix}*/*/*/*/*.parquet')";
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        return (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture), parts);
    }

    [Fact]
    public async Task CompactAsync_SlowDownOnTwentyPercentOfRequests_CompletesWithExactRowsAndRevenue()
    {
        string prefix = $"compaction-faults-{Guid.NewGuid():N}";
        var clean = s3rver.Store(prefix);
        var rows = SampleRows();
        int objects = await UploadAsync(clean, rows);
        var faults = new SeededFaults(seed: 20, rate: 0.2);
        using var handler = new FaultInjectingHandler((r, _) => faults.Decide(r));
        await using var provider = Compactor(prefix, handler);

        var report = await provider.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All);

        Assert.Equal(0, report.FailedHours);
        Assert.Equal(SampleHours, report.Hours.Count);
        Assert.All(report.Hours, h => Assert.Equal(HourCompactionOutcome.Compacted, h.Outcome));
        Assert.Equal(objects, report.Hours.Sum(h => h.SourceObjects));
        Assert.Equal(rows.Count, report.RowsOut);
        // The faults were real and about one request in five (so the retries did work).
        Assert.InRange(handler.Faults, handler.Seen.Count / 10, handler.Seen.Count * 3 / 10);
        var (count, revenue, parts) = await ReadTableAsync(clean);
        Assert.Equal(SampleHours, parts);
        Assert.Equal(rows.Count, count);
        Assert.Equal(rows.Sum(r => r.Quantity * r.Price), revenue);

        // Idempotent under faults too: a second pass publishes nothing.
        var again = await provider.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All);
        Assert.All(again.Hours, h => Assert.Equal(HourCompactionOutcome.UpToDate, h.Outcome));
        var after = await ReadTableAsync(clean);
        Assert.Equal((rows.Count, revenue, parts), (after.Rows, after.Revenue, after.Parts));
    }

    [Fact]
    public async Task CompactAsync_EveryRequestFails_StopsNamingTheS3ErrorPublishesNothingAndACleanRunSucceeds()
    {
        string prefix = $"compaction-down-{Guid.NewGuid():N}";
        var clean = s3rver.Store(prefix);
        var rows = SampleRows();
        await UploadAsync(clean, rows);
        using var handler = new FaultInjectingHandler((_, _) => HttpStatusCode.ServiceUnavailable);

        await using (var failing = Compactor(prefix, handler, maxAttempts: 3))
        {
            var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => failing.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All).AsTask());

            Assert.Equal(3, e.Attempts);
            Assert.Equal(3, handler.Seen.Count); // the pipeline's attempts only: the SDK does not retry
            Assert.Contains("ListObjectsV2", e.Message, StringComparison.Ordinal);
            Assert.Contains("SlowDown (HTTP 503)", e.Message, StringComparison.Ordinal);
        }
        Assert.Empty(await clean.ListAsync(LakeLayout.ParquetPrefix).ToListAsync());
        Assert.Empty(await clean.ListAsync(LakeLayout.ControlPrefix).ToListAsync());

        await using var provider = Compactor(prefix, handler: null);
        var report = await provider.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All);

        Assert.Equal(0, report.FailedHours);
        Assert.Equal(rows.Count, report.RowsOut);
        var (count, revenue, _) = await ReadTableAsync(clean);
        Assert.Equal(rows.Count, count);
        Assert.Equal(rows.Sum(r => r.Quantity * r.Price), revenue);
    }

    [Fact]
    public async Task CompactAsync_EveryParquetPutFails_HoursFailNamingTheS3ErrorNothingPublishedAndACleanRunSucceeds()
    {
        string prefix = $"compaction-no-puts-{Guid.NewGuid():N}";
        var clean = s3rver.Store(prefix);
        var rows = SampleRows();
        await UploadAsync(clean, rows);
        // Listing, reading, the hour's lease and its release all work; every upload of a part fails.
        using var handler = new FaultInjectingHandler((r, _) =>
            r.Method == HttpMethod.Put && r.RequestUri!.AbsolutePath.Contains("/" + LakeLayout.ParquetPrefix, StringComparison.Ordinal) ? HttpStatusCode.ServiceUnavailable : null);

        await using (var failing = Compactor(prefix, handler, maxAttempts: 2))
        {
            var failed = await failing.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All);

            Assert.Equal(SampleHours, failed.FailedHours);
            Assert.All(failed.Hours, h =>
            {
                Assert.Contains("PutObject", h.Error, StringComparison.Ordinal);
                Assert.Contains("SlowDown (HTTP 503)", h.Error, StringComparison.Ordinal);
            });
            Assert.Equal(0, failed.FilesWritten);
        }
        Assert.Empty(await clean.ListAsync(LakeLayout.ParquetPrefix).ToListAsync());
        Assert.DoesNotContain(await clean.ListAsync(LakeLayout.ControlPrefix).ToListAsync(), o => o.Key.EndsWith("manifest.json", StringComparison.Ordinal));

        await using var provider = Compactor(prefix, handler: null);
        var report = await provider.GetRequiredService<IHourlyCompactor>().CompactAsync(Now, CompactionScope.All);

        Assert.Equal(0, report.FailedHours);
        var (count, revenue, _) = await ReadTableAsync(clean);
        Assert.Equal(rows.Count, count);
        Assert.Equal(rows.Sum(r => r.Quantity * r.Price), revenue);
    }
}
