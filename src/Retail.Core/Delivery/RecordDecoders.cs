using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Retail.Codecs;

namespace Retail.Delivery;

/// <summary>
/// Turns a stream record's bytes into a <see cref="RetailTransaction"/> (Firehose's "processing"
/// step). A record that cannot be decoded goes to the error output with the reason given here.
/// Implementations must be thread-safe.
/// </summary>
public interface IRecordDecoder
{
    /// <summary>Decodes one record; on failure <paramref name="error"/> says why.</summary>
    bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error);
}

/// <summary>
/// Decodes one JSON object per record (the workshop's producer format; a trailing newline is
/// allowed), and rejects a record that breaks a rule of <see cref="RetailRecordValidation"/> (a price with more than 4
/// decimal places, say), so that no stage rounds or drops anything silently.
/// </summary>
public sealed class JsonRecordDecoder : IRecordDecoder
{
    /// <summary>The shared instance.</summary>
    public static JsonRecordDecoder Instance { get; } = new();

    /// <inheritdoc />
    public bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        if (!RetailJson.TryParse(data, RetailJson.ThreadCache, out record, out string? field, out string? reason))
        {
            error = field is null ? reason : $"{field}: {reason}";
            return false;
        }
        if (!RetailRecordValidation.TryValidate(record, out var violation))
        {
            record = null;
            error = violation.ToString();
            return false;
        }
        error = null;
        return true;
    }
}

/// <summary>
/// Decodes one data row of an Online Retail II CSV per record, using the file's header row (the
/// demo's replay sends CSV rows as they are, so that a bad row reaches the error output with the
/// CSV reader's own reason). A row is converted and validated exactly as <see cref="OnlineRetailReader"/> does
/// (<see cref="RetailRecordValidation"/>), so a row the reader rejects is rejected here with the same reason.
/// </summary>
/// <remarks>
/// A row longer than <see cref="MaxRowBytes"/> cannot travel whole in one stream record. Its producer sends instead a
/// record made by <see cref="CreateTooLongRowRecord"/>: the row's first <see cref="MaxRowBytes"/> bytes, then a line
/// <c>record too long (N bytes, limit M)</c>. No row can be confused with it, because every record longer than
/// <see cref="MaxRowBytes"/> is refused as too long; the note only supplies the row's real size to the reason, which
/// reads "record too long (N bytes, limit M)".
/// </remarks>
public sealed class OnlineRetailCsvRowDecoder : IRecordDecoder
{
    /// <summary>
    /// The default <see cref="MaxRowBytes"/>, 1,046,528: the stream's 1 MiB record limit
    /// (<see cref="Streaming.StreamLimits.MaxRecordBytes"/>, partition key included) less 2 KiB, room for a partition key
    /// of 256 characters and the note of <see cref="CreateTooLongRowRecord"/>.
    /// </summary>
    public const int DefaultMaxRowBytes = Streaming.StreamLimits.MaxRecordBytes - 2048;

    private const string TooLongNote = "record too long (";

    private readonly OnlineRetailColumns _columns;
    private readonly DelimitedFormat _format;

    /// <summary>Creates a decoder for rows under <paramref name="headerLine"/> (without its line terminator).</summary>
    /// <exception cref="RetailFormatException">The header lacks a column or names one twice (so this fails at start-up).</exception>
    public OnlineRetailCsvRowDecoder(string headerLine, DelimitedFormat format = DelimitedFormat.Csv)
        : this(headerLine, format, DefaultMaxRowBytes)
    {
    }

    /// <summary>Creates a decoder for rows under <paramref name="headerLine"/> of at most <paramref name="maxRowBytes"/> bytes.</summary>
    /// <exception cref="RetailFormatException">The header lacks a column or names one twice (so this fails at start-up).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRowBytes"/> is not 256 to <see cref="DefaultMaxRowBytes"/>.</exception>
    public OnlineRetailCsvRowDecoder(string headerLine, DelimitedFormat format, int maxRowBytes)
    {
        ArgumentNullException.ThrowIfNull(headerLine);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRowBytes, 256);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRowBytes, DefaultMaxRowBytes);
        _format = format;
        MaxRowBytes = maxRowBytes;
        using var header = new DelimitedReader(new MemoryStream(Encoding.UTF8.GetBytes(headerLine)), new DelimitedReaderOptions { Format = format });
        _columns = OnlineRetailColumns.ReadHeader(header);
    }

    /// <summary>Longest row decoded, in bytes (without a line terminator); a longer record fails as "record too long".</summary>
    public int MaxRowBytes { get; }

    /// <summary>
    /// The stream record to send for a row too long to send whole: its first <paramref name="maxRowBytes"/> bytes, then
    /// a line feed and the note <c>record too long (N bytes, limit M)</c>. A decoder with the same <see cref="MaxRowBytes"/>
    /// fails it with that reason; the error output's rawData holds exactly this record.
    /// </summary>
    /// <param name="rowStart">The row's first bytes: at least <paramref name="maxRowBytes"/> of them (e.g. a reader's
    /// <see cref="RetailRecordError.RawRecord"/> for a row longer than its <c>MaxRecordBytes</c>).</param>
    /// <param name="rowBytes">The row's whole length, more than <paramref name="maxRowBytes"/>.</param>
    /// <param name="maxRowBytes">The decoder's <see cref="MaxRowBytes"/>.</param>
    public static byte[] CreateTooLongRowRecord(ReadOnlySpan<byte> rowStart, long rowBytes, int maxRowBytes = DefaultMaxRowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRowBytes, DefaultMaxRowBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rowBytes, maxRowBytes);
        if (rowStart.Length < maxRowBytes)
            throw new ArgumentException($"The row's first {maxRowBytes} bytes are needed, got {rowStart.Length}.", nameof(rowStart));
        byte[] note = Encoding.UTF8.GetBytes(TooLong(rowBytes, maxRowBytes));
        var record = new byte[maxRowBytes + 1 + note.Length];
        rowStart[..maxRowBytes].CopyTo(record);
        record[maxRowBytes] = (byte)'\n';
        note.CopyTo(record.AsSpan(maxRowBytes + 1));
        return record;
    }

    private static string TooLong(long rowBytes, int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"{TooLongNote}{rowBytes:N0} bytes, limit {limit:N0})");

    /// <inheritdoc />
    public bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        record = null;
        if (data.Length > MaxRowBytes)
        {
            error = TooLong(RowBytes(data), MaxRowBytes);
            return false;
        }
        // The header was mapped once; each record is one row, read with the thread's shared string cache.
        using var reader = new DelimitedReader(new MemoryStream(data.ToArray()),
            new DelimitedReaderOptions { Format = _format, MaxFields = _columns.FieldCount + 1, MaxRecordBytes = Math.Max(256, data.Length + 2) },
            leaveOpen: false, RetailJson.ThreadCache, startOfInput: false);
        switch (reader.Read())
        {
            case DelimitedReadResult.End:
                error = "empty record: no CSV row";
                return false;
            case DelimitedReadResult.Error:
                error = reader.LastError!.Reason;
                return false;
        }
        if (reader.FieldCount != _columns.FieldCount)
        {
            error = $"expected {_columns.FieldCount} fields, found {reader.FieldCount}";
            return false;
        }
        if (!_columns.TryConvert(reader, out record, out var failure))
        {
            error = $"column {failure.Column} (\"{failure.RawText}\"): {failure.Reason}";
            return false;
        }
        if (reader.Read() != DelimitedReadResult.End)
        {
            record = null;
            error = "one record holds more than one CSV row";
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>The row's size: from the note of <see cref="CreateTooLongRowRecord"/> when the record ends with one, else the record's.</summary>
    private static long RowBytes(ReadOnlySpan<byte> data)
    {
        int nl = data.LastIndexOf((byte)'\n');
        if (nl >= 0)
        {
            var note = Encoding.UTF8.GetString(data[(nl + 1)..]);
            int end = note.IndexOf(" bytes, limit ", StringComparison.Ordinal);
            if (note.StartsWith(TooLongNote, StringComparison.Ordinal) && end > TooLongNote.Length
                && long.TryParse(note.AsSpan(TooLongNote.Length, end - TooLongNote.Length), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long n)
                && n > nl)
                return n;
        }
        return data.Length;
    }
}
