using System.Text;
using Retail.Codecs;

namespace Retail.Core.Tests.Codecs;

public class DelimitedRoundTripTests
{
    private static RetailTransaction Tx(string description, string customer = "13085.0", decimal price = 6.95m) => new()
    {
        Invoice = "C489449", StockCode = "BANK CHARGES", Description = description, Quantity = -12,
        InvoiceDate = new DateTime(2009, 12, 1, 7, 45, 0), Price = price, CustomerId = customer, Country = "United Kingdom",
    };

    public static TheoryData<string> HardValues => new()
    {
        "PLAIN", "", " LEADING", "TRAILING ", "  BOTH  ", "COMMA, INSIDE", "QUOTE \"INSIDE\"", "\"", "\"\"",
        "TAB\tINSIDE", "LF\nINSIDE", "CRLF\r\nINSIDE", "CR\rINSIDE", "BACKSLASH \\ AND \\t LITERAL", "\\", "£ POUND é ü 日本",
    };

    [Theory]
    [MemberData(nameof(HardValues))]
    public void CsvAndTsv_HardValue_RoundTripsExactly(string value)
    {
        foreach (var format in new[] { DelimitedFormat.Csv, DelimitedFormat.Tsv })
        {
            var records = new[] { Tx(value), Tx("NEXT", customer: value), Tx(value, customer: "", price: 0.0m) };
            var ms = new MemoryStream();
            using (var w = new RetailDelimitedWriter(ms, format, leaveOpen: true))
                foreach (var r in records) w.Write(r);
            ms.Position = 0;
            using var reader = new OnlineRetailReader(ms, new OnlineRetailReaderOptions { Format = format });
            Assert.Equal(records, reader.ReadAll().ToList());
        }
    }

    [Fact]
    public void Csv_Writer_QuotesOnlyWhereNeededAndUsesWorkshopHeader()
    {
        var ms = new MemoryStream();
        using (var w = new RetailDelimitedWriter(ms, DelimitedFormat.Csv, leaveOpen: true))
        {
            w.Write(Tx("POPCORN HOLDER , SMALL "));
            w.Write(Tx("LETTER \"J\" BLING"));
        }
        Assert.Equal(
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer_ID,Country\n" +
            "C489449,BANK CHARGES,\"POPCORN HOLDER , SMALL \",-12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n" +
            "C489449,BANK CHARGES,\"LETTER \"\"J\"\" BLING\",-12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n",
            Encoding.UTF8.GetString(ms.ToArray()));
    }

    [Fact]
    public void Tsv_Writer_EscapesWithBackslashes()
    {
        var ms = new MemoryStream();
        using (var w = new RetailDelimitedWriter(ms, DelimitedFormat.Tsv, writeHeader: false, leaveOpen: true))
            w.Write(Tx("A\tB\\C\nD"));
        Assert.Equal("C489449\tBANK CHARGES\tA\\tB\\\\C\\nD\t-12\t2009-12-01 07:45:00\t6.95\t13085.0\tUnited Kingdom\n", Encoding.UTF8.GetString(ms.ToArray()));
    }

    [Fact]
    public void DevSample_CsvToCsv_ReReadsToIdenticalRecords()
    {
        using var source = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        var original = source.ReadAll().ToList();
        var ms = new MemoryStream();
        using (var w = new RetailDelimitedWriter(ms, leaveOpen: true))
            foreach (var r in original) w.Write(r);
        ms.Position = 0;
        using var again = new OnlineRetailReader(ms);
        Assert.Equal(original, again.ReadAll().ToList());
        // Scale survives too: 9.0 is written as 9.0, not 9.
        Assert.Contains(",9.0,", Encoding.UTF8.GetString(ms.ToArray()));
    }
}
