using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Retail.Codecs;

/// <summary>
/// Reads JSON lines (one <see cref="RetailJson"/> object per line) from a stream in constant memory.
/// Blank lines are ignored; <c>\r\n</c> endings and a UTF-8 byte order mark are accepted. A record that breaks a rule of
/// <see cref="RetailRecordValidation"/> is a bad line, like malformed JSON; a line longer than
/// <see cref="RetailReaderOptions.MaxRecordBytes"/> is a bad line "record too long (N bytes, limit M)".
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
    /// <exception cref="RetailFormatException">The input is UTF-16 or UTF-32, not UTF-8 (its first bytes are read here to tell).</exception>
    public JsonLinesReader(Stream stream, RetailReaderOptions? options = null, bool leaveOpen = false)
    {
        _options = options ?? new RetailReaderOptions();
        _options.Validate();
        _window = new ByteWindow(stream, _options.MaxRecordBytes + 2, leaveOpen);
        try
        {
            while (_window.End - _window.Start < EncodingSniffer.BytesNeeded && _window.Fill()) { }
            var start = _window.Unread[..Math.Min(_window.Unread.Length, EncodingSniffer.BytesNeeded)];
            if (EncodingSniffer.Detect(start) is { } encoding) throw EncodingSniffer.Error(encoding, start);
        }
        catch
        {
            _window.Dispose();
            throw;
        }
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
        while (TryReadLine(out var line, out long lineNumber, out long oversizedLength))
        {
            if (oversizedLength == 0 && line.Length > _options.MaxRecordBytes) oversizedLength = line.Length;
            if (oversizedLength > 0)
            {
                var head = line[..Math.Min(line.Length, _options.MaxRecordBytes)];
                Report(new RetailRecordError(lineNumber, null, System.Text.Encoding.UTF8.GetString(head[..Math.Min(head.Length, 200)]),
                    string.Create(CultureInfo.InvariantCulture, $"record too long ({oversizedLength:N0} bytes, limit {_options.MaxRecordBytes:N0})"),
                    head.ToArray()) { RecordBytes = oversizedLength });
                continue;
            }
            if (IsBlank(line)) continue;
            if (RetailJson.TryParseUtf8(line, ref _unescaped, out record, out var field, out var reason))
            {
                if (RetailRecordValidation.TryValidate(in record, out var violation))
                {
                    RecordCount++;
                    LineNumber = lineNumber;
                    return true;
                }
                Report(new RetailRecordError(lineNumber, violation.Field, violation.Value, violation.Reason, line.ToArray()));
                continue;
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

    /// <summary>
    /// The next physical line. A line longer than the window comes back as its first window's worth of bytes, with
    /// <paramref name="oversizedLength"/> its whole length (counted while the rest is skipped); otherwise that is 0.
    /// </summary>
    private bool TryReadLine(out ReadOnlySpan<byte> line, out long lineNumber, out long oversizedLength)
    {
        oversizedLength = 0;
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
                // Oversized: keep the start, then skip to the next newline, counting.
                line = Slice(_window.Start, _window.End);
                var copy = line.ToArray();
                long length = copy.Length;
                bool endsWithCr = _window.End > _window.Start && _window.Buffer[_window.End - 1] == '\r'; // Slice dropped it
                if (endsWithCr) length++;
                _window.DiscardUnread();
                length = _window.SkipLine(length, endsWithCr);
                _nextLine++;
                line = copy;
                oversizedLength = length;
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
