using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The embedded speed layer: documents upserted by id into a DuckDB table (the workshop's
/// <c>UpsertToES</c>, with a table for the OpenSearch index).
/// </summary>
/// <remarks>
/// <para>Table (default name <c>retail</c>): <c>doc_id VARCHAR, invoice VARCHAR,
/// stockcode VARCHAR, description VARCHAR, quantity INTEGER, invoicedate TIMESTAMP,
/// price DECIMAL(18,4), customer_id VARCHAR, country VARCHAR, doc_key UUID PRIMARY KEY</c>, where
/// <c>doc_key</c> is the id hashed to 128 bits (a 16-byte key indexes much faster than text). <c>invoicedate</c> is a TIMESTAMP —
/// the natural equivalent of the OpenSearch flavour's ISO-8601 date field — so Kibana's chart is
/// <c>SELECT invoicedate, sum(quantity) FROM retail GROUP BY 1</c> (see <see cref="QueryAsync"/>).</para>
/// <para><c>price</c> is stored as the lake's DECIMAL(18,4) (Core's <see cref="RetailPrice"/> range, checked on
/// upsert), but queries see it as DECIMAL(38,4), the type of the lake's views, so that <c>sum(quantity * price)</c>
/// cannot overflow: DuckDB multiplies DECIMAL(18,4) by INTEGER in 64 bits, capped at 18 digits (an 11-digit price times a quantity of 10,000 fails). The
/// table's name in queries is a temporary view over the stored table (<c>&lt;database&gt;.main.&lt;table&gt;</c>, the database named after its file) that widens
/// <c>price</c>; storing DECIMAL(38,4) itself would make every upsert markedly slower.</para>
/// <para>An upsert is one transaction: the batch is appended to a temporary staging table, then
/// <c>INSERT OR REPLACE</c>d into the table. Within a batch the last document with an id wins (as
/// with a bulk request). A document DuckDB cannot store faithfully (empty id, a NUL character or an
/// unpaired surrogate in text, a price outside the lake's <c>DECIMAL(18,4)</c>) is rejected on its own
/// and not retryable; if the batch itself fails, every document is reported failed and retryable and
/// nothing is written. Nothing is retried here: the caller owns retries.</para>
/// <para>Thread-safe: operations run one at a time on the index's single connection (an internal
/// lock). DuckDB lets one process open a database file for writing, so other processes cannot read
/// the file while the index is open; query it through <see cref="QueryAsync"/> instead. The index is also the
/// speed layer's <see cref="ISpeedLayerView"/> (<see cref="HistogramAsync(SpeedLayerHistogramRequest, CancellationToken)"/>);
/// another process reads the file when it is closed, through <see cref="DuckDbFactory.CreateSpeedLayerView"/>.</para>
/// </remarks>
internal sealed class DuckDbUpsertIndex : IUpsertIndex, ISpeedLayerView, IDisposable, IAsyncDisposable
{
    /// <summary>The <see cref="DuckDbIndexOptions.DatabasePath"/> of an in-memory index: <c>:memory:</c>.</summary>
    public const string InMemory = ":memory:";

    private const string StagingTable = "retail_upsert_staging";

    private readonly DuckDBConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly string _view;
    private readonly string _upsertSql;
    private readonly string _clearSql;
    private bool _disposed;

    /// <summary>Opens (creating if needed) the index at <paramref name="databasePath"/> with table <c>retail</c>.</summary>
    public DuckDbUpsertIndex(string databasePath) : this(new DuckDbIndexOptions { DatabasePath = databasePath }) { }

    /// <summary>Opens (creating if needed) the database file and the table.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the setting and the bad value.</exception>
    /// <exception cref="InvalidOperationException">DuckDB could not open the database (e.g. another process holds it).</exception>
    public DuckDbUpsertIndex(DuckDbIndexOptions options, ILogger<DuckDbUpsertIndex>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DatabasePath = options.ResolveDatabasePath();
        TableName = options.TableName;
        _view = DuckDbCommands.Identifier(TableName);
        _clearSql = $"DELETE FROM temp.main.{StagingTable}";

        // A file is opened under the lock a view of this process reads files under (see OpenIndexes).
        bool inFile = DatabasePath != InMemory;
        if (inFile)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
            OpenIndexes.Gate.Wait();
        }
        try
        {
            if (inFile && OpenIndexes.Find(DatabasePath) is not null)
                throw new InvalidOperationException($"This process already has the upsert index at '{DatabasePath}' open, and DuckDB lets one index write a database file: " +
                    "share that index (it is also the ISpeedLayerView), or dispose it first.");
            try
            {
                _connection = OpenWaitingOutReaders(DatabasePath, options);
            }
            catch (DuckDBException e)
            {
                throw new InvalidOperationException($"DuckDB could not open the upsert index at '{DatabasePath}': {e.Message}", e);
            }
            catch (RetryExhaustedException e) when (e.InnerException is LockConflictException { InnerException: DuckDBException lockError })
            {
                throw new InvalidOperationException($"DuckDB could not open the upsert index at '{DatabasePath}': another process holds it " +
                    $"(after {e.Elapsed.TotalSeconds:0} s of waiting): {lockError.Message}", lockError);
            }
            try
            {
                _table = StoredTable(_connection, TableName);
                _upsertSql = $"INSERT OR REPLACE INTO {_table} SELECT * FROM temp.main.{StagingTable}";
                DuckDbCommands.Execute(_connection, $"SET checkpoint_threshold = {DuckDbCommands.Literal(options.CheckpointThreshold)};");
                DuckDbCommands.Execute(_connection,
                    $"CREATE TABLE IF NOT EXISTS {_table} (doc_id VARCHAR NOT NULL, invoice VARCHAR NOT NULL, stockcode VARCHAR NOT NULL, " +
                    $"description VARCHAR NOT NULL, quantity INTEGER NOT NULL, invoicedate TIMESTAMP NOT NULL, price {StoredPriceType} NOT NULL, " +
                    "customer_id VARCHAR NOT NULL, country VARCHAR NOT NULL, doc_key UUID PRIMARY KEY);");
                CheckColumns(_connection, DatabasePath, TableName);
                NarrowStoredPrice();
                DuckDbCommands.Execute(_connection, $"CREATE TEMP TABLE {StagingTable} AS SELECT * FROM {_table} LIMIT 0;");
                // What queries see under the table's name: the stored table with price widened (DuckDB looks in temp first).
                DuckDbCommands.Execute(_connection, $"CREATE TEMP VIEW {_view} AS SELECT * REPLACE (CAST(price AS {PriceType}) AS price) FROM {_table};");
                // SQL run through QueryAsync shares this connection: it may touch the database's own folder only.
                DuckDbCommands.LockDown(_connection, DatabasePath == InMemory ? [] : [Path.GetDirectoryName(DatabasePath)!.Replace('\\', '/') + "/"]);
                Log.IndexOpened(_logger, DatabasePath, TableName, Count());
            }
            catch (DuckDBException e)
            {
                _connection.Dispose();
                throw new InvalidOperationException($"DuckDB could not open the upsert index at '{DatabasePath}': {e.Message}", e);
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
            if (inFile) OpenIndexes.Add(DatabasePath, this);
        }
        finally
        {
            if (inFile) OpenIndexes.Gate.Release();
        }
    }

    /// <summary>The database file (absolute), or <c>:memory:</c>.</summary>
    public string DatabasePath { get; }

    /// <summary>The table that holds the documents.</summary>
    public string TableName { get; }

    /// <inheritdoc />
    /// <remarks>Once the batch has started it runs to completion; cancellation is observed before it starts.</remarks>
    public async ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        return await OneAtATimeAsync(() => Upsert(documents), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="operation"/> on the connection, one operation at a time, unless the index is disposed.</summary>
    private async ValueTask<T> OneAtATimeAsync<T>(Func<T> operation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return operation();
        }
        finally
        {
            _gate.Release();
        }
    }

    private UpsertResult Upsert(IReadOnlyList<IndexDocument> documents)
    {
        using var activity = DuckDbDiagnostics.ActivitySource.StartActivity("duckdb.upsert");
        long started = Stopwatch.GetTimestamp();
        var items = new UpsertItemResult[documents.Count];
        // Validate, then keep only the last document of each id (bulk semantics: later wins). DuckDB's
        // INSERT OR REPLACE rejects a statement that touches one key twice.
        var keep = new bool[documents.Count];
        var seen = new HashSet<string>(documents.Count, StringComparer.Ordinal);
        int rejected = 0, valid = 0;
        for (int i = documents.Count - 1; i >= 0; i--)
        {
            var doc = documents[i];
            string? error = Validate(doc);
            if (error is not null)
            {
                items[i] = new UpsertItemResult(doc.Id ?? "", error, Retryable: false);
                rejected++;
                continue;
            }
            items[i] = new UpsertItemResult(doc.Id, null, false);
            valid++;
            keep[i] = seen.Add(doc.Id);
        }

        if (seen.Count > 0)
        {
            try
            {
                Write(documents, keep);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                string error = "DuckDB upsert failed: " + e.Message;
                for (int i = 0; i < items.Length; i++)
                    if (items[i].Succeeded) items[i] = new UpsertItemResult(items[i].Id, error, Retryable: true);
                DuckDbDiagnostics.IndexDocuments.Add(valid, DuckDbDiagnostics.OutcomeFailed);
                DuckDbDiagnostics.IndexDocuments.Add(rejected, DuckDbDiagnostics.OutcomeRejected);
                activity?.SetStatus(ActivityStatusCode.Error, error);
                Log.UpsertFailed(_logger, e, valid, e.Message);
                return new UpsertResult(items);
            }
        }

        double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        DuckDbDiagnostics.IndexDocuments.Add(valid, DuckDbDiagnostics.OutcomeUpserted);
        DuckDbDiagnostics.IndexDocuments.Add(rejected, DuckDbDiagnostics.OutcomeRejected);
        DuckDbDiagnostics.UpsertDuration.Record(elapsed);
        Log.UpsertCompleted(_logger, valid, rejected, elapsed * 1000);
        return new UpsertResult(items);
    }

    private void Write(IReadOnlyList<IndexDocument> documents, bool[] keep)
    {
        using var transaction = _connection.BeginTransaction();
        try
        {
            using (var appender = _connection.CreateAppender("temp", "main", StagingTable))
            {
                for (int i = 0; i < documents.Count; i++)
                {
                    if (!keep[i]) continue;
                    var (id, r) = documents[i];
                    appender.CreateRow()
                        .AppendValue(id).AppendValue(r.Invoice).AppendValue(r.StockCode).AppendValue(r.Description)
                        .AppendValue((int?)r.Quantity).AppendValue((DateTime?)r.InvoiceDate).AppendValue((decimal?)r.Price)
                        .AppendValue(r.CustomerId).AppendValue(r.Country).AppendValue((Guid?)Key(id))
                        .EndRow();
                }
            }
            DuckDbCommands.Execute(_connection, _upsertSql);
            DuckDbCommands.Execute(_connection, _clearSql);
            transaction.Commit();
        }
        catch
        {
            try { transaction.Rollback(); }
            catch (DuckDBException) { }
            catch (InvalidOperationException) { }
            // The staging rows were appended inside the rolled-back transaction; make sure none survive.
            try { DuckDbCommands.Execute(_connection, _clearSql); }
            catch (DuckDBException) { }
            throw;
        }
    }

    /// <summary>Why DuckDB cannot store <paramref name="doc"/> faithfully, or null: its id here, its record by Core's one set of rules.</summary>
    private static string? Validate(IndexDocument doc)
    {
        if (string.IsNullOrEmpty(doc.Id)) return "The document id is empty.";
        if (RetailRecordValidation.CheckText("document id", doc.Id) is { } id) return $"The document id (\"{id.Value}\") {id.Reason}.";
        if (doc.Record is null) return "The document has no record.";
        return RetailRecordValidation.TryValidate(doc.Record, out var violation) ? null : violation.ToString();
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => OneAtATimeAsync(Count, cancellationToken);

    /// <summary>The type of <c>price</c> in queries: the lake views' (<see cref="LakeViews.PriceType"/>).</summary>
    private const string PriceType = LakeViews.PriceType;

    /// <summary>
    /// The type <c>price</c> is stored as: the lake files' DECIMAL(18,4), which holds every accepted price. A DECIMAL(38,4)
    /// column (128-bit) makes each upsert markedly slower (the 1M demo's speed layer took about 30% longer), so only
    /// queries see the wider type, through the temporary view.
    /// </summary>
    private const string StoredPriceType = "DECIMAL(18,4)";

    /// <summary>An index made by a development build stored <c>price</c> as DECIMAL(38,4): narrow it (exact, every stored price was checked to fit).</summary>
    private void NarrowStoredPrice()
    {
        string type = DuckDbCommands.Scalar(_connection,
            "SELECT data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = $1 AND column_name = 'price'", TableName) as string ?? "";
        if (string.Equals(type, StoredPriceType, StringComparison.OrdinalIgnoreCase)) return;
        if (!string.Equals(type, PriceType, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"The table '{TableName}' in '{DatabasePath}' has price {type}, not this index's {StoredPriceType}; " +
                "it was made by another program. Remove the database file, or set DuckDbIndexOptions.TableName to another table.");
        DuckDbCommands.Execute(_connection, $"ALTER TABLE {_table} ALTER price TYPE {StoredPriceType};");
    }

    /// <summary>The table's columns, in order.</summary>
    internal static readonly string[] Columns = ["doc_id", "invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country", "doc_key"];

    /// <summary>The stored table, named in full (quoted): <c>main.&lt;table&gt;</c> alone would find the index's temporary view of the same name.</summary>
    internal static string StoredTable(DuckDBConnection connection, string tableName) =>
        $"{DuckDbCommands.Identifier((string)DuckDbCommands.Scalar(connection, "SELECT current_database()")!)}.main.{DuckDbCommands.Identifier(tableName)}";

    /// <summary>
    /// An existing table must have this version's columns (an older index has no <c>doc_key</c>); the index checks the
    /// table it opens, a view (which cannot create one) also that the table exists.
    /// </summary>
    /// <exception cref="InvalidOperationException">The table is missing or has other columns; the message names them and the fix.</exception>
    internal static void CheckColumns(DuckDBConnection connection, string databasePath, string tableName)
    {
        var actual = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = $name ORDER BY ordinal_position";
            var p = command.CreateParameter();
            p.ParameterName = "name";
            p.Value = tableName;
            command.Parameters.Add(p);
            using var reader = command.ExecuteReader();
            while (reader.Read()) actual.Add(reader.GetString(0));
        }
        if (actual.Count == 0)
            throw new InvalidOperationException($"The database '{databasePath}' has no table '{tableName}' (the upsert index creates it when it opens the file); " +
                "set DuckDbIndexOptions.TableName to the table the index writes.");
        if (!actual.SequenceEqual(Columns, StringComparer.OrdinalIgnoreCase))
            throw new InvalidOperationException($"The table '{tableName}' in '{databasePath}' has the columns ({string.Join(", ", actual)}), not this index's " +
                $"({string.Join(", ", Columns)}); it was made by another program or an older version. Remove the database file, or set DuckDbIndexOptions.TableName to another table.");
    }

    /// <summary>
    /// The table's key: the document id hashed to 128 bits (MD5) as a UUID. DuckDB keeps its primary-key index on
    /// 16 bytes instead of the id's text, which makes upserts about twice as fast; ids are still stored and
    /// queried as text in <c>doc_id</c>, and distinct ids never share a key in practice.
    /// </summary>
    internal static Guid Key(string id)
    {
        Span<byte> hash = stackalloc byte[16];
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(id.Length);
        byte[]? rented = max > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        try
        {
            int n = System.Text.Encoding.UTF8.GetBytes(id, utf8);
            System.Security.Cryptography.MD5.HashData(utf8[..n], hash);
            return new Guid(hash);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>How long opening waits out another process's lock on the file (a reader's poll holds it for milliseconds).</summary>
    private static readonly RetryOptions LockWait = new() { BaseDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500), MaxTotalDuration = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// Opens the file, waiting (through Core's retry pipeline, the one retry owner) while another process holds its lock:
    /// <c>retail serve</c>'s view of the index opens it read-only for each poll, for milliseconds, and a writer starting
    /// in that moment would otherwise fail. A process that keeps the file (a second writer) still fails, after the wait.
    /// </summary>
    private static DuckDBConnection OpenWaitingOutReaders(string path, DuckDbIndexOptions options) =>
        new RetailRetryPipeline(LockWait).ExecuteAsync(_ =>
        {
            try
            {
                return ValueTask.FromResult(DuckDbCommands.Open(path, options.Threads, options.MemoryLimit));
            }
            catch (DuckDBException e) when (path != InMemory && DuckDbSpeedLayerView.IsLockConflict(e))
            {
                throw new LockConflictException(e);
            }
        }).AsTask().GetAwaiter().GetResult();

    /// <summary>Another process holds the database file's lock: worth waiting for.</summary>
    private sealed class LockConflictException(DuckDBException inner) : IOException(inner.Message, inner), IRetryClassified
    {
        public bool IsTransient => true;
    }

    private long Count() => Convert.ToInt64(DuckDbCommands.Scalar(_connection, $"SELECT count(*) FROM {_table}"), CultureInfo.InvariantCulture);

    /// <inheritdoc />
    /// <remarks>Runs on the index's connection, one operation at a time with upserts: it sees every upsert that completed before it, and none in part.</remarks>
    public async ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default)
    {
        SpeedLayerHistograms.Validate(request);
        return await OneAtATimeAsync(() => SpeedLayerHistograms.Run(_connection, _table, request, _logger, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The histogram of <paramref name="tableName"/> in this index's database, for a <see cref="DuckDbSpeedLayerView"/>
    /// of this process's file (which must not open the file itself, see <see cref="OpenIndexes"/>).
    /// </summary>
    internal async ValueTask<SpeedLayerHistogram> HistogramAsync(string tableName, SpeedLayerHistogramRequest request, CancellationToken cancellationToken)
    {
        if (string.Equals(tableName, TableName, StringComparison.OrdinalIgnoreCase)) return await HistogramAsync(request, cancellationToken).ConfigureAwait(false);
        SpeedLayerHistograms.Validate(request);
        return await OneAtATimeAsync(() =>
        {
            CheckColumns(_connection, DatabasePath, tableName);
            return SpeedLayerHistograms.Run(_connection, StoredTable(_connection, tableName), request, _logger, cancellationToken);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one read-only SQL statement against the index's database (its table is <see cref="TableName"/>), e.g.
    /// Kibana's chart: <c>SELECT invoicedate, sum(quantity) FROM retail GROUP BY 1 ORDER BY 1</c>.
    /// Parameters are positional (<c>?</c> or <c>$1</c>), never spliced.
    /// </summary>
    /// <remarks>
    /// Queries are read-only, as through <see cref="DuckDbQueryEngine.QueryAsync"/>: only a SELECT (also <c>WITH</c>,
    /// <c>DESCRIBE</c>, <c>SHOW</c>, <c>SUMMARIZE</c>) or an EXPLAIN of one runs, and only if it calls no function that
    /// changes state (<c>checkpoint()</c>, <c>enable_logging()</c>, <c>query()</c>, <c>nextval()</c>, …). Anything
    /// else — INSERT, DELETE, CREATE, COPY … TO, CHECKPOINT, SET, ATTACH, … — is refused before DuckDB binds it. The
    /// index writes only through <see cref="UpsertAsync"/>.
    /// </remarks>
    /// <exception cref="DuckDbQueryException">The statement is not read-only (the message names its type), or DuckDB rejected or failed it (its message is included).</exception>
    public async ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRows);
        return await OneAtATimeAsync(() => DuckDbCommands.Query(_connection, sql, parameters, maxRows, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the running operation, then closes the database (DuckDB checkpoints it).</summary>
    public void Dispose()
    {
        _gate.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            if (DatabasePath == InMemory)
            {
                _connection.Dispose();
                return;
            }
            OpenIndexes.Gate.Wait();
            Close();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Waits for the running operation, then closes the database (DuckDB checkpoints it).</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            if (DatabasePath == InMemory)
            {
                _connection.Dispose();
                return;
            }
            await OpenIndexes.Gate.WaitAsync().ConfigureAwait(false);
            Close();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Closes the file and forgets it as open, together, holding <see cref="OpenIndexes.Gate"/> (which it releases): a
    /// view of this process then reads the closed file itself, never the database while it closes.
    /// </summary>
    private void Close()
    {
        try
        {
            OpenIndexes.Remove(DatabasePath, this);
            _connection.Dispose();
        }
        finally
        {
            OpenIndexes.Gate.Release();
        }
    }
}
