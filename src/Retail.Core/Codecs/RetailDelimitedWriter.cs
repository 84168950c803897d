using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Retail.Codecs;

/// <summary>
/// Writes records as CSV (RFC 4180) or TSV (backslash escapes), see <see cref="DelimitedFormat"/>,
/// with a header row of the workshop's field names. <see cref="OnlineRetailReader"/> reads the output
/// back to identical records.
/// </summary>
public sealed class RetailDelimitedWriter : IDisposable
{
    private static readonly SearchValues<char> CsvSpecial = SearchValues.Create(",\"\r\n");
    private static readonly SearchValues<char> TsvSpecial = SearchValues.Create("\t\r\n\\");
    private const int FlushThreshold = 60 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly DelimitedFormat _format;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private bool _headerWritten;
    private readonly bool _writeHeader;

    /// <summary>Writes to <paramref name="stream"/>, disposed with the writer unless <paramref name="leaveOpen"/>.</summary>
    public RetailDelimitedWriter(Stream stream, DelimitedFormat format = DelimitedFormat.Csv, bool writeHeader = true, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown DelimitedFormat.");
        _stream = stream;
        _format = format;
        _writeHeader = writeHeader;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Records written so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Appends one record (the header first, once).</summary>
    public void Write(RetailTransaction record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_headerWritten)
        {
            _headerWritten = true;
            if (_writeHeader)
            {
                for (int i = 0; i < RetailFields.All.Count; i++)
                {
                    if (i > 0) Delimiter();
                    Text(RetailFields.All[i]);
                }
                Byte((byte)'\n');
            }
        }
        Text(record.Invoice); Delimiter();
        Text(record.StockCode); Delimiter();
        Text(record.Description); Delimiter();
        Utf8Formatter.TryFormat(record.Quantity, _buffer.GetSpan(11), out int n); _buffer.Advance(n); Delimiter();
        ValueFormats.FormatDate(record.InvoiceDate, _buffer.GetSpan(ValueFormats.IsoDateLength)); _buffer.Advance(ValueFormats.IsoDateLength); Delimiter();
        Utf8Formatter.TryFormat(record.Price, _buffer.GetSpan(32), out n); _buffer.Advance(n); Delimiter();
        Text(record.CustomerId); Delimiter();
        Text(record.Country);
        Byte((byte)'\n');
        RecordCount++;
        if (_buffer.WrittenCount >= FlushThreshold) Drain();
    }

    /// <summary>Appends one field value with this writer's quoting or escaping rule.</summary>
    private void Text(string value)
    {
        if (_format == DelimitedFormat.Csv)
        {
            bool quote = value.AsSpan().ContainsAny(CsvSpecial) || (value.Length > 0 && (value[0] == ' ' || value[^1] == ' '));
            if (!quote)
            {
                Raw(value);
                return;
            }
            Byte((byte)'"');
            Raw(value.Replace("\"", "\"\"", StringComparison.Ordinal));
            Byte((byte)'"');
            return;
        }
        if (!value.AsSpan().ContainsAny(TsvSpecial))
        {
            Raw(value);
            return;
        }
        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            sb.Append(c switch { '\t' => "\\t", '\n' => "\\n", '\r' => "\\r", '\\' => "\\\\", _ => null } ?? c.ToString());
        }
        Raw(sb.ToString());
    }

    private void Raw(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        int n = Encoding.UTF8.GetBytes(s, _buffer.GetSpan(max));
        _buffer.Advance(n);
    }

    private void Delimiter() => Byte(_format == DelimitedFormat.Csv ? (byte)',' : (byte)'\t');

    private void Byte(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    /// <summary>Writes buffered bytes to the stream and flushes it.</summary>
    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    private void Drain()
    {
        if (_buffer.WrittenCount == 0) return;
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    /// <summary>Flushes and disposes.</summary>
    public void Dispose()
    {
        Flush();
        if (!_leaveOpen) _stream.Dispose();
    }
}
