using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Retail.Codecs;

/// <summary>Options of <see cref="DelimitedReader"/>.</summary>
public sealed class DelimitedReaderOptions
{
    /// <summary>CSV (default) or TSV.</summary>
    public DelimitedFormat Format { get; set; } = DelimitedFormat.Csv;

    /// <summary>Encoding of the input (default UTF-8, BOM optional).</summary>
    public TextEncoding Encoding { get; set; } = TextEncoding.Utf8;

    /// <summary>
    /// Whether a quoted CSV field may span lines (RFC 4180; default true). A quote that is never
    /// closed, or a multi-line record that turns out malformed, costs only its first physical line:
    /// the reader reports that line and resumes at the next one.
    /// </summary>
    public bool AllowLineBreaksInQuotes { get; set; } = true;

    /// <summary>
    /// Largest record accepted, in bytes, without its line terminator (default 1 MiB). A longer record is an error
    /// "record too long (N bytes, limit M)" whose raw record is its first <see cref="MaxRecordBytes"/> bytes.
    /// </summary>
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    /// <summary>Most fields per record (default 256).</summary>
    public int MaxFields { get; set; } = 256;
}

/// <summary>Outcome of <see cref="DelimitedReader.Read"/>.</summary>
public enum DelimitedReadResult
{
    /// <summary>A record was read; its fields are available.</summary>
    Record,
    /// <summary>A malformed record was skipped; <see cref="DelimitedReader.LastError"/> says why.</summary>
    Error,
    /// <summary>No more input.</summary>
    End,
}

/// <summary>
/// A streaming, allocation-lean reader of CSV (RFC 4180) and TSV records over UTF-8 bytes, in
/// constant memory. Fields are exposed as spans until asked for as strings.
/// </summary>
/// <remarks>
/// Input that is UTF-16 or UTF-32 (a byte order mark, or NUL bytes between the first characters) is not read as rows of
/// bad UTF-8: the first <see cref="Read"/> throws <see cref="RetailFormatException"/> naming the encoding and saying to
/// convert the file.
/// </remarks>
public sealed class DelimitedReader : IDisposable
{
    private static readonly SearchValues<byte> CsvStops = SearchValues.Create(",\r\n"u8);
    private static readonly SearchValues<byte> TsvStops = SearchValues.Create("\t\r\n"u8);
    private static readonly SearchValues<byte> QuoteOrNewline = SearchValues.Create("\"\n"u8);

    private readonly ByteWindow _window;
    private readonly DelimitedReaderOptions _options;
    private readonly byte _delimiter;
    private readonly SearchValues<byte> _stops;
    private readonly Field[] _fields;
    private byte[] _scratch = new byte[256];
    private readonly Utf8StringCache _cache;
    private int _recordStart;
    private int _recordLength;
    private bool _bomChecked;
    private readonly bool _sniffEncoding;
    private bool _recordAscii; // the current record is all ASCII, so its fields decode as Latin-1
    private long _nextLine = 1;

    private struct Field
    {
        public int Start;
        public int Length;
        public bool Escaped; // needs un-escaping ("" in CSV, backslash escapes in TSV)
    }

    /// <summary>Reads from <paramref name="stream"/>, disposed with the reader unless <paramref name="leaveOpen"/>.</summary>
    public DelimitedReader(Stream stream, DelimitedReaderOptions? options = null, bool leaveOpen = false)
        : this(stream, options, leaveOpen, cache: null, startOfInput: true)
    {
    }

    /// <summary>
    /// Lets short-lived readers (one per record) share a string cache instead of allocating their own. Unless
    /// <paramref name="startOfInput"/>, the stream is one record from the middle of an input: no byte order mark is
    /// looked for at its start and its encoding is not sniffed.
    /// </summary>
    internal DelimitedReader(Stream stream, DelimitedReaderOptions? options, bool leaveOpen, Utf8StringCache? cache, bool startOfInput)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _cache = cache ?? new Utf8StringCache();
        _options = options ?? new DelimitedReaderOptions();
        if (_options.MaxRecordBytes < 256)
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxRecordBytes, "MaxRecordBytes must be at least 256.");
        if (_options.MaxFields < 1)
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxFields, "MaxFields must be at least 1.");
        if (_options.Encoding == TextEncoding.Latin1)
            stream = System.Text.Encoding.CreateTranscodingStream(stream, System.Text.Encoding.Latin1, System.Text.Encoding.UTF8, leaveOpen);
        else if (_options.Encoding != TextEncoding.Utf8)
            throw new ArgumentOutOfRangeException(nameof(options), _options.Encoding, "Unknown TextEncoding.");
        // Room for the line terminator after a record of MaxRecordBytes.
        _window = new ByteWindow(stream, _options.MaxRecordBytes + 2, leaveOpen && _options.Encoding == TextEncoding.Utf8);
        _bomChecked = !startOfInput;
        _sniffEncoding = startOfInput && _options.Encoding == TextEncoding.Utf8;
        _delimiter = _options.Format == DelimitedFormat.Csv ? (byte)',' : (byte)'\t';
        _stops = _options.Format == DelimitedFormat.Csv ? CsvStops : TsvStops;
        _fields = new Field[_options.MaxFields];
    }

    /// <summary>Number of fields of the current record.</summary>
    public int FieldCount { get; private set; }

    /// <summary>1-based line on which the current record (or error) starts.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Why the last <see cref="DelimitedReadResult.Error"/> happened; its raw record is the bytes skipped.</summary>
    public RetailRecordError? LastError { get; private set; }

    /// <summary>The current record's bytes, as read (no line terminator).</summary>
    public ReadOnlySpan<byte> RawRecord => _window.Buffer.AsSpan(_recordStart, _recordLength);

    /// <summary>The raw bytes of field <paramref name="index"/> (quotes removed, escapes not yet undone).</summary>
    public ReadOnlySpan<byte> GetRawSpan(int index) => Span(index);

    /// <summary>Field <paramref name="index"/> as UTF-8 bytes with escapes undone. Valid until the next read.</summary>
    public ReadOnlySpan<byte> GetUtf8(int index)
    {
        ref Field f = ref _fields[(uint)index < (uint)FieldCount ? index : throw new ArgumentOutOfRangeException(nameof(index))];
        var raw = _window.Buffer.AsSpan(f.Start, f.Length);
        if (!f.Escaped) return raw;
        if (_scratch.Length < raw.Length) _scratch = new byte[Math.Max(raw.Length, _scratch.Length * 2)];
        int n = _options.Format == DelimitedFormat.Csv ? UnescapeCsv(raw, _scratch) : UnescapeTsv(raw, _scratch);
        return _scratch.AsSpan(0, n);
    }

    /// <summary>Field <paramref name="index"/> as a string, exactly as written (no trimming).</summary>
    public string GetString(int index) => _cache.GetString(GetUtf8(index), _recordAscii);

    /// <summary>Reads the next record, skipping blank lines.</summary>
    /// <exception cref="RetailFormatException">The input is UTF-16 or UTF-32, not UTF-8 (thrown by the first read).</exception>
    public DelimitedReadResult Read()
    {
        LastError = null;
        while (true)
        {
            var status = Parse(_window.Unread, _window.Eof, out int consumed, out int contentLength, out string? error);
            if (status == Status.NeedMore)
            {
                if (_window.Full)
                {
                    return SkipOversized();
                }
                if (!_window.Fill() && !_window.Eof) return SkipOversized();
                continue;
            }
            if (status == Status.End) return DelimitedReadResult.End;

            int start = _window.Start;
            LineNumber = _nextLine;
            var record = _window.Buffer.AsSpan(start, consumed);
            int lines = record.Count((byte)'\n');
            if (lines == 0 && consumed > 0 && record[^1] == '\r') lines = 1; // a lone CR ends the record too
            if (status == Status.Error)
            {
                int firstLine = record[..contentLength].IndexOf((byte)'\n');
                if (firstLine >= 0)
                {
                    // A malformed record that spans lines costs only its first line; resume after it.
                    consumed = firstLine + 1;
                    contentLength = firstLine;
                    if (contentLength > 0 && _window.Buffer[start + contentLength - 1] == '\r') contentLength--;
                    lines = 1;
                    error = "unbalanced or misplaced double quote";
                }
                var raw = _window.Buffer.AsSpan(start, contentLength);
                LastError = new RetailRecordError(LineNumber, null, Encoding.UTF8.GetString(raw), error!, raw.ToArray());
                _window.Start += consumed;
                _nextLine += Math.Max(lines, 1);
                return DelimitedReadResult.Error;
            }
            _recordStart = start;
            _recordLength = contentLength;
            _window.Start += consumed;
            _nextLine += Math.Max(lines, 1);
            if (contentLength > _options.MaxRecordBytes)
            {
                // The window holds a little more than the limit (room for the terminator, pool rounding): the limit is exact.
                var head = RawRecord[.._options.MaxRecordBytes];
                LastError = TooLong(head, contentLength);
                return DelimitedReadResult.Error;
            }
            if (contentLength == 0 || (FieldCount == 1 && _fields[0].Length == 0 && !_fields[0].Escaped && IsBlank(RawRecord)))
                continue; // blank line: not a record
            _recordAscii = Ascii.IsValid(RawRecord);
            if (!_recordAscii && !Utf8.IsValid(RawRecord))
            {
                LastError = new RetailRecordError(LineNumber, null, Encoding.UTF8.GetString(RawRecord),
                    "invalid UTF-8 (if the file is Latin-1, read it with the Latin-1 encoding option)", RawRecord.ToArray());
                return DelimitedReadResult.Error;
            }
            return DelimitedReadResult.Record;
        }
    }

    /// <summary>
    /// When the current record spans several physical lines, gives up all but its first line: the
    /// next <see cref="Read"/> resumes at the second line, and <see cref="RawRecord"/> becomes the
    /// first line. Call it when a multi-line record is rejected (wrong field count, say), so that an
    /// unbalanced quote costs one line rather than swallowing the good rows after it.
    /// </summary>
    /// <returns>True if the record spanned lines and the reader was moved back.</returns>
    public bool ResyncAfterFirstLine()
    {
        var raw = RawRecord;
        int nl = raw.IndexOf((byte)'\n');
        if (nl < 0) return false;
        _window.Start = _recordStart + nl + 1;
        _recordLength = nl > 0 && raw[nl - 1] == '\r' ? nl - 1 : nl;
        _nextLine = LineNumber + 1;
        FieldCount = 0;
        return true;
    }

    private static bool IsBlank(ReadOnlySpan<byte> s) => s.Trim(" \t"u8).IsEmpty;

    private DelimitedReadResult SkipOversized()
    {
        LineNumber = _nextLine;
        int max = _options.MaxRecordBytes;
        var unread = _window.Unread;
        int nl = unread.IndexOf((byte)'\n');
        int len = nl > 0 && unread[nl - 1] == '\r' ? nl - 1 : nl;
        if (nl >= 0 && len <= max)
        {
            // The first physical line fits: a quoted field opened on it runs on over more lines than the limit holds.
            // Skip only that line, so that an unbalanced quote costs one line.
            var line = unread[..len].ToArray();
            _window.Start += nl + 1;
            _nextLine++;
            LastError = new RetailRecordError(LineNumber, null, Preview(line), string.Create(CultureInfo.InvariantCulture,
                $"a quoted field opened on this line is not closed within the record limit ({max:N0} bytes): an unbalanced double quote, or a record too long"), line);
            return DelimitedReadResult.Error;
        }
        // The physical line itself is longer than the limit: keep its first bytes, and count the rest while skipping it.
        var head = unread[..Math.Min(unread.Length, max)].ToArray();
        long length = _window.SkipLine(0, endsWithCr: false);
        _nextLine++;
        LastError = TooLong(head, length);
        return DelimitedReadResult.Error;
    }

    private RetailRecordError TooLong(ReadOnlySpan<byte> head, long length) =>
        new(LineNumber, null, Preview(head), string.Create(CultureInfo.InvariantCulture,
            $"record too long ({length:N0} bytes, limit {_options.MaxRecordBytes:N0})"), head.ToArray()) { RecordBytes = length };

    private static string Preview(ReadOnlySpan<byte> raw) => Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 200)]);

    private enum Status { Ok, Error, NeedMore, End }

    private ReadOnlySpan<byte> Span(int i) => _window.Buffer.AsSpan(_fields[i].Start, _fields[i].Length);

    /// <summary>Parses one record at the start of <paramref name="data"/>; field offsets are absolute in the window buffer.</summary>
    private Status Parse(ReadOnlySpan<byte> data, bool final, out int consumed, out int contentLength, out string? error)
    {
        consumed = contentLength = 0;
        error = null;
        int baseOffset = _window.Start;
        if (!_bomChecked)
        {
            if (data.Length < EncodingSniffer.BytesNeeded && !final) return Status.NeedMore;
            if (_sniffEncoding && EncodingSniffer.Detect(data[..Math.Min(data.Length, EncodingSniffer.BytesNeeded)]) is { } encoding)
                throw EncodingSniffer.Error(encoding, data[..Math.Min(data.Length, EncodingSniffer.BytesNeeded)]);
            _bomChecked = true;
            if (data.StartsWith("\uFEFF"u8))
            {
                _window.Start += 3;
                data = data[3..];
                baseOffset += 3;
            }
        }
        if (data.IsEmpty) return final ? Status.End : Status.NeedMore;

        int pos = 0, n = 0;
        bool csv = _options.Format == DelimitedFormat.Csv;
        while (true)
        {
            if (n == _fields.Length)
            {
                error = $"more than {_fields.Length} fields";
                return SkipLine(data, final, out consumed, out contentLength, ref error);
            }
            ref Field f = ref _fields[n++];
            if (csv && pos < data.Length && data[pos] == '"')
            {
                int p = pos + 1;
                bool escaped = false;
                while (true)
                {
                    int q = _options.AllowLineBreaksInQuotes ? data[p..].IndexOf((byte)'"') : data[p..].IndexOfAny(QuoteOrNewline);
                    if (q < 0)
                    {
                        if (!final) return Status.NeedMore;
                        error = "unbalanced double quote";
                        consumed = contentLength = data.Length;
                        return Status.Error;
                    }
                    p += q;
                    if (data[p] == '\n')
                    {
                        error = "unbalanced double quote";
                        consumed = p + 1;
                        contentLength = p > 0 && data[p - 1] == '\r' ? p - 1 : p;
                        return Status.Error;
                    }
                    if (p + 1 == data.Length && !final) return Status.NeedMore;
                    if (p + 1 < data.Length && data[p + 1] == '"')
                    {
                        escaped = true;
                        p += 2;
                        continue;
                    }
                    break;
                }
                f.Start = baseOffset + pos + 1;
                f.Length = p - pos - 1;
                f.Escaped = escaped;
                pos = p + 1;
                if (pos == data.Length) break; // final (checked above)
                byte c = data[pos];
                if (c == _delimiter) { pos++; continue; }
                if (c is (byte)'\r' or (byte)'\n') break;
                error = "text after a closing double quote";
                return SkipLine(data, final, out consumed, out contentLength, ref error);
            }
            else
            {
                int k = data[pos..].IndexOfAny(_stops);
                if (k < 0)
                {
                    if (!final) return Status.NeedMore;
                    k = data.Length - pos;
                }
                f.Start = baseOffset + pos;
                f.Length = k;
                f.Escaped = !csv && data.Slice(pos, k).Contains((byte)'\\');
                pos += k;
                if (pos == data.Length) break;
                if (data[pos] == _delimiter) { pos++; continue; }
                break;
            }
        }
        FieldCount = n;
        contentLength = pos;
        // Line terminator: \n, \r\n or a lone \r.
        if (pos < data.Length)
        {
            if (data[pos] == '\r')
            {
                if (pos + 1 == data.Length && !final) return Status.NeedMore;
                pos += pos + 1 < data.Length && data[pos + 1] == '\n' ? 2 : 1;
            }
            else pos++;
        }
        consumed = pos;
        return Status.Ok;
    }

    private static Status SkipLine(ReadOnlySpan<byte> data, bool final, out int consumed, out int contentLength, ref string? error)
    {
        int nl = data.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (!final)
            {
                consumed = contentLength = 0;
                error = null;
                return Status.NeedMore;
            }
            consumed = contentLength = data.Length;
            return Status.Error;
        }
        consumed = nl + 1;
        contentLength = nl > 0 && data[nl - 1] == '\r' ? nl - 1 : nl;
        return Status.Error;
    }

    private static int UnescapeCsv(ReadOnlySpan<byte> raw, Span<byte> dest)
    {
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            dest[n++] = raw[i];
            if (raw[i] == '"' && i + 1 < raw.Length && raw[i + 1] == '"') i++;
        }
        return n;
    }

    private static int UnescapeTsv(ReadOnlySpan<byte> raw, Span<byte> dest)
    {
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte c = raw[i];
            if (c == '\\' && i + 1 < raw.Length)
            {
                byte e = raw[i + 1];
                byte? u = e switch { (byte)'t' => (byte)'\t', (byte)'n' => (byte)'\n', (byte)'r' => (byte)'\r', (byte)'\\' => (byte)'\\', _ => null };
                if (u is byte b)
                {
                    dest[n++] = b;
                    i++;
                    continue;
                }
            }
            dest[n++] = c;
        }
        return n;
    }

    /// <summary>Disposes the buffer and, unless left open, the stream.</summary>
    public void Dispose() => _window.Dispose();
}
