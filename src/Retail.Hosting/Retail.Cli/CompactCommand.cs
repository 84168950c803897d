using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Compaction;
using Retail.Sinks.Athena;
using Retail.Sinks.Parquet;
using Retail.Storage;

namespace Retail.Cli;

/// <summary>
/// <c>retail compact [--engine parquet|athena] [--lake DIR|s3://bucket[/prefix]] [--s3-endpoint-url URL] [--all | --lookback-hours N | --basic-datetime TIME] [--verify-values] [--dry-run]</c>:
/// compact the closed hours of the lookback window (or, with <c>--all</c>, every hour; with <c>--basic-datetime</c>, the hour
/// before that time) into Parquet, with Retail's Parquet compactor (default) or the Athena CTAS compactor.
/// </summary>
internal static class CompactCommand
{
    public static Command Create(Stream stdout, TextWriter stderr)
    {
        var lake = LakeOption.CreateLocation(mustExist: false);
        var endpoint = LakeOption.CreateS3Endpoint();
        var engine = new Option<string>("--engine") { Description = "parquet: Retail's Parquet compactor over --lake (default); athena: the Athena CTAS compactor (settings from the workshop's MergeSmallFiles environment variables, OLD_DATABASE, WORK_GROUP, …).", DefaultValueFactory = _ => "parquet" };
        engine.AcceptOnlyFromAmong("parquet", "athena");
        var all = new Option<bool>("--all") { Description = "Rescan every hour of the lake and treat each as closed, open ones included (end of a replay); by default only the closed hours of the lookback window are listed and compacted." };
        var lookback = new Option<int?>("--lookback-hours") { Description = $"Hours a default pass looks at, up to and including the last closed hour (default {(int)ParquetCompactorOptions.DefaultLookback.TotalHours}); objects arriving later than that for their hour need --all." };
        var basic = new Option<string?>("--basic-datetime") { Description = "Compact the hour before this time's hour, as the hourly schedule does (2020-02-28T03:05:00Z compacts 02:00-03:00 of 2020-02-28); with --engine parquet that one hour, treated as closed." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Change nothing: parquet prints the hours and their source objects (from listing only); athena prints the statements it would run." };
        var grace = new Option<int>("--grace-minutes") { Description = "Minutes after an hour ends before it counts as closed.", DefaultValueFactory = _ => 5 };
        var verify = new Option<bool>("--verify-values") { Description = "Decode every value of every new Parquet file and compare it with what was written before publishing (about doubles the time)." };
        var workGroup = new Option<string?>("--work-group") { Description = "athena: the work group (default WORK_GROUP, else primary)." };
        var region = new Option<string?>("--region") { Description = "athena: the AWS region (default AWS_REGION)." };
        var athenaEndpoint = new Option<string?>("--athena-endpoint-url") { Description = "athena: the endpoint of an Athena-compatible service (such as http://127.0.0.1:4566)." };
        var command = new Command("compact", "Compact the lake's hourly JSON objects into Snappy Parquet (idempotent; picks up late objects).")
            { lake, endpoint, engine, all, lookback, basic, dryRun, grace, verify, workGroup, region, athenaEndpoint };
        grace.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError($"--grace-minutes must be 0 or more, got {r.GetValueOrDefault<int>()}."); });
        int maxLookback = (int)ParquetCompactorOptions.MaxLookback.TotalHours;
        lookback.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is { } n && (n < 1 || n > maxLookback)) r.AddError($"--lookback-hours must be between 1 and {maxLookback}, got {n}."); });
        basic.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } t && ParseTime(t) is null) r.AddError($"--basic-datetime '{t}' is not an ISO 8601 time such as 2020-02-28T03:05:00Z."); });
        athenaEndpoint.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
                r.AddError($"--athena-endpoint-url '{url}' is not an absolute http:// or https:// URL.");
        });
        command.Validators.Add(r =>
        {
            bool given(Option o) => r.GetResult(o) is { Implicit: false };
            if (r.GetValue(all) && r.GetValue(lookback) is not null) r.AddError("--lookback-hours does not apply with --all, which rescans every hour: give one of them.");
            if (given(basic) && r.GetValue(all)) r.AddError("--basic-datetime compacts one hour and --all every hour: give one of them.");
            if (given(basic) && r.GetValue(lookback) is not null) r.AddError("--lookback-hours does not apply with --basic-datetime, which compacts one hour: give one of them.");
            if (r.GetValue(engine) == "athena")
            {
                foreach (var o in new Option[] { all, lookback, grace, verify, endpoint })
                    if (given(o)) r.AddError($"{o.Name} is for --engine parquet; --engine athena compacts the hour before --basic-datetime (default: now) with a CTAS query.");
                if (given(lake) && r.GetValue(lake) is { } l && !LakeOption.IsS3(l))
                    r.AddError($"--lake {l} is a folder; --engine athena needs an s3:// --lake (it derives OLD_TABLE_LOCATION_PREFIX and OUTPUT_PREFIX from it).");
            }
            else
            {
                foreach (var o in new Option[] { workGroup, region, athenaEndpoint })
                    if (given(o)) r.AddError($"{o.Name} is for --engine athena.");
                if (r.GetValue(lake) is { } l && !LakeOption.IsS3(l) && !Directory.Exists(Path.GetFullPath(l)) && !File.Exists(Path.GetFullPath(l)))
                    r.AddError($"--lake {Path.GetFullPath(l)} does not exist.");
            }
        });
        command.SetAction(async (r, ct) =>
        {
            DateTime? hour = r.GetValue(basic) is { } t ? HourBefore(ParseTime(t)!.Value) : null;
            if (r.GetValue(engine) == "athena")
                return await AthenaAsync(hour, r.GetResult(lake) is { Implicit: false } ? r.GetValue(lake) : null, r.GetValue(workGroup), r.GetValue(region), r.GetValue(athenaEndpoint), r.GetValue(dryRun), stdout, stderr, ct).ConfigureAwait(false);

            string location = r.GetValue(lake)!;
            bool s3 = LakeOption.IsS3(location);
            if (!s3 && r.GetValue(endpoint) is not null)
                throw new CliException($"--s3-endpoint-url is for an s3:// --lake; --lake {location} is a folder.", 2);
            if (!s3 && !r.GetValue(dryRun)) LakeOption.EnsureWritable(Path.GetFullPath(location));
            var services = new ServiceCollection();
            var retail = services.AddRetail();
            // Credentials for a bucket come from the AWS SDK's default chain (environment, profile, role).
            if (s3) retail.AddS3Lake(o => { o.UseUri(location); o.ServiceUrl = r.GetValue(endpoint); });
            else retail.AddLocalLake(o => o.Path = Path.GetFullPath(location));
            var lookbackWindow = r.GetValue(lookback) is { } hours ? TimeSpan.FromHours(hours) : ParquetCompactorOptions.DefaultLookback;
            var graceTime = TimeSpan.FromMinutes(r.GetValue(grace));
            retail.AddParquetCompactor(o =>
            {
                o.Grace = graceTime;
                o.VerifyValues = r.GetValue(verify);
                o.Lookback = lookbackWindow;
            });
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            var store = provider.GetRequiredService<IObjectStore>();
            var time = provider.GetRequiredService<TimeProvider>();
            var scope = r.GetValue(all) ? CompactionScope.All : CompactionScope.Lookback;
            using var output = new StreamWriter(stdout, leaveOpen: true);
            if (r.GetValue(dryRun))
            {
                var lakeDefinition = provider.GetService<RetailLakeDefinition>() ?? new RetailLakeDefinition();
                IReadOnlyList<DateTime>? planned = hour is { } h ? [h] : scope == CompactionScope.All ? null : LookbackHours(time.GetUtcNow(), lookbackWindow, graceTime);
                await PrintParquetPlanAsync(store, lakeDefinition, planned, output, ct).ConfigureAwait(false);
                await stderr.WriteLineAsync("[INFO] dry run: nothing was written (the plan comes from listing the lake only)").ConfigureAwait(false);
                return 0;
            }
            if (s3) await LakeOption.EnsureWritableAsync(store, location, ct).ConfigureAwait(false);
            var compactor = provider.GetRequiredService<IHourlyCompactor>();
            // Reported in place (Progress<T> would post to the thread pool, so lines could follow the summary).
            var progress = new InlineProgress<HourCompaction>(h => stderr.WriteLine(HourLine(h)));
            CompactionReport report;
            if (hour is { } one)
            {
                await stderr.WriteLineAsync($"[INFO] compacting the hour {one:yyyy-MM-dd HH}:00 (the hour before --basic-datetime), treated as closed").ConfigureAwait(false);
                var result = await compactor.CompactHourAsync(one, ct).ConfigureAwait(false);
                progress.Report(result);
                report = new CompactionReport([result]);
            }
            else
            {
                if (scope == CompactionScope.Lookback)
                    await stderr.WriteLineAsync($"[INFO] looking at the {(int)lookbackWindow.TotalHours} hours up to the last closed one (--lookback-hours); --all rescans every hour").ConfigureAwait(false);
                report = await compactor.CompactAsync(time.GetUtcNow(), scope, progress, ct).ConfigureAwait(false);
            }
            return await SummaryAsync(report, output, stderr).ConfigureAwait(false);
        });
        return command;
    }

    private static string HourLine(HourCompaction h) =>
        $"[INFO] {h.Hour:yyyy-MM-dd HH}:00 {h.Outcome}: {h.RowsOut} rows, {h.FilesWritten} files, {h.BytesWritten} bytes{(h.Error is null ? "" : " — " + h.Error)}";

    private static async Task<int> SummaryAsync(CompactionReport report, StreamWriter output, TextWriter stderr)
    {
        await output.WriteLineAsync($"hours {report.Hours.Count}, compacted {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.Compacted)}, up to date {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.UpToDate)}, not closed {report.Hours.Count(h => h.Outcome == HourCompactionOutcome.NotClosed)}, failed {report.FailedHours}; rows {report.RowsOut}, files {report.FilesWritten}, bytes {report.BytesWritten}").ConfigureAwait(false);
        foreach (var h in report.Hours.Where(h => h.Outcome == HourCompactionOutcome.Failed))
            await stderr.WriteLineAsync($"[ERROR] {h.Hour:yyyy-MM-dd HH}:00: {h.Error}").ConfigureAwait(false);
        return report.FailedHours > 0 ? 1 : 0;
    }

    /// <summary>An ISO 8601 time with a date and a time of day (no offset: UTC), or null.</summary>
    internal static DateTimeOffset? ParseTime(string text) =>
        text.Contains('T', StringComparison.Ordinal) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    /// <summary>The hour before <paramref name="time"/>'s hour, in UTC (03:05 → 02:00), as the scheduled run compacts.</summary>
    internal static DateTime HourBefore(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Unspecified).AddHours(-1);
    }

    /// <summary>The hours of a lookback pass at <paramref name="now"/>: <paramref name="window"/> hours up to the last closed one.</summary>
    private static List<DateTime> LookbackHours(DateTimeOffset now, TimeSpan window, TimeSpan grace)
    {
        var closedBy = (now - grace).UtcDateTime;
        var last = new DateTime(closedBy.Year, closedBy.Month, closedBy.Day, closedBy.Hour, 0, 0, DateTimeKind.Unspecified).AddHours(-1);
        int n = (int)window.TotalHours;
        return [.. Enumerable.Range(0, n).Select(i => last.AddHours(-(n - 1 - i)))];
    }

    /// <summary>
    /// The parquet dry run: per hour, its JSON source objects (count, bytes, each key) and the Parquet parts already
    /// published for it, from listing only. <paramref name="hours"/> null: every hour of the lake.
    /// </summary>
    private static async Task PrintParquetPlanAsync(IObjectStore store, RetailLakeDefinition lake, IReadOnlyList<DateTime>? hours, StreamWriter output, CancellationToken ct)
    {
        var sources = new SortedDictionary<DateTime, List<ObjectInfo>>();
        var prefixes = hours is null ? [lake.JsonPrefix] : hours.Select(h => lake.JsonPrefix + LakeLayout.HourPartition(h)).ToList();
        foreach (string prefix in prefixes)
        {
            await foreach (var o in store.ListAsync(prefix, ct).ConfigureAwait(false))
            {
                if (LakeLayout.TryParseHourPartition(o.Key) is not { } h || Path.GetFileName(o.Key).StartsWith('.')) continue;
                if (!sources.TryGetValue(h, out var list)) sources[h] = list = [];
                list.Add(o);
            }
        }
        await output.WriteLineAsync($"dry run: {sources.Count} hours with source objects, {sources.Values.Sum(l => l.Count)} objects, {sources.Values.Sum(l => l.Sum(o => o.Size))} bytes").ConfigureAwait(false);
        foreach (var (h, list) in sources)
        {
            int parts = 0;
            await foreach (var p in store.ListAsync(lake.ParquetPrefix + LakeLayout.HourPartition(h), ct).ConfigureAwait(false))
                if (p.Key.EndsWith(".parquet", StringComparison.Ordinal)) parts++;
            await output.WriteLineAsync($"{h:yyyy-MM-dd HH}:00 {list.Count} source objects, {list.Sum(o => o.Size)} bytes → {lake.ParquetPrefix}{LakeLayout.HourPartition(h)} ({parts} Parquet parts published so far)").ConfigureAwait(false);
            foreach (var o in list.OrderBy(o => o.Key, StringComparer.Ordinal))
                await output.WriteLineAsync($"  {o.Key} {o.Size} bytes").ConfigureAwait(false);
        }
    }

    private static async Task<int> AthenaAsync(DateTime? hour, string? lake, string? workGroup, string? region, string? endpoint, bool dryRun, Stream stdout, TextWriter stderr, CancellationToken ct)
    {
        var target = hour ?? HourBefore(DateTimeOffset.UtcNow);
        AthenaCompactorOptions options;
        try
        {
            options = AthenaCompactorOptions.FromEnvironment(Environment.GetEnvironmentVariable);
        }
        catch (Exception e) when (e is AthenaCompactorSettingsException or ArgumentException)
        {
            throw new CliException(e.Message, 2);
        }
        if (workGroup is not null) options.WorkGroup = workGroup;
        if (lake is not null)
        {
            try
            {
                options.UseLake(lake);
            }
            catch (Exception e) when (e is AthenaCompactorSettingsException or ArgumentException)
            {
                throw new CliException($"--lake {lake}: {e.Message}", 2);
            }
        }
        if (dryRun) options.DryRun = true;
        var athena = new AthenaOptions { WorkGroup = options.WorkGroup, OutputLocation = options.StagingOutputPrefix, Database = options.OldDatabase, ServiceUrl = endpoint };
        if (region is not null) athena.Region = region;
        using var output = new StreamWriter(stdout, leaveOpen: true);
        if (options.DryRun)
        {
            // The plan needs no connection: the engine is a placeholder that refuses to run anything.
            var plan = AthenaCtasCompactor.Create(options, new NoQueryEngine(), TimeProvider.System, NullLoggerFactory.Instance);
            await stderr.WriteLineAsync($"[INFO] dry run: the statements for the hour {target:yyyy-MM-dd HH}:00; nothing is run").ConfigureAwait(false);
            foreach (string statement in plan.PlanStatements([target]))
            {
                await output.WriteLineAsync(statement.TrimEnd().TrimEnd(';') + ";").ConfigureAwait(false);
                await output.WriteLineAsync().ConfigureAwait(false);
            }
            return 0;
        }
        var engine = AthenaClientFactory.CreateQueryEngine(athena);
        using var owned = engine as IDisposable; // its HTTP client, when it has one
        var compactor = AthenaCtasCompactor.Create(options, engine, TimeProvider.System, NullLoggerFactory.Instance);
        await stderr.WriteLineAsync($"[INFO] compacting the hour {target:yyyy-MM-dd HH}:00 with Athena (work group {options.WorkGroup})").ConfigureAwait(false);
        var report = await compactor.CompactHoursAsync([target], new InlineProgress<HourCompaction>(h => stderr.WriteLine(HourLine(h))), ct).ConfigureAwait(false);
        return await SummaryAsync(report, output, stderr).ConfigureAwait(false);
    }

    /// <summary>The engine of a dry run: nothing may run.</summary>
    private sealed class NoQueryEngine : Query.IQueryEngine
    {
        public ValueTask<Query.QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("A dry run runs no query.");
    }
}

/// <summary>An <see cref="IProgress{T}"/> that runs its handler on the reporting thread, in order.</summary>
internal sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
