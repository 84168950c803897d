using Microsoft.Extensions.Logging;

namespace Retail.Sinks.DuckDb;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "DuckDB query engine over lake {LakePath} (DuckDB {Version})")]
    public static partial void EngineOpened(ILogger logger, string lakePath, string version);

    [LoggerMessage(2, LogLevel.Debug, "Query returned {Rows} rows (truncated: {Truncated}) in {ElapsedMs:F1} ms")]
    public static partial void QueryCompleted(ILogger logger, int rows, bool truncated, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Query failed: {Error}")]
    public static partial void QueryFailed(ILogger logger, string error);

    [LoggerMessage(4, LogLevel.Information, "DuckDB upsert index {DatabasePath} table {Table} opened with {Count} documents")]
    public static partial void IndexOpened(ILogger logger, string databasePath, string table, long count);

    [LoggerMessage(5, LogLevel.Warning, "Upsert of {Count} documents failed (all retryable): {Error}")]
    public static partial void UpsertFailed(ILogger logger, Exception exception, int count, string error);

    [LoggerMessage(6, LogLevel.Debug, "Upserted {Stored} documents ({Rejected} rejected) in {ElapsedMs:F1} ms")]
    public static partial void UpsertCompleted(ILogger logger, int stored, int rejected, double elapsedMs);

    [LoggerMessage(7, LogLevel.Debug, "Speed-layer histogram of {Buckets} buckets over {Documents} documents (truncated: {Truncated}) in {ElapsedMs:F1} ms")]
    public static partial void HistogramCompleted(ILogger logger, int buckets, long documents, bool truncated, double elapsedMs);
}
