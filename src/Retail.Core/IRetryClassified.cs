namespace Retail;

/// <summary>
/// Implemented by an adapter's exceptions to feed <see cref="FailureClassification.IsTransient"/>: the adapter knows
/// which of its service's errors are throttling or a server fault (transient) and which are validation, access
/// denied or not found (not). The first exception in the inner-exception chain that implements it decides.
/// </summary>
/// <example>
/// <code>
/// public sealed class S3StoreException(string message, string errorCode, int status)
///     : IOException(message), IRetryClassified
/// {
///     public bool IsTransient =&gt; status is 429 or &gt;= 500 || errorCode is "SlowDown" or "RequestTimeout";
/// }
/// </code>
/// </example>
public interface IRetryClassified
{
    /// <summary>True when another attempt may succeed.</summary>
    bool IsTransient { get; }
}
