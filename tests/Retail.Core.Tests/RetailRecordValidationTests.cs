using System.Text;
using Retail.Codecs;

namespace Retail.Core.Tests;

public sealed class RetailRecordValidationTests
{
    private static readonly RetailTransaction Good = new()
    {
        Invoice = "C489449", StockCode = "22087", Description = "", Quantity = -12,
        InvoiceDate = new DateTime(2009, 12, 1, 10, 33, 0), Price = RetailPrice.MaxMagnitude, CustomerId = "", Country = "Australia \U0001F1E6\U0001F1FA",
    };

    [Fact]
    public void TryValidate_EmptyCustomerAndDescriptionLargestPriceAndSurrogatePairs_Passes()
    {
        Assert.True(RetailRecordValidation.TryValidate(Good, out var violation));
        Assert.Null(violation);
    }

    public static TheoryData<string, string, string, string> BadRecords => new()
    {
        // case, field, shown value, words of the reason
        { "price-decimals", RetailFields.Price, "1.234567", "has more than 4 decimal places" },
        { "price-range", RetailFields.Price, "100000000000", "(at most 11 integer digits)" },
        { "price-max-decimal", RetailFields.Price, "79228162514264337593543950335", "(at most 11 integer digits)" },
        { "date-fraction", RetailFields.InvoiceDate, "2009-12-01 10:33:00.25", "fraction of a second" },
        { "nul", RetailFields.Description, "A\\u0000B", "NUL character" },
        { "lone-surrogate", RetailFields.Country, "UK\\uD800", "lone surrogate (U+D800 at character 2)" },
        { "null", RetailFields.Invoice, "null", "is missing" },
    };

    private static RetailTransaction Break(string @case) => @case switch
    {
        "price-decimals" => Good with { Price = 1.234567m },
        "price-range" => Good with { Price = 100_000_000_000m },
        "price-max-decimal" => Good with { Price = decimal.MaxValue },
        "date-fraction" => Good with { InvoiceDate = Good.InvoiceDate.AddMilliseconds(250) },
        "nul" => Good with { Description = "A\0B" },
        "lone-surrogate" => Good with { Country = "UK\uD800" },
        "null" => Good with { Invoice = null! },
        _ => throw new ArgumentOutOfRangeException(nameof(@case)),
    };

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void TryValidate_BrokenRule_NamesFieldValueAndReason(string @case, string field, string value, string reason)
    {
        Assert.False(RetailRecordValidation.TryValidate(Break(@case), out var violation));
        Assert.Equal(field, violation.Field);
        Assert.Equal(value, violation.Value);
        Assert.Contains(reason, violation.Reason, StringComparison.Ordinal);
        Assert.Equal($"column {field} (\"{value}\"): {violation.Reason}", violation.ToString());
        var thrown = Assert.Throws<ArgumentException>(() => RetailRecordValidation.Validate(Break(@case)));
        Assert.StartsWith(violation.ToString(), thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"Price\":1.234567", RetailFields.Price)]
    [InlineData("\"Price\":123456789012345", RetailFields.Price)]
    [InlineData("\"Price\":1.5", null)]
    public void TryValidate_Utf8FormOfAJsonLine_SameVerdictAsTheTextForm(string price, string? field)
    {
        byte[] line = Encoding.UTF8.GetBytes("{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"AB\",\"Quantity\":1," +
            "\"InvoiceDate\":\"2010-12-01 08:26:00\"," + price + ",\"Customer_ID\":\"\",\"Country\":\"U\\u0000K\"}");
        byte[]? scratch = null;
        Assert.True(RetailJson.TryParseUtf8(line, ref scratch, out var utf8, out _, out _));
        var text = utf8.ToTransaction();
        // Country (with a NUL) is checked after Price, so a bad price is the first violation.
        Assert.False(RetailRecordValidation.TryValidate(in utf8, out var fromUtf8));
        Assert.False(RetailRecordValidation.TryValidate(text, out var fromText));
        Assert.Equal(fromText, fromUtf8);
        Assert.Equal(field ?? RetailFields.Country, fromText.Field);
    }

    [Fact]
    public void TryValidate_EveryRowOfTheDevSample_Passes()
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample), new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient });
        int n = 0;
        foreach (var r in reader.ReadAll())
        {
            Assert.True(RetailRecordValidation.TryValidate(r, out var v), v?.ToString());
            n++;
        }
        Assert.Equal(1051, n);
        Assert.Equal(0, reader.ErrorCount);
    }
}
