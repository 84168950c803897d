using Microsoft.Extensions.Logging;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The DuckDB parts without dependency injection (with it, use <c>AddDuckDbQueries</c> and <c>AddDuckDbUpsertIndex</c>,
/// which dispose them with the container). The engine and the index are also <see cref="IDisposable"/> and
/// <see cref="IAsyncDisposable"/>: dispose them when done (<c>await using var engine = (IAsyncDisposable)…</c>, or
/// <c>(engine as IDisposable)?.Dispose()</c>). The speed-layer view holds nothing between calls.
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

    /// <summary>
    /// The speed layer of an index's database file, read by a process other than the one that writes it (e.g. a dashboard
    /// beside <c>retail demo</c>); the index itself is the view of the process that writes (in DI, <c>AddDuckDbUpsertIndex</c>
    /// registers it as <see cref="ISpeedLayerView"/> too). <paramref name="options"/> name the file and table as the index's do.
    /// </summary>
    /// <remarks>
    /// Each call opens the file READ_ONLY and closes it before returning; nothing is held between calls, so the view needs
    /// no disposing. A missing file is an empty histogram (nothing upserted yet), and the view never creates it. DuckDB lets
    /// one process at a time write a database file and keeps readers of other processes out meanwhile, so a call fails while
    /// another process has the index open; and while a call reads, a writer cannot open the file.
    /// </remarks>
    /// <exception cref="ArgumentException">The options are invalid (the message names the setting and the bad value), or name an in-memory database.</exception>
    public static ISpeedLayerView CreateSpeedLayerView(DuckDbIndexOptions options, ILoggerFactory? loggerFactory = null)
        => new DuckDbSpeedLayerView(options, loggerFactory?.CreateLogger<DuckDbSpeedLayerView>());
}
