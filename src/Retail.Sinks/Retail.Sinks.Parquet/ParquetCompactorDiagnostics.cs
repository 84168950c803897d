using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.Parquet;

/// <summary>Names of the package's diagnostics, for OpenTelemetry or <c>dotnet-counters</c>.</summary>
public static class ParquetCompactorDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>Retail.Sinks.Parquet</c>.</summary>
    public const string MeterName = "Retail.Sinks.Parquet";

    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>Retail.Sinks.Parquet</c> (one activity per hour compacted).</summary>
    public const string ActivitySourceName = "Retail.Sinks.Parquet";

    /// <summary>Counter: rows read from JSON objects compacted.</summary>
    public const string RowsInCounter = "retail.compaction.rows_in";

    /// <summary>Counter: new rows published in Parquet (equal to rows in for every hour published).</summary>
    public const string RowsOutCounter = "retail.compaction.rows_out";

    /// <summary>Counter: Parquet files published.</summary>
    public const string FilesCounter = "retail.compaction.files";

    /// <summary>Counter: bytes of Parquet published.</summary>
    public const string BytesCounter = "retail.compaction.bytes";

    /// <summary>Counter: hours that failed (nothing published for them).</summary>
    public const string FailedHoursCounter = "retail.compaction.failed_hours";

    /// <summary>Counter: store calls (list, get, head, put, delete) that failed transiently and were retried.</summary>
    public const string StoreRetriesCounter = "retail.compaction.store_retries";

    /// <summary>Counter: exceptions thrown by a progress observer (each is logged; compaction goes on).</summary>
    public const string ObserverErrorsCounter = "retail.compaction.observer_errors";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}

/// <summary>The package's counters, on a meter from an <see cref="IMeterFactory"/> or the shared one.</summary>
internal sealed class CompactorMetrics
{
    private static readonly Lazy<Meter> SharedMeter = new(() => new Meter(ParquetCompactorDiagnostics.MeterName));

    public CompactorMetrics(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(ParquetCompactorDiagnostics.MeterName) ?? SharedMeter.Value;
        RowsIn = meter.CreateCounter<long>(ParquetCompactorDiagnostics.RowsInCounter, "{row}", "Rows read from JSON objects compacted.");
        RowsOut = meter.CreateCounter<long>(ParquetCompactorDiagnostics.RowsOutCounter, "{row}", "New rows published in Parquet.");
        Files = meter.CreateCounter<long>(ParquetCompactorDiagnostics.FilesCounter, "{file}", "Parquet files published.");
        Bytes = meter.CreateCounter<long>(ParquetCompactorDiagnostics.BytesCounter, "By", "Bytes of Parquet published.");
        FailedHours = meter.CreateCounter<long>(ParquetCompactorDiagnostics.FailedHoursCounter, "{hour}", "Hours that could not be compacted.");
        StoreRetries = meter.CreateCounter<long>(ParquetCompactorDiagnostics.StoreRetriesCounter, "{call}", "Store calls retried after a transient failure.");
        ObserverErrors = meter.CreateCounter<long>(ParquetCompactorDiagnostics.ObserverErrorsCounter, "{exception}", "Exceptions thrown by progress observers.");
    }

    public Counter<long> RowsIn { get; }
    public Counter<long> RowsOut { get; }
    public Counter<long> Files { get; }
    public Counter<long> Bytes { get; }
    public Counter<long> FailedHours { get; }
    public Counter<long> StoreRetries { get; }
    public Counter<long> ObserverErrors { get; }
}

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Compacted hour {Hour:yyyy-MM-dd HH}:00: {RowsIn} rows from {NewObjects} new object(s) into {Files} file(s), {Bytes} bytes, {ElapsedMs} ms")]
    public static partial void HourCompacted(ILogger logger, DateTime hour, long rowsIn, int newObjects, int files, long bytes, long elapsedMs);

    [LoggerMessage(2, LogLevel.Debug, "Hour {Hour:yyyy-MM-dd HH}:00 is up to date ({Objects} object(s))")]
    public static partial void HourUpToDate(ILogger logger, DateTime hour, int objects);

    [LoggerMessage(3, LogLevel.Debug, "Hour {Hour:yyyy-MM-dd HH}:00 is not closed yet")]
    public static partial void HourNotClosed(ILogger logger, DateTime hour);

    [LoggerMessage(4, LogLevel.Error, "Compaction of hour {Hour:yyyy-MM-dd HH}:00 failed, nothing published for it: {Error}")]
    public static partial void HourFailed(ILogger logger, DateTime hour, string error, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Hour {Hour:yyyy-MM-dd HH}:00: removing {Key}, left by an interrupted compaction (not in the manifest)")]
    public static partial void OrphanRemoved(ILogger logger, DateTime hour, string key);

    [LoggerMessage(6, LogLevel.Warning, "Hour {Hour:yyyy-MM-dd HH}:00: {Key} has {FileRows} rows but the manifest records {ManifestRows}; an interrupted compaction extended it, keeping the first {ManifestRows}")]
    public static partial void PartRecovered(ILogger logger, DateTime hour, string key, long fileRows, long manifestRows);

    [LoggerMessage(7, LogLevel.Debug, "Deleted source object {Key} (covered by the manifest)")]
    public static partial void SourceDeleted(ILogger logger, string key);

    [LoggerMessage(8, LogLevel.Debug, "Ignoring {Key}: not inside an hourly partition")]
    public static partial void NotInHour(ILogger logger, string key);

    [LoggerMessage(9, LogLevel.Information, "Hour {Hour:yyyy-MM-dd HH}:00 is being compacted by another run ({Holder}); waiting for it")]
    public static partial void HourBusy(ILogger logger, DateTime hour, string holder);

    [LoggerMessage(10, LogLevel.Warning, "Hour {Hour:yyyy-MM-dd HH}:00: removed {Path} ({Bytes} bytes), a temporary file left by an interrupted compaction")]
    public static partial void StaleTemporaryRemoved(ILogger logger, DateTime hour, string path, long bytes);

    [LoggerMessage(12, LogLevel.Warning, "Hour {Hour:yyyy-MM-dd HH}:00: kept {Path}, a temporary file that a live writer still holds, although this run holds the hour's lock (is a compactor without hour locks running on this lake?)")]
    public static partial void LiveTemporaryKept(ILogger logger, DateTime hour, string path);

    [LoggerMessage(11, LogLevel.Warning, "Removed {Path}, the work folder of an interrupted compaction")]
    public static partial void StaleWorkFolderRemoved(ILogger logger, string path);

    [LoggerMessage(13, LogLevel.Warning, "Removed {Path}, a temporary file that a killed writer left among the source objects")]
    public static partial void StaleSourceTemporaryRemoved(ILogger logger, string path);

    [LoggerMessage(14, LogLevel.Warning, "Store {Operation} '{Key}' failed (attempt {Attempt}: {Error}); retrying in {DelayMs} ms")]
    public static partial void StoreRetry(ILogger logger, string operation, string key, int attempt, string error, long delayMs);

    [LoggerMessage(15, LogLevel.Error, "A progress observer threw for hour {Hour:yyyy-MM-dd HH}:00; compaction goes on")]
    public static partial void ObserverFailed(ILogger logger, DateTime hour, Exception exception);
}
