using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Retail.Codecs;

namespace Retail.Benchmarks.Baselines;

/// <summary>
/// The System.Text.Json reflection serializer, configured to produce and accept exactly the wire
/// format of <see cref="RetailJson"/>: same property names and order, <c>Customer_ID</c> through a
/// naming policy, <c>InvoiceDate</c> as <c>"yyyy-MM-dd HH:mm:ss"</c> through a small converter (STJ's
/// own DateTime format is ISO 8601 with a <c>T</c>), the same writer options (relaxed escaping).
/// It serializes and deserializes <see cref="RetailTransaction"/> itself, so no DTO copy is paid.
/// </summary>
internal static class SystemTextJsonBaseline
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = new RetailNamingPolicy(),
        Encoder = RetailJson.WriterOptions.Encoder,
        Converters = { new InvoiceDateConverter() },
    };

    /// <summary>Writes one JSON line per record, through one reused buffer and writer (the same buffering as <see cref="JsonLinesWriter"/>).</summary>
    public static void WriteLines(RetailTransaction[] records, Stream output)
    {
        const int flushThreshold = 60 * 1024;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var json = new Utf8JsonWriter(buffer, RetailJson.WriterOptions);
        for (int i = 0; i < records.Length; i++)
        {
            json.Reset(buffer);
            JsonSerializer.Serialize(json, records[i], Options);
            json.Flush();
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            if (buffer.WrittenCount >= flushThreshold)
            {
                output.Write(buffer.WrittenSpan);
                buffer.ResetWrittenCount();
            }
        }
        output.Write(buffer.WrittenSpan);
        output.Flush();
    }

    /// <summary>Deserializes every non-blank line of <paramref name="utf8Lines"/>; calls <paramref name="onRecord"/> per record.</summary>
    public static long ReadLines(ReadOnlySpan<byte> utf8Lines, Action<RetailTransaction>? onRecord = null)
    {
        long quantities = 0;
        while (!utf8Lines.IsEmpty)
        {
            int nl = utf8Lines.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl >= 0 ? utf8Lines[..nl] : utf8Lines;
            utf8Lines = nl >= 0 ? utf8Lines[(nl + 1)..] : default;
            if (line.IsEmpty) continue;
            var record = JsonSerializer.Deserialize<RetailTransaction>(line, Options)
                ?? throw new JsonException("null record");
            quantities += record.Quantity;
            onRecord?.Invoke(record);
        }
        return quantities;
    }

    /// <summary>Keeps the CLR names except <c>CustomerId</c>, which the workshop spells <c>Customer_ID</c>.</summary>
    private sealed class RetailNamingPolicy : JsonNamingPolicy
    {
        public override string ConvertName(string name) => name == nameof(RetailTransaction.CustomerId) ? RetailFields.CustomerId : name;
    }

    /// <summary><c>"yyyy-MM-dd HH:mm:ss"</c>, written through UTF-8 formatting and parsed with <see cref="DateTime.ParseExact(ReadOnlySpan{char}, ReadOnlySpan{char}, IFormatProvider?, DateTimeStyles)"/>.</summary>
    private sealed class InvoiceDateConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException("InvoiceDate must be a string.");
            Span<char> chars = stackalloc char[64];
            if (!reader.HasValueSequence && reader.ValueSpan.Length > chars.Length) throw new JsonException("InvoiceDate is too long.");
            int length = reader.CopyString(chars);
            return DateTime.ParseExact(chars[..length], RetailFields.InvoiceDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None);
        }

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
        {
            Span<byte> utf8 = stackalloc byte[32];
            if (!value.TryFormat(utf8, out int written, RetailFields.InvoiceDateFormat, CultureInfo.InvariantCulture))
                throw new JsonException("InvoiceDate did not format.");
            writer.WriteStringValue(utf8[..written]);
        }
    }
}
