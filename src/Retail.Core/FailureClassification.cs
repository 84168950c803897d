using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Retail.Storage;

namespace Retail;

/// <summary>
/// The one classification of failures that every retry in Retail goes through (see <see cref="RetailRetryPipeline"/>):
/// <see cref="IsTransient"/> says what another attempt may fix (throttling, 5xx, timeouts, connection resets), and
/// <see cref="IsPermanent(Exception, out string?)"/> names what retrying cannot fix (a full disk, a read-only file
/// system, permission denied, a path that is a file or does not exist), so a retrying engine stops at once and
/// reports the cause instead of retrying for minutes and failing with a symptom.
/// </summary>
/// <remarks>
/// Adapters feed the classification by throwing exceptions that implement <see cref="IRetryClassified"/> (an S3 or
/// Kinesis client knows which of its service's error codes are throttling); everything else is classified by type.
/// </remarks>
public static class FailureClassification
{
    // POSIX errno values, which .NET on Unix reports as IOException.HResult for errors it has no type for.
    private const int Enotdir = 20, Eisdir = 21, Efbig = 27, Enospc = 28, Erofs = 30, Enametoolong = 36, Edquot = 122;

    // Windows HRESULTs for the same conditions.
    private const int HandleDiskFull = unchecked((int)0x80070027), DiskFull = unchecked((int)0x80070070),
        WriteProtect = unchecked((int)0x80070013);

    /// <summary>
    /// True when <paramref name="exception"/> (or an exception it wraps) is one retrying cannot fix;
    /// <paramref name="cause"/> then names it in words ("no space left on device", …).
    /// </summary>
    public static bool IsPermanent(Exception exception, [NotNullWhen(true)] out string? cause)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var e = exception; e is not null; e = e.InnerException)
        {
            cause = e switch
            {
                Storage.ObjectStoreException store => store.IsTransient ? null : store.Message,
                UnauthorizedAccessException => "permission denied (or the path is a directory)",
                PathTooLongException => "the path is too long",
                DirectoryNotFoundException => "a folder on the path does not exist or is a file",
                FileNotFoundException => "the file system does not allow the file to be created there",
                IOException io => io.HResult switch
                {
                    Enospc or DiskFull or HandleDiskFull => "no space left on device",
                    Edquot => "disk quota exceeded",
                    Erofs or WriteProtect => "read-only file system",
                    Efbig => "file too large for the file system",
                    Enotdir => "a folder on the path is a file",
                    Eisdir => "the path is a directory",
                    Enametoolong => "the path is too long",
                    _ => null,
                },
                _ => FromMessage(e.Message),
            };
            if (cause is not null) return true;
        }
        cause = null;
        return false;
    }

    /// <summary>
    /// True when an error reported as text (a sink's per-item error) names a failure retrying cannot fix, such as
    /// "No space left on device"; <paramref name="cause"/> then names it.
    /// </summary>
    public static bool IsPermanent(string? errorText, [NotNullWhen(true)] out string? cause)
    {
        cause = errorText is null ? null : FromMessage(errorText);
        return cause is not null;
    }

    /// <summary>
    /// True when another attempt may succeed where <paramref name="exception"/> failed. The first
    /// <see cref="IRetryClassified"/> on the exception or its inner exceptions decides; otherwise transient are:
    /// <see cref="HttpRequestException"/> without a status (the connection failed) or with 408, 429 or 5xx;
    /// <see cref="TimeoutException"/>; <see cref="SocketException"/>; an <see cref="IOException"/> that is not
    /// permanent (a connection reset, a response cut short); and an <see cref="OperationCanceledException"/> that
    /// <paramref name="callerToken"/> did not cause (a client's own timeout). Not transient: permanent failures
    /// (<see cref="IsPermanent(Exception, out string?)"/>), validation (<see cref="ArgumentException"/>,
    /// <see cref="FormatException"/>, <see cref="InvalidDataException"/>, <see cref="NotSupportedException"/>),
    /// access denied (<see cref="UnauthorizedAccessException"/>, HTTP 401/403), not found
    /// (<see cref="ObjectNotFoundException"/>, HTTP 404), other 4xx, cancellation by the caller, and any other type.
    /// </summary>
    /// <param name="exception">The failure.</param>
    /// <param name="callerToken">The caller's token: a cancellation it requested is never retried.</param>
    public static bool IsTransient(Exception exception, CancellationToken callerToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is OperationCanceledException && callerToken.IsCancellationRequested) return false;
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is IRetryClassified classified) return classified.IsTransient;
        if (IsPermanent(exception, out _)) return false;
        return exception switch
        {
            ArgumentException or FormatException or InvalidDataException or NotSupportedException
                or UnauthorizedAccessException or ObjectNotFoundException => false,
            HttpRequestException http => http.StatusCode is null || IsTransientStatus(http.StatusCode.Value),
            TimeoutException or SocketException => true,
            IOException => true,
            OperationCanceledException => true,
            AggregateException aggregate => aggregate.InnerExceptions.Count > 0
                && aggregate.InnerExceptions.All(inner => IsTransient(inner, callerToken)),
            _ => exception.InnerException is { } inner && inner is HttpRequestException or TimeoutException or SocketException or IOException
                && IsTransient(inner, callerToken),
        };
    }

    /// <summary>True for the HTTP statuses another attempt may fix: 408 (request timeout), 429 (throttled) and 5xx.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>
    /// Native libraries (DuckDB, …) report file-system errors in exceptions of their own types, with the C
    /// library's text for the error number; these are the texts of the permanent ones.
    /// </summary>
    private static string? FromMessage(string message) =>
        message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase) ? "no space left on device"
        : message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase) ? "disk quota exceeded"
        : message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) ? "read-only file system"
        : message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) ? "permission denied"
        : null;
}
