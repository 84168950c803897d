namespace Retail.Storage;

/// <summary>
/// A flat key → bytes store with S3 semantics: the data lake. Keys are <c>/</c>-separated, relative,
/// at most 1024 UTF-8 bytes, and never contain <c>..</c> segments, a leading <c>/</c>, a backslash
/// or NUL (see <see cref="ObjectKeys.Validate"/>). Every put is atomic: a reader sees the whole
/// object or none of it, never a partial one; how an implementation writes a large object (S3 multipart,
/// a temporary file) is its own detail. Every operation is asynchronous, reads included: callers copy an
/// object stream asynchronously before handing it to a synchronous parser.
/// </summary>
public interface IObjectStore
{
    /// <summary>Writes <paramref name="data"/> under <paramref name="key"/>, replacing any object there, atomically and durably.</summary>
    ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the whole of <paramref name="content"/> under <paramref name="key"/>, atomically and durably
    /// (for large objects such as Parquet files). The stream is read to its end, not disposed.
    /// </summary>
    ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for reading; the caller disposes the stream.</summary>
    /// <exception cref="ObjectNotFoundException">No object has that key.</exception>
    ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Size, time and ETag of one object, or null if there is none.</summary>
    ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the objects whose keys start with <paramref name="prefix"/>, in ascending key
    /// (ordinal UTF-8) order; pass the returned <see cref="ObjectPage.ContinuationToken"/> to get the next.
    /// </summary>
    ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes an object. Deleting a key that has no object is not an error, and the call does not say whether
    /// there was one (S3 cannot).
    /// </summary>
    ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every key of <paramref name="keys"/> (any number: an implementation splits them into the batches
    /// its service takes, S3's 1,000 a request) and returns the keys it could not delete, each with the
    /// reason; an empty list means all are gone. Keys that have no object are not failures. A failure of the
    /// whole request (the store unreachable, access denied to the bucket) is thrown, not returned.
    /// The default deletes the keys one by one with <see cref="DeleteAsync"/>.
    /// </summary>
    async ValueTask<IReadOnlyList<ObjectDeleteError>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys) ObjectKeys.Validate(key, nameof(keys));
        var errors = new List<ObjectDeleteError>();
        foreach (var key in keys)
        {
            try
            {
                await DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && !FailureClassification.IsTransient(e, cancellationToken))
            {
                // A failure another attempt may fix (a store's 503, a reset) is thrown, as a whole request's failure is.
                errors.Add(new ObjectDeleteError(key, e.GetType().Name, e.Message));
            }
        }
        return errors;
    }
}

/// <summary>One stored object.</summary>
/// <param name="Key">Its key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="LastModified">When it was last written.</param>
/// <param name="ETag">
/// A tag that changes whenever the object's content changes, without quotes. On S3 it is S3's ETag (the MD5 of
/// the content, in hex, for a single-part upload; <c>&lt;md5&gt;-&lt;parts&gt;</c> for a multipart one). The
/// local folder store gives the lowercase hex MD5 of the content, computed as it writes the object.
/// Compare ETags of one store only: the same bytes can have different ETags in two stores.
/// </param>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified, string ETag);

/// <summary>A key that <see cref="IObjectStore.DeleteManyAsync"/> could not delete.</summary>
/// <param name="Key">The key.</param>
/// <param name="Code">The store's error code (S3's, such as <c>AccessDenied</c> or <c>InternalError</c>; a local store gives the exception type).</param>
/// <param name="Message">The store's message.</param>
public sealed record ObjectDeleteError(string Key, string Code, string Message);

/// <summary>A page of a listing.</summary>
/// <param name="Objects">The objects, in ascending key order.</param>
/// <param name="ContinuationToken">Where the next page starts, or null when this is the last page.</param>
public sealed record ObjectPage(IReadOnlyList<ObjectInfo> Objects, string? ContinuationToken);

/// <summary>Thrown when an object does not exist.</summary>
public sealed class ObjectNotFoundException(string key) : Exception($"No object has the key '{key}'.")
{
    /// <summary>The key that was asked for.</summary>
    public string Key { get; } = key;
}

/// <summary>Helpers over <see cref="IObjectStore"/> that any implementation gets for free.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Every object under <paramref name="prefix"/>, page after page, in key order.</summary>
    public static async IAsyncEnumerable<ObjectInfo> ListAsync(this IObjectStore store, string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? token = null;
        do
        {
            var page = await store.ListPageAsync(prefix, token, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.Objects) yield return o;
            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>Reads a whole object into memory.</summary>
    public static async ValueTask<byte[]> GetBytesAsync(this IObjectStore store, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var ms = new MemoryStream();
            await stream.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
            return ms.ToArray();
        }
    }
}

/// <summary>
/// A failure of an object store's service (S3 and other remote stores), with what was being done and whether
/// trying again can help. <see cref="FailureClassification.IsTransient"/> and
/// <see cref="FailureClassification.IsPermanent(Exception, out string?)"/> read <see cref="IsTransient"/>.
/// </summary>
public class ObjectStoreException : IOException, IRetryClassified
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the operation, the key and the store.</param>
    /// <param name="operation">The operation (<c>PutObject</c>, <c>ListObjectsV2</c>, …).</param>
    /// <param name="key">The key (or prefix) it was for, if any.</param>
    /// <param name="errorCode">The service's error code (<c>AccessDenied</c>, <c>SlowDown</c>, …), if it answered.</param>
    /// <param name="statusCode">The HTTP status, if the service answered.</param>
    /// <param name="isTransient">True when the same request may succeed later (throttling, 5xx, timeouts, connection resets).</param>
    /// <param name="innerException">The underlying exception.</param>
    public ObjectStoreException(string message, string operation, string? key, string? errorCode, int? statusCode, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        Key = key;
        ErrorCode = errorCode;
        StatusCode = statusCode;
        IsTransient = isTransient;
    }

    /// <summary>The operation that failed.</summary>
    public string Operation { get; }

    /// <summary>The key (or prefix) it was for, if any.</summary>
    public string? Key { get; }

    /// <summary>The service's error code, if it answered.</summary>
    public string? ErrorCode { get; }

    /// <summary>The HTTP status, if the service answered.</summary>
    public int? StatusCode { get; }

    /// <summary>True when the same request may succeed later; false when retrying cannot fix it (access denied, no such bucket, a bad request).</summary>
    public bool IsTransient { get; }
}
