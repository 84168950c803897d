using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;
using Retail.Codecs;

namespace Retail.Benchmarks.Baselines;

/// <summary>
/// Newtonsoft.Json configured to write exactly the wire format of <see cref="RetailJson"/>:
/// <c>Customer_ID</c> through the contract resolver, <c>InvoiceDate</c> through
/// <see cref="JsonSerializerSettings.DateFormatString"/>, <c>Price</c> through a converter (Newtonsoft
/// appends <c>.0</c> to whole decimals, so <c>74m</c> would come out as <c>74.0</c>), no indentation.
/// One <see cref="JsonSerializer"/> and one <see cref="JsonTextWriter"/> are reused for the whole run.
/// </summary>
internal static class NewtonsoftBaseline
{
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        ContractResolver = new RetailContractResolver(),
        DateFormatString = RetailFields.InvoiceDateFormat,
        DateTimeZoneHandling = DateTimeZoneHandling.Unspecified,
        Formatting = Formatting.None,
        Converters = { new PlainDecimalConverter() },
    });

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteLines(RetailTransaction[] records, Stream output)
    {
        using var text = new StreamWriter(output, Utf8NoBom, bufferSize: 64 * 1024, leaveOpen: true);
        using var json = new JsonTextWriter(text) { CloseOutput = false, Formatting = Formatting.None };
        for (int i = 0; i < records.Length; i++)
        {
            Serializer.Serialize(json, records[i]);
            json.WriteWhitespace("\n");
        }
        json.Flush();
    }

    /// <summary>Writes a decimal as <see cref="decimal.ToString(IFormatProvider)"/> does (what Newtonsoft does, minus the <c>.0</c> suffix).</summary>
    private sealed class PlainDecimalConverter : JsonConverter<decimal>
    {
        public override bool CanRead => false;

        public override void WriteJson(JsonWriter writer, decimal value, JsonSerializer serializer) =>
            writer.WriteRawValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public override decimal ReadJson(JsonReader reader, Type objectType, decimal existingValue, bool hasExistingValue, JsonSerializer serializer) =>
            throw new NotSupportedException();
    }

    private sealed class RetailContractResolver : DefaultContractResolver
    {
        protected override string ResolvePropertyName(string propertyName) =>
            propertyName == nameof(RetailTransaction.CustomerId) ? RetailFields.CustomerId : propertyName;
    }
}
