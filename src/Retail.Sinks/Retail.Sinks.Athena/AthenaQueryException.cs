namespace Retail.Sinks.Athena;

/// <summary>A query Athena ran and that ended FAILED or CANCELLED: Athena's reason, error category and type.</summary>
public sealed class AthenaQueryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AthenaQueryException(string message, string queryExecutionId, string state, string? stateChangeReason, int? errorCategory, int? errorType, bool retryable)
        : base(message)
    {
        QueryExecutionId = queryExecutionId;
        State = state;
        StateChangeReason = stateChangeReason;
        ErrorCategory = errorCategory;
        ErrorType = errorType;
        Retryable = retryable;
    }

    /// <summary>The query's id.</summary>
    public string QueryExecutionId { get; }

    /// <summary><c>FAILED</c> or <c>CANCELLED</c>.</summary>
    public string State { get; }

    /// <summary>Athena's reason (<c>Status.StateChangeReason</c>), e.g. <c>HIVE_PATH_ALREADY_EXISTS: …</c>.</summary>
    public string? StateChangeReason { get; }

    /// <summary><c>AthenaError.ErrorCategory</c>: 1 system, 2 user, 3 other.</summary>
    public int? ErrorCategory { get; }

    /// <summary><c>AthenaError.ErrorType</c>.</summary>
    public int? ErrorType { get; }

    /// <summary><c>AthenaError.Retryable</c>.</summary>
    public bool Retryable { get; }
}
