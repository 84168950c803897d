using System.Buffers;

namespace Retail.Codecs;

/// <summary>
/// A pooled, growable window over a stream: the unread bytes are <c>Buffer[Start..End]</c>. Grows up
/// to a limit so that memory stays bounded whatever the input.
/// </summary>
internal sealed class ByteWindow : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly int _maxSize;

    public ByteWindow(Stream stream, int maxSize, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        _maxSize = maxSize;
        Buffer = ArrayPool<byte>.Shared.Rent(Math.Min(64 * 1024, maxSize));
    }

    public byte[] Buffer { get; private set; }
    public int Start { get; set; }
    public int End { get; private set; }
    public bool Eof { get; private set; }

    /// <summary>The stream offset of <c>Buffer[index]</c> (bytes before it in the stream).</summary>
    public long OffsetOf(int index) => _base + index;

    /// <summary>The stream offset of <c>Buffer[0]</c>.</summary>
    private long _base;
    public ReadOnlySpan<byte> Unread => Buffer.AsSpan(Start, End - Start);

    /// <summary>True when the window cannot take more bytes without dropping unread ones.</summary>
    public bool Full => Start == 0 && End == Buffer.Length && Buffer.Length >= _maxSize;

    /// <summary>Reads more bytes, keeping the unread ones; returns false at end of stream or when full.</summary>
    public bool Fill()
    {
        if (Eof) return false;
        if (Start > 0)
        {
            Buffer.AsSpan(Start, End - Start).CopyTo(Buffer);
            _base += Start;
            End -= Start;
            Start = 0;
        }
        if (End == Buffer.Length)
        {
            if (Buffer.Length >= _maxSize) return false;
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(Buffer.Length * 2, _maxSize));
            Buffer.AsSpan(0, End).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = bigger;
        }
        int n = _stream.Read(Buffer, End, Buffer.Length - End);
        if (n == 0)
        {
            Eof = true;
            return false;
        }
        End += n;
        return true;
    }

    /// <summary>Drops every unread byte (used to skip the rest of an oversized row).</summary>
    public void DiscardUnread() => Start = End;

    /// <summary>
    /// Skips the rest of the current line — up to just after its LF, filling as needed, or to the end of the input —
    /// and returns <paramref name="counted"/> plus the bytes skipped, not counting the line terminator (the LF and a
    /// CR before it, even one that ended an earlier chunk: <paramref name="endsWithCr"/> says whether the counted
    /// bytes ended in CR).
    /// </summary>
    public long SkipLine(long counted, bool endsWithCr)
    {
        long length = counted;
        while (true)
        {
            var chunk = Unread;
            int k = chunk.IndexOf((byte)'\n');
            if (k >= 0)
            {
                length += k;
                if (k > 0 ? chunk[k - 1] == '\r' : endsWithCr) length--;
                Start += k + 1;
                return length;
            }
            length += chunk.Length;
            if (chunk.Length > 0) endsWithCr = chunk[^1] == '\r';
            DiscardUnread();
            if (!Fill()) return length;
        }
    }

    public void Dispose()
    {
        if (Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
        if (!_leaveOpen) _stream.Dispose();
    }
}
