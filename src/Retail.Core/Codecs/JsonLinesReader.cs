using System.Diagnostics.CodeAnalysis;

namespace Retail.Codecs;

/// <summary>
/// Reads JSON lines (one <see cref="RetailJson"/> object per line) from a stream in constant memory.
/// Blank lines are ignored; <c>\r\n</c> endings and a UTF-8 byte order mark are accepted.
/// </summary>
public sealed class JsonLinesReader : IDisposable
{
    private readonly ByteWindow _window;
    private readonly RetailReaderOptions _options;
    private readonly Utf8StringCache _cache = new();
    private byte[]? _unescaped;
    private long _nextLine = 1;
    private bool _bomChecked;

    /// <summary>Reads from <paramref name="stream"/>, which is disposed with the reader unless <paramref name="leaveOpen"/>.</summary>
    public JsonLinesReader(Stream stream, RetailReaderOptions? options = null, bool leaveOpen = false)
    {
        _options = options ?? new RetailReaderOptions();
        _options.Validate();
        _window = new ByteWindow(stream, _options.MaxRecordBytes + 2, leaveOpen);
    }

    /// <summary>Records returned so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>The line (1-based, blank lines counted) of the record last returned; 0 before the first.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Bad lines skipped so far (lenient mode).</summary>
    public long ErrorCount { get; private set; }

    /// <summary>Reads the next good record; false at the end of the input.</summary>
    /// <exception cref="RetailFormatException">A bad line in strict mode.</exception>
    public bool TryRead([NotNullWhen(true)] out RetailTransaction? record)
    {
        if (TryReadUtf8(out var utf8))
        {
            record = utf8.ToTransaction(_cache);
            return true;
        }
        record = null;
        return false;
    }

    /// <summary>
    /// Reads the next good record without making strings: its text fields are UTF-8 spans, valid until the next
    /// read. Bad lines are handled as by <see cref="TryRead"/>.
    /// </summary>
    /// <exception cref="RetailFormatException">A bad line in strict mode.</exception>
    public bool TryReadUtf8(out RetailRecordUtf8 record)
    {
        while (TryReadLine(out var line, out long lineNumber, out bool oversized))
        {
            if (oversized)
            {
                Report(new RetailRecordError(lineNumber, null, System.Text.Encoding.UTF8.GetString(line[..Math.Min(line.Length, 200)]),
                    $"line longer than MaxRecordBytes ({_options.MaxRecordBytes})", line[..Math.Min(line.Length, 1024)].ToArray()));
                continue;
            }
            if (IsBlank(line)) continue;
            if (RetailJson.TryParseUtf8(line, ref _unescaped, out record, out var field, out var reason))
            {
                RecordCount++;
                LineNumber = lineNumber;
                return true;
            }
            Report(RetailJson.MakeError(lineNumber, line, field, reason));
        }
        record = default;
        return false;
    }

    /// <summary>All remaining good records.</summary>
    public IEnumerable<RetailTransaction> ReadAll()
    {
        while (TryRead(out var r)) yield return r;
    }

    /// <summary>Disposes the buffer and, unless left open, the stream.</summary>
    public void Dispose() => _window.Dispose();

    private void Report(RetailRecordError error)
    {
        if (_options.Mode == BadRecordMode.Strict) throw new RetailFormatException(error);
        ErrorCount++;
        _options.OnError?.Invoke(error);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8).IsEmpty;

    private bool TryReadLine(out ReadOnlySpan<byte> line, out long lineNumber, out bool oversized)
    {
        oversized = false;
        lineNumber = _nextLine;
        int scanFrom = _window.Start;
        while (true)
        {
            var buf = _window.Buffer;
            int nl = buf.AsSpan(scanFrom, _window.End - scanFrom).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int end = scanFrom + nl;
                line = Slice(_window.Start, end);
                _window.Start = end + 1;
                _nextLine++;
                return true;
            }
            if (_window.Full)
            {
                // Oversized: report a prefix, then skip to the next newline.
                line = Slice(_window.Start, _window.End);
                var copy = line.ToArray();
                _window.DiscardUnread();
                while (true)
                {
                    if (!_window.Fill()) break;
                    int k = _window.Unread.IndexOf((byte)'\n');
                    if (k >= 0) { _window.Start += k + 1; break; }
                    _window.DiscardUnread();
                }
                _nextLine++;
                line = copy;
                oversized = true;
                return true;
            }
            int consumed = _window.End - _window.Start; // already scanned: no newline there
            bool filled = _window.Fill();
            scanFrom = _window.Start + consumed;
            if (!filled)
            {
                if (!_window.Eof) continue; // full: handled above
                if (_window.End > _window.Start)
                {
                    line = Slice(_window.Start, _window.End);
                    _window.Start = _window.End;
                    _nextLine++;
                    return true;
                }
                line = default;
                return false;
            }
        }
    }

    private ReadOnlySpan<byte> Slice(int start, int end)
    {
        if (!_bomChecked)
        {
            _bomChecked = true;
            if (end - start >= 3 && _window.Buffer.AsSpan(start, 3).SequenceEqual("\uFEFF"u8)) start += 3;
        }
        if (end > start && _window.Buffer[end - 1] == '\r') end--;
        return _window.Buffer.AsSpan(start, end - start);
    }
}
