using System.Text;
using System.Text.Json;
using Retail.Codecs;

namespace Retail.Core.Tests.Codecs;

public class JsonLinesTests
{
    private static readonly RetailTransaction Sample = new()
    {
        Invoice = "C489449", StockCode = "22087", Description = " PAPER \"BUNTING\", £ WHITE ", Quantity = -12,
        InvoiceDate = new DateTime(2009, 12, 1, 10, 33, 0), Price = 2.95m, CustomerId = "", Country = "Australia",
    };

    [Fact]
    public void ToJsonLine_Record_MatchesGoldenBytes()
    {
        Assert.Equal(
            "{\"Invoice\":\"C489449\",\"StockCode\":\"22087\",\"Description\":\" PAPER \\\"BUNTING\\\", £ WHITE \",\"Quantity\":-12," +
            "\"InvoiceDate\":\"2009-12-01 10:33:00\",\"Price\":2.95,\"Customer_ID\":\"\",\"Country\":\"Australia\"}\n",
            Encoding.UTF8.GetString(RetailJson.ToJsonLine(Sample)));
    }

    [Fact]
    public void WriterThenReader_DevSample_RoundTripsAndIndependentParserAgrees()
    {
        using var source = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        var original = source.ReadAll().ToList();
        var ms = new MemoryStream();
        using (var w = new JsonLinesWriter(ms, leaveOpen: true))
            foreach (var r in original) w.Write(r);
        ms.Position = 0;
        using (var reader = new JsonLinesReader(ms, leaveOpen: true))
            Assert.Equal(original, reader.ReadAll().ToList());

        // An independent parser (JsonDocument) sees the same values, one object per line.
        var lines = Encoding.UTF8.GetString(ms.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(original.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var o = doc.RootElement;
            Assert.Equal(original[i].Description, o.GetProperty("Description").GetString());
            Assert.Equal(original[i].CustomerId, o.GetProperty("Customer_ID").GetString());
            Assert.Equal(original[i].Price, o.GetProperty("Price").GetDecimal());
            Assert.Equal(original[i].Quantity, o.GetProperty("Quantity").GetInt32());
        }
    }

    [Fact]
    public void Parse_WorkshopGeneratorRecord_AcceptsNumericCustomerIdAndIsoT()
    {
        var r = RetailJson.Parse("{\"Invoice\": \"536365\", \"StockCode\": \"85123A\", \"Description\": \"WHITE HEART\", \"Quantity\": 6, \"InvoiceDate\": \"2010-12-01T08:26:00\", \"Price\": 2.55, \"Customer_ID\": 17850, \"Country\": \"United Kingdom\", \"extra\": [1,{}]}"u8);
        Assert.Equal("17850", r.CustomerId);
        Assert.Equal(new DateTime(2010, 12, 1, 8, 26, 0), r.InvoiceDate);
        Assert.Equal(2.55m, r.Price);
    }

    [Theory]
    [InlineData("{\"Invoice\":\"1\"", null, "malformed JSON")]
    [InlineData("not json", null, "JSON")]
    [InlineData("[1,2]", null, "not a JSON object")]
    [InlineData("{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"d\",\"Quantity\":\"6\",\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":1,\"Customer_ID\":\"\",\"Country\":\"UK\"}", "Quantity", "integer")]
    [InlineData("{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"d\",\"Quantity\":6,\"InvoiceDate\":\"soon\",\"Price\":1,\"Customer_ID\":\"\",\"Country\":\"UK\"}", "InvoiceDate", "date")]
    [InlineData("{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":null,\"Quantity\":6,\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":1,\"Customer_ID\":\"\",\"Country\":\"UK\"}", "Description", "null")]
    [InlineData("{\"Invoice\":\"1\",\"Quantity\":6}", null, "missing field(s) StockCode, Description, InvoiceDate, Price, Customer_ID, Country")]
    [InlineData("{\"\\ud800\":1}", null, "property name is not valid text")]
    public void JsonLinesReader_BadLine_StrictThrowsLenientReports(string bad, string? column, string reason)
    {
        string good = Encoding.UTF8.GetString(RetailJson.ToJsonLine(Sample));
        byte[] input = Encoding.UTF8.GetBytes(good + bad + "\n\n" + good);

        using (var strict = new JsonLinesReader(new MemoryStream(input)))
        {
            Assert.True(strict.TryRead(out _));
            var ex = Assert.Throws<RetailFormatException>(() => strict.TryRead(out _));
            Assert.Equal(2, ex.Error.LineNumber);
            Assert.Equal(column, ex.Error.Column);
            Assert.Contains(reason, ex.Error.Reason);
            Assert.Equal(bad, ex.Error.RawText);
        }

        var errors = new List<RetailRecordError>();
        using var lenient = new JsonLinesReader(new MemoryStream(input), new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        Assert.Equal(2, lenient.ReadAll().Count());
        Assert.Equal(2, Assert.Single(errors).LineNumber);
        Assert.Equal(1, lenient.ErrorCount);
    }

    [Fact]
    public void JsonLinesReader_OversizedLine_ReportedAndNextLineRead()
    {
        string good = Encoding.UTF8.GetString(RetailJson.ToJsonLine(Sample));
        string huge = "{\"Description\":\"" + new string('x', 5000) + "\"}\n";
        var errors = new List<RetailRecordError>();
        using var reader = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(huge + good)),
            new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1024 });
        Assert.Equal(Sample, Assert.Single(reader.ReadAll()));
        var error = Assert.Single(errors);
        int length = huge.Length - 1;
        Assert.Equal($"record too long ({length:N0} bytes, limit 1,024)", error.Reason);
        Assert.Equal(length, error.RecordBytes);
        Assert.True(error.IsTruncated);
        Assert.Equal(Encoding.UTF8.GetBytes(huge)[..1024], error.RawRecord.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void JsonLinesReader_InvalidUtf8InText_IsABadLineNotReplacementCharacters(bool escapedToo)
    {
        // 0xC3 0x28 is not UTF-8. The same line with an escape elsewhere takes the unescaping path.
        byte[] good = RetailJson.ToJsonLine(Sample);
        string head = "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"" + (escapedToo ? "\\u00a3 " : "");
        byte[] bad = [.. Encoding.UTF8.GetBytes(head), 0xC3, 0x28, .. Encoding.UTF8.GetBytes(
            "\",\"Quantity\":6,\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":1,\"Customer_ID\":\"\",\"Country\":\"UK\"}\n")];
        var errors = new List<RetailRecordError>();
        using var reader = new JsonLinesReader(new MemoryStream([.. good, .. bad, .. good]),
            new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });

        Assert.Equal([Sample, Sample], reader.ReadAll().ToList());
        var error = Assert.Single(errors);
        Assert.Equal(2, error.LineNumber);
        Assert.Equal("Description", error.Column);
        Assert.Contains("UTF-8", error.Reason);
    }

    [Fact]
    public void JsonLinesReader_TryReadUtf8_GivesUnescapedUtf8AndTheSameRecordAsTryRead()
    {
        string line = "{\"Invoice\":\"5\\u00336\",\"StockCode\":\"A\\\"B\",\"Description\":\" \\u00a3 \\ud83c\\udf84 \",\"Quantity\":-1," +
            "\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":0.0001,\"Customer_ID\":17850,\"Country\":\"Côte d'Ivoire\",\"Extra\":[1,{\"a\":2}]}\n";
        byte[] input = Encoding.UTF8.GetBytes(line + line);

        using var utf8Reader = new JsonLinesReader(new MemoryStream(input));
        Assert.True(utf8Reader.TryReadUtf8(out var r));
        Assert.Equal("536", Encoding.UTF8.GetString(r.Invoice));
        Assert.Equal("A\"B", Encoding.UTF8.GetString(r.StockCode));
        Assert.Equal(Encoding.UTF8.GetBytes(" £ 🎄 "), r.Description.ToArray());
        Assert.Equal("17850", Encoding.UTF8.GetString(r.CustomerId));
        Assert.Equal("Côte d'Ivoire", Encoding.UTF8.GetString(r.Country));
        Assert.Equal(-1, r.Quantity);
        Assert.Equal(0.0001m, r.Price);
        var fromUtf8 = r.ToTransaction();
        Assert.True(utf8Reader.TryReadUtf8(out _));
        Assert.False(utf8Reader.TryReadUtf8(out _));

        using var reader = new JsonLinesReader(new MemoryStream(input));
        Assert.True(reader.TryRead(out var record));
        Assert.Equal(record, fromUtf8);
        Assert.Equal(" £ 🎄 ", record.Description);
    }

    private static string Line(string price = "1.5", string description = "X", string extra = "") =>
        "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"" + description + "\",\"Quantity\":6,\"InvoiceDate\":\"2010-12-01 08:26:00\"," +
        "\"Price\":" + price + ",\"Customer_ID\":\"\",\"Country\":\"UK\"" + extra + "}\n";

    private static (List<RetailTransaction> Rows, List<RetailRecordError> Errors) ReadLenient(string jsonLines)
    {
        var errors = new List<RetailRecordError>();
        using var reader = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(jsonLines)), new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        return (reader.ReadAll().ToList(), errors);
    }

    [Theory]
    [InlineData(",\"Price\":2", RetailFields.Price)]
    [InlineData(",\"Customer_ID\":\"13085.0\"", RetailFields.CustomerId)]
    public void JsonLinesReader_FieldTwice_BadLineNamingTheField(string extra, string field)
    {
        var (rows, errors) = ReadLenient(Line() + Line(extra: extra));
        Assert.Single(rows);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.LineNumber);
        Assert.Equal(field, error.Column);
        Assert.Equal("appears twice in the object, which is ambiguous", error.Reason);
    }

    [Theory]
    [InlineData("1.234567", RetailFields.Price, "1.234567", "has more than 4 decimal places")]
    [InlineData("100000000000000", RetailFields.Price, "100000000000000", "(at most 11 integer digits)")]
    public void JsonLinesReader_RecordBreaksValidation_BadLineWithTheValidationsReason(string price, string field, string value, string words)
    {
        var (rows, errors) = ReadLenient(Line() + Line(price));
        Assert.Single(rows);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.LineNumber);
        Assert.Equal(field, error.Column);
        Assert.Equal(value, error.RawText);
        Assert.False(RetailRecordValidation.TryValidate(rows[0] with { Price = decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture) }, out var violation));
        Assert.Equal(violation.Reason, error.Reason);
        Assert.Contains(words, error.Reason, StringComparison.Ordinal);
        Assert.Equal(Line(price)[..^1], Encoding.UTF8.GetString(error.RawRecord.Span));
    }

    [Fact]
    public void JsonLinesReader_EscapedNulInText_BadLine()
    {
        var (rows, errors) = ReadLenient(Line(description: "A\\u0000B"));
        Assert.Empty(rows);
        Assert.Equal(RetailFields.Description, Assert.Single(errors).Column);
        Assert.Contains("NUL character", errors[0].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("utf-16", "UTF-16LE (byte order mark FF FE)")]
    [InlineData("utf-16BE", "UTF-16BE (byte order mark FE FF)")]
    [InlineData("utf-32", "UTF-32LE (byte order mark FF FE 00 00)")]
    public void JsonLinesReader_WideEncoding_SaysToConvertNamingIt(string encodingName, string expected)
    {
        var encoding = Encoding.GetEncoding(encodingName);
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes(Line())];
        var ex = Assert.Throws<RetailFormatException>(() => new JsonLinesReader(new MemoryStream(bytes), new RetailReaderOptions { Mode = BadRecordMode.Lenient }));
        Assert.Contains("the input is " + expected + ", not UTF-8: convert it to UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonLinesReader_EmptyOrTinyInput_IsNotMistakenForAWideEncoding()
    {
        Assert.Empty(new JsonLinesReader(new MemoryStream([])).ReadAll());
        Assert.Empty(new JsonLinesReader(new MemoryStream("\n"u8.ToArray())).ReadAll());
        Assert.Single(new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(Line()))).ReadAll());
    }
}
