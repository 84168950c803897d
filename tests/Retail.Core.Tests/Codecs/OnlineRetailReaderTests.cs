using System.Globalization;
using System.Text;
using Microsoft.VisualBasic.FileIO;
using Retail.Codecs;

namespace Retail.Core.Tests.Codecs;

public class OnlineRetailReaderTests
{
    private const string Header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n";

    private static List<RetailTransaction> ReadAll(string csv, OnlineRetailReaderOptions? options = null)
    {
        using var reader = new OnlineRetailReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), options);
        return reader.ReadAll().ToList();
    }

    private static (List<RetailTransaction> Rows, List<RetailRecordError> Errors) ReadLenient(string csv)
    {
        var errors = new List<RetailRecordError>();
        var rows = ReadAll(csv, new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        return (rows, errors);
    }

    [Fact]
    public void ReadAll_DevSample_EveryFieldEqualsAnIndependentCsvParser()
    {
        string path = SharedData.Path(SharedData.DevSample);
        using var reader = OnlineRetailReader.Open(path);
        var rows = reader.ReadAll().ToList();

        using var oracle = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        oracle.SetDelimiters(",");
        oracle.ReadFields();
        int i = 0;
        while (!oracle.EndOfData)
        {
            string[] f = oracle.ReadFields()!;
            var r = rows[i++];
            Assert.Equal(f[0], r.Invoice);
            Assert.Equal(f[1], r.StockCode);
            Assert.Equal(f[2], r.Description);
            Assert.Equal(int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture), r.Quantity);
            Assert.Equal(DateTime.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture), r.InvoiceDate);
            Assert.Equal(decimal.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture), r.Price);
            Assert.Equal(f[6], r.CustomerId);
            Assert.Equal(f[7], r.Country);
        }
        Assert.Equal(i, rows.Count);
        Assert.Equal(1051, rows.Count);
        Assert.Equal(0, reader.ErrorCount);
    }

    [Fact]
    public void ReadAll_Sample2010_ParsesMonthDayYearDates()
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.Sample2010));
        var rows = reader.ReadAll().ToList();
        Assert.Equal(99, rows.Count);
        Assert.Equal(new DateTime(2010, 12, 1, 8, 26, 0), rows[0].InvoiceDate);
        Assert.Equal("17850", rows[0].CustomerId);
        Assert.Equal(2.55m, rows[0].Price);
    }

    [Fact]
    public void ReadAll_RealTrickyRows_KeepValuesExactly()
    {
        string csv = Header +
            "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia\n" +
            "489548,22271,FELTCRAFT DOLL ROSIE,1,2009-12-01 12:32:00,2.95,,United Kingdom\n" +
            "490512,90214J,\"LETTER \"\"J\"\" BLING KEY RING\",1,2009-12-06 14:54:00,1.25,14606.0,United Kingdom\n" +
            "489536,22197,\"POPCORN HOLDER , SMALL \",1,2009-12-01 12:13:00,0.85,16393.0,United Kingdom\n" +
            "489532,85049C,ROMANTIC PINKS RIBBONS ,12,2009-12-01 11:58:00,1.25,13394.0,United Kingdom\n" +
            "536365,85123A, WHITE HANGING HEART £ HOLDER,6,12/1/2010 08:26,2.55,17850,United Kingdom\n" +
            "536370,POST,POSTAGE,3,12/1/2010 08:45,18,12583,France\n" +
            "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,United Kingdom\n" +
            "489600,BANK CHARGES,Bank Charges,1,2009-12-01 13:00:00,0.0,13085.0,United Kingdom\n";
        var rows = ReadAll(csv);
        Assert.Equal(9, rows.Count);
        Assert.Equal("C489449", rows[0].Invoice);
        Assert.Equal(-12, rows[0].Quantity);
        Assert.Equal("16321.0", rows[0].CustomerId);
        Assert.Equal("", rows[1].CustomerId);
        Assert.Equal("LETTER \"J\" BLING KEY RING", rows[2].Description);
        Assert.Equal("POPCORN HOLDER , SMALL ", rows[3].Description);
        Assert.Equal("ROMANTIC PINKS RIBBONS ", rows[4].Description);
        Assert.Equal(" WHITE HANGING HEART £ HOLDER", rows[5].Description);
        Assert.Equal(new DateTime(2010, 12, 1, 8, 26, 0), rows[5].InvoiceDate);
        Assert.Equal("POST", rows[6].StockCode);
        Assert.Equal(18m, rows[6].Price);
        Assert.Equal(11062.06m, rows[7].Price);
        Assert.Equal("BANK CHARGES", rows[8].StockCode);
        Assert.Equal(0.0m, rows[8].Price);
        Assert.Equal("13085.0", rows[8].CustomerId);
    }

    [Fact]
    public void ReadAll_BomCrlfAndReorderedHeader_AreAccepted()
    {
        string csv = "\uFEFFCountry,Customer_ID,Price,InvoiceDate,Quantity,Description,StockCode,Invoice\r\n" +
                     "France,12583,3.75,2010-12-01 08:45:00,24,\"ALARM CLOCK, RED\",22728,536370\r\n";
        var row = Assert.Single(ReadAll(csv));
        Assert.Equal("536370", row.Invoice);
        Assert.Equal("ALARM CLOCK, RED", row.Description);
        Assert.Equal("France", row.Country);
        Assert.Equal(3.75m, row.Price);
    }

    [Fact]
    public void ReadAll_Latin1Option_DecodesPoundSign()
    {
        byte[] latin1 = Encoding.Latin1.GetBytes(Header + "1,2,COST £5,1,2010-12-01 08:45:00,1.5,,UK\n");
        using var reader = new OnlineRetailReader(new MemoryStream(latin1), new OnlineRetailReaderOptions { Encoding = TextEncoding.Latin1 });
        Assert.Equal("COST £5", Assert.Single(reader.ReadAll()).Description);
    }

    [Fact]
    public void ReadAll_Latin1BytesReadAsUtf8_AreABadRowNotReplacementCharacters()
    {
        byte[] latin1 = Encoding.Latin1.GetBytes(Header + "1,2,COST £5,1,2010-12-01 08:45:00,1.5,,UK\n");
        using var reader = new OnlineRetailReader(new MemoryStream(latin1));
        var ex = Assert.Throws<RetailFormatException>(() => reader.ReadAll().ToList());
        Assert.Contains("UTF-8", ex.Message);
        Assert.Equal(2, ex.Error.LineNumber);
    }

    public static TheoryData<string, long, string?, string, string> BadRows => new()
    {
        // row text, line, column, raw text, reason fragment
        { "1,2,\"UNBALANCED,1,2010-12-01 08:45:00,1.5,,UK", 3, null, "1,2,\"UNBALANCED,1,2010-12-01 08:45:00,1.5,,UK", "quote" },
        { "1,2,TOO FEW,1,2010-12-01 08:45:00,1.5,UK", 3, null, "1,2,TOO FEW,1,2010-12-01 08:45:00,1.5,UK", "expected 8 fields, found 7" },
        { "1,2,X,abc,2010-12-01 08:45:00,1.5,,UK", 3, "Quantity", "abc", "not an integer" },
        { "1,2,X,1.5,2010-12-01 08:45:00,1.5,,UK", 3, "Quantity", "1.5", "not an integer" },
        { "1,2,X,1,2010-12-01 08:45:00,1.5x,,UK", 3, "Price", "1.5x", "not a decimal" },
        { "1,2,X,1,2010-13-45 08:45:00,1.5,,UK", 3, "InvoiceDate", "2010-13-45 08:45:00", "not a date" },
        { "1,2,X,1,yesterday,1.5,,UK", 3, "InvoiceDate", "yesterday", "not a date" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public void TryRead_StrictBadRow_ThrowsNamingLineColumnAndRawText(string bad, long line, string? column, string raw, string reason)
    {
        string csv = Header + "489532,22077,GOOD,9,2009-12-01 11:58:00,1.65,13394.0,United Kingdom\n" + bad + "\n";
        using var reader = new OnlineRetailReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)));
        Assert.True(reader.TryRead(out _));
        var ex = Assert.Throws<RetailFormatException>(() => reader.TryRead(out _));
        Assert.Equal(line, ex.Error.LineNumber);
        Assert.Equal(column, ex.Error.Column);
        Assert.Equal(raw, ex.Error.RawText);
        Assert.Contains(reason, ex.Error.Reason);
        Assert.Contains($"line {line}", ex.Message);
        if (column is not null) Assert.Contains(column, ex.Message);
        Assert.Equal(bad, Encoding.UTF8.GetString(ex.Error.RawRecord.Span));
    }

    [Theory]
    [MemberData(nameof(BadRows))]
    public void TryRead_LenientBadRow_SkipsCountsReportsAndKeepsGoodRows(string bad, long line, string? column, string raw, string reason)
    {
        string csv = Header + "489532,22077,GOOD,9,2009-12-01 11:58:00,1.65,13394.0,United Kingdom\n" + bad + "\n" +
                     "489533,22078,\"AFTER, QUOTED\",2,2009-12-01 11:59:00,2.5,,United Kingdom\n" +
                     "489534,22079,LAST,3,2009-12-01 12:00:00,3.5,1.0,France\n";
        var (rows, errors) = ReadLenient(csv);
        Assert.Equal(["489532", "489533", "489534"], rows.Select(r => r.Invoice));
        var e = Assert.Single(errors);
        Assert.Equal(line, e.LineNumber);
        Assert.Equal(column, e.Column);
        Assert.Equal(raw, e.RawText);
        Assert.Contains(reason, e.Reason);
        Assert.Equal(bad, Encoding.UTF8.GetString(e.RawRecord.Span));
    }

    [Fact]
    public void TryRead_UnbalancedQuoteBeforeQuotedRows_CostsOnlyItsLine()
    {
        string csv = Header +
            "1,2,\"BROKEN,1,2010-12-01 08:45:00,1.5,,UK\n" +
            "3,4,\"OK, ONE\",1,2010-12-01 08:45:00,1.5,,UK\n" +
            "5,6,\"OK, TWO\",1,2010-12-01 08:45:00,1.5,,UK\n";
        var (rows, errors) = ReadLenient(csv);
        Assert.Equal(["OK, ONE", "OK, TWO"], rows.Select(r => r.Description));
        Assert.Equal(2, Assert.Single(errors).LineNumber);
    }

    [Fact]
    public void TryRead_QuotedLineBreak_IsOneRecordAndLineNumbersStayPhysical()
    {
        string csv = Header +
            "1,2,\"TWO\nLINES\",1,2010-12-01 08:45:00,1.5,,UK\n" +
            "3,4,X,oops,2010-12-01 08:45:00,1.5,,UK\n";
        var (rows, errors) = ReadLenient(csv);
        Assert.Equal("TWO\nLINES", Assert.Single(rows).Description);
        Assert.Equal(4, Assert.Single(errors).LineNumber);
    }

    [Fact]
    public void TryRead_OversizedRow_IsReportedAndReadingContinues()
    {
        string big = new('x', 4000);
        string csv = Header + $"1,2,{big},1,2010-12-01 08:45:00,1.5,,UK\n3,4,SMALL,1,2010-12-01 08:45:00,1.5,,UK\n";
        var errors = new List<RetailRecordError>();
        var rows = ReadAll(csv, new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1024 });
        Assert.Equal("SMALL", Assert.Single(rows).Description);
        var error = Assert.Single(errors);
        string row = $"1,2,{big},1,2010-12-01 08:45:00,1.5,,UK";
        Assert.Equal($"record too long ({row.Length:N0} bytes, limit 1,024)", error.Reason);
        Assert.Equal(row.Length, error.RecordBytes);
        Assert.Equal(Encoding.UTF8.GetBytes(row)[..1024], error.RawRecord.ToArray());
        Assert.Equal(2, error.LineNumber);
    }

    [Fact]
    public void Constructor_HeaderMissingColumn_NamesIt()
    {
        var ex = Assert.Throws<RetailFormatException>(() => ReadAll("Invoice,StockCode,Description,Quantity,InvoiceDate,Customer ID,Country\n"));
        Assert.Contains("Price", ex.Message);
    }

    [Fact]
    public void ReadAll_ManyRowsAcrossBufferBoundaries_AllRowsAndValuesIntact()
    {
        var sb = new StringBuilder(Header);
        for (int i = 0; i < 50_000; i++)
            sb.Append(i).Append(",S").Append(i % 97).Append(",\"DESC, \"\"").Append(i).Append("\"\" \",").Append(i % 13 - 6)
              .Append(",2010-12-01 08:45:00,").Append(i % 1000).Append(".25,,UK\r\n");
        var rows = ReadAll(sb.ToString());
        Assert.Equal(50_000, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), rows[i].Invoice);
            Assert.Equal($"DESC, \"{i}\" ", rows[i].Description);
            Assert.Equal(i % 1000 + 0.25m, rows[i].Price);
        }
    }

    [Theory]
    [InlineData("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country,Price", "columns 6 (\"Price\") and 9 (\"Price\") both name Price")]
    [InlineData("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country,Customer_ID", "columns 7 (\"Customer ID\") and 9 (\"Customer_ID\") both name Customer ID")]
    [InlineData("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,invoice", "columns 1 (\"InvoiceNo\") and 9 (\"invoice\") both name Invoice")]
    public void Constructor_HeaderNamesAFieldTwice_RejectedNamingBothColumns(string header, string reason)
    {
        var ex = Assert.Throws<RetailFormatException>(() => ReadAll(header + "\n1,2,X,1,2010-12-01 08:45:00,1.5,,UK,9\n"));
        Assert.Contains("ambiguous header: " + reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.Error.LineNumber);
    }

    public static TheoryData<string, byte[]> WideEncodings()
    {
        string csv = Header + "1,2,X,1,2010-12-01 08:45:00,1.5,,UK\n";
        return new()
        {
            { "UTF-16LE (byte order mark FF FE)", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(csv)] },
            { "UTF-16BE (byte order mark FE FF)", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(csv)] },
            { "UTF-32LE (byte order mark FF FE 00 00)", [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(csv)] },
            { "UTF-32BE (byte order mark 00 00 FE FF)", [.. new UTF32Encoding(bigEndian: true, byteOrderMark: true).GetPreamble(), .. new UTF32Encoding(true, true).GetBytes(csv)] },
            { "UTF-16LE (no byte order mark", Encoding.Unicode.GetBytes(csv) },
            { "UTF-16BE (no byte order mark", Encoding.BigEndianUnicode.GetBytes(csv) },
        };
    }

    [Theory]
    [MemberData(nameof(WideEncodings))]
    public void Constructor_Utf16OrUtf32Input_SaysToConvertNamingTheEncoding(string encoding, byte[] bytes)
    {
        foreach (var mode in new[] { BadRecordMode.Strict, BadRecordMode.Lenient })
        {
            var ex = Assert.Throws<RetailFormatException>(() => new OnlineRetailReader(new MemoryStream(bytes), new OnlineRetailReaderOptions { Mode = mode }));
            Assert.Contains("the input is " + encoding, ex.Message, StringComparison.Ordinal);
            Assert.Contains("not UTF-8: convert it to UTF-8", ex.Message, StringComparison.Ordinal);
            Assert.Contains("iconv -f " + encoding[..8], ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TryRead_PriceWithMoreThanFourDecimals_BadRowWithLineColumnRawValueAndTheValidationsReason()
    {
        var (rows, errors) = ReadLenient(Header + "1,2,X,1,2010-12-01 08:45:00,1.5,,UK\n3,4,Y,1,2010-12-01 08:45:00,1.234567,,UK\n");
        Assert.Single(rows);
        var error = Assert.Single(errors);
        Assert.False(RetailRecordValidation.TryValidate(rows[0] with { Price = 1.234567m }, out var violation));
        Assert.Equal(3, error.LineNumber);
        Assert.Equal(RetailFields.Price, error.Column);
        Assert.Equal("1.234567", error.RawText);
        Assert.Equal(violation.Reason, error.Reason);
        Assert.Equal($"line 3, column Price (\"1.234567\"): {violation.Reason}", error.ToString());
    }

    [Fact]
    public void TryRead_NulInDescription_BadRowShowingItEscaped()
    {
        var (rows, errors) = ReadLenient(Header + "1,2,A\0B,1,2010-12-01 08:45:00,1.5,,UK\n");
        Assert.Empty(rows);
        var error = Assert.Single(errors);
        Assert.Equal(RetailFields.Description, error.Column);
        Assert.Equal("A\\u0000B", error.RawText);
        Assert.Contains("NUL character", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_RowManyBuffersLongEndingInCrLf_SizeCountedWholeWithoutTerminator()
    {
        string big = new('x', 300_000);
        string row = $"1,2,{big},1,2010-12-01 08:45:00,1.5,,UK";
        var errors = new List<RetailRecordError>();
        var rows = ReadAll(Header + row + "\r\n3,4,SMALL,1,2010-12-01 08:45:00,1.5,,UK\r\n",
            new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1000 });
        Assert.Equal("SMALL", Assert.Single(rows).Description);
        var error = Assert.Single(errors);
        Assert.Equal($"record too long ({row.Length:N0} bytes, limit 1,000)", error.Reason);
        Assert.Equal(row.Length, error.RecordBytes);
        Assert.Equal(1000, error.RawRecord.Length);
    }

    [Fact]
    public void TryRead_RowJustOverTheLimitWithinTheWindow_TooLongAtTheExactLimit()
    {
        // 1,001 bytes fit the reader's window (which has room for a terminator and pool rounding) but not the limit.
        const string tail = ",1,2010-12-01 08:45:00,1.5,,UK";
        string row = "1,2," + new string('x', 1001 - 4 - tail.Length) + tail;
        Assert.Equal(1001, row.Length);
        var errors = new List<RetailRecordError>();
        var rows = ReadAll(Header + row + "\n", new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1000 });
        Assert.Empty(rows);
        Assert.Equal("record too long (1,001 bytes, limit 1,000)", Assert.Single(errors).Reason);
        string fits = row[1..];
        Assert.Single(ReadAll(Header + fits + "\n", new OnlineRetailReaderOptions { MaxRecordBytes = 1000 }));
    }

    [Fact]
    public void TryRead_QuoteNotClosedWithinTheLimit_CostsOnlyItsLine()
    {
        var sb = new StringBuilder(Header).Append("1,2,\"OPEN,1,2010-12-01 08:45:00,1.5,,UK\n");
        for (int i = 0; i < 100; i++) sb.Append(CultureInfo.InvariantCulture, $"{i},4,SMALL,1,2010-12-01 08:45:00,1.5,,UK\n");
        var errors = new List<RetailRecordError>();
        var rows = ReadAll(sb.ToString(), new OnlineRetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1000 });
        Assert.Equal(100, rows.Count);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.LineNumber);
        Assert.Contains("not closed within the record limit (1,000 bytes)", error.Reason, StringComparison.Ordinal);
        Assert.Equal("1,2,\"OPEN,1,2010-12-01 08:45:00,1.5,,UK", Encoding.UTF8.GetString(error.RawRecord.Span));
    }
}
