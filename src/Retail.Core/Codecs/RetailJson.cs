using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Retail.Codecs;

/// <summary>
/// The JSON form of a <see cref="RetailTransaction"/>: one flat object with the workshop's field
/// names, <c>InvoiceDate</c> as <c>"yyyy-MM-dd HH:mm:ss"</c>, <c>Quantity</c> and <c>Price</c> as
/// numbers and every text field as a string. Non-ASCII text (e.g. <c>£</c>) is written as UTF-8, not
/// escaped. An object that names a field twice is rejected as ambiguous. <see cref="Parse"/> and <see cref="TryParse(ReadOnlySpan{byte}, out RetailTransaction?, out string?)"/>
/// check the JSON form only; the rules a record must meet to enter the lake are <see cref="RetailRecordValidation"/>'s,
/// which <see cref="JsonLinesReader"/> and <see cref="Delivery.JsonRecordDecoder"/> apply as well.
/// </summary>
public static class RetailJson
{
    internal static readonly JsonEncodedText InvoiceName = JsonEncodedText.Encode(RetailFields.Invoice);
    internal static readonly JsonEncodedText StockCodeName = JsonEncodedText.Encode(RetailFields.StockCode);
    internal static readonly JsonEncodedText DescriptionName = JsonEncodedText.Encode(RetailFields.Description);
    internal static readonly JsonEncodedText QuantityName = JsonEncodedText.Encode(RetailFields.Quantity);
    internal static readonly JsonEncodedText InvoiceDateName = JsonEncodedText.Encode(RetailFields.InvoiceDate);
    internal static readonly JsonEncodedText PriceName = JsonEncodedText.Encode(RetailFields.Price);
    internal static readonly JsonEncodedText CustomerIdName = JsonEncodedText.Encode(RetailFields.CustomerId);
    internal static readonly JsonEncodedText CountryName = JsonEncodedText.Encode(RetailFields.Country);

    /// <summary>Writer options used for every record: UTF-8 text kept as is, no indentation, no validation cost.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
        Indented = false,
    };

    /// <summary>Writes <paramref name="record"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, RetailTransaction record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteStartObject();
        writer.WriteString(InvoiceName, record.Invoice);
        writer.WriteString(StockCodeName, record.StockCode);
        writer.WriteString(DescriptionName, record.Description);
        writer.WriteNumber(QuantityName, record.Quantity);
        Span<byte> date = stackalloc byte[ValueFormats.IsoDateLength];
        ValueFormats.FormatDate(record.InvoiceDate, date);
        writer.WriteString(InvoiceDateName, date);
        writer.WriteNumber(PriceName, record.Price);
        writer.WriteString(CustomerIdName, record.CustomerId);
        writer.WriteString(CountryName, record.Country);
        writer.WriteEndObject();
    }

    /// <summary>Encodes <paramref name="record"/> as one JSON object followed by <c>\n</c>.</summary>
    public static byte[] ToJsonLine(RetailTransaction record)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Buffer.ResetWrittenCount();
        JsonLinesWriter.WriteTo(scratch.Writer, scratch.Buffer, record);
        return scratch.Buffer.WrittenSpan.ToArray();
    }

    [ThreadStatic]
    private static Scratch? t_scratch;

    private sealed class Scratch
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(512);
        public Utf8JsonWriter Writer { get; }
        public Scratch() => Writer = new Utf8JsonWriter(Buffer, WriterOptions);
    }

    [ThreadStatic]
    private static Utf8StringCache? t_cache;

    /// <summary>A per-thread string cache for decoders that parse one record at a time.</summary>
    internal static Utf8StringCache ThreadCache => t_cache ??= new Utf8StringCache();

    /// <summary>Parses one JSON object (surrounding whitespace and a trailing line terminator are allowed).</summary>
    /// <exception cref="RetailFormatException">The text is not a valid record; the message names the field.</exception>
    public static RetailTransaction Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (TryParse(utf8Json, null, out var record, out var field, out var reason)) return record;
        throw new RetailFormatException(MakeError(1, utf8Json, field, reason));
    }

    /// <summary>Tries to parse one JSON object; on failure <paramref name="error"/> says which field and why.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        if (TryParse(utf8Json, null, out record, out var field, out var reason))
        {
            error = null;
            return true;
        }
        error = field is null ? reason : $"{field}: {reason}";
        return false;
    }

    internal static RetailRecordError MakeError(long line, ReadOnlySpan<byte> raw, string? field, string reason)
    {
        string rawText = Encoding.UTF8.GetString(raw);
        return new RetailRecordError(line, field, rawText, reason, raw.ToArray());
    }

    [ThreadStatic]
    private static byte[]? t_unescaped;

    internal static bool TryParse(ReadOnlySpan<byte> json, Utf8StringCache? cache, [NotNullWhen(true)] out RetailTransaction? record,
        out string? field, [NotNullWhen(false)] out string? reason)
    {
        if (TryParseUtf8(json, ref t_unescaped, out var utf8, out field, out reason))
        {
            record = utf8.ToTransaction(cache);
            return true;
        }
        record = null;
        return false;
    }

    /// <summary>
    /// Parses one JSON object into UTF-8 fields. Unescaped text points into <paramref name="json"/>; text that had
    /// escapes is unescaped into <paramref name="scratch"/> (grown to the line's length when needed).
    /// </summary>
    internal static bool TryParseUtf8(ReadOnlySpan<byte> json, scoped ref byte[]? scratch, out RetailRecordUtf8 record,
        out string? field, [NotNullWhen(false)] out string? reason)
    {
        if (TryParseCanonical(json, out record))
        {
            field = null;
            reason = null;
            return true;
        }
        return TryParseGeneral(json, ref scratch, out record, out field, out reason);
    }

    /// <summary>The general parse behind <see cref="TryParseUtf8"/>: any spacing, order, escapes and number forms, and every reason.</summary>
    internal static bool TryParseGeneral(ReadOnlySpan<byte> json, scoped ref byte[]? scratch, out RetailRecordUtf8 record,
        out string? field, [NotNullWhen(false)] out string? reason)
    {
        field = null;
        record = default;
        ReadOnlySpan<byte> invoice = default, stockCode = default, description = default, customerId = default, country = default;
        int quantity = 0;
        decimal price = 0;
        DateTime date = default;
        int seen = 0;
        int scratchUsed = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                reason = "not a JSON object";
                return false;
            }
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) break;
                // Property name, then its value.
                int which = Which(ref reader);
                if (which >= 0 && (seen & (1 << which)) != 0)
                    return Fail(RetailFields.All[which], "appears twice in the object, which is ambiguous", out field, out reason);
                if (!reader.Read()) break;
                switch (which)
                {
                    case 0: if (!ReadText(ref reader, json.Length, ref scratch, ref scratchUsed, RetailFields.Invoice, out invoice, out field, out reason)) return false; break;
                    case 1: if (!ReadText(ref reader, json.Length, ref scratch, ref scratchUsed, RetailFields.StockCode, out stockCode, out field, out reason)) return false; break;
                    case 2: if (!ReadText(ref reader, json.Length, ref scratch, ref scratchUsed, RetailFields.Description, out description, out field, out reason)) return false; break;
                    case 3:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out quantity))
                            return Fail(RetailFields.Quantity, "not a 32-bit integer", out field, out reason);
                        break;
                    case 4:
                        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped
                            || !ValueFormats.TryParseDate(reader.ValueSpan, out date))
                            return Fail(RetailFields.InvoiceDate, "not a date in the form \"yyyy-MM-dd HH:mm:ss\"", out field, out reason);
                        break;
                    case 5:
                        if (reader.TokenType == JsonTokenType.Number && RetailPrice.CheckDigits(reader.ValueSpan) is { } tooLong)
                            return Fail(RetailFields.Price, tooLong, out field, out reason);
                        if (reader.TokenType != JsonTokenType.Number
                            || (!RetailPrice.TryParsePlain(reader.ValueSpan, out price) && !reader.TryGetDecimal(out price)))
                            return Fail(RetailFields.Price, "not a decimal number", out field, out reason);
                        break;
                    case 6:
                        // The workshop's generator writes Customer_ID as a number; keep its text exactly.
                        if (reader.TokenType == JsonTokenType.Number) customerId = reader.ValueSpan;
                        else if (!ReadText(ref reader, json.Length, ref scratch, ref scratchUsed, RetailFields.CustomerId, out customerId, out field, out reason)) return false;
                        break;
                    case 7: if (!ReadText(ref reader, json.Length, ref scratch, ref scratchUsed, RetailFields.Country, out country, out field, out reason)) return false; break;
                    default:
                        reader.Skip();
                        continue;
                }
                seen |= 1 << which;
            }
            if (reader.TokenType != JsonTokenType.EndObject)
            {
                reason = "incomplete JSON object";
                return false;
            }
            if (reader.Read())
            {
                reason = "text after the JSON object";
                return false;
            }
        }
        catch (JsonException e)
        {
            reason = "malformed JSON: " + e.Message;
            return false;
        }
        catch (InvalidOperationException)
        {
            // A property name whose escapes are not valid UTF-16 (a lone surrogate) cannot be read as text.
            reason = "a property name is not valid text";
            return false;
        }

        if (seen != 0xFF)
        {
            var missing = new List<string>();
            for (int i = 0; i < 8; i++) if ((seen & (1 << i)) == 0) missing.Add(RetailFields.All[i]);
            reason = "missing field(s) " + string.Join(", ", missing);
            return false;
        }
        record = new RetailRecordUtf8(invoice, stockCode, description, quantity, date, price, customerId, country);
        reason = null;
        return true;
    }

    /// <summary>What ends an unescaped JSON string's bytes: its closing quote, an escape, or a control character (invalid).</summary>
    private static readonly SearchValues<byte> StringEnd = SearchValues.Create([(byte)'"', (byte)'\\', .. Enumerable.Range(0, 0x20).Select(c => (byte)c)]);

    /// <summary>
    /// The fast path for the exact form <see cref="Write"/> produces — the eight fields in order, no whitespace, text
    /// without escapes, <c>Customer_ID</c> text, <c>Quantity</c> a plain integer, <c>Price</c> a plain non-zero number of at
    /// most 18 digits — giving the record the general parse below gives. Anything else (escapes, other spacing or order,
    /// other number forms, invalid UTF-8, any error) returns false, and the general parse decides, with its reasons.
    /// </summary>
    internal static bool TryParseCanonical(ReadOnlySpan<byte> json, out RetailRecordUtf8 record)
    {
        record = default;
        int p = 0;
        if (!Literal(json, ref p, "{\"Invoice\":\""u8) || !Text(json, ref p, out var invoice)
            || !Literal(json, ref p, ",\"StockCode\":\""u8) || !Text(json, ref p, out var stockCode)
            || !Literal(json, ref p, ",\"Description\":\""u8) || !Text(json, ref p, out var description)
            || !Literal(json, ref p, ",\"Quantity\":"u8) || !Number(json, ref p, allowFraction: false, out var quantityText)
            || !Literal(json, ref p, ",\"InvoiceDate\":\""u8) || !Text(json, ref p, out var dateText)
            || !Literal(json, ref p, ",\"Price\":"u8) || !Number(json, ref p, allowFraction: true, out var priceText)
            || !Literal(json, ref p, ",\"Customer_ID\":\""u8) || !Text(json, ref p, out var customerId)
            || !Literal(json, ref p, ",\"Country\":\""u8) || !Text(json, ref p, out var country)
            || p != json.Length - 1 || json[p] != (byte)'}')
            return false;
        // Quantity: at most 10 digits and within 32 bits (else the general parse says why).
        bool negative = quantityText[0] == (byte)'-';
        var digits = negative ? quantityText[1..] : quantityText;
        if (digits.Length > 10) return false;
        long quantity = 0;
        foreach (byte c in digits) quantity = quantity * 10 + (c - '0');
        if (negative) quantity = -quantity;
        if (quantity is < int.MinValue or > int.MaxValue) return false;
        if (!ValueFormats.TryParseDate(dateText, out var date) || !RetailPrice.TryParsePlain(priceText, out decimal price)) return false;
        record = new RetailRecordUtf8(invoice, stockCode, description, (int)quantity, date, price, customerId, country);
        return true;
    }

    private static bool Literal(ReadOnlySpan<byte> json, scoped ref int p, ReadOnlySpan<byte> literal)
    {
        if (!json[p..].StartsWith(literal)) return false;
        p += literal.Length;
        return true;
    }

    /// <summary>A string's bytes up to its closing quote (consumed), when it has no escape and no control character and is valid UTF-8.</summary>
    private static bool Text(ReadOnlySpan<byte> json, scoped ref int p, out ReadOnlySpan<byte> value)
    {
        value = default;
        int n = json[p..].IndexOfAny(StringEnd);
        if (n < 0 || json[p + n] != (byte)'"') return false;
        value = json.Slice(p, n);
        if (!Utf8.IsValid(value)) return false;
        p += n + 1;
        return true;
    }

    /// <summary>A JSON number in plain form (<c>-?(0|[1-9][0-9]*)</c>, then <c>.[0-9]+</c> when <paramref name="allowFraction"/>; no exponent).</summary>
    private static bool Number(ReadOnlySpan<byte> json, scoped ref int p, bool allowFraction, out ReadOnlySpan<byte> value)
    {
        value = default;
        int start = p;
        if (p < json.Length && json[p] == (byte)'-') p++;
        int first = p;
        while (p < json.Length && (uint)(json[p] - '0') <= 9) p++;
        if (p == first || (json[first] == (byte)'0' && p - first > 1)) return false;
        if (allowFraction && p < json.Length && json[p] == (byte)'.')
        {
            int fraction = ++p;
            while (p < json.Length && (uint)(json[p] - '0') <= 9) p++;
            if (p == fraction) return false;
        }
        if (p < json.Length && json[p] is (byte)'.' or (byte)'e' or (byte)'E') return false;
        value = json[start..p];
        return true;
    }

    private static bool Fail(string name, string why, out string? field, out string reason)
    {
        field = name;
        reason = why;
        return false;
    }

    private static bool ReadText(scoped ref Utf8JsonReader reader, int lineLength, scoped ref byte[]? scratch, scoped ref int scratchUsed, string name,
        out ReadOnlySpan<byte> value, out string? field, [NotNullWhen(false)] out string? reason)
    {
        value = default;
        if (reader.TokenType != JsonTokenType.String)
        {
            field = name;
            reason = reader.TokenType == JsonTokenType.Null ? "null where text is required" : "not a string";
            return false;
        }
        if (!reader.ValueIsEscaped)
        {
            value = reader.ValueSpan;
            if (!Utf8.IsValid(value)) return Fail(name, "text is not valid UTF-8", out field, out reason);
        }
        else
        {
            // Unescaped text is never longer than its escaped form, so one line's worth of scratch holds all of it.
            // (sized on the line's first escaped field, so earlier fields' bytes are never moved).
            if (scratch is null || scratch.Length < lineLength) scratch = new byte[Math.Max(lineLength, 256)];
            int n;
            try
            {
                n = reader.CopyString(scratch.AsSpan(scratchUsed));
            }
            catch (InvalidOperationException)
            {
                return Fail(name, "text is not valid UTF-8", out field, out reason);
            }
            value = scratch.AsSpan(scratchUsed, n);
            scratchUsed += n;
        }
        field = null;
        reason = null;
        return true;
    }

    private static int Which(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            string name = reader.GetString()!;
            for (int i = 0; i < 8; i++) if (name == RetailFields.All[i]) return i;
            return -1;
        }
        ReadOnlySpan<byte> n = reader.ValueSpan;
        switch (n.Length)
        {
            case 5: return n.SequenceEqual("Price"u8) ? 5 : -1;
            case 7:
                if (n.SequenceEqual("Invoice"u8)) return 0;
                return n.SequenceEqual("Country"u8) ? 7 : -1;
            case 8: return n.SequenceEqual("Quantity"u8) ? 3 : -1;
            case 9: return n.SequenceEqual("StockCode"u8) ? 1 : -1;
            case 11:
                if (n.SequenceEqual("InvoiceDate"u8)) return 4;
                if (n.SequenceEqual("Description"u8)) return 2;
                return n.SequenceEqual("Customer_ID"u8) ? 6 : -1;
            default: return -1;
        }
    }
}
