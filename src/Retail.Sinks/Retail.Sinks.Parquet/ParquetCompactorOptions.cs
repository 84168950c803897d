using System.Globalization;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>Settings of the Parquet compactor (<see cref="ParquetCompactorFactory"/>, <c>AddParquetCompactor</c>).</summary>
/// <remarks>
/// The compactor reads JSON-lines objects under <see cref="SourcePrefix"/> + <c>year=YYYY/month=MM/day=DD/hour=HH/</c>
/// (delivery's layout; a full rescan also takes any key under <see cref="SourcePrefix"/> containing such a partition),
/// writes Snappy Parquet files named <c>part-00000.parquet</c>, <c>part-00001.parquet</c>, … under
/// <see cref="TargetPrefix"/> + the hour's partition, and records what each file holds in a manifest under
/// <see cref="ManifestPrefix"/>, outside every table's location. A default pass looks only at the hours of
/// <see cref="Lookback"/>.
/// </remarks>
public sealed class ParquetCompactorOptions
{
    /// <summary>Default of <see cref="RowGroupSize"/>: DuckDB's row group size.</summary>
    public const int DefaultRowGroupSize = 122_880;

    /// <summary>Largest accepted <see cref="MaxRowsPerFile"/> (a part extended by late objects is read back whole).</summary>
    public const int MaxRowsPerFileLimit = 50_000_000;

    /// <summary>Largest accepted <see cref="RowGroupSize"/> (two row groups are held in memory while a part is written).</summary>
    public const int RowGroupSizeLimit = 1_048_576;

    /// <summary>Where the JSON lines are (default <c>json-data/</c>, <see cref="LakeLayout.JsonPrefix"/>).</summary>
    public string SourcePrefix { get; set; } = LakeLayout.JsonPrefix;

    /// <summary>The Parquet table's location (default <c>parquet-retail-trans/</c>, <see cref="LakeLayout.ParquetPrefix"/>).</summary>
    public string TargetPrefix { get; set; } = LakeLayout.ParquetPrefix;

    /// <summary>
    /// Where the per-hour manifests go (default <c>_retail/compaction/</c>). The manifest of an hour is
    /// <c>ManifestPrefix + TargetPrefix + year=…/month=…/day=…/hour=…/manifest.json</c>; it must not be inside
    /// the source or the target location, so that no query engine reads it as data.
    /// </summary>
    public string ManifestPrefix { get; set; } = LakeLayout.ControlPrefix + "compaction/";

    /// <summary>
    /// How long after its end an hour is considered closed (default 5 minutes: the workshop compacts at :05).
    /// Objects that arrive later are still picked up by the next pass.
    /// </summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Default of <see cref="Lookback"/>: 24 hours.</summary>
    public static readonly TimeSpan DefaultLookback = TimeSpan.FromHours(24);

    /// <summary>Longest accepted <see cref="Lookback"/>: 366 days (a pass lists one partition per hour of it).</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(366);

    /// <summary>
    /// The window a default pass (<see cref="CompactionScope.Lookback"/>) looks at: this many hours up to and including the
    /// last closed hour (default 24 hours; a whole number of hours from 1 to <see cref="MaxLookback"/>). The pass lists only
    /// those hours' partitions (<see cref="SourcePrefix"/> + <c>year=YYYY/month=MM/day=DD/hour=HH/</c>), so its cost
    /// grows with the window, not with the lake. Objects that arrive later than the window for their hour are compacted
    /// only by a full rescan (<see cref="CompactionScope.AllClosed"/> or <see cref="CompactionScope.All"/>).
    /// </summary>
    public TimeSpan Lookback { get; set; } = DefaultLookback;

    /// <summary>Most rows in one Parquet file (default 1,000,000); an hour with more gets several parts.</summary>
    public int MaxRowsPerFile { get; set; } = 1_000_000;

    /// <summary>
    /// Rows per Parquet row group (default 122,880, DuckDB's; at most <see cref="RowGroupSizeLimit"/>). While a
    /// part is written, one row group fills while the one before it is encoded, so memory is about two row groups
    /// (some 100 bytes a row for the workshop's records).
    /// </summary>
    public int RowGroupSize { get; set; } = DefaultRowGroupSize;

    /// <summary>
    /// Before a part is published, decode every value in it with Parquet.Net and compare each column, in order,
    /// with what was written (default false). Without it a part is still read back before it is published: its
    /// footer, schema, row count and every column chunk's value count. It about doubles the compaction's time
    /// (+0.85 s per million rows on 2 cores in the compaction benchmark); the encoder itself is tested against
    /// DuckDB and Parquet.Net.
    /// </summary>
    public bool VerifyValues { get; set; }

    /// <summary>
    /// Delete the JSON objects once a manifest that covers them has been written (default false: the JSON
    /// table keeps its data, as in the workshop).
    /// </summary>
    public bool DeleteSourceAfterPublish { get; set; }

    /// <summary>
    /// Local folder for the files being written before they are verified and published (default null: the
    /// system's temporary folder). Needs room for one part at a time per hour being compacted. Each run works in
    /// its own <c>retail-compaction-&lt;run id&gt;</c> folder there, locked while it runs; a later run removes the
    /// folders of runs that were killed.
    /// </summary>
    public string? LocalTempPath { get; set; }

    /// <summary>
    /// How long a run waits for an hour that another run is compacting (default 1 minute; zero: do not wait). Two
    /// compactions of one hour never overlap: each holds the hour's lock from planning to commit. When the wait
    /// ends with the hour still held, the hour fails with a message naming the holder, and nothing is written.
    /// </summary>
    public TimeSpan LockWaitTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// On a store without OS file locks (anything but <see cref="LocalFolderObjectStore"/>, e.g. S3), the hour's
    /// lock is a lease object beside its manifest that lapses this long after it was last renewed (default 2
    /// minutes; the run renews it as it works and checks it before every publish). A run that was killed blocks
    /// its hour until its lease lapses. On a local folder the lock is an OS lock, released when the process dies.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How many JSON objects are parsed at once (default 0: one per processor). Each object being parsed is held in
    /// memory as columns, so objects are also started only while those in flight hold at most 256 MiB of source
    /// together (one object is always parsed, whatever its size).
    /// </summary>
    public int MaxParallelObjects { get; set; }

    /// <summary>
    /// How the compactor's store calls (list, get, head, put, delete) are retried after a transient failure
    /// (default: 100 ms first delay, 5 s longest, for 1 minute per call). When the limits are reached the hour
    /// fails with the store's last error named, and nothing more is published for it. A put from a stream that cannot
    /// seek is not retried (it cannot be rewound); the hour fails and the next run redoes it.
    /// </summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(5),
        MaxTotalDuration = TimeSpan.FromMinutes(1),
    };

    /// <summary>
    /// Points the compactor at <paramref name="lake"/>: <see cref="SourcePrefix"/> becomes its
    /// <see cref="RetailLakeDefinition.JsonPrefix"/>, <see cref="TargetPrefix"/> its
    /// <see cref="RetailLakeDefinition.ParquetPrefix"/> and <see cref="ManifestPrefix"/> its
    /// <see cref="RetailLakeDefinition.CompactionManifestPrefix"/>.
    /// </summary>
    /// <returns>This instance.</returns>
    public ParquetCompactorOptions UseLake(RetailLakeDefinition lake)
    {
        ArgumentNullException.ThrowIfNull(lake);
        SourcePrefix = lake.JsonPrefix;
        TargetPrefix = lake.ParquetPrefix;
        ManifestPrefix = lake.CompactionManifestPrefix;
        return this;
    }

    /// <summary>Checks every setting; returns one message per problem, each naming the setting and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckPrefix(errors, nameof(SourcePrefix), SourcePrefix);
        CheckPrefix(errors, nameof(TargetPrefix), TargetPrefix);
        CheckPrefix(errors, nameof(ManifestPrefix), ManifestPrefix);
        if (errors.Count == 0)
        {
            CheckDisjoint(errors, nameof(SourcePrefix), SourcePrefix, nameof(TargetPrefix), TargetPrefix);
            CheckDisjoint(errors, nameof(ManifestPrefix), ManifestPrefix, nameof(SourcePrefix), SourcePrefix);
            CheckDisjoint(errors, nameof(ManifestPrefix), ManifestPrefix, nameof(TargetPrefix), TargetPrefix);
        }
        if (Grace < TimeSpan.Zero || Grace > TimeSpan.FromDays(7))
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(Grace)} must be between 00:00:00 and 7.00:00:00 (was {Grace:c})."));
        if (Lookback < TimeSpan.FromHours(1) || Lookback > MaxLookback || Lookback.Ticks % TimeSpan.TicksPerHour != 0)
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(Lookback)} must be a whole number of hours between 01:00:00 and {MaxLookback:c} (was {Lookback:c})."));
        if (MaxRowsPerFile < 1 || MaxRowsPerFile > MaxRowsPerFileLimit)
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(MaxRowsPerFile)} must be between 1 and {MaxRowsPerFileLimit} (was {MaxRowsPerFile})."));
        if (RowGroupSize < 1 || RowGroupSize > RowGroupSizeLimit)
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(RowGroupSize)} must be between 1 and {RowGroupSizeLimit} (was {RowGroupSize})."));
        if (MaxParallelObjects < 0 || MaxParallelObjects > 256)
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(MaxParallelObjects)} must be between 0 (one per processor) and 256 (was {MaxParallelObjects})."));
        if (LockWaitTimeout < TimeSpan.Zero || LockWaitTimeout > TimeSpan.FromDays(1))
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(LockWaitTimeout)} must be between 00:00:00 and 1.00:00:00 (was {LockWaitTimeout:c})."));
        if (LeaseDuration < TimeSpan.FromSeconds(10) || LeaseDuration > TimeSpan.FromDays(1))
            errors.Add(Invariant($"{nameof(ParquetCompactorOptions)}.{nameof(LeaseDuration)} must be between 00:00:10 and 1.00:00:00 (was {LeaseDuration:c})."));
        if (Retry is null) errors.Add($"{nameof(ParquetCompactorOptions)}.{nameof(Retry)} must be set.");
        else errors.AddRange(Retry.Validate($"{nameof(ParquetCompactorOptions)}.{nameof(Retry)}"));
        if (LocalTempPath is not null && LocalTempPath.Trim().Length == 0)
            errors.Add($"{nameof(ParquetCompactorOptions)}.{nameof(LocalTempPath)} must be null (the system's temporary folder) or a folder path (was '{LocalTempPath}').");
        return errors;
    }

    /// <summary>A copy, so that a running compactor is not affected by later changes to this instance.</summary>
    internal ParquetCompactorOptions Clone() => (ParquetCompactorOptions)MemberwiseClone();

    private static void CheckPrefix(List<string> errors, string name, string? prefix)
    {
        string setting = $"{nameof(ParquetCompactorOptions)}.{name}";
        if (string.IsNullOrEmpty(prefix))
        {
            errors.Add($"{setting} must be a non-empty key prefix ending with '/' (was '{prefix}').");
            return;
        }
        if (!prefix.EndsWith('/'))
        {
            errors.Add($"{setting} must end with '/' (was '{prefix}').");
            return;
        }
        if (!ObjectKeys.IsValid(prefix + "x", out string? why))
        {
            errors.Add($"{setting} is not a valid key prefix: {why} (was '{prefix}').");
            return;
        }
        if (LakeLayout.TryParseHourPartition(prefix + "x") is not null)
            errors.Add($"{setting} must not contain an hourly partition (was '{prefix}').");
    }

    private static void CheckDisjoint(List<string> errors, string nameA, string a, string nameB, string b)
    {
        if (a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal))
            errors.Add($"{nameof(ParquetCompactorOptions)}.{nameA} ('{a}') and {nameof(ParquetCompactorOptions)}.{nameB} ('{b}') must not contain one another.");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
