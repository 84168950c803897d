using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Compacts the lake's hourly JSON-lines objects into Snappy Parquet: the workshop's <c>MergeSmallFiles</c>,
/// fixed. Works over any <see cref="IObjectStore"/>.
/// </summary>
/// <remarks>
/// <para>
/// Sources may also be real Firehose objects: names ending in a random UUID, records concatenated without newlines
/// (<c>{…}{…}</c>, what Firehose writes when its producer sends no trailing newline) or mixed with JSON lines, and GZIP
/// objects (a key ending in <c>.gz</c>, Firehose's GZIP compression), which are decompressed.
/// </para>
/// <para>
/// For each hour it writes <c>part-00000.parquet</c>, <c>part-00001.parquet</c>, … (at most
/// <see cref="ParquetCompactorOptions.MaxRowsPerFile"/> rows each) under the target prefix and the hour's
/// partition, and a manifest outside the table that records which source objects each part holds. Writing the
/// manifest is the commit point.
/// </para>
/// <para>
/// Every file is written to a local temporary file first, read back with Parquet.Net, and published only when
/// its row count equals the rows parsed from JSON (with <see cref="ParquetCompactorOptions.VerifyValues"/>, only
/// when every value reads back as written); each publish replaces one object atomically. A bad JSON record or a price
/// with more than four decimal places fails the hour (the error names the object key and line, and the byte offset of a
/// record concatenated after another on its line): nothing is
/// published and the JSON stays in place.
/// </para>
/// <para>
/// Re-running is safe: an hour whose objects are all in its manifest is left alone. Objects that arrive after
/// the hour was compacted are added by rewriting only the last part (its published rows keep their place and
/// order, the new rows follow) and by appending parts; earlier parts are never touched, so every row is in
/// exactly one published part at every instant. The plan depends only on the manifest and the listing, so a
/// run interrupted between publishes is completed by the next run without duplicating a row.
/// </para>
/// <para>
/// A scheduled pass (<see cref="CompactionScope.Lookback"/>) lists only the partitions of the hours of
/// <see cref="ParquetCompactorOptions.Lookback"/> (default the 24 hours up to the last closed hour), so its cost grows
/// with that window, not with the lake; late objects for an hour in the window are picked up. A full rescan
/// (<see cref="CompactionScope.AllClosed"/>, or <see cref="CompactionScope.All"/> at the end of a replay) lists every
/// hour.
/// </para>
/// <para>
/// Two compactions of one hour never overlap (two processes on one lake, or two compactors in one): a run holds the
/// hour's lock from planning to commit, and a second run waits for it up to
/// <see cref="ParquetCompactorOptions.LockWaitTimeout"/>. On a <see cref="LocalFolderObjectStore"/> the lock is an
/// OS lock on <c>compaction.lock</c> beside the hour's manifest, released by the kernel when its process dies; on
/// other stores it is a lease object there that lapses after <see cref="ParquetCompactorOptions.LeaseDuration"/>.
/// </para>
/// <para>
/// A killed run leaves temporary files: the store's partial puts (<c>.retail-tmp-*</c>) in the hour's table and
/// manifest folders, and its local work folder. The next run that takes the hour removes the former (it holds the
/// lock every writer there holds, so they are provably not a live run's), and each pass removes work folders whose
/// run no longer holds their lock. Parts that no manifest lists are removed before publishing, as before.
/// </para>
/// </remarks>
internal sealed class ParquetHourlyCompactor : IHourlyCompactor
{
    /// <summary>Creates a compactor over <paramref name="store"/>.</summary>
    /// <param name="store">The data lake.</param>
    /// <param name="options">Settings (copied: later changes to the instance do not affect this compactor).</param>
    /// <param name="time">The clock (default <see cref="TimeProvider.System"/>).</param>
    /// <param name="logger">Where to log (default none).</param>
    /// <exception cref="ArgumentException">The options are not valid; the message names each bad setting and its value.</exception>
    public ParquetHourlyCompactor(IObjectStore store, ParquetCompactorOptions options, TimeProvider? time = null, ILogger? logger = null)
        : this(store, options, time, logger, null)
    {
    }

    internal ParquetHourlyCompactor(IObjectStore store, ParquetCompactorOptions options, TimeProvider? time, ILogger? logger, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        Options = options.Clone();
        Time = time ?? TimeProvider.System;
        Logger = logger ?? NullLogger.Instance;
        Metrics = new CompactorMetrics(meterFactory);
        LocalStore = store as LocalFolderObjectStore;
        Store = new RetryingObjectStore(store, new RetailRetryPipeline(Options.Retry, Time), Logger, () => Metrics.StoreRetries.Add(1));
    }

    /// <summary>The lake, every call retried through the pipeline of <see cref="ParquetCompactorOptions.Retry"/>.</summary>
    internal IObjectStore Store { get; }

    /// <summary>The lake when it is a local folder (OS file locks, temporary files to clean), else null.</summary>
    internal LocalFolderObjectStore? LocalStore { get; }

    internal ParquetCompactorOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal CompactorMetrics Metrics { get; }

    /// <summary>
    /// Test hook: awaited with the key just before each object (a part or the manifest) is published. A test
    /// throws from it to simulate a crash between writing and publishing, or between publishing and committing.
    /// </summary>
    internal Func<string, CancellationToken, ValueTask>? BeforePublish { get; set; }

    /// <summary>Test hook: wraps the local file being published under a key, so that a test can pause inside the store's put.</summary>
    internal Func<string, Stream, Stream>? PublishContent { get; set; }

    /// <summary>Test hook: awaited each time a run finds its hour locked by another run.</summary>
    internal Func<DateTime, CancellationToken, ValueTask>? HourBusy { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// A <see cref="CompactionScope.Lookback"/> pass lists only the partitions of the hours of
    /// <see cref="ParquetCompactorOptions.Lookback"/> (<see cref="ParquetCompactorOptions.SourcePrefix"/> +
    /// <c>year=YYYY/month=MM/day=DD/hour=HH/</c>), and removes stale temporary files only there; the other scopes list the
    /// whole source prefix. An exception thrown by <paramref name="progress"/> is logged and counted
    /// (<see cref="ParquetCompactorDiagnostics.ObserverErrorsCounter"/>) and the pass goes on. Store calls that fail
    /// transiently are retried (<see cref="ParquetCompactorOptions.Retry"/>); an hour whose calls keep failing is
    /// reported failed, with the store's error named; a listing that keeps failing ends the pass with a
    /// <see cref="RetryExhaustedException"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scope"/> is not a <see cref="CompactionScope"/>.</exception>
    public async ValueTask<CompactionReport> CompactAsync(DateTimeOffset now, CompactionScope scope = CompactionScope.Lookback, IProgress<HourCompaction>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!Enum.IsDefined(scope)) throw new ArgumentOutOfRangeException(nameof(scope), scope, $"Not a {nameof(CompactionScope)}.");
        DateTime nowUtc = now.UtcDateTime;
        SortedDictionary<DateTime, List<ObjectInfo>> hours;
        if (scope == CompactionScope.Lookback)
        {
            var window = LookbackWindow(nowUtc);
            RemoveStaleWorkFolders(window.Select(h => Options.SourcePrefix + LakeLayout.HourPartition(h)));
            hours = await DiscoverAsync(window, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            RemoveStaleWorkFolders([Options.SourcePrefix]);
            hours = await DiscoverAsync(null, cancellationToken).ConfigureAwait(false);
        }
        var results = new List<HourCompaction>(hours.Count);
        foreach (var (hour, objects) in hours)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HourCompaction result;
            if (scope != CompactionScope.All && !IsClosed(hour, nowUtc))
            {
                Log.HourNotClosed(Logger, hour);
                result = new HourCompaction(hour, HourCompactionOutcome.NotClosed, 0, 0, 0, 0, 0);
            }
            else
            {
                result = await CompactHourCoreAsync(hour, objects, cancellationToken).ConfigureAwait(false);
            }
            results.Add(result);
            Report(progress, result);
        }
        return new CompactionReport(results);
    }

    /// <summary>Whether <paramref name="hour"/> is closed at <paramref name="nowUtc"/>: its end plus the grace has passed.</summary>
    private bool IsClosed(DateTime hour, DateTime nowUtc) => nowUtc - hour >= TimeSpan.FromHours(1) + Options.Grace;

    /// <summary>
    /// The hours of <see cref="ParquetCompactorOptions.Lookback"/> at <paramref name="nowUtc"/>, oldest first: the last
    /// closed hour and the ones before it (none when no hour is closed yet).
    /// </summary>
    internal IReadOnlyList<DateTime> LookbackWindow(DateTime nowUtc)
    {
        TimeSpan closedAfter = TimeSpan.FromHours(1) + Options.Grace;
        if (nowUtc.Ticks < closedAfter.Ticks) return [];
        DateTime t = nowUtc - closedAfter;
        var last = new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Unspecified);
        long count = Math.Min(Options.Lookback.Ticks / TimeSpan.TicksPerHour, last.Ticks / TimeSpan.TicksPerHour + 1);
        var hours = new List<DateTime>((int)count);
        for (long i = count - 1; i >= 0; i--) hours.Add(last.AddHours(-i));
        return hours;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The hour is compacted whether or not it is closed. Only its own partition is listed
    /// (<see cref="ParquetCompactorOptions.SourcePrefix"/> + <c>year=YYYY/month=MM/day=DD/hour=HH/</c>), so the cost
    /// does not grow with the lake.
    /// </remarks>
    public async ValueTask<HourCompaction> CompactHourAsync(DateTime hour, CancellationToken cancellationToken = default)
    {
        hour = new DateTime(hour.Year, hour.Month, hour.Day, hour.Hour, 0, 0, DateTimeKind.Unspecified);
        RemoveStaleWorkFolders([Options.SourcePrefix + LakeLayout.HourPartition(hour)]);
        var hours = await DiscoverAsync([hour], cancellationToken).ConfigureAwait(false);
        var objects = hours.TryGetValue(hour, out var list) ? list : [];
        return await CompactHourCoreAsync(hour, objects, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reports an hour to the observer; an exception it throws is logged and counted, and compaction goes on.</summary>
    private void Report(IProgress<HourCompaction>? progress, HourCompaction result)
    {
        if (progress is null) return;
        try
        {
            progress.Report(result);
        }
        catch (Exception e)
        {
            Metrics.ObserverErrors.Add(1);
            Log.ObserverFailed(Logger, result.Hour, e);
        }
    }

    /// <summary>Removes the local work folders of runs that were killed (their lock is free), and stale temporary files under each of <paramref name="sources"/>.</summary>
    private void RemoveStaleWorkFolders(IEnumerable<string> sources)
    {
        foreach (string path in WorkFolder.RemoveStale(Options.LocalTempPath ?? Path.GetTempPath()))
            Log.StaleWorkFolderRemoved(Logger, path);
        // Delivery's temporary files that a killed writer left among the sources (the store proves each is stale).
        if (LocalStore is { } local)
            foreach (string prefix in sources)
                foreach (string path in local.RemoveStaleTemporaryFiles(prefix))
                    Log.StaleSourceTemporaryRemoved(Logger, path);
    }

    /// <summary>
    /// Source objects by hour, keys in ordinal order: with <paramref name="only"/>, only those hours' partitions are
    /// listed (<see cref="ParquetCompactorOptions.SourcePrefix"/> + the partition); without, the whole source prefix.
    /// </summary>
    private async ValueTask<SortedDictionary<DateTime, List<ObjectInfo>>> DiscoverAsync(IReadOnlyList<DateTime>? only, CancellationToken cancellationToken)
    {
        var hours = new SortedDictionary<DateTime, List<ObjectInfo>>();
        if (only is null)
        {
            await ListIntoAsync(hours, Options.SourcePrefix, null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            foreach (var hour in only)
                await ListIntoAsync(hours, Options.SourcePrefix + LakeLayout.HourPartition(hour), hour, cancellationToken).ConfigureAwait(false);
        }
        foreach (var list in hours.Values) list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return hours;
    }

    /// <summary>Adds the objects under <paramref name="prefix"/> to their hours (only to <paramref name="only"/>, when given).</summary>
    private async ValueTask ListIntoAsync(SortedDictionary<DateTime, List<ObjectInfo>> hours, string prefix, DateTime? only, CancellationToken cancellationToken)
    {
        await foreach (var o in Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (LakeLayout.TryParseHourPartition(o.Key) is not { } hour)
            {
                Log.NotInHour(Logger, o.Key);
                continue;
            }
            if (only is not null && hour != only) continue;
            if (!hours.TryGetValue(hour, out var list)) hours[hour] = list = [];
            list.Add(o);
        }
    }

    private async ValueTask<HourCompaction> CompactHourCoreAsync(DateTime hour, IReadOnlyList<ObjectInfo> objects, CancellationToken cancellationToken)
    {
        using var activity = ParquetCompactorDiagnostics.ActivitySource.StartActivity("compact hour");
        activity?.SetTag("retail.hour", hour.ToString("yyyy-MM-dd'T'HH':00'", System.Globalization.CultureInfo.InvariantCulture));
        long started = Time.GetTimestamp();
        try
        {
            var result = await new HourCompactionRun(this, hour, objects).RunAsync(cancellationToken).ConfigureAwait(false);
            if (result.Outcome == HourCompactionOutcome.Compacted)
            {
                Metrics.RowsIn.Add(result.RowsIn);
                Metrics.RowsOut.Add(result.RowsOut);
                Metrics.Files.Add(result.FilesWritten);
                Metrics.Bytes.Add(result.BytesWritten);
                Log.HourCompacted(Logger, hour, result.RowsIn, result.NewObjects, result.FilesWritten, result.BytesWritten,
                    (long)Time.GetElapsedTime(started).TotalMilliseconds);
            }
            else
            {
                Log.HourUpToDate(Logger, hour, result.SourceObjects);
            }
            activity?.SetTag("retail.outcome", result.Outcome.ToString());
            return result.ToHourCompaction(hour);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            string error = e is CompactionException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            Metrics.FailedHours.Add(1);
            Log.HourFailed(Logger, hour, error, e);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error);
            return new HourCompaction(hour, HourCompactionOutcome.Failed, 0, 0, 0, 0, 0, error);
        }
    }
}

/// <summary>A problem with the hour's data or state; its message is the hour's error, as is.</summary>
internal sealed class CompactionException(string message) : Exception(message);
