using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Retail.Indexing;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The one query behind both DuckDB <see cref="ISpeedLayerView"/>s (the index's own connection, and the read-only
/// view of another process's file): <c>date_trunc</c> buckets of <c>count(*)</c> and <c>sum(quantity)</c> with the
/// totals over the same filter, in one statement.
/// </summary>
internal static class SpeedLayerHistograms
{
    private static readonly SpeedLayerHistogram Empty = new([], 0, 0, false);

    /// <summary>Throws when the request is invalid: <see cref="ArgumentException"/> with every <see cref="SpeedLayerHistogramRequest.Validate"/> message.</summary>
    public static void Validate(SpeedLayerHistogramRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var failures = request.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(request));
    }

    /// <summary>
    /// The histogram of <paramref name="table"/> (a quoted, qualified table with the index's columns) for a valid
    /// <paramref name="request"/>. SQL text comes only from fixed fragments (the interval is a literal chosen by an enum
    /// switch); every value is a positional parameter.
    /// </summary>
    /// <exception cref="DuckDbQueryException">DuckDB failed the query (its message is included).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> interrupted it.</exception>
    public static SpeedLayerHistogram Run(DuckDBConnection connection, string table, SpeedLayerHistogramRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        Validate(request);
        cancellationToken.ThrowIfCancellationRequested();
        // No stored document holds a NUL or an unpaired surrogate (the index rejects them), and DuckDB would bind such a
        // parameter as other text (cut at the NUL, the surrogate replaced): nothing can match it.
        if (request.Country is { } country && RetailRecordValidation.CheckText(nameof(request.Country), country) is not null) return Empty;

        using var activity = DuckDbDiagnostics.ActivitySource.StartActivity("duckdb.histogram");
        long started = Stopwatch.GetTimestamp();
        using var command = connection.CreateCommand();
        command.CommandText = Sql(table, request, command.Parameters);
        using var registration = cancellationToken.Register(static c => ((DuckDBCommand)c!).Cancel(), command);
        try
        {
            var buckets = new List<HistogramBucket>();
            long documents = 0, quantity = 0;
            bool truncated = false;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (buckets.Count == request.MaxBuckets)
                    {
                        truncated = true;
                        break;
                    }
                    buckets.Add(new HistogramBucket(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc), reader.GetInt64(1), reader.GetInt64(2)));
                    documents = reader.GetInt64(3);
                    quantity = reader.GetInt64(4);
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            Log.HistogramCompleted(logger, buckets.Count, documents, truncated, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new SpeedLayerHistogram(buckets, documents, quantity, truncated);
        }
        catch (DuckDBException e) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new DuckDbQueryException("DuckDB could not compute the speed-layer histogram: " + e.Message, command.CommandText, e);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            throw new OperationCanceledException("The histogram was canceled.", e, cancellationToken);
        }
    }

    /// <summary>
    /// <c>SELECT start, documents, quantity, total documents, total quantity</c>, one row per non-empty bucket, oldest
    /// first, at most <c>MaxBuckets + 1</c> rows (the extra one says the histogram was truncated). The totals are window
    /// sums over every bucket, computed before the <c>LIMIT</c>.
    /// </summary>
    private static string Sql(string table, SpeedLayerHistogramRequest request, DuckDBParameterCollection parameters)
    {
        var sql = new StringBuilder(512)
            .Append("SELECT bucket_start, bucket_documents, bucket_quantity, ")
            .Append("CAST(sum(bucket_documents) OVER () AS BIGINT), CAST(sum(bucket_quantity) OVER () AS BIGINT) FROM (")
            .Append("SELECT CAST(date_trunc('").Append(Unit(request.Interval)).Append("', invoicedate) AS TIMESTAMP) AS bucket_start, ")
            .Append("count(*) AS bucket_documents, CAST(sum(quantity) AS BIGINT) AS bucket_quantity FROM ").Append(table);
        string where = " WHERE ";
        if (request.From is { } from)
        {
            parameters.Add(new DuckDBParameter(Microseconds(from)));
            sql.Append(where).Append("invoicedate >= $").Append(parameters.Count.ToString(CultureInfo.InvariantCulture));
            where = " AND ";
        }
        if (request.To is { } to)
        {
            parameters.Add(new DuckDBParameter(Microseconds(to)));
            sql.Append(where).Append("invoicedate < $").Append(parameters.Count.ToString(CultureInfo.InvariantCulture));
            where = " AND ";
        }
        if (request.Country is { } country)
        {
            parameters.Add(new DuckDBParameter(country));
            sql.Append(where).Append("country = $").Append(parameters.Count.ToString(CultureInfo.InvariantCulture));
        }
        parameters.Add(new DuckDBParameter((long)request.MaxBuckets + 1));
        return sql.Append(" GROUP BY 1) ORDER BY bucket_start LIMIT $").Append(parameters.Count.ToString(CultureInfo.InvariantCulture)).ToString();
    }

    /// <summary>DuckDB's <c>date_trunc</c> part for an interval; its <c>week</c> starts on Monday (ISO 8601).</summary>
    private static string Unit(HistogramInterval interval) => interval switch
    {
        HistogramInterval.Minute => "minute",
        HistogramInterval.Hour => "hour",
        HistogramInterval.Day => "day",
        HistogramInterval.Week => "week",
        HistogramInterval.Month => "month",
        _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "Unknown histogram interval."),
    };

    /// <summary>
    /// A bound as DuckDB's TIMESTAMP (microseconds, no zone), rounded up: stored dates are whole microseconds, so
    /// <c>d &gt;= t</c> and <c>d &lt; t</c> hold exactly when they hold for <paramref name="time"/> rounded up (DuckDB.NET
    /// would cut the ticks off, counting a document at 10:00:00 as at or after 10:00:00.0000001).
    /// </summary>
    private static DateTime Microseconds(DateTime time)
    {
        long ticks = time.Ticks, rest = ticks % 10;
        if (rest != 0) ticks = Math.Min(ticks - rest + 10, DateTime.MaxValue.Ticks);
        return new DateTime(ticks, DateTimeKind.Unspecified);
    }
}
