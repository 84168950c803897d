using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Retail.Codecs;

namespace Retail;

/// <summary>
/// Why a record may not enter the lake: the field at fault, its value as shown to a user, and the reason.
/// </summary>
/// <param name="Field">The field, by its wire name (<see cref="RetailFields"/>).</param>
/// <param name="Value">The offending value as text (control characters and lone surrogates escaped as <c>\uXXXX</c>, long text cut).</param>
/// <param name="Reason">What is wrong, in words, without the field's name or value (so that every caller words it the same).</param>
public sealed record RetailRecordViolation(string Field, string Value, string Reason)
{
    /// <summary><c>column Price ("1.234567"): has more than 4 decimal places, …</c> (as readers and decoders word a bad value).</summary>
    public override string ToString() => $"column {Field} (\"{Value}\"): {Reason}";
}

/// <summary>
/// The one set of rules a <see cref="RetailTransaction"/> must meet to enter the lake, applied alike by every reader
/// (<see cref="OnlineRetailReader"/>, <see cref="JsonLinesReader"/>, so <c>retail produce</c> and its <c>--dry-run</c>),
/// by delivery's and the speed layer's decoders (<see cref="Delivery.IRecordDecoder"/>) and by compaction, so that a
/// record one stage accepts is never refused — or silently changed — by another.
/// </summary>
/// <remarks>
/// <para>The rules:</para>
/// <list type="bullet">
/// <item><c>Invoice</c>, <c>StockCode</c>, <c>Description</c>, <c>Customer_ID</c> and <c>Country</c> are present (not
/// null). Any of them may be empty: the data set leaves <c>Customer ID</c> empty for guest sales and some descriptions
/// empty, and those sales are real.</item>
/// <item>Text is valid Unicode, so that it has a UTF-8 form: no lone (unpaired) surrogate.</item>
/// <item>Text holds no NUL character (U+0000): DuckDB, which serves both tables and the speed layer, would cut the text
/// there.</item>
/// <item><c>Quantity</c> is a 32-bit integer (the readers reject anything else while parsing; the lake's column is
/// <c>int</c>).</item>
/// <item><c>InvoiceDate</c> is a whole second: the lake writes it as <c>yyyy-MM-dd HH:mm:ss</c> text (JSON lines) and as
/// millisecond timestamps (Parquet), so a fraction of a second would be dropped by one and kept by the other. Every
/// <see cref="DateTime"/> from year 1 to 9999 is otherwise representable; its <see cref="DateTime.Kind"/> is ignored
/// (the value is a wall-clock time).</item>
/// <item><c>Price</c> fits the lake's DECIMAL(18,4) prices (<see cref="RetailPrice"/>): at most 11 integer digits and at
/// most 4 decimal places other than trailing zeros. It is never rounded.</item>
/// </list>
/// <para>Parse-level rules (a number where a number belongs, a date in one of the accepted forms, valid UTF-8 bytes,
/// every field present in JSON, the CSV header's columns) belong to the readers, which report them the same way.</para>
/// </remarks>
public static class RetailRecordValidation
{
    private const int MaxShownChars = 100;

    /// <summary>Checks <paramref name="record"/> against every rule; <paramref name="violation"/> is the first rule it breaks.</summary>
    public static bool TryValidate(RetailTransaction record, [NotNullWhen(false)] out RetailRecordViolation? violation)
    {
        ArgumentNullException.ThrowIfNull(record);
        violation = Text(RetailFields.Invoice, record.Invoice)
            ?? Text(RetailFields.StockCode, record.StockCode)
            ?? Text(RetailFields.Description, record.Description)
            ?? Date(record.InvoiceDate)
            ?? Price(record.Price)
            ?? Text(RetailFields.CustomerId, record.CustomerId)
            ?? Text(RetailFields.Country, record.Country);
        return violation is null;
    }

    /// <summary>
    /// Checks a record read as UTF-8 (<see cref="JsonLinesReader.TryReadUtf8"/>) against the same rules; its text was
    /// already checked to be valid UTF-8 by the reader.
    /// </summary>
    public static bool TryValidate(in RetailRecordUtf8 record, [NotNullWhen(false)] out RetailRecordViolation? violation)
    {
        violation = Utf8Text(RetailFields.Invoice, record.Invoice)
            ?? Utf8Text(RetailFields.StockCode, record.StockCode)
            ?? Utf8Text(RetailFields.Description, record.Description)
            ?? Date(record.InvoiceDate)
            ?? Price(record.Price)
            ?? Utf8Text(RetailFields.CustomerId, record.CustomerId)
            ?? Utf8Text(RetailFields.Country, record.Country);
        return violation is null;
    }

    /// <summary>Throws when <paramref name="record"/> breaks a rule.</summary>
    /// <exception cref="ArgumentException">The record breaks a rule; the message is the <see cref="RetailRecordViolation"/>.</exception>
    public static void Validate(RetailTransaction record)
    {
        if (!TryValidate(record, out var violation)) throw new ArgumentException(violation.ToString(), nameof(record));
    }

    private static RetailRecordViolation? Price(decimal price) =>
        RetailPrice.TryGetUnscaled(price, out _, out string? problem, includeName: false)
            ? null
            : new RetailRecordViolation(RetailFields.Price, price.ToString(CultureInfo.InvariantCulture), problem);

    private static RetailRecordViolation? Date(DateTime date) =>
        date.Ticks % TimeSpan.TicksPerSecond == 0
            ? null
            : new RetailRecordViolation(RetailFields.InvoiceDate, date.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
                "has a fraction of a second, which the lake's \"yyyy-MM-dd HH:mm:ss\" text would drop (use whole seconds)");

    /// <summary>
    /// The text rule alone, for text that is not a record field (a document id, say): null when <paramref name="text"/>
    /// is present, holds no NUL and no lone surrogate; else the violation, naming <paramref name="field"/>.
    /// </summary>
    public static RetailRecordViolation? CheckText(string field, string? text)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Text(field, text);
    }

    private static RetailRecordViolation? Text(string field, string? text)
    {
        if (text is null) return new RetailRecordViolation(field, "null", "is missing (null); text fields may be empty but not absent");
        // Fast path (vectorised): no NUL and no surrogate at all.
        if (!text.AsSpan().Contains('\0') && !text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\0') return new RetailRecordViolation(field, Show(text), NulReason);
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }
                return new RetailRecordViolation(field, Show(text),
                    string.Create(CultureInfo.InvariantCulture, $"holds a lone surrogate (U+{(int)c:X4} at character {i}), which has no UTF-8 form"));
            }
        }
        return null;
    }

    private const string NulReason = "holds a NUL character (U+0000), at which DuckDB would cut the text";

    private static RetailRecordViolation? Utf8Text(string field, ReadOnlySpan<byte> utf8) =>
        utf8.Contains((byte)0) ? new RetailRecordViolation(field, Show(Encoding.UTF8.GetString(utf8)), NulReason) : null;

    /// <summary>The value as a user should see it: control characters and lone surrogates escaped, long text cut.</summary>
    private static string Show(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, MaxShownChars) + 8);
        int i = 0;
        for (; i < text.Length && sb.Length < MaxShownChars; i++)
        {
            char c = text[i];
            bool pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (pair)
            {
                sb.Append(c).Append(text[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else sb.Append(c);
        }
        if (i < text.Length) sb.Append('…');
        return sb.ToString();
    }
}
