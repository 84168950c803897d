using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Compaction;
using Retail.Query;

namespace Retail.Sinks.Athena;

/// <summary>The Athena CTAS hourly compactor (the workshop's MergeSmallFiles, done right).</summary>
/// <remarks>
/// Each hour is one CTAS into a fresh version folder named after the fingerprint of the hour's JSON objects
/// (<c>v-&lt;fingerprint&gt;-&lt;run&gt;/</c>), verified by row count, then published by moving the Parquet table's
/// partition to it. One CTAS writes one partition, so a backfill of any number of hours stays far below Athena's
/// 100 partitions per CTAS. Superseded version folders stay in S3 (the compactor has no S3 client).
/// </remarks>
public sealed partial class AthenaCtasCompactor
{
    private const int MaxAttempts = 2;
    private readonly AthenaCompactorOptions _options;
    private readonly IQueryEngine _athena;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CtasStatements _sql;

    private AthenaCtasCompactor(AthenaCompactorOptions options, IQueryEngine athena, TimeProvider time, ILogger log)
    {
        _options = options;
        _athena = athena;
        _time = time;
        _log = log;
        _sql = new CtasStatements(options);
    }

    /// <summary>Creates the compactor over an Athena query engine (from <see cref="AthenaClientFactory.CreateQueryEngine"/>).</summary>
    public static AthenaCtasCompactor Create(AthenaCompactorOptions options, IQueryEngine athena, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(athena);
        AthenaCompactorOptions.RequireIdentifier("OLD_DATABASE", options.OldDatabase);
        AthenaCompactorOptions.RequireIdentifier("OLD_TABLE_NAME", options.OldTableName);
        AthenaCompactorOptions.RequireIdentifier("NEW_DATABASE", options.NewDatabase);
        AthenaCompactorOptions.RequireIdentifier("NEW_TABLE_NAME", options.NewTableName);
        return new AthenaCtasCompactor(options, athena, timeProvider ?? TimeProvider.System,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Retail.Sinks.Athena.AthenaCtasCompactor"));
    }

    /// <summary>The hour a scheduled run at <paramref name="eventTime"/> compacts: the hour before it.</summary>
    public static DateTime HourBefore(DateTimeOffset eventTime)
    {
        var utc = eventTime.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc).AddHours(-1);
    }

    /// <summary>The statements a run over <paramref name="hours"/> would send, in order (the dry run prints them).</summary>
    /// <remarks>Runs nothing. The version folder shows <c>&lt;fingerprint&gt;</c> and <c>&lt;run&gt;</c>, which depend on
    /// Athena's answers; a run skips steps 4-8 of an hour that is up to date.</remarks>
    public IReadOnlyList<string> PlanStatements(IReadOnlyList<DateTime> hours)
    {
        ArgumentNullException.ThrowIfNull(hours);
        var list = new List<string>();
        foreach (var h in Normalize(hours))
        {
            var location = _sql.VersionLocation(h, "<fingerprint>", "<run>");
            list.Add(_sql.AddSourcePartitions(h));
            list.Add(WithParameters(_sql.SourceFingerprint, h));
            list.Add(WithParameters(_sql.Published, h));
            list.Add(_sql.DropTmp(h));
            list.Add(_sql.Ctas(h, location));
            list.Add(_sql.CountTmp(h));
            list.Add(_sql.AddPublishedPartition(h, location));
            list.Add(_sql.SetPublishedLocation(h, location));
            list.Add(_sql.DropTmp(h));
        }
        return list;
    }

    /// <summary>Compacts <paramref name="hours"/>; each is verified and published atomically or reported failed.</summary>
    /// <remarks>With <see cref="AthenaCompactorOptions.DryRun"/> nothing is sent: the plan is logged and the report is empty.
    /// A failing statement fails its hour (<see cref="HourCompaction.Error"/> names the hour and Athena's reason); the other
    /// hours go on.</remarks>
    public async ValueTask<CompactionReport> CompactHoursAsync(IReadOnlyList<DateTime> hours, IProgress<HourCompaction>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hours);
        if (_options.DryRun)
        {
            foreach (var s in PlanStatements(hours)) LogDryRun(_log, s);
            return new CompactionReport([]);
        }
        _options.ValidateForRun();
        var results = new List<HourCompaction>();
        foreach (var h in Normalize(hours))
        {
            cancellationToken.ThrowIfCancellationRequested();
            HourCompaction r;
            try
            {
                r = await CompactHourAsync(h, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AthenaQueryException or HourFailedException)
            {
                var reason = ex is AthenaQueryException aq ? aq.StateChangeReason ?? aq.Message : ex.Message;
                r = new HourCompaction(h, HourCompactionOutcome.Failed, 0, 0, 0, 0, 0, string.Create(CultureInfo.InvariantCulture, $"hour {h:yyyy-MM-dd HH}:00: {reason}"));
                LogHourFailed(_log, h, reason);
            }
            results.Add(r);
            progress?.Report(r);
        }
        return new CompactionReport(results);
    }

    private async ValueTask<HourCompaction> CompactHourAsync(DateTime h, CancellationToken ct)
    {
        await RunAsync(_sql.AddSourcePartitions(h), null, ct).ConfigureAwait(false);
        var source = await RunAsync(_sql.SourceFingerprint, CtasStatements.HourParameters(h), ct).ConfigureAwait(false);
        var objects = PathCounts(source);
        long rowsIn = objects.Sum(o => o.Rows);
        var fingerprint = Fingerprint(objects);

        var published = PathCounts(await RunAsync(_sql.Published, CtasStatements.HourParameters(h), ct).ConfigureAwait(false));
        long publishedRows = published.Sum(o => o.Rows);
        bool publishedMatches = published.Count > 0 && published.All(p => p.Path.Contains($"/v-{fingerprint}-", StringComparison.Ordinal)) && publishedRows == rowsIn;
        if (objects.Count == 0 || publishedMatches)
        {
            LogUpToDate(_log, h, objects.Count, rowsIn);
            return new HourCompaction(h, HourCompactionOutcome.UpToDate, objects.Count, 0, 0, 0, 0);
        }

        await RunAsync(_sql.DropTmp(h), null, ct).ConfigureAwait(false);
        string? location = null;
        for (int attempt = 1; location is null; attempt++)
        {
            var candidate = _sql.VersionLocation(h, fingerprint, RunId(attempt));
            try
            {
                await RunAsync(_sql.Ctas(h, candidate), null, ct).ConfigureAwait(false);
                location = candidate;
            }
            catch (AthenaQueryException ex) when (attempt < MaxAttempts && (ex.StateChangeReason ?? ex.Message).Contains("HIVE_PATH_ALREADY_EXISTS", StringComparison.Ordinal))
            {
                // The folder holds an earlier attempt's files: never write into it; a fresh run id names an empty one.
                LogTargetExists(_log, h, candidate);
                await RunAsync(_sql.DropTmp(h), null, ct).ConfigureAwait(false);
            }
        }

        var counted = await RunAsync(_sql.CountTmp(h), null, ct).ConfigureAwait(false);
        long rowsOut = counted.Rows.Count == 1 ? ToLong(counted.Rows[0][0]) : -1;
        if (rowsOut != rowsIn)
        {
            await RunAsync(_sql.DropTmp(h), null, ct).ConfigureAwait(false);
            throw new HourFailedException(string.Create(CultureInfo.InvariantCulture, $"the CTAS wrote {rowsOut} rows but the JSON objects hold {rowsIn}; nothing was published ({location})"));
        }

        await RunAsync(_sql.AddPublishedPartition(h, location), null, ct).ConfigureAwait(false);
        await RunAsync(_sql.SetPublishedLocation(h, location), null, ct).ConfigureAwait(false);
        await RunAsync(_sql.DropTmp(h), null, ct).ConfigureAwait(false);
        LogCompacted(_log, h, objects.Count, rowsOut, location);
        return new HourCompaction(h, HourCompactionOutcome.Compacted, objects.Count, rowsIn, rowsOut, 0, 0);
    }

    private async ValueTask<QueryResult> RunAsync(string sql, object?[]? parameters, CancellationToken ct)
    {
        LogStatement(_log, sql);
        return await _athena.QueryAsync(sql, parameters, 10_000, ct).ConfigureAwait(false);
    }

    private string RunId(int attempt)
        => string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow().UtcDateTime:yyyyMMddTHHmmssZ}-{attempt}");

    private static List<(string Path, long Rows)> PathCounts(QueryResult result)
    {
        if (result.Truncated)
            throw new HourFailedException("the hour has more objects than one result holds (10,000)");
        return result.Rows.Select(r => (Path: Convert.ToString(r[0], CultureInfo.InvariantCulture) ?? "", Rows: ToLong(r[1]))).ToList();
    }

    private static long ToLong(object? value) => value switch
    {
        long l => l,
        int i => i,
        string s => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture),
        null => throw new HourFailedException("Athena answered NULL for a row count"),
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    /// <summary>The first 16 hex digits of SHA-256 over the sorted <c>path\tcount\n</c> lines of the hour's JSON objects.</summary>
    internal static string Fingerprint(IEnumerable<(string Path, long Rows)> objects)
    {
        var text = new StringBuilder();
        foreach (var (path, rows) in objects.OrderBy(o => o.Path, StringComparer.Ordinal))
            text.Append(path).Append('\t').Append(rows.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static List<DateTime> Normalize(IReadOnlyList<DateTime> hours)
        => hours.Select(h => new DateTime(h.Year, h.Month, h.Day, h.Hour, 0, 0, DateTimeKind.Utc)).Distinct().Order().ToList();

    private static string WithParameters(string sql, DateTime h)
    {
        int i = 0;
        var values = CtasStatements.HourParameters(h);
        return QuestionMark().Replace(sql, _ => $"?{{{Convert.ToString(values[i++], CultureInfo.InvariantCulture)}}}");
    }

    [GeneratedRegex(@"\?")]
    private static partial Regex QuestionMark();

    private sealed class HourFailedException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Athena statement: {Sql}")]
    private static partial void LogStatement(ILogger logger, string sql);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dry run: {Sql}")]
    private static partial void LogDryRun(ILogger logger, string sql);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hour {Hour:yyyy-MM-dd HH}:00 is up to date ({Objects} objects, {Rows} rows)")]
    private static partial void LogUpToDate(ILogger logger, DateTime hour, int objects, long rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hour {Hour:yyyy-MM-dd HH}:00 compacted: {Objects} objects, {Rows} rows, published {Location}")]
    private static partial void LogCompacted(ILogger logger, DateTime hour, int objects, long rows, string location);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hour {Hour:yyyy-MM-dd HH}:00: the CTAS target {Location} is not empty; retrying with a fresh run id")]
    private static partial void LogTargetExists(ILogger logger, DateTime hour, string location);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hour {Hour:yyyy-MM-dd HH}:00 failed: {Reason}")]
    private static partial void LogHourFailed(ILogger logger, DateTime hour, string reason);
}
