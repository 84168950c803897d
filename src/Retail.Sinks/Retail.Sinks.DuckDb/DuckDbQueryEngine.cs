using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Query;
using Retail.Storage;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// SQL over a local data lake with embedded DuckDB: the workshop's Athena tables as views, so its
/// queries run unchanged.
/// </summary>
/// <remarks>
/// <para>Tables, named and placed as <see cref="DuckDbQueryOptions.Lake"/> defines them (below, the defaults; column names
/// lowercase like Athena's; DuckDB identifiers are case-insensitive, so <c>InvoiceDate</c> works too):</para>
/// <list type="bullet">
/// <item><c>retail_trans_json</c>: the JSON objects delivery (or real Firehose) writes, at
/// <c>&lt;lake&gt;/json-data/year=YYYY/month=MM/day=DD/hour=HH/&lt;stream&gt;-&lt;version&gt;-yyyy-MM-dd-HH-mm-ss-&lt;id&gt;</c>
/// (<c>&lt;id&gt;</c> may be Firehose's UUID, and <c>.gz</c> may follow): one record per line, records concatenated without
/// newlines, or both; GZIP objects are decompressed.</item>
/// <item><c>ctas_retail_trans_parquet</c>: the Parquet files the compactor writes, at
/// <c>&lt;lake&gt;/parquet-retail-trans/year=YYYY/month=MM/day=DD/hour=HH/part-NNNNN.parquet</c>.</item>
/// </list>
/// <para>Columns, the same in both tables: <c>invoice VARCHAR, stockcode VARCHAR, description VARCHAR, quantity INTEGER,
/// invoicedate TIMESTAMP, price DECIMAL(38,4), customer_id VARCHAR, country VARCHAR, year INTEGER, month INTEGER,
/// day INTEGER, hour INTEGER</c>. Prices are exact in both tables: every price delivery accepts (Core's
/// <see cref="RetailPrice"/>, up to ±99,999,999,999.9999) reads back digit for digit, and a price in a JSON object
/// that the lake would not accept (12 or more integer digits, a non-zero digit past the 4th decimal) fails the query
/// naming the file and the value instead of being rounded. The files hold DECIMAL(18,4); the views widen it to
/// DECIMAL(38,4) so that <c>sum(quantity * price)</c>, <c>sum(price * quantity)</c> and <c>sum(price)</c> cannot
/// overflow for any INTEGER quantity (DuckDB would multiply DECIMAL(18,4) in 64 bits, capped at 18 digits).</para>
/// <para>Every query sees the files present when it starts (a table with no files yet is empty, not
/// an error). Only files named as the pipeline names them are read: files whose names start with <c>.</c>
/// (in-flight temporary files), other names (a file copied in by hand) and files outside the four hourly partition
/// levels are not part of a table; <c>_retail/</c> and <c>error-json/</c> are never read.</para>
/// <para>Queries are read-only: <see cref="QueryAsync"/> runs one SELECT (also <c>WITH</c>, <c>FROM</c>-first,
/// <c>VALUES</c>, <c>DESCRIBE</c>, <c>SHOW</c>, <c>SUMMARIZE</c>) or an EXPLAIN of one, and refuses every other
/// statement — COPY … TO, EXPORT, CREATE, INSERT, ATTACH, SET, PRAGMA, CALL, CHECKPOINT, … — and any SELECT calling a
/// function that changes state (<c>checkpoint()</c>, <c>enable_logging()</c>, <c>query()</c>, …), before DuckDB binds
/// it, with a <see cref="DuckDbQueryException"/> naming the statement. The decision is DuckDB's own parse, not text
/// matching.</para>
/// <para>Containment besides: DuckDB runs with <c>autoinstall_known_extensions</c> and
/// <c>autoload_known_extensions</c> off, external access disabled except for the two table folders
/// (<c>allowed_directories</c>), and its configuration locked — a query cannot reach the network,
/// load an extension, or read other files.</para>
/// <para>Thread-safe: concurrent queries each run on their own DuckDB connection.</para>
/// </remarks>
internal sealed class DuckDbQueryEngine : IQueryEngine, IDisposable, IAsyncDisposable
{
    /// <summary>The JSON table's default name, <c>retail_trans_json</c> (<see cref="RetailLakeDefinition.DefaultJsonTableName"/>); an engine's own is <see cref="Lake"/>'s.</summary>
    public const string JsonTableName = RetailLakeDefinition.DefaultJsonTableName;

    /// <summary>The Parquet table's default name, <c>ctas_retail_trans_parquet</c> (<see cref="RetailLakeDefinition.DefaultParquetTableName"/>); an engine's own is <see cref="Lake"/>'s.</summary>
    public const string ParquetTableName = RetailLakeDefinition.DefaultParquetTableName;

    private readonly DuckDBConnection _root;
    private readonly Lock _rootLock = new();
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private readonly LakeView[] _views;
    private bool _disposed;

    /// <summary>Opens an engine over the lake at <paramref name="lakePath"/> with default options.</summary>
    public DuckDbQueryEngine(string lakePath) : this(new DuckDbQueryOptions { LakePath = lakePath }) { }

    /// <summary>Opens an engine (an in-memory DuckDB database that reads the lake's files).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting and the bad value.</exception>
    public DuckDbQueryEngine(DuckDbQueryOptions options, ILogger<DuckDbQueryEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeout = options.QueryTimeout;
        LakePath = LakePaths.Normalize(options.LakePath);
        var lake = Lake = options.Lake.Clone();
        // The views' SQL depends only on the lake: built once, run on each query's connection.
        string jsonGlob = LakeViews.JsonGlob(LakePath, lake), parquetGlob = LakeViews.ParquetGlob(LakePath, lake);
        string json = lake.JsonTableName, parquet = lake.ParquetTableName;
        _views =
        [
            new(json, jsonGlob, LakeViews.Create(json, LakeViews.JsonSource(jsonGlob, json)), LakeViews.Create(json, null)),
            new(parquet, parquetGlob, LakeViews.Create(parquet, LakeViews.ParquetSource(parquetGlob)), LakeViews.Create(parquet, null)),
        ];

        _root = DuckDbCommands.Open(":memory:", options.Threads, options.MemoryLimit);
        try
        {
            DuckDbCommands.LockDown(_root, [LakePath + "/" + lake.JsonPrefix, LakePath + "/" + lake.ParquetPrefix]);
            Log.EngineOpened(_logger, LakePath, _root.ServerVersion);
        }
        catch
        {
            _root.Dispose();
            throw;
        }
    }

    /// <summary>The lake's root folder (absolute, <c>/</c>-separated).</summary>
    public string LakePath { get; }

    /// <summary>The lake this engine queries: its table names and prefixes (a copy of <see cref="DuckDbQueryOptions.Lake"/>; do not change it).</summary>
    public RetailLakeDefinition Lake { get; }

    /// <inheritdoc />
    /// <remarks>Read-only: see the class remarks for what runs and what is refused.</remarks>
    /// <exception cref="DuckDbQueryException">The statement is not read-only (the message names its type and says why), DuckDB rejected or failed it (its message is included), or it ran longer than <see cref="DuckDbQueryOptions.QueryTimeout"/>.</exception>
    /// <exception cref="ArgumentException">A parameter cannot be bound.</exception>
    public ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRows);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ValueTask<QueryResult>(Task.Run(() => Run(sql, parameters, maxRows, cancellationToken), cancellationToken));
    }

    private QueryResult Run(string sql, IReadOnlyList<object?>? parameters, int maxRows, CancellationToken cancellationToken)
    {
        using var activity = DuckDbDiagnostics.ActivitySource.StartActivity("duckdb.query");
        long started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var connection = Connect();
            var unreadable = CreateViews(connection);
            QueryResult result;
            try
            {
                result = DuckDbCommands.Query(connection, sql, parameters, maxRows, timeout.Token);
            }
            catch (DuckDbQueryException e) when (unreadable.FirstOrDefault(u => e.Message.Contains($"Table with name {u.Table} does not exist", StringComparison.OrdinalIgnoreCase)) is { Table: not null } u)
            {
                throw new DuckDbQueryException($"DuckDB could not read table {u.Table}: {u.Error}", sql, e);
            }
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            DuckDbDiagnostics.Queries.Add(1, DuckDbDiagnostics.OutcomeOk);
            DuckDbDiagnostics.QueryDuration.Record(elapsed);
            Log.QueryCompleted(_logger, result.Rows.Count, result.Truncated, elapsed * 1000);
            return result;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            DuckDbDiagnostics.Queries.Add(1, DuckDbDiagnostics.OutcomeError);
            string message = $"The query ran longer than {nameof(DuckDbQueryOptions.QueryTimeout)} ({_timeout.ToString("c", CultureInfo.InvariantCulture)}) and was interrupted.";
            Log.QueryFailed(_logger, message);
            throw new DuckDbQueryException(message, sql, e);
        }
        catch (OperationCanceledException)
        {
            DuckDbDiagnostics.Queries.Add(1, DuckDbDiagnostics.OutcomeCanceled);
            throw;
        }
        catch (DuckDbQueryException e)
        {
            DuckDbDiagnostics.Queries.Add(1, DuckDbDiagnostics.OutcomeError);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.QueryFailed(_logger, e.Message);
            throw;
        }
    }

    /// <summary>A fresh connection to the engine's database; its temporary views die with it.</summary>
    private DuckDBConnection Connect()
    {
        lock (_rootLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var connection = _root.Duplicate();
            if (connection.State != System.Data.ConnectionState.Open) connection.Open();
            return connection;
        }
    }

    /// <summary>
    /// Creates both tables as temporary views for this query: over the files when the table's glob
    /// matches any, else an empty view with the same columns (DuckDB's readers reject an empty glob).
    /// A table DuckDB cannot bind (e.g. a corrupt Parquet footer) is left out, so queries of the other
    /// table still run; it is returned with DuckDB's error, to explain a query that needed it.
    /// </summary>
    private List<(string Table, string Error)> CreateViews(DuckDBConnection connection)
    {
        var unreadable = new List<(string, string)>();
        foreach (var view in _views)
        {
            try
            {
                DuckDbCommands.Execute(connection, HasFiles(connection, view.Glob) ? view.OverFiles : view.Empty);
            }
            catch (DuckDBException e)
            {
                unreadable.Add((view.Table, e.Message));
            }
        }
        return unreadable;
    }

    /// <summary>A table's glob and its view's SQL, over the files and empty.</summary>
    private sealed record LakeView(string Table, string Glob, string OverFiles, string Empty);

    private static bool HasFiles(DuckDBConnection connection, string glob) =>
        DuckDbCommands.Scalar(connection, "SELECT EXISTS (SELECT 1 FROM glob($1))", glob) is true;

    /// <summary>Closes the database. Queries still running fail.</summary>
    public void Dispose()
    {
        lock (_rootLock)
        {
            if (_disposed) return;
            _disposed = true;
            _root.Dispose();
        }
    }

    /// <summary>Closes the database.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
