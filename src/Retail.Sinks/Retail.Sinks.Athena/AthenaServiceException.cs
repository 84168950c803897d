namespace Retail.Sinks.Athena;

/// <summary>
/// An error answered by Athena (<c>{"__type": "…#Code", "message": "…"}</c>): the error code, the HTTP status and the
/// request id. Throttling (<c>ThrottlingException</c>, <c>TooManyRequestsException</c>) and server faults (5xx) are
/// transient (Retail's retry pipeline retries them); <c>InvalidRequestException</c> and the rest are not.
/// </summary>
public sealed class AthenaServiceException : Exception, IRetryClassified
{
    /// <summary>Creates the exception.</summary>
    public AthenaServiceException(string operation, string errorCode, string message, int statusCode, string? requestId)
        : base($"Athena {operation} failed: {errorCode} (HTTP {statusCode}{(requestId is null ? "" : ", request id " + requestId)}): {message}")
    {
        Operation = operation;
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
        ServiceMessage = message;
    }

    /// <summary>The operation that failed (<c>StartQueryExecution</c>, …).</summary>
    public string Operation { get; }

    /// <summary>Athena's error code without its namespace, e.g. <c>InvalidRequestException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status.</summary>
    public int StatusCode { get; }

    /// <summary>The request id (<c>x-amzn-RequestId</c>), when sent.</summary>
    public string? RequestId { get; }

    /// <summary>Athena's own message.</summary>
    public string ServiceMessage { get; }

    /// <summary>True for throttling, request timeouts and server faults.</summary>
    public bool IsTransient => StatusCode >= 500 || StatusCode is 429 or 408
        || ErrorCode is "ThrottlingException" or "TooManyRequestsException" or "InternalServerException" or "InternalFailure" or "ServiceUnavailable" or "RequestTimeout" or "RequestTimeoutException";
}
