using System.Diagnostics.CodeAnalysis;
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
/// allowed). Rejects a price that does not fit the lake's columns (<see cref="RetailPrice"/>), so that no
/// stage rounds silently.
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
        return CheckValues(ref record, out error);
    }

    internal static bool CheckValues([NotNullWhen(true)] ref RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        if (!RetailPrice.Fits(record!.Price, out error))
        {
            record = null;
            return false;
        }
        return true;
    }
}

/// <summary>
/// Decodes one data row of an Online Retail II CSV per record, using the file's header row (the
/// demo's replay sends CSV rows as they are, so that a bad row reaches the error output with the
/// CSV reader's own reason).
/// </summary>
public sealed class OnlineRetailCsvRowDecoder : IRecordDecoder
{
    private readonly OnlineRetailColumns _columns;
    private readonly DelimitedFormat _format;

    /// <summary>Creates a decoder for rows under <paramref name="headerLine"/> (without its line terminator).</summary>
    /// <exception cref="RetailFormatException">The header lacks a column (so this fails at start-up).</exception>
    public OnlineRetailCsvRowDecoder(string headerLine, DelimitedFormat format = DelimitedFormat.Csv)
    {
        ArgumentNullException.ThrowIfNull(headerLine);
        _format = format;
        using var header = new DelimitedReader(new MemoryStream(Encoding.UTF8.GetBytes(headerLine)), new DelimitedReaderOptions { Format = format });
        _columns = OnlineRetailColumns.ReadHeader(header);
    }

    /// <inheritdoc />
    public bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        record = null;
        // The header was mapped once; each record is one row, read with the thread's shared string cache.
        using var reader = new DelimitedReader(new MemoryStream(data.ToArray()),
            new DelimitedReaderOptions { Format = _format, MaxFields = _columns.FieldCount + 1, MaxRecordBytes = Math.Max(256, data.Length + 2) },
            leaveOpen: false, RetailJson.ThreadCache);
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
        return JsonRecordDecoder.CheckValues(ref record, out error);
    }
}
