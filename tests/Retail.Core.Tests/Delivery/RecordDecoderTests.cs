using System.Text;
using Retail.Codecs;
using Retail.Delivery;

namespace Retail.Core.Tests.Delivery;

public class RecordDecoderTests
{
    private const string Header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";

    private static (bool Ok, RetailTransaction? Record, string? Error) Decode(string row)
    {
        var decoder = new OnlineRetailCsvRowDecoder(Header);
        bool ok = decoder.TryDecode(Encoding.UTF8.GetBytes(row), out var record, out var error);
        return (ok, record, error);
    }

    [Fact]
    public void OnlineRetailCsvRowDecoder_GoodRow_KeepsValuesExactly()
    {
        var (ok, r, _) = Decode("489536,22197,\"POPCORN HOLDER , SMALL \",1,2009-12-01 12:13:00,0.85,16393.0,United Kingdom");
        Assert.True(ok);
        Assert.Equal("POPCORN HOLDER , SMALL ", r!.Description);
        Assert.Equal("16393.0", r.CustomerId);
        Assert.Equal(0.85m, r.Price);
    }

    [Theory]
    [InlineData("1,2,X,lots,2009-12-01 12:13:00,0.85,,UK", "column Quantity (\"lots\"): not an integer")]
    [InlineData("1,2,\"OPEN,1,2009-12-01 12:13:00,0.85,,UK", "unbalanced double quote")]
    [InlineData("1,2,X,1,2009-12-01 12:13:00,0.85,UK", "expected 8 fields, found 7")]
    [InlineData("1,2,X,1,2009-12-01 12:13:00,0.85,,UK\n3,4,Y,1,2009-12-01 12:13:00,0.85,,UK", "more than one CSV row")]
    [InlineData("1,2,X,1,2009-12-01 12:13:00,0.12345,,UK", "decimal places")]
    [InlineData("", "empty record")]
    public void OnlineRetailCsvRowDecoder_BadRow_SaysWhy(string row, string reason)
    {
        var (ok, r, error) = Decode(row);
        Assert.False(ok);
        Assert.Null(r);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void OnlineRetailCsvRowDecoder_HeaderLacksColumn_FailsAtConstruction()
    {
        var ex = Assert.Throws<RetailFormatException>(() => new OnlineRetailCsvRowDecoder("Invoice,StockCode,Description,Quantity,InvoiceDate,Customer ID,Country"));
        Assert.Contains("Price", ex.Message);
    }
}
