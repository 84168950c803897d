using System.Text;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Streaming;

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

    [Fact]
    public void OnlineRetailCsvRowDecoder_HeaderNamesAFieldTwice_FailsAtConstructionNamingBoth()
    {
        var ex = Assert.Throws<RetailFormatException>(() => new OnlineRetailCsvRowDecoder(Header + ",Customer_ID"));
        Assert.Contains("columns 7 (\"Customer ID\") and 9 (\"Customer_ID\") both name Customer ID", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlineRetailCsvRowDecoder_TooLongRowRecord_SaysTooLongWithTheRowsSizeAndTheLimit()
    {
        var decoder = new OnlineRetailCsvRowDecoder(Header);
        byte[] row = Encoding.UTF8.GetBytes("1,2," + new string('x', 2_000_000) + ",1,2009-12-01 12:13:00,0.85,,UK");
        byte[] data = OnlineRetailCsvRowDecoder.CreateTooLongRowRecord(row, row.Length);

        Assert.False(decoder.TryDecode(data, out var record, out var error));
        Assert.Null(record);
        Assert.Equal($"record too long ({row.Length:N0} bytes, limit 1,046,528)", error);
        Assert.Equal(row.AsSpan(0, OnlineRetailCsvRowDecoder.DefaultMaxRowBytes).ToArray(), data[..OnlineRetailCsvRowDecoder.DefaultMaxRowBytes]);
        Assert.Equal("\n" + error, Encoding.UTF8.GetString(data.AsSpan(OnlineRetailCsvRowDecoder.DefaultMaxRowBytes)));
    }

    [Fact]
    public void CreateTooLongRowRecord_AnyPartitionKey_FitsOneStreamRecord()
    {
        byte[] row = new byte[OnlineRetailCsvRowDecoder.DefaultMaxRowBytes];
        byte[] data = OnlineRetailCsvRowDecoder.CreateTooLongRowRecord(row, long.MaxValue);
        // The widest key: 256 characters of 3 UTF-8 bytes each (a surrogate pair is 2 characters for 4 bytes).
        string widestKey = new('\u20ac', StreamLimits.MaxPartitionKeyLength);
        Assert.Equal(768, Encoding.UTF8.GetByteCount(widestKey));
        StreamRecordValidation.Validate(new PutRecordsEntry(widestKey, data));
    }

    [Fact]
    public void OnlineRetailCsvRowDecoder_RecordLongerThanTheLimitWithoutANote_TooLongWithItsOwnLength()
    {
        var decoder = new OnlineRetailCsvRowDecoder(Header, DelimitedFormat.Csv, maxRowBytes: 300);
        byte[] row = Encoding.UTF8.GetBytes("1,2," + new string('x', 300) + ",1,2009-12-01 12:13:00,0.85,,UK");
        Assert.False(decoder.TryDecode(row, out _, out var error));
        Assert.Equal($"record too long ({row.Length:N0} bytes, limit 300)", error);
        byte[] fits = Encoding.UTF8.GetBytes("1,2," + new string('x', 200) + ",1,2009-12-01 12:13:00,0.85,,UK");
        Assert.True(decoder.TryDecode(fits, out _, out _));
    }

    [Fact]
    public void OnlineRetailCsvRowDecoder_RowStartingWithNulBytes_IsABadRowNotAnEncodingException()
    {
        Assert.False(new OnlineRetailCsvRowDecoder(Header).TryDecode("1\0\0\0,2,X,1,2009-12-01 12:13:00,0.85,,UK"u8, out _, out var error));
        Assert.Contains("NUL character", error, StringComparison.Ordinal);
    }

    /// <summary>Rows that break a rule of <see cref="RetailRecordValidation"/>, as CSV and as the same record in JSON.</summary>
    public static TheoryData<string, string> BadRows => new()
    {
        { "1,2,X,1,2009-12-01 12:13:00,1.234567,,UK", "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"X\",\"Quantity\":1,\"InvoiceDate\":\"2009-12-01 12:13:00\",\"Price\":1.234567,\"Customer_ID\":\"\",\"Country\":\"UK\"}" },
        { "1,2,X,1,2009-12-01 12:13:00,123456789012345.5,,UK", "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"X\",\"Quantity\":1,\"InvoiceDate\":\"2009-12-01 12:13:00\",\"Price\":123456789012345.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}" },
        { "1,2,X\0Y,1,2009-12-01 12:13:00,1.5,,UK", "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"X\\u0000Y\",\"Quantity\":1,\"InvoiceDate\":\"2009-12-01 12:13:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public void Decoders_RowBreakingAValidationRule_RejectedByBothDecodersAndBothReadersWithOneReason(string csvRow, string jsonLine)
    {
        var csvReaderErrors = new List<RetailRecordError>();
        using (var reader = new OnlineRetailReader(new MemoryStream(Encoding.UTF8.GetBytes(Header + "\n" + csvRow + "\n")),
            new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = csvReaderErrors.Add }))
            Assert.Empty(reader.ReadAll());
        var jsonReaderErrors = new List<RetailRecordError>();
        using (var reader = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(jsonLine + "\n")),
            new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = jsonReaderErrors.Add }))
            Assert.Empty(reader.ReadAll());
        string reason = Assert.Single(csvReaderErrors).Reason;
        Assert.Equal(reason, Assert.Single(jsonReaderErrors).Reason);
        Assert.Equal(csvReaderErrors[0].Column, jsonReaderErrors[0].Column);

        Assert.False(new OnlineRetailCsvRowDecoder(Header).TryDecode(Encoding.UTF8.GetBytes(csvRow), out var r1, out var csvError));
        Assert.False(JsonRecordDecoder.Instance.TryDecode(Encoding.UTF8.GetBytes(jsonLine), out var r2, out var jsonError));
        Assert.Null(r1);
        Assert.Null(r2);
        Assert.Equal($"column {csvReaderErrors[0].Column} (\"{csvReaderErrors[0].RawText}\"): {reason}", csvError);
        Assert.Equal($"column {jsonReaderErrors[0].Column} (\"{jsonReaderErrors[0].RawText}\"): {reason}", jsonError);
    }
}
