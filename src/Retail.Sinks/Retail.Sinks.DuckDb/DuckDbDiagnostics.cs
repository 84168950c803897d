using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Retail.Sinks.DuckDb;

/// <summary>Names of this package's <see cref="Meter"/> and <see cref="ActivitySource"/> (both <c>Retail.Sinks.DuckDb</c>).</summary>
/// <remarks>
/// Instruments: <c>retail.duckdb.queries</c> (counter, tag <c>outcome</c> = <c>ok|error|canceled</c>),
/// <c>retail.duckdb.query.duration</c> (histogram, s), <c>retail.duckdb.index.documents</c> (counter, tag
/// <c>outcome</c> = <c>upserted|rejected|failed</c>), <c>retail.duckdb.index.upsert.duration</c> (histogram, s).
/// Activities: <c>duckdb.query</c>, <c>duckdb.upsert</c>, <c>duckdb.histogram</c>.
/// </remarks>
public static class DuckDbDiagnostics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Retail.Sinks.DuckDb";

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "Retail.Sinks.DuckDb";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
    internal static readonly Meter Meter = new(MeterName);
    internal static readonly Counter<long> Queries = Meter.CreateCounter<long>("retail.duckdb.queries", description: "Queries run, by outcome.");
    internal static readonly Histogram<double> QueryDuration = Meter.CreateHistogram<double>("retail.duckdb.query.duration", unit: "s", description: "Time to run a query and read its rows.");
    internal static readonly Counter<long> IndexDocuments = Meter.CreateCounter<long>("retail.duckdb.index.documents", description: "Documents upserted, rejected (not retryable) or failed (retryable).");
    internal static readonly Histogram<double> UpsertDuration = Meter.CreateHistogram<double>("retail.duckdb.index.upsert.duration", unit: "s", description: "Time to upsert one batch.");

    internal static readonly KeyValuePair<string, object?> OutcomeOk = new("outcome", "ok");
    internal static readonly KeyValuePair<string, object?> OutcomeError = new("outcome", "error");
    internal static readonly KeyValuePair<string, object?> OutcomeCanceled = new("outcome", "canceled");
    internal static readonly KeyValuePair<string, object?> OutcomeUpserted = new("outcome", "upserted");
    internal static readonly KeyValuePair<string, object?> OutcomeRejected = new("outcome", "rejected");
    internal static readonly KeyValuePair<string, object?> OutcomeFailed = new("outcome", "failed");
}
