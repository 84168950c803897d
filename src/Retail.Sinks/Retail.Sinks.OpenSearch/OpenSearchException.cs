namespace Retail.Sinks.OpenSearch;

/// <summary>
/// A request OpenSearch refused as a whole (not one document of a <c>_bulk</c>, which is a per-item result): the HTTP
/// status and, when the domain answered one, its error type (<c>security_exception</c>, …). 401 and 403 are not
/// transient (the message names <see cref="OpenSearchOptions.Auth"/>, never a password); 408, 429 and 5xx are.
/// </summary>
public sealed class OpenSearchException : Exception, IRetryClassified
{
    /// <summary>Creates the exception.</summary>
    public OpenSearchException(string message, int statusCode, string? errorType, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
    }

    /// <summary>The HTTP status (0 when no response came).</summary>
    public int StatusCode { get; }

    /// <summary>The domain's <c>error.type</c>, when it sent one.</summary>
    public string? ErrorType { get; }

    /// <summary>True for 408, 429 and 5xx; false for authentication, authorization and other client errors.</summary>
    public bool IsTransient => StatusCode is 408 or 429 or >= 500;
}
