namespace Retail.Sinks.Kinesis;

/// <summary>
/// An error answered by Kinesis or Firehose: the service's error code (<c>ResourceNotFoundException</c>,
/// <c>ProvisionedThroughputExceededException</c>, …), the HTTP status and the request id. Throttling, KMS throttling
/// and server faults are transient (Retail's retry pipeline retries them); validation, access and not-found errors are not.
/// </summary>
public sealed class AwsServiceException : Exception, IRetryClassified
{
    private static readonly HashSet<string> Transient = new(StringComparer.Ordinal)
    {
        "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException", "ThrottlingReason",
        "KMSThrottlingException", "InternalFailure", "InternalFailureException", "InternalServerError", "ServiceUnavailable",
        "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
    };

    /// <summary>The error maker of <paramref name="service"/>'s JSON client.</summary>
    internal static AwsJsonError Factory(string service) => (operation, code, message, status, requestId) => new AwsServiceException(service, operation, code, message, status, requestId);

    /// <summary>Creates the exception.</summary>

    public AwsServiceException(string service, string operation, string errorCode, string message, int statusCode, string? requestId)
        : base($"{service} {operation} failed: {errorCode} (HTTP {statusCode}{(requestId is null ? "" : ", request id " + requestId)}): {message}")
    {
        Service = service;
        Operation = operation;
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
        ServiceMessage = message;
    }

    /// <summary>The service (<c>Kinesis</c> or <c>Firehose</c>).</summary>
    public string Service { get; }

    /// <summary>The operation that failed (<c>PutRecords</c>, <c>GetRecords</c>, …).</summary>
    public string Operation { get; }

    /// <summary>The service's error code without its namespace, e.g. <c>ExpiredIteratorException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status.</summary>
    public int StatusCode { get; }

    /// <summary>The service's request id (<c>x-amzn-RequestId</c>), when it sent one.</summary>
    public string? RequestId { get; }

    /// <summary>The service's own message.</summary>
    public string ServiceMessage { get; }

    /// <summary>True for throttling (<c>ProvisionedThroughputExceededException</c>, <c>LimitExceededException</c>, <c>KMSThrottlingException</c>) and server faults (5xx).</summary>
    public bool IsTransient => StatusCode >= 500 || StatusCode == 429 || Transient.Contains(ErrorCode);

    /// <summary>True for <c>ResourceNotFoundException</c>.</summary>
    public bool IsNotFound => ErrorCode == "ResourceNotFoundException";
}
