using System.Buffers;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// An object's bytes read asynchronously into a pooled buffer, for a synchronous parser: reading an object
/// store's stream synchronously would block a thread on the network (S3) for every read.
/// </summary>
internal sealed class PooledContent : IDisposable
{
    private byte[]? _buffer;

    private PooledContent(byte[] buffer, int length)
    {
        _buffer = buffer;
        Stream = new MemoryStream(buffer, 0, length, writable: false);
    }

    /// <summary>The content.</summary>
    public MemoryStream Stream { get; }

    /// <summary>Reads the whole of <paramref name="source"/> (its listed size is the first guess of the buffer's size).</summary>
    public static async Task<PooledContent> ReadAsync(IObjectStore store, ObjectInfo source, CancellationToken cancellationToken)
    {
        if (source.Size > Array.MaxLength)
            throw new CompactionException($"{source.Key} has {source.Size} bytes, more than one object this compactor reads ({Array.MaxLength})");
        var stream = await store.OpenReadAsync(source.Key, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(source.Size + 1, 4096));
            int length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        // The object grew since it was listed (or the size was unknown): a larger buffer.
                        if (buffer.Length == Array.MaxLength)
                            throw new CompactionException($"{source.Key} has more bytes than one object this compactor reads ({Array.MaxLength})");
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, Array.MaxLength));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    int n = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    length += n;
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
            return new PooledContent(buffer, length);
        }
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer) ArrayPool<byte>.Shared.Return(buffer);
    }
}
