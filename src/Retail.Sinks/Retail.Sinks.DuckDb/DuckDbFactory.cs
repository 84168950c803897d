using Microsoft.Extensions.Logging;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The DuckDB parts without dependency injection (with it, use <c>AddDuckDbQueries</c> and <c>AddDuckDbUpsertIndex</c>,
/// which dispose them with the container). What these return is also <see cref="IDisposable"/> and
/// <see cref="IAsyncDisposable"/>: dispose it when done (<c>await using var engine = (IAsyncDisposable)…</c>, or
/// <c>(engine as IDisposable)?.Dispose()</c>).
/// </summary>
public static class DuckDbFactory
{
    /// <summary>The embedded, read-only SQL engine over a local lake: <c>retail_trans_json</c> and
    /// <c>ctas_retail_trans_parquet</c> as views of the lake's files, typed as the lake definition says.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting and the bad value.</exception>
    public static IQueryEngine CreateQueryEngine(DuckDbQueryOptions options, ILoggerFactory? loggerFactory = null)
        => new DuckDbQueryEngine(options, loggerFactory?.CreateLogger<DuckDbQueryEngine>());

    /// <summary>The embedded speed-layer index: one DuckDB table upserted by document id (a file, or in memory).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting and the bad value.</exception>
    /// <exception cref="InvalidOperationException">DuckDB could not open the database (e.g. another process holds it).</exception>
    public static IUpsertIndex CreateUpsertIndex(DuckDbIndexOptions options, ILoggerFactory? loggerFactory = null)
        => new DuckDbUpsertIndex(options, loggerFactory?.CreateLogger<DuckDbUpsertIndex>());
}
