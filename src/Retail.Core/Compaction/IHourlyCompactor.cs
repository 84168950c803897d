namespace Retail.Compaction;

/// <summary>
/// Compacts the data lake's hourly JSON-lines partitions into columnar files (the workshop's
/// <c>MergeSmallFiles</c>): idempotent, verified (rows in = rows out before anything is published),
/// atomically published, and picking up objects that arrive late for an hour already compacted.
/// </summary>
public interface IHourlyCompactor
{
    /// <summary>
    /// Compacts every hour that is closed at <paramref name="now"/> (its end plus the configured grace
    /// has passed) and has objects not yet compacted; with <paramref name="includeOpenHours"/> it
    /// treats every hour as closed (end of a replay or a demo).
    /// </summary>
    ValueTask<CompactionReport> CompactAsync(DateTimeOffset now, bool includeOpenHours = false, IProgress<HourCompaction>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Compacts one hour (year, month, day and hour of <paramref name="hour"/>).</summary>
    ValueTask<HourCompaction> CompactHourAsync(DateTime hour, CancellationToken cancellationToken = default);
}

/// <summary>What happened to one hour.</summary>
public enum HourCompactionOutcome
{
    /// <summary>New or changed output was published.</summary>
    Compacted,
    /// <summary>The hour's output already covers every source object: nothing was written.</summary>
    UpToDate,
    /// <summary>The hour is not closed yet.</summary>
    NotClosed,
    /// <summary>The hour could not be compacted; nothing was published; see <see cref="HourCompaction.Error"/>.</summary>
    Failed,
}

/// <summary>The result of compacting one hour.</summary>
/// <param name="Hour">The hour (minutes and seconds zero).</param>
/// <param name="Outcome">What happened.</param>
/// <param name="SourceObjects">JSON objects the hour's output now covers.</param>
/// <param name="RowsIn">Rows read from the source objects compacted this time.</param>
/// <param name="RowsOut">Rows in the files published this time (equal to <paramref name="RowsIn"/> when published).</param>
/// <param name="FilesWritten">Files published this time.</param>
/// <param name="BytesWritten">Bytes published this time.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record HourCompaction(DateTime Hour, HourCompactionOutcome Outcome, int SourceObjects, long RowsIn, long RowsOut, int FilesWritten, long BytesWritten, string? Error = null);

/// <summary>The result of a compaction pass.</summary>
/// <param name="Hours">One entry per hour looked at.</param>
public sealed record CompactionReport(IReadOnlyList<HourCompaction> Hours)
{
    /// <summary>Hours that failed.</summary>
    public int FailedHours => Hours.Count(h => h.Outcome == HourCompactionOutcome.Failed);
    /// <summary>Files published in this pass.</summary>
    public int FilesWritten => Hours.Sum(h => h.FilesWritten);
    /// <summary>Bytes published in this pass.</summary>
    public long BytesWritten => Hours.Sum(h => h.BytesWritten);
    /// <summary>Rows published in this pass.</summary>
    public long RowsOut => Hours.Sum(h => h.RowsOut);
}
