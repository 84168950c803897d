namespace Retail.Sinks.DuckDb;

/// <summary>DuckDB rejected or failed a query; <see cref="Exception.Message"/> includes DuckDB's own message.</summary>
public sealed class DuckDbQueryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DuckDbQueryException(string message, string sql, Exception? innerException = null)
        : base(message, innerException) => Sql = sql;

    /// <summary>Creates the exception.</summary>
    public DuckDbQueryException() : this("DuckDB could not run the query.", "") { }

    /// <summary>Creates the exception.</summary>
    public DuckDbQueryException(string message) : this(message, "") { }

    /// <summary>Creates the exception.</summary>
    public DuckDbQueryException(string message, Exception innerException) : this(message, "", innerException) { }

    /// <summary>The statement that failed.</summary>
    public string Sql { get; }
}
