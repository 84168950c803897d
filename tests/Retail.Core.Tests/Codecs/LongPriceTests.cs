using System.Text;
using Retail.Codecs;
using Retail.Delivery;

namespace Retail.Core.Tests.Codecs;

/// <summary>Prices with more digits than a decimal holds would be rounded by the parser: they are refused instead.</summary>
public class LongPriceTests
{
    [Theory]
    [InlineData("1.00000000000000000000000000001")]
    [InlineData("0.000000000000000000000000000001")]
    [InlineData("12345678901234567890123456789012")]
    [InlineData("1e-40")]
    public void Readers_PriceWithMoreSignificantDigitsThanTheLakeHolds_RefusedNotRounded(string price)
    {
        string csv = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n" +
                     $"489434,85048,X,1,2010-12-01 07:45:00,{price},13085.0,United Kingdom\n";
        using var reader = new OnlineRetailReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient });
        Assert.Empty(reader.ReadAll().ToList());
        Assert.Equal(1, reader.ErrorCount);

        byte[] json = Encoding.UTF8.GetBytes($"{{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"\",\"Quantity\":1,\"InvoiceDate\":\"2010-12-01 07:45:00\",\"Price\":{price},\"Customer_ID\":\"\",\"Country\":\"\"}}");
        Assert.False(RetailJson.TryParse(json, out _, out string? error));
        Assert.Contains("DECIMAL(18,4)", error, StringComparison.Ordinal);
        Assert.False(JsonRecordDecoder.Instance.TryDecode(json, out _, out string? decodeError));
        Assert.Contains("DECIMAL(18,4)", decodeError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999999.9999")]
    [InlineData("0.0001")]
    [InlineData("1.5000000000000000000")] // trailing zeros are not significant
    [InlineData("1.65e2")]
    [InlineData("-0.0")]
    public void CheckDigits_PriceADecimalHoldsExactly_LeftToTheValidation(string price)
    {
        Assert.Null(RetailPrice.CheckDigits(Encoding.ASCII.GetBytes(price)));
        Assert.True(RetailJson.TryParse(Encoding.UTF8.GetBytes($"{{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"\",\"Quantity\":1,\"InvoiceDate\":\"2010-12-01 07:45:00\",\"Price\":{price},\"Customer_ID\":\"\",\"Country\":\"\"}}"), out _, out string? error), error);
    }
}
