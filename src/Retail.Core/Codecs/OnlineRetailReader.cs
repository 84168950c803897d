using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Retail.Codecs;

/// <summary>Options of <see cref="OnlineRetailReader"/>.</summary>
public sealed class OnlineRetailReaderOptions : RetailReaderOptions
{
    /// <summary>CSV (default; the data set's own format) or TSV (as written by <see cref="RetailDelimitedWriter"/>).</summary>
    public DelimitedFormat Format { get; set; } = DelimitedFormat.Csv;

    /// <summary>UTF-8 (default, BOM optional) or Latin-1.</summary>
    public TextEncoding Encoding { get; set; } = TextEncoding.Utf8;
}

/// <summary>
/// Reads the Online Retail II data set (and files in the same shape) into <see cref="RetailTransaction"/>s,
/// streaming, in constant memory.
/// </summary>
/// <remarks>
/// <para>The header is matched by name, in any order and case: <c>Invoice</c> (or <c>InvoiceNo</c>),
/// <c>StockCode</c>, <c>Description</c>, <c>Quantity</c>, <c>InvoiceDate</c>, <c>Price</c> (or
/// <c>UnitPrice</c>), <c>Customer ID</c> (or <c>Customer_ID</c>, <c>CustomerID</c>), <c>Country</c>.
/// Other columns are ignored. A header that names one field twice (two <c>Price</c> columns, or both <c>Customer ID</c>
/// and <c>Customer_ID</c>) is ambiguous and rejected, naming both columns.</para>
/// <para>Values are kept exactly: descriptions are not trimmed, <c>13085.0</c>-style customer ids stay
/// text, an empty customer id stays empty, cancellations (<c>C…</c> invoices, negative quantities)
/// are ordinary rows. Dates may be <c>2009-12-01 07:45:00</c> or <c>12/1/2010 08:26</c>.</para>
/// <para>A bad row (unbalanced quote, wrong field count, non-numeric Quantity or Price, unparseable
/// date, invalid UTF-8, oversized, or a record that breaks a rule of <see cref="RetailRecordValidation"/> such as a
/// price with more than 4 decimal places) throws <see cref="RetailFormatException"/> in strict mode, or is
/// skipped, counted and reported through <see cref="RetailReaderOptions.OnError"/> in lenient mode. A UTF-16 or UTF-32
/// file is rejected whole, naming its encoding.</para>
/// </remarks>
public sealed class OnlineRetailReader : IDisposable
{
    private readonly DelimitedReader _reader;
    private readonly OnlineRetailReaderOptions _options;
    private readonly OnlineRetailColumns _columns;

    /// <summary>Opens a file.</summary>
    public static OnlineRetailReader Open(string path, OnlineRetailReaderOptions? options = null) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), options);

    /// <summary>Reads from <paramref name="stream"/>, disposed with the reader unless <paramref name="leaveOpen"/>.</summary>
    /// <exception cref="RetailFormatException">The header is missing, lacks a required column or names one twice, or the input is UTF-16 or UTF-32.</exception>
    public OnlineRetailReader(Stream stream, OnlineRetailReaderOptions? options = null, bool leaveOpen = false)
    {
        _options = options ?? new OnlineRetailReaderOptions();
        _options.Validate();
        _reader = new DelimitedReader(stream, new DelimitedReaderOptions
        {
            Format = _options.Format,
            Encoding = _options.Encoding,
            MaxRecordBytes = _options.MaxRecordBytes,
        }, leaveOpen);
        try
        {
            _columns = OnlineRetailColumns.ReadHeader(_reader);
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>Good records returned so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Bad rows skipped so far (lenient mode).</summary>
    public long ErrorCount { get; private set; }

    /// <summary>Line on which the last record or error started (the header is line 1).</summary>
    public long LineNumber => _reader.LineNumber;

    /// <summary>Reads the next good record; false at the end of the input.</summary>
    /// <exception cref="RetailFormatException">A bad row in strict mode.</exception>
    public bool TryRead([NotNullWhen(true)] out RetailTransaction? record)
    {
        while (true)
        {
            switch (_reader.Read())
            {
                case DelimitedReadResult.End:
                    record = null;
                    return false;
                case DelimitedReadResult.Error:
                    Report(_reader.LastError!);
                    continue;
            }
            if (_reader.FieldCount != _columns.FieldCount)
            {
                int found = _reader.FieldCount;
                _reader.ResyncAfterFirstLine();
                Report(OnlineRetailColumns.RowError(_reader, null, Encoding.UTF8.GetString(_reader.RawRecord), $"expected {_columns.FieldCount} fields, found {found}"));
                continue;
            }
            if (_columns.TryConvert(_reader, out record, out var error))
            {
                RecordCount++;
                return true;
            }
            Report(error);
        }
    }

    /// <summary>All remaining good records.</summary>
    public IEnumerable<RetailTransaction> ReadAll()
    {
        while (TryRead(out var r)) yield return r;
    }

    private void Report(RetailRecordError error)
    {
        if (_options.Mode == BadRecordMode.Strict) throw new RetailFormatException(error);
        ErrorCount++;
        _options.OnError?.Invoke(error);
    }

    /// <summary>Disposes the reader and, unless left open, the stream.</summary>
    public void Dispose() => _reader.Dispose();
}

/// <summary>Where the eight fields sit in an Online Retail header, and how a row becomes a record.</summary>
internal sealed class OnlineRetailColumns
{
    private static readonly string[][] HeaderAliases =
    [
        ["Invoice", "InvoiceNo"],
        ["StockCode"],
        ["Description"],
        ["Quantity"],
        ["InvoiceDate"],
        ["Price", "UnitPrice"],
        ["Customer ID", "Customer_ID", "CustomerID"],
        ["Country"],
    ];

    private readonly int[] _columns;

    private OnlineRetailColumns(int[] columns, int fieldCount)
    {
        _columns = columns;
        FieldCount = fieldCount;
    }

    /// <summary>Fields in the header (every row must have as many).</summary>
    public int FieldCount { get; }

    /// <summary>Reads the header row and maps its columns by name.</summary>
    /// <exception cref="RetailFormatException">No header, a required column is missing, or a field is named by two columns.</exception>
    public static OnlineRetailColumns ReadHeader(DelimitedReader reader)
    {
        DelimitedReadResult r = reader.Read();
        if (r == DelimitedReadResult.End)
            throw new RetailFormatException(new RetailRecordError(1, null, "", "empty input: expected a header row", default));
        if (r == DelimitedReadResult.Error)
            throw new RetailFormatException(reader.LastError! with { Reason = "unreadable header row: " + reader.LastError!.Reason });
        var columns = new int[8];
        Array.Fill(columns, -1);
        for (int i = 0; i < reader.FieldCount; i++)
        {
            string name = reader.GetString(i).Trim();
            if (i == 0 && name.StartsWith('\uFEFF')) name = name[1..];
            for (int c = 0; c < 8; c++)
            {
                if (!HeaderAliases[c].Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase))) continue;
                if (columns[c] >= 0)
                {
                    string first = reader.GetString(columns[c]).Trim();
                    if (columns[c] == 0 && first.StartsWith('\uFEFF')) first = first[1..];
                    throw new RetailFormatException(new RetailRecordError(reader.LineNumber, HeaderAliases[c][0], Encoding.UTF8.GetString(reader.RawRecord),
                        $"ambiguous header: columns {columns[c] + 1} (\"{first}\") and {i + 1} (\"{name}\") both name {HeaderAliases[c][0]}; keep one of them",
                        reader.RawRecord.ToArray()));
                }
                columns[c] = i;
            }
        }
        var missing = Enumerable.Range(0, 8).Where(c => columns[c] < 0).Select(c => HeaderAliases[c][0]).ToArray();
        if (missing.Length > 0)
        {
            string raw = Encoding.UTF8.GetString(reader.RawRecord);
            throw new RetailFormatException(new RetailRecordError(reader.LineNumber, null, raw,
                $"header lacks column(s) {string.Join(", ", missing)}", reader.RawRecord.ToArray()));
        }
        return new OnlineRetailColumns(columns, reader.FieldCount);
    }

    /// <summary>Converts the reader's current row (which has <see cref="FieldCount"/> fields).</summary>
    public bool TryConvert(DelimitedReader reader, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out RetailRecordError? error)
    {
        record = null;
        var q = reader.GetUtf8(_columns[3]);
        if (!ValueFormats.TryParseQuantity(q, out int quantity))
        {
            error = RowError(reader, RetailFields.Quantity, Encoding.UTF8.GetString(q), "not an integer");
            return false;
        }
        var d = reader.GetUtf8(_columns[4]);
        if (!ValueFormats.TryParseDate(d, out var date))
        {
            error = RowError(reader, RetailFields.InvoiceDate, Encoding.UTF8.GetString(d), "not a date (expected yyyy-MM-dd HH:mm:ss or M/d/yyyy H:mm)");
            return false;
        }
        var p = reader.GetUtf8(_columns[5]);
        if (!ValueFormats.TryParsePrice(p, out decimal price))
        {
            error = RowError(reader, RetailFields.Price, Encoding.UTF8.GetString(p), "not a decimal number");
            return false;
        }
        if (RetailPrice.CheckDigits(p) is { } tooLong)
        {
            // Parsed, but rounded: too many digits for a decimal.
            error = RowError(reader, RetailFields.Price, Encoding.UTF8.GetString(p), tooLong);
            return false;
        }
        var converted = new RetailTransaction
        {
            Invoice = reader.GetString(_columns[0]),
            StockCode = reader.GetString(_columns[1]),
            Description = reader.GetString(_columns[2]),
            Quantity = quantity,
            InvoiceDate = date,
            Price = price,
            CustomerId = reader.GetString(_columns[6]),
            Country = reader.GetString(_columns[7]),
        };
        if (!RetailRecordValidation.TryValidate(converted, out var violation))
        {
            // The price as the file wrote it; other values as the validation shows them (control characters escaped).
            string raw = violation.Field == RetailFields.Price ? Encoding.UTF8.GetString(reader.GetUtf8(_columns[5])) : violation.Value;
            error = RowError(reader, violation.Field, raw, violation.Reason);
            return false;
        }
        record = converted;
        error = null;
        return true;
    }

    public static RetailRecordError RowError(DelimitedReader reader, string? column, string rawText, string reason) =>
        new(reader.LineNumber, column, rawText, reason, reader.RawRecord.ToArray());
}
