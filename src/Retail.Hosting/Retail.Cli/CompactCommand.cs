using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Retail.Compaction;
using Retail.Sinks.Parquet;

namespace Retail.Cli;

/// <summary>
/// <c>retail compact --lake DIR|s3://bucket[/prefix] [--s3-endpoint-url URL] [--all | --lookback-hours N] [--verify-values]</c>:
/// compact the closed hours of the lookback window (or, with <c>--all</c>, every hour) into Parquet.
/// </summary>
internal static class CompactCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var lake = LakeOption.CreateLocation(mustExist: true);
        var endpoint = LakeOption.CreateS3Endpoint();
        var all = new Option<bool>("--all") { Description = "Rescan every hour of the lake and treat each as closed, open ones included (end of a replay); by default only the closed hours of the lookback window are listed and compacted." };
        var lookback = new Option<int?>("--lookback-hours") { Description = $"Hours a default pass looks at, up to and including the last closed hour (default {(int)ParquetCompactorOptions.DefaultLookback.TotalHours}); objects arriving later than that for their hour need --all." };
        var grace = new Option<int>("--grace-minutes") { Description = "Minutes after an hour ends before it counts as closed.", DefaultValueFactory = _ => 5 };
        var verify = new Option<bool>("--verify-values") { Description = "Decode every value of every new Parquet file and compare it with what was written before publishing (about doubles the time)." };
        var command = new Command("compact", "Compact the lake's hourly JSON objects into Snappy Parquet (idempotent; picks up late objects).") { lake, endpoint, all, lookback, grace, verify };
        grace.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError($"--grace-minutes must be 0 or more, got {r.GetValueOrDefault<int>()}."); });
        int maxLookback = (int)ParquetCompactorOptions.MaxLookback.TotalHours;
        lookback.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is { } n && (n < 1 || n > maxLookback)) r.AddError($"--lookback-hours must be between 1 and {maxLookback}, got {n}."); });
        command.Validators.Add(r => { if (r.GetValue(all) && r.GetValue(lookback) is not null) r.AddError("--lookback-hours does not apply with --all, which rescans every hour: give one of them."); });
        command.SetAction(async (r, ct) =>
        {
            string location = r.GetValue(lake)!;
            bool s3 = LakeOption.IsS3(location);
            if (!s3 && r.GetValue(endpoint) is not null)
                throw new CliException($"--s3-endpoint-url is for an s3:// --lake; --lake {location} is a folder.", 2);
            if (!s3) LakeOption.EnsureWritable(Path.GetFullPath(location));
            var services = new ServiceCollection();
            var retail = services.AddRetail();
            // Credentials for a bucket come from the AWS SDK's default chain (environment, profile, role).
            if (s3) retail.AddS3Lake(o => { o.UseUri(location); o.ServiceUrl = r.GetValue(endpoint); });
            else retail.AddLocalLake(o => o.Path = Path.GetFullPath(location));
            retail.AddParquetCompactor(o =>
            {
                o.Grace = TimeSpan.FromMinutes(r.GetValue(grace));
                o.VerifyValues = r.GetValue(verify);
                if (r.GetValue(lookback) is { } hours) o.Lookback = TimeSpan.FromHours(hours);
            });
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            if (s3) await LakeOption.EnsureWritableAsync(provider.GetRequiredService<Storage.IObjectStore>(), location, ct).ConfigureAwait(false);
            var compactor = provider.GetRequiredService<IHourlyCompactor>();
            var time = provider.GetRequiredService<TimeProvider>();
            // Reported in place (Progress<T> would post to the thread pool, so lines could follow the summary).
            var progress = new InlineProgress<HourCompaction>(h => stderr.WriteLine($"[INFO] {h.Hour:yyyy-MM-dd HH}:00 {h.Outcome}: {h.RowsOut} rows, {h.FilesWritten} files, {h.BytesWritten} bytes{(h.Error is null ? "" : " — " + h.Error)}"));
            var scope = r.GetValue(all) ? CompactionScope.All : CompactionScope.Lookback;
            if (scope == CompactionScope.Lookback)
                await stderr.WriteLineAsync($"[INFO] looking at the {r.GetValue(lookback) ?? (int)ParquetCompactorOptions.DefaultLookback.TotalHours} hours up to the last closed one (--lookback-hours); --all rescans every hour").ConfigureAwait(false);
            var report = await compactor.CompactAsync(time.GetUtcNow(), scope, progress, ct).ConfigureAwait(false);
            using var output = new StreamWriter(stdout, leaveOpen: true);
            await output.WriteLineAsync($"hours {report.Hours.Count}, compacted {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.Compacted)}, up to date {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.UpToDate)}, not closed {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.NotClosed)}, failed {report.FailedHours}; rows {report.RowsOut}, files {report.FilesWritten}, bytes {report.BytesWritten}").ConfigureAwait(false);
            foreach (var h in report.Hours.Where(h => h.Outcome == HourCompactionOutcome.Failed))
                await stderr.WriteLineAsync($"[ERROR] {h.Hour:yyyy-MM-dd HH}:00: {h.Error}").ConfigureAwait(false);
            return report.FailedHours > 0 ? 1 : 0;
        });
        return command;
    }
}

/// <summary>An <see cref="IProgress{T}"/> that runs its handler on the reporting thread, in order.</summary>
internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
