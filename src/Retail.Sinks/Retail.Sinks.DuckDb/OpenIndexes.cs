namespace Retail.Sinks.DuckDb;

/// <summary>
/// The upsert indexes this process has open on database files, and the lock under which this package opens and closes
/// them (<see cref="DuckDbUpsertIndex"/>) and reads them from outside (<see cref="DuckDbSpeedLayerView"/>).
/// </summary>
/// <remarks>
/// Within one process the file lock DuckDB takes does not keep a second opener out: DuckDB.NET hands a connection to a
/// data source already open in the process to that same database (ignoring the new connection's settings, READ_ONLY
/// included), and POSIX record locks do not separate two opens by one process. So a view must not open a file that an
/// index of this process holds — it reads through the index instead — and an index must not open a file while a view
/// of this process has it open read-only (it would be handed that read-only database).
/// </remarks>
internal static class OpenIndexes
{
    /// <summary>Held while a database file is opened or closed by an index, and for a view's whole read of a file.</summary>
    public static readonly SemaphoreSlim Gate = new(1, 1);

    // Case-insensitive, as DuckDB.NET's own cache of open databases.
    private static readonly Dictionary<string, DuckDbUpsertIndex> ByPath = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The index of this process that has <paramref name="databasePath"/> open, or null. Call under <see cref="Gate"/>.</summary>
    public static DuckDbUpsertIndex? Find(string databasePath) => ByPath.GetValueOrDefault(databasePath);

    /// <summary>Records an opened index. Call under <see cref="Gate"/>.</summary>
    public static void Add(string databasePath, DuckDbUpsertIndex index) => ByPath.Add(databasePath, index);

    /// <summary>Forgets a closed index. Call under <see cref="Gate"/>.</summary>
    public static void Remove(string databasePath, DuckDbUpsertIndex index)
    {
        if (ByPath.TryGetValue(databasePath, out var open) && ReferenceEquals(open, index)) ByPath.Remove(databasePath);
    }
}
