namespace Retail.Query;

/// <summary>
/// Runs SQL over the data lake's tables: <c>retail_trans_json</c> (the delivered JSON lines) and
/// <c>ctas_retail_trans_parquet</c> (the compacted Parquet), with the workshop's column names
/// (case-insensitive) and the hive partition columns <c>year, month, day, hour</c> as integers.
/// Implementation: DuckDB (embedded, Retail.Sinks.DuckDb).
/// </summary>
public interface IQueryEngine
{
    /// <summary>
    /// Runs one statement. Values are passed as positional parameters (<c>?</c> or <c>$1</c>), never
    /// spliced into the text. At most <paramref name="maxRows"/> rows are returned;
    /// <see cref="QueryResult.Truncated"/> says when there were more.
    /// </summary>
    ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default);
}

/// <summary>A result set.</summary>
/// <param name="Columns">Column names, in order.</param>
/// <param name="ColumnTypes">Column types as the engine names them (e.g. <c>BIGINT</c>, <c>DECIMAL(38,6)</c>).</param>
/// <param name="Rows">The rows; values are CLR values (<see cref="string"/>, <see cref="long"/>, <see cref="decimal"/>, <see cref="DateTime"/>, …) or null.</param>
/// <param name="Truncated">True when more rows existed than were returned.</param>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<string> ColumnTypes, IReadOnlyList<object?[]> Rows, bool Truncated);
