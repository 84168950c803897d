namespace Retail.Sinks.Athena.Tests.Fakes;

// The seam between the Athena loopback fake's protocol half (AthenaLoopbackFake: tokens, states, polling, pages) and
// what runs the statements (DuckDB over the lake's views; a small catalog that also runs DDL and CTAS over a folder).

/// <summary>One statement as StartQueryExecution received it.</summary>
/// <param name="QueryString">The SQL text.</param>
/// <param name="Database">QueryExecutionContext.Database, or null.</param>
/// <param name="Catalog">QueryExecutionContext.Catalog, or null.</param>
/// <param name="ExecutionParameters">ExecutionParameters, as sent (Athena's are strings: SQL literals such as <c>'FR'</c> or <c>2020</c>).</param>
/// <param name="WorkGroup">WorkGroup, or null.</param>
/// <param name="OutputLocation">ResultConfiguration.OutputLocation, or null.</param>
public sealed record FakeStatement(string QueryString, string? Database, string? Catalog, IReadOnlyList<string> ExecutionParameters, string? WorkGroup, string? OutputLocation);

/// <summary>A result column as Athena's ResultSetMetadata describes it.</summary>
/// <param name="Name">The column's name.</param>
/// <param name="Type">Athena's type name: <c>varchar</c>, <c>integer</c>, <c>bigint</c>, <c>double</c>, <c>decimal</c>, <c>timestamp</c>, <c>date</c>, <c>boolean</c>, …</param>
/// <param name="Precision">Precision (decimal digits, varchar length), or 0.</param>
/// <param name="Scale">Scale (decimal), or 0.</param>
public sealed record FakeColumn(string Name, string Type, int Precision = 0, int Scale = 0);

/// <summary>What a statement produced: its columns and rows as Athena's strings (null for SQL NULL).</summary>
/// <param name="Columns">The columns.</param>
/// <param name="Rows">The rows, each value as Athena would print it (<c>2010-12-01 08:26:00.000</c>, <c>2.5500</c>).</param>
/// <param name="StatementType">DDL, DML or UTILITY (Athena's <c>StatementType</c>).</param>
public sealed record FakeQueryOutcome(IReadOnlyList<FakeColumn> Columns, IReadOnlyList<string?[]> Rows, string StatementType = "DML")
{
    /// <summary>A statement with no result set (DDL).</summary>
    public static FakeQueryOutcome Ddl { get; } = new([], [], "DDL");
}

/// <summary>Thrown by an executor: the query ends FAILED with this reason and AthenaError.</summary>
public sealed class FakeQueryFailure(string reason, int errorCategory = 2, int errorType = 1100, bool retryable = false) : Exception(reason)
{
    /// <summary>Status.StateChangeReason (e.g. <c>HIVE_PATH_ALREADY_EXISTS: Target directory for table … already exists: s3://…</c>).</summary>
    public string Reason => Message;

    /// <summary>AthenaError.ErrorCategory: 1 system, 2 user, 3 other.</summary>
    public int ErrorCategory => errorCategory;

    /// <summary>AthenaError.ErrorType.</summary>
    public int ErrorType => errorType;

    /// <summary>AthenaError.Retryable.</summary>
    public bool Retryable => retryable;
}

/// <summary>Runs one statement for the fake (called once per query, when it leaves RUNNING).</summary>
public delegate ValueTask<FakeQueryOutcome> AthenaStatementExecutor(FakeStatement statement, CancellationToken cancellationToken);
