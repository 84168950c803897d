using System.Buffers;
using System.Text.Json;
using Retail.Codecs;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// The retail index template (a composable template, OpenSearch 1.3+): <c>InvoiceDate</c> a date in the workshop's
/// format or ISO-8601 (or epoch milliseconds), <c>Quantity</c> an integer, <c>Price</c> a <c>scaled_float</c> with
/// factor 10,000 (the lake's four decimal places, exact), the text fields keywords, and <c>Description</c> also a
/// <c>text</c> sub-field for full-text search.
/// </summary>
internal static class IndexTemplate
{
    /// <summary>The date formats of <c>InvoiceDate</c>: the record's, ISO-8601, epoch milliseconds.</summary>
    public const string DateFormats = "yyyy-MM-dd HH:mm:ss||strict_date_optional_time||epoch_millis";

    /// <summary>Priority over other templates matching the same names (composable templates of equal priority and overlapping patterns are refused).</summary>
    public const int Priority = 100;

    /// <summary>The template's name: <c>{index}-template</c>.</summary>
    public static string Name(string index) => index + "-template";

    /// <summary>The template's JSON for <paramref name="index"/>: index_patterns <c>[index]</c>, or <c>[index, index-*]</c> when rotating.</summary>
    public static byte[] Json(string index, IndexRotation rotation)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = RetailJson.WriterOptions.Encoder }))
        {
            w.WriteStartObject();
            w.WriteStartArray("index_patterns");
            w.WriteStringValue(index);
            if (rotation != IndexRotation.None) w.WriteStringValue(index + "-*");
            w.WriteEndArray();
            w.WriteNumber("priority", Priority);
            w.WriteStartObject("template");
            w.WriteStartObject("mappings");
            w.WriteStartObject("properties");
            Keyword(w, RetailFields.Invoice);
            Keyword(w, RetailFields.StockCode);
            w.WriteStartObject(RetailFields.Description);
            w.WriteString("type", "keyword");
            w.WriteNumber("ignore_above", 8191);
            w.WriteStartObject("fields");
            w.WriteStartObject("text");
            w.WriteString("type", "text");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject(RetailFields.Quantity);
            w.WriteString("type", "integer");
            w.WriteEndObject();
            w.WriteStartObject(RetailFields.InvoiceDate);
            w.WriteString("type", "date");
            w.WriteString("format", DateFormats);
            w.WriteEndObject();
            w.WriteStartObject(RetailFields.Price);
            w.WriteString("type", "scaled_float");
            w.WriteNumber("scaling_factor", 10000);
            w.WriteEndObject();
            Keyword(w, RetailFields.CustomerId);
            Keyword(w, RetailFields.Country);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();

        static void Keyword(Utf8JsonWriter w, string name)
        {
            w.WriteStartObject(name);
            w.WriteString("type", "keyword");
            w.WriteEndObject();
        }
    }
}
