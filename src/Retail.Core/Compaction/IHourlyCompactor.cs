namespace Retail.Compaction;

/// <summary>
/// Compacts the data lake's hourly JSON-lines partitions into columnar files (the workshop's
/// <c>MergeSmallFiles</c>): idempotent, verified (rows in = rows out before anything is published),
/// atomically published, and picking up objects that arrive late for an hour already compacted.
/// </summary>
public interface IHourlyCompactor
{
    /// <summary>
    /// A compaction pass: compacts the hours of <paramref name="scope"/> that have objects not yet compacted. By
    /// default (<see cref="CompactionScope.Lookback"/>) those are the closed hours of the compactor's lookback window,
    /// which ends at the last hour closed at <paramref name="now"/> (its end plus the configured grace has passed): only
    /// their partitions are listed, so a pass costs the same however many hours the lake holds.
    /// <see cref="CompactionScope.All"/> rescans every hour and treats each as closed (end of a replay or a demo);
    /// <see cref="CompactionScope.AllClosed"/> rescans every hour and compacts the closed ones.
    /// </summary>
    ValueTask<CompactionReport> CompactAsync(DateTimeOffset now, CompactionScope scope = CompactionScope.Lookback, IProgress<HourCompaction>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Compacts one hour (year, month, day and hour of <paramref name="hour"/>).</summary>
    ValueTask<HourCompaction> CompactHourAsync(DateTime hour, CancellationToken cancellationToken = default);
}

/// <summary>Which hours a compaction pass (<see cref="IHourlyCompactor.CompactAsync"/>) looks at.</summary>
public enum CompactionScope
{
    /// <summary>
    /// The closed hours of the compactor's lookback window (by default the 24 hours up to and including the last
    /// closed hour): only those hours' partitions are listed, so the cost grows with the window, not with the lake.
    /// Objects that arrive late for an hour in the window are picked up; an hour older than the window is not looked
    /// at. The scheduled pass.
    /// </summary>
    Lookback,

    /// <summary>
    /// Every hour of the lake that is closed: the whole source prefix is listed; hours not closed yet are reported
    /// <see cref="HourCompactionOutcome.NotClosed"/>. A catch-up of hours older than the window while delivery goes on.
    /// </summary>
    AllClosed,

    /// <summary>
    /// Every hour of the lake, each treated as closed (open ones included): the whole source prefix is listed. The end
    /// of a replay or a demo, when nothing more will arrive.
    /// </summary>
    All,
}

/// <summary>What happened to one hour.</summary>
public enum HourCompactionOutcome
{
    /// <summary>New or changed output was published.</summary>
    Compacted,
    /// <summary>The hour's output already covers every source object: nothing was written.</summary>
    UpToDate,
    /// <summary>The hour is not closed yet (reported by a <see cref="CompactionScope.AllClosed"/> pass).</summary>
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
