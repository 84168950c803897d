using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Retail.Indexing;

namespace Retail.Sinks.DuckDb;

/// <summary>
/// The speed layer of a DuckDB upsert index's database file, read from outside the process that writes it (e.g.
/// <c>retail serve</c> beside a <c>retail demo</c>): each call opens the file READ_ONLY, runs the index's histogram
/// query and closes the file again, so the view never holds it between calls.
/// </summary>
/// <remarks>
/// <para>DuckDB lets one process at a time open a database file for writing, and a read-only opener keeps the writer
/// out too while it has the file open. So a call fails (<see cref="InvalidOperationException"/>) while another process
/// has the index open, and a writer that starts during a call cannot open the file until the call ends.</para>
/// <para>A missing file is an empty speed layer (nothing upserted yet); the view never creates it. When an index of
/// this process has the file open, the view reads through that index (see <see cref="OpenIndexes"/>).</para>
/// </remarks>
internal sealed class DuckDbSpeedLayerView : ISpeedLayerView
{
    private static readonly SpeedLayerHistogram Empty = new([], 0, 0, false);

    private readonly ILogger _logger;
    private readonly int? _threads;
    private readonly string? _memoryLimit;

    /// <summary>Creates the view; nothing is opened until a call.</summary>
    /// <exception cref="ArgumentException">The options are invalid, or name an in-memory database (which no other process can read).</exception>
    public DuckDbSpeedLayerView(DuckDbIndexOptions options, ILogger<DuckDbSpeedLayerView>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(options));
        DatabasePath = options.ResolveDatabasePath();
        if (DatabasePath == DuckDbUpsertIndex.InMemory)
            throw new ArgumentException($"{nameof(DuckDbIndexOptions)}.{nameof(DuckDbIndexOptions.DatabasePath)} is '{DuckDbUpsertIndex.InMemory}': " +
                "an in-memory index lives in its own process only; read it through the index itself (it is an ISpeedLayerView).", nameof(options));
        TableName = options.TableName;
        _threads = options.Threads;
        _memoryLimit = options.MemoryLimit;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The database file (absolute).</summary>
    public string DatabasePath { get; }

    /// <summary>The table that holds the documents.</summary>
    public string TableName { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Another process has the database open (e.g. a running <c>retail demo</c>), the
    /// file is not a DuckDB database, or its table is missing or has other columns than the index's.</exception>
    public async ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default)
    {
        SpeedLayerHistograms.Validate(request);
        for (int attempt = 1; ; attempt++)
        {
            DuckDbUpsertIndex? writer;
            await OpenIndexes.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                writer = OpenIndexes.Find(DatabasePath);
                if (writer is null) return ReadFile(request, cancellationToken);
            }
            finally
            {
                OpenIndexes.Gate.Release();
            }
            try
            {
                return await writer.HistogramAsync(TableName, request, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                // The index closed after we found it; the file is free (or another index has it): look again.
            }
        }
    }

    /// <summary>Opens the file read-only, reads the histogram, closes it. The caller holds <see cref="OpenIndexes.Gate"/>.</summary>
    private SpeedLayerHistogram ReadFile(SpeedLayerHistogramRequest request, CancellationToken cancellationToken)
    {
        if (!File.Exists(DatabasePath)) return Empty;
        DuckDBConnection connection;
        try
        {
            connection = OpenReadOnly(DatabasePath, _threads, _memoryLimit);
        }
        catch (DuckDBException) when (!File.Exists(DatabasePath))
        {
            return Empty; // removed since we looked
        }
        catch (DuckDBException e) when (IsLockConflict(e))
        {
            throw new InvalidOperationException(
                $"The speed-layer index '{DatabasePath}' is open in another process (e.g. a running `retail demo` or `retail upsert`), and DuckDB lets no other " +
                $"process open a database file while one writes it. Read it from that process, or once it has finished. DuckDB: {e.Message}", e);
        }
        catch (DuckDBException e)
        {
            throw new InvalidOperationException($"DuckDB could not open the speed-layer index at '{DatabasePath}' read-only: {e.Message}", e);
        }
        using (connection)
        {
            try
            {
                DuckDbUpsertIndex.CheckColumns(connection, DatabasePath, TableName);
                return SpeedLayerHistograms.Run(connection, DuckDbUpsertIndex.StoredTable(connection, TableName), request, _logger, cancellationToken);
            }
            catch (DuckDBException e)
            {
                throw new InvalidOperationException($"DuckDB could not read the speed-layer index at '{DatabasePath}': {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// A READ_ONLY connection to <paramref name="databasePath"/> with the index's settings: offline, the given resources,
    /// locked down to the database's folder. Fails (and creates nothing) when the file does not exist.
    /// </summary>
    internal static DuckDBConnection OpenReadOnly(string databasePath, int? threads, string? memoryLimit)
    {
        var connection = DuckDbCommands.Open(databasePath, threads, memoryLimit, readOnly: true);
        try
        {
            DuckDbCommands.LockDown(connection, [Path.GetDirectoryName(databasePath)!.Replace('\\', '/') + "/"]);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>DuckDB's "Could not set lock on file …: Conflicting lock is held in … (PID …)".</summary>
    internal static bool IsLockConflict(DuckDBException e) =>
        e.Message.Contains("Could not set lock", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("Conflicting lock", StringComparison.OrdinalIgnoreCase);
}
