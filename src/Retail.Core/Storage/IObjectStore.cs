namespace Retail.Storage;

/// <summary>
/// A flat key → bytes store with S3 semantics: the data lake. Keys are <c>/</c>-separated, relative,
/// at most 1024 UTF-8 bytes, and never contain <c>..</c> segments, a leading <c>/</c>, a backslash
/// or NUL (see <see cref="ObjectKeys.Validate"/>). Every put is atomic: a reader sees the whole
/// object or none of it, never a partial one.
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

    /// <summary>Size and time of one object, or null if there is none.</summary>
    ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the objects whose keys start with <paramref name="prefix"/>, in ascending key
    /// (ordinal UTF-8) order; pass the returned <see cref="ObjectPage.ContinuationToken"/> to get the next.
    /// </summary>
    ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; false if there was none.</summary>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>One stored object.</summary>
/// <param name="Key">Its key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="LastModified">When it was last written.</param>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified);

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
