using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;
using Retail.Codecs;

namespace Retail.Benchmarks.Baselines;

/// <summary>
/// Newtonsoft.Json configured to write exactly the wire format of <see cref="RetailJson"/>:
/// <c>Customer_ID</c> through the contract resolver, <c>InvoiceDate</c> through
/// <see cref="JsonSerializerSettings.DateFormatString"/>, no indentation. One <see cref="JsonSerializer"/>
/// and one <see cref="JsonTextWriter"/> are reused for the whole run.
/// </summary>
internal static class NewtonsoftBaseline
{
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        ContractResolver = new RetailContractResolver(),
        DateFormatString = RetailFields.InvoiceDateFormat,
        DateTimeZoneHandling = DateTimeZoneHandling.Unspecified,
        Formatting = Formatting.None,
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

    private sealed class RetailContractResolver : DefaultContractResolver
    {
        protected override string ResolvePropertyName(string propertyName) =>
            propertyName == nameof(RetailTransaction.CustomerId) ? RetailFields.CustomerId : propertyName;
    }
}
