using System.Text.Json.Nodes;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>Records and options shared by the tests.</summary>
internal static class TestRecords
{
    public static readonly RetailTransaction Glass = new()
    {
        Invoice = "489434", StockCode = "85048", Description = "15CM CHRISTMAS GLASS BALL 20 LIGHTS", Quantity = 12,
        InvoiceDate = new DateTime(2009, 12, 1, 7, 45, 0), Price = 6.95m, CustomerId = "13085.0", Country = "United Kingdom",
    };

    public static readonly RetailTransaction Cancellation = new()
    {
        Invoice = "C489449", StockCode = "22087", Description = " PAPER BUNTING \"VINTAGE\", PAISLEY ", Quantity = -12,
        InvoiceDate = new DateTime(2009, 12, 1, 10, 33, 0), Price = 1.2345m, CustomerId = "", Country = "Australia",
    };

    public static readonly RetailTransaction Postage = new()
    {
        Invoice = "489597", StockCode = "POST", Description = "£ POSTAGE", Quantity = 1,
        InvoiceDate = new DateTime(2009, 12, 1, 14, 28, 0), Price = 0.0m, CustomerId = "", Country = "United Kingdom",
    };

    public static IndexDocument[] Three() => [new("doc-1", Glass), new("doc-2", Cancellation), new("doc-3", Postage)];

    public static List<IndexDocument> Synthetic(int count, ulong seed = 7, string prefix = "d") =>
        [.. new Retail.Synthetic.SyntheticTransactionGenerator(new Retail.Synthetic.SyntheticOptions { Seed = seed }).Generate(count)
            .Select((r, i) => new IndexDocument($"{prefix}-{i:D6}", r))];

    public static OpenSearchOptions Options(OpenSearchLoopbackFake fake, Action<OpenSearchOptions>? configure = null)
    {
        var o = new OpenSearchOptions { Endpoint = fake.Url.ToString(), Auth = OpenSearchAuth.None };
        configure?.Invoke(o);
        return o;
    }

    public static string GoldenPath(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    /// <summary>The record a stored document holds, read back from its JSON (the test checks the bytes survived).</summary>
    public static RetailTransaction FromSource(JsonObject source) => new()
    {
        Invoice = (string)source["Invoice"]!,
        StockCode = (string)source["StockCode"]!,
        Description = (string)source["Description"]!,
        Quantity = (int)source["Quantity"]!,
        InvoiceDate = DateTime.Parse(((string)source["InvoiceDate"]!).Replace(' ', 'T'), System.Globalization.CultureInfo.InvariantCulture),
        Price = (decimal)source["Price"]!,
        CustomerId = (string)source["Customer_ID"]!,
        Country = (string)source["Country"]!,
    };
}
