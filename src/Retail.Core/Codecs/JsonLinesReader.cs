using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Retail.Codecs;

/// <summary>
/// Reads JSON lines (one <see cref="RetailJson"/> object per line) from a stream in constant memory — and also what real
/// Firehose writes when its producer sends records without a trailing newline: objects concatenated with no delimiter
/// (<c>{…}{…}{…}</c>), or a mix of both (objects on one line, objects spread over several lines, whitespace between them).
/// Blank lines are ignored; <c>\r\n</c> endings and a UTF-8 byte order mark are accepted. A record that breaks a rule of
/// <see cref="RetailRecordValidation"/> is a bad line, like malformed JSON; a line longer than
/// <see cref="RetailReaderOptions.MaxRecordBytes"/> is a bad line "record too long (N bytes, limit M)".
/// </summary>
/// <remarks>
/// <para>Newline-delimited input is read line by line (the fast path). The reader switches, for the rest of the input,
/// to reading one top-level object at a time only when it meets a line that is not one object: a line that holds an
/// object followed by another <c>{</c>, a line that opens an object it does not close, or more than
/// <see cref="RetailReaderOptions.MaxRecordBytes"/> bytes without a newline that start with a complete object.</para>
/// <para>In that mode a record is one object, found by its braces (strings and escapes respected); text between objects
/// that is not whitespace is a bad record up to the end of its line; a raw newline inside a string ends the (bad) record
/// there; an object spread over several lines that is not a valid record, and one of whose later lines starts with
/// <c>{</c>, is reported as its first line only (a truncated line does not swallow the records after it). Positions stay
/// meaningful: <see cref="LineNumber"/> is the line on which the record starts, and <see cref="RecordByteOffset"/> (and
/// <see cref="RetailRecordError.ByteOffset"/> of a bad record in that mode) the offset of its first byte.</para>
/// </remarks>
public sealed class JsonLinesReader : IDisposable
{
    private readonly ByteWindow _window;
    private readonly RetailReaderOptions _options;
    private readonly Utf8StringCache _cache = new();
    private byte[]? _unescaped;
    private long _nextLine = 1;
    private bool _bomChecked;

    /// <summary>Whether the input was found not to be one object per line (see the class remarks).</summary>
    private bool _concatenated;

    /// <summary>Index in the window's buffer of the first byte of the line or object last sliced.</summary>
    private int _sliceStart;

    /// <summary>The input offset of that byte.</summary>
    private long _sliceOffset;

    /// <summary>Whether the object being read (concatenated mode) starts a line, so that its line number alone locates it.</summary>
    private bool _objectStartsLine = true;

    /// <summary>Whether the record last returned starts a line.</summary>
    private bool _recordStartsLine = true;

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

    /// <summary>
    /// The offset in the (decompressed) input of the first byte of the record last returned; 0 before the first. With
    /// <see cref="LineNumber"/> it locates a record among objects concatenated on one line.
    /// </summary>
    public long RecordByteOffset { get; private set; }

    /// <summary>Whether the input turned out not to be one object per line (concatenated or multi-line objects), so records were read object by object.</summary>
    public bool IsConcatenated => _concatenated;

    /// <summary>Where the record last returned starts: <c>line N</c>, or <c>line N, byte B</c> when it does not start its line (objects concatenated on one line).</summary>
    public string RecordPosition => !_recordStartsLine
        ? string.Create(CultureInfo.InvariantCulture, $"line {LineNumber}, byte {RecordByteOffset}")
        : string.Create(CultureInfo.InvariantCulture, $"line {LineNumber}");

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
        while (true)
        {
            ReadOnlySpan<byte> line;
            long lineNumber, oversizedLength;
            bool concatenated = _concatenated, startsLine = true;
            if (concatenated)
            {
                if (!TryReadObject(out line, out lineNumber, out oversizedLength, out startsLine)) break;
            }
            else if (!TryReadLine(out line, out lineNumber, out oversizedLength)) break;
            else if (_concatenated) continue; // the line turned out to start objects concatenated without newlines
            long? offset = startsLine ? null : _sliceOffset;
            if (oversizedLength == 0 && line.Length > _options.MaxRecordBytes) oversizedLength = line.Length;
            if (oversizedLength > 0)
            {
                var head = line[..Math.Min(line.Length, _options.MaxRecordBytes)];
                Report(new RetailRecordError(lineNumber, null, System.Text.Encoding.UTF8.GetString(head[..Math.Min(head.Length, 200)]),
                    string.Create(CultureInfo.InvariantCulture, $"record too long ({oversizedLength:N0} bytes, limit {_options.MaxRecordBytes:N0})"),
                    head.ToArray()) { RecordBytes = oversizedLength, ByteOffset = offset });
                continue;
            }
            if (IsBlank(line)) continue;
            if (RetailJson.TryParseUtf8(line, ref _unescaped, out record, out var field, out var reason))
            {
                if (RetailRecordValidation.TryValidate(in record, out var violation))
                {
                    RecordCount++;
                    LineNumber = lineNumber;
                    RecordByteOffset = _sliceOffset;
                    _recordStartsLine = startsLine;
                    return true;
                }
                Report(new RetailRecordError(lineNumber, violation.Field, violation.Value, violation.Reason, line.ToArray()) { ByteOffset = offset });
                continue;
            }
            if (!concatenated && StartsConcatenation(line, lineNumber)) continue;
            if (concatenated && FirstLineOfBrokenObject(line) is int firstLine)
            {
                // A truncated line followed by records: report that line alone and read on from the next.
                line = line[..firstLine];
                _window.Start = _sliceStart + firstLine + 1;
                _nextLine = lineNumber + 1;
                _objectStartsLine = true;
                RetailJson.TryParseUtf8(TrimCr(line), ref _unescaped, out _, out field, out reason);
                line = TrimCr(line);
                reason ??= "incomplete JSON object";
            }
            Report(RetailJson.MakeError(lineNumber, line, field, reason) with { ByteOffset = offset });
        }
        record = default;
        return false;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    /// <summary>
    /// Whether <paramref name="line"/>, which is not one valid record, starts objects written without newlines between
    /// them: an object followed by <c>{</c>, or an object left open at the end of the line (outside a string). If so the
    /// reader rewinds to the line's start and reads object by object from there on.
    /// </summary>
    private bool StartsConcatenation(ReadOnlySpan<byte> line, long lineNumber)
    {
        int lead = line.IndexOfAnyExcept(" \t\r"u8);
        if (lead < 0 || line[lead] != '{') return false;
        var scanner = new JsonObjectScanner();
        int end = scanner.Scan(line[lead..], out bool brokenAtNewline);
        if (brokenAtNewline) return false;
        if (end >= 0)
        {
            var rest = line[(lead + end)..];
            int next = rest.IndexOfAnyExcept(" \t\r"u8);
            if (next < 0 || rest[next] != '{') return false;
        }
        else if (scanner.InString) return false;
        _concatenated = true;
        _objectStartsLine = true;
        _window.Start = _sliceStart;
        _nextLine = lineNumber;
        return true;
    }

    /// <summary>
    /// For an object read across several lines that is not a valid record: the length of its first line when one of its
    /// later lines starts with <c>{</c> (the first line was most likely truncated and the next lines are records), else null.
    /// </summary>
    private static int? FirstLineOfBrokenObject(ReadOnlySpan<byte> record)
    {
        int first = record.IndexOf((byte)'\n');
        if (first < 0) return null;
        int i = first;
        while (i >= 0 && i < record.Length)
        {
            var rest = record[(i + 1)..];
            int lead = rest.IndexOfAnyExcept(" \t\r"u8);
            if (lead >= 0 && rest[lead] == '{') return first;
            int nl = rest.IndexOf((byte)'\n');
            i = nl < 0 ? -1 : i + 1 + nl;
        }
        return null;
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
                if (!_concatenated && StartsWithObject())
                {
                    // No newline in MaxRecordBytes, but an object ends there: objects concatenated without newlines.
                    _concatenated = true;
                    line = default;
                    return true;
                }
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
        start = SkipBom(start, end);
        SetSlice(start);
        if (end > start && _window.Buffer[end - 1] == '\r') end--;
        return _window.Buffer.AsSpan(start, end - start);
    }

    private void SetSlice(int start)
    {
        _sliceStart = start;
        _sliceOffset = _window.OffsetOf(start);
    }

    private int SkipBom(int start, int end)
    {
        if (!_bomChecked)
        {
            _bomChecked = true;
            if (end - start >= 3 && _window.Buffer.AsSpan(start, 3).SequenceEqual("\uFEFF"u8)) start += 3;
        }
        return start;
    }

    /// <summary>Whether the (full) window starts, after whitespace and a byte order mark, with a complete object.</summary>
    private bool StartsWithObject()
    {
        int start = SkipBom(_window.Start, _window.End);
        _window.Start = start;
        var unread = _window.Unread;
        int lead = unread.IndexOfAnyExcept(" \t\r"u8);
        if (lead < 0 || unread[lead] != '{') return false;
        var scanner = new JsonObjectScanner();
        return scanner.Scan(unread[lead..], out bool broken) >= 0 && !broken;
    }

    /// <summary>
    /// The next top-level object (concatenated mode): whitespace before it is skipped (its newlines counted); text that
    /// does not start with <c>{</c> is returned up to the end of its line, as <see cref="TryReadLine"/> would. An object
    /// longer than the window comes back as its first window's worth, with <paramref name="oversizedLength"/> its length.
    /// </summary>
    private bool TryReadObject(out ReadOnlySpan<byte> record, out long lineNumber, out long oversizedLength, out bool startsLine)
    {
        oversizedLength = 0;
        while (true)
        {
            _window.Start = SkipBom(_window.Start, _window.End);
            var unread = _window.Unread;
            int lead = unread.IndexOfAnyExcept(" \t\r\n"u8);
            if (lead >= 0)
            {
                int newlines = unread[..lead].Count((byte)'\n');
                _nextLine += newlines;
                if (newlines > 0) _objectStartsLine = true;
                startsLine = _objectStartsLine;
                _window.Start += lead;
                break;
            }
            int skipped = unread.Count((byte)'\n');
            _nextLine += skipped;
            if (skipped > 0) _objectStartsLine = true;
            _window.DiscardUnread();
            if (!_window.Fill() && _window.Eof)
            {
                record = default;
                lineNumber = _nextLine;
                startsLine = true;
                return false;
            }
        }
        if (_window.Buffer[_window.Start] != '{')
        {
            _objectStartsLine = true; // the text goes to the end of its line
            return TryReadLine(out record, out lineNumber, out oversizedLength);
        }

        lineNumber = _nextLine;
        var scanner = new JsonObjectScanner();
        int scanned = 0; // bytes after Start already scanned
        while (true)
        {
            int end = scanner.Scan(_window.Buffer.AsSpan(_window.Start + scanned, _window.End - _window.Start - scanned), out bool brokenAtNewline);
            if (end >= 0)
            {
                int length = scanned + end;
                record = _window.Buffer.AsSpan(_window.Start, length);
                SetSlice(_window.Start);
                _nextLine += record.Count((byte)'\n');
                _window.Start += length + (brokenAtNewline ? 1 : 0);
                if (brokenAtNewline) _nextLine++;
                _objectStartsLine = brokenAtNewline;
                if (brokenAtNewline && record.Length > 0 && record[^1] == '\r') record = record[..^1];
                return true;
            }
            scanned = _window.End - _window.Start;
            if (_window.Full)
            {
                // Oversized: keep the start, then skip to the object's end, counting.
                SetSlice(_window.Start);
                var copy = _window.Unread.ToArray();
                long total = copy.Length;
                _nextLine += copy.AsSpan().Count((byte)'\n');
                _window.DiscardUnread();
                while (_window.Fill())
                {
                    var chunk = _window.Unread;
                    int k = scanner.Scan(chunk, out bool broken);
                    if (k >= 0)
                    {
                        total += k;
                        _nextLine += chunk[..k].Count((byte)'\n') + (broken ? 1 : 0);
                        _window.Start += k + (broken ? 1 : 0);
                        _objectStartsLine = broken;
                        break;
                    }
                    total += chunk.Length;
                    _nextLine += chunk.Count((byte)'\n');
                    _window.DiscardUnread();
                }
                record = copy;
                oversizedLength = total;
                return true;
            }
            if (!_window.Fill())
            {
                if (!_window.Eof) continue; // full: handled above
                // An object left open at the end of the input: the rest is one (bad) record.
                record = _window.Buffer.AsSpan(_window.Start, _window.End - _window.Start);
                SetSlice(_window.Start);
                _nextLine += record.Count((byte)'\n');
                _window.Start = _window.End;
                _objectStartsLine = true;
                return true;
            }
        }
    }
}

/// <summary>
/// Finds where a top-level JSON object ends, by its braces and brackets (strings and escapes respected), across chunks:
/// the state carries over from one <see cref="Scan"/> to the next. It does not validate the JSON; the parser does.
/// </summary>
internal struct JsonObjectScanner
{
    private int _depth;
    private bool _escape;

    /// <summary>Whether the scan so far ended inside a string.</summary>
    public bool InString { get; private set; }

    /// <summary>
    /// Scans <paramref name="chunk"/>, the first one starting at the object's <c>{</c>. Returns the index just past the
    /// object's closing brace, or the index of a raw line feed inside a string (<paramref name="brokenAtNewline"/>: JSON
    /// strings cannot hold one, so the object is broken there), or -1 when the object goes on past the chunk.
    /// </summary>
    public int Scan(ReadOnlySpan<byte> chunk, out bool brokenAtNewline)
    {
        brokenAtNewline = false;
        int i = 0;
        while (i < chunk.Length)
        {
            if (InString)
            {
                if (_escape)
                {
                    _escape = false;
                    i++;
                    continue;
                }
                int k = chunk[i..].IndexOfAny((byte)'"', (byte)'\\', (byte)'\n');
                if (k < 0) return -1;
                i += k;
                byte b = chunk[i];
                if (b == '\n')
                {
                    brokenAtNewline = true;
                    return i;
                }
                if (b == '\\') _escape = true;
                else InString = false;
                i++;
            }
            else
            {
                int k = chunk[i..].IndexOfAny("\"{}[]"u8);
                if (k < 0) return -1;
                i += k;
                byte b = chunk[i++];
                if (b == '"') InString = true;
                else if (b is (byte)'{' or (byte)'[') _depth++;
                else if (--_depth <= 0) return i;
            }
        }
        return -1;
    }
}
