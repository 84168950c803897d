using System.Diagnostics.CodeAnalysis;

namespace Retail;

/// <summary>
/// Tells failures that retrying cannot fix (a full disk, a read-only file system, permission denied, a path
/// that is a file or does not exist) from transient ones, so a retrying engine stops at once and reports the
/// cause instead of retrying for minutes and failing with a symptom.
/// </summary>
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
    /// Native libraries (DuckDB, …) report file-system errors in exceptions of their own types, with the C
    /// library's text for the error number; these are the texts of the permanent ones.
    /// </summary>
    private static string? FromMessage(string message) =>
        message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase) ? "no space left on device"
        : message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase) ? "disk quota exceeded"
        : message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) ? "read-only file system"
        : message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) ? "permission denied"
        : null;

    /// <summary>
    /// True when <paramref name="exception"/> (or an exception it wraps) is one the same request may not meet
    /// again: an object store's throttling, 5xx, timeout or connection reset (<see cref="Storage.ObjectStoreException.IsTransient"/>),
    /// a timeout, a socket error, or an HTTP request that got no answer or a 408, 429 or 5xx. Cancellation is not.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Storage.ObjectStoreException store:
                    return store.IsTransient;
                case OperationCanceledException:
                    return false;
                case TimeoutException:
                case System.Net.Sockets.SocketException:
                    return true;
                case System.Net.Http.HttpRequestException http when http.StatusCode is null or System.Net.HttpStatusCode.RequestTimeout
                    or System.Net.HttpStatusCode.TooManyRequests || (int?)http.StatusCode >= 500:
                    return true;
            }
        }
        return false;
    }
}
