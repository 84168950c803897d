using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.VisualBasic.FileIO;
using Retail.Codecs;
using Retail.Core.Tests;

namespace Retail.Cli.Tests;

public class ProduceCommandTests
{
    private static string DevSample => SharedData.Path(SharedData.DevSample);

    [Fact]
    public async Task Produce_DevSampleConsoleJson_OneObjectPerRowEqualToTheCsv()
    {
        var result = await CliRunner.RunAsync("produce", "-I", DevSample, "--service-name", "console", "--out-format", "json");
        Assert.Equal(0, result.ExitCode);
        string[] lines = result.StdoutText.Split('\n');
        Assert.Equal("", lines[^1]);
        lines = lines[..^1];
        Assert.Equal(1051, lines.Length);

        using var csv = new TextFieldParser(DevSample) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        csv.SetDelimiters(",");
        csv.ReadFields();
        foreach (string line in lines)
        {
            string[] f = csv.ReadFields()!;
            using var doc = JsonDocument.Parse(line);
            var o = doc.RootElement;
            Assert.Equal(8, o.EnumerateObject().Count());
            Assert.Equal(f[0], o.GetProperty("Invoice").GetString());
            Assert.Equal(f[1], o.GetProperty("StockCode").GetString());
            Assert.Equal(f[2], o.GetProperty("Description").GetString());
            Assert.Equal(decimal.Parse(f[3], CultureInfo.InvariantCulture), o.GetProperty("Quantity").GetDecimal());
            Assert.Equal(DateTime.Parse(f[4], CultureInfo.InvariantCulture), DateTime.ParseExact(o.GetProperty("InvoiceDate").GetString()!, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            Assert.Equal(decimal.Parse(f[5], CultureInfo.InvariantCulture), o.GetProperty("Price").GetDecimal());
            Assert.Equal(f[6], o.GetProperty("Customer_ID").GetString());
            Assert.Equal(f[7], o.GetProperty("Country").GetString());
        }
        Assert.True(csv.EndOfData);
        Assert.Contains("[INFO] 1051 records are processed", result.Stderr);
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("tsv")]
    [InlineData("json")]
    public async Task Produce_DevSampleToFormat_ReReadsToIdenticalRecords(string format)
    {
        var result = await CliRunner.RunAsync("produce", "-I", DevSample, "--out-format", format);
        Assert.Equal(0, result.ExitCode);

        using var original = OnlineRetailReader.Open(DevSample);
        var expected = original.ReadAll().ToList();
        var ms = new MemoryStream(result.Stdout);
        List<RetailTransaction> actual = format == "json"
            ? new JsonLinesReader(ms).ReadAll().ToList()
            : new OnlineRetailReader(ms, new OnlineRetailReaderOptions { Format = format == "tsv" ? DelimitedFormat.Tsv : DelimitedFormat.Csv }).ReadAll().ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Produce_SameSeed_ByteIdenticalAndDifferentSeedDiffers()
    {
        var a = await CliRunner.RunAsync("produce", "--max-count", "20000", "--seed", "7");
        var b = await CliRunner.RunAsync("produce", "--max-count", "20000", "--seed", "7");
        var c = await CliRunner.RunAsync("produce", "--max-count", "20000", "--seed", "8");
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.NotEqual(a.Stdout, c.Stdout);
        Assert.Equal(20000, a.StdoutText.Count(ch => ch == '\n'));
    }

    [Fact]
    public async Task Produce_Synthetic_FollowsWorkshopSchemaAndRanges()
    {
        var result = await CliRunner.RunAsync("produce", "--seed", "1", "--max-count", "5000");
        var records = new JsonLinesReader(new MemoryStream(result.Stdout)).ReadAll().ToList();
        Assert.Equal(5000, records.Count);
        var clock = new DateTime(2010, 12, 9, 20, 0, 0);
        foreach (var r in records)
        {
            Assert.Matches("^[0-9]{6}$", r.Invoice);
            Assert.Matches("^[0-9]{5}[A-Z]$", r.StockCode);
            Assert.InRange(r.Quantity, 1, 10);
            Assert.InRange(r.Price, 0.10m, 100.00m);
            Assert.Equal(r.Price, decimal.Round(r.Price, 2));
            Assert.Matches("^[0-9]{5}$", r.CustomerId);
            Assert.InRange(r.InvoiceDate, clock.Date, clock);
            Assert.False(string.IsNullOrWhiteSpace(r.Description));
            Assert.False(string.IsNullOrWhiteSpace(r.Country));
        }
        Assert.True(records.Select(r => r.Country).Distinct().Count() > 10);
    }

    [Fact]
    public async Task Produce_DefaultSyntheticCount_IsTenAsTheWorkshop()
    {
        var result = await CliRunner.RunAsync("produce");
        Assert.Equal(10, result.StdoutText.Count(ch => ch == '\n'));
    }

    [Fact]
    public async Task Produce_MaxCountOnReplay_StopsThere()
    {
        var result = await CliRunner.RunAsync("produce", "-I", DevSample, "--max-count", "5", "--out-format", "csv");
        Assert.Equal(6, result.StdoutText.Count(ch => ch == '\n'));
    }

    [Fact]
    public async Task Produce_DryRun_SendsNothingAndCounts()
    {
        var result = await CliRunner.RunAsync("produce", "-I", DevSample, "--dry-run");
        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Contains("dry run", result.Stderr);
        Assert.Contains("1051 records", result.Stderr);
    }

    private static string BadCsv()
    {
        string path = Path.Combine(Path.GetTempPath(), $"retail-bad-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path,
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n" +
            "1,A,GOOD ONE,1,2010-12-01 08:45:00,1.5,,UK\n" +
            "2,B,BAD QTY,lots,2010-12-01 08:45:00,1.5,,UK\n" +
            "3,C,GOOD TWO,1,2010-12-01 08:45:00,1.5,,UK\n");
        return path;
    }

    [Fact]
    public async Task Produce_BadRowStrict_ExitsNonZeroWithOneLineReason()
    {
        string path = BadCsv();
        var result = await CliRunner.RunAsync("produce", "-I", path);
        Assert.NotEqual(0, result.ExitCode);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains("line 3", error);
        Assert.Contains("Quantity", error);
        Assert.Contains("lots", error);
        File.Delete(path);
    }

    [Fact]
    public async Task Produce_BadRowSkip_GoodRowsOutAndBadRowReported()
    {
        string path = BadCsv();
        var result = await CliRunner.RunAsync("produce", "-I", path, "--on-bad-row", "skip");
        Assert.Equal(0, result.ExitCode);
        var records = new JsonLinesReader(new MemoryStream(result.Stdout)).ReadAll().ToList();
        Assert.Equal(["GOOD ONE", "GOOD TWO"], records.Select(r => r.Description));
        Assert.Contains("line 3, column Quantity", result.Stderr);
        Assert.Contains("1 bad rows were skipped", result.Stderr);
        Assert.DoesNotContain("[", Encoding.UTF8.GetString(result.Stdout));
        File.Delete(path);
    }

    [Theory]
    [InlineData("--max-count", "-1")]
    [InlineData("--out-format", "xml")]
    [InlineData("--rate", "0")]
    [InlineData("--now", "yesterday")]
    public async Task Produce_BadSetting_ExitsNonZeroNamingIt(string option, string value)
    {
        var result = await CliRunner.RunAsync("produce", option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.True(result.Stderr.Contains(option, StringComparison.Ordinal) || result.Stderr.Contains(value, StringComparison.Ordinal), result.Stderr);
    }

    [Fact]
    public async Task Produce_MissingInputFile_ExitsNonZeroNamingIt()
    {
        var result = await CliRunner.RunAsync("produce", "-I", "/nonexistent/x.csv");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/nonexistent/x.csv", result.Stderr);
    }

    private const string CsvHeader = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";

    private static string WriteTemp(string extension, byte[] content)
    {
        string path = Path.Combine(Path.GetTempPath(), $"retail-in-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string ErrorLine(CliResult result) =>
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));

    /// <summary>A bad row, the record it would be, and how a reader shows its bad value.</summary>
    public static TheoryData<string, string, string> RowsBreakingAValidationRule => new()
    {
        { "2,B,X,1,2010-12-01 08:45:00,1.234567,,UK", RetailFields.Price, "1.234567" },
        { "2,B,X,1,2010-12-01 08:45:00,123456789012345.5,,UK", RetailFields.Price, "123456789012345.5" },
        { "2,B,X\0Y,1,2010-12-01 08:45:00,1.5,,UK", RetailFields.Description, "X\\u0000Y" },
    };

    [Theory]
    [MemberData(nameof(RowsBreakingAValidationRule))]
    public async Task Produce_RowBreakingAValidationRule_RejectedAlikeByProduceDryRunSkipAndTheDeliveryDecoders(string row, string column, string raw)
    {
        string csv = CsvHeader + "\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK\n" + row + "\n";
        string path = WriteTemp(".csv", Encoding.UTF8.GetBytes(csv));
        try
        {
            // The reason the one validation gives for this row's record.
            var decoder = new Retail.Delivery.OnlineRetailCsvRowDecoder(CsvHeader);
            Assert.False(decoder.TryDecode(Encoding.UTF8.GetBytes(row), out _, out string? decoderError));
            string expected = $"line 3, column {column} (\"{raw}\"): ";
            Assert.StartsWith($"column {column} (\"{raw}\"): ", decoderError, StringComparison.Ordinal);
            string reason = decoderError[$"column {column} (\"{raw}\"): ".Length..];

            foreach (string[] extra in new[] { Array.Empty<string>(), ["--dry-run"], ["--out-format", "csv"] })
            {
                var strict = await CliRunner.RunAsync(["produce", "-I", path, .. extra]);
                Assert.Equal(1, strict.ExitCode);
                Assert.Contains(expected + reason, ErrorLine(strict), StringComparison.Ordinal);
            }
            foreach (string[] extra in new[] { Array.Empty<string>(), ["--dry-run"] })
            {
                var skip = await CliRunner.RunAsync(["produce", "-I", path, "--on-bad-row", "skip", .. extra]);
                Assert.Equal(0, skip.ExitCode);
                Assert.Contains("[WARN] skipped bad row: " + expected + reason, skip.Stderr, StringComparison.Ordinal);
                Assert.Contains("1 bad rows", skip.Stderr, StringComparison.Ordinal);
                if (extra.Length == 0) Assert.Equal(["GOOD"], new JsonLinesReader(new MemoryStream(skip.Stdout)).ReadAll().Select(r => r.Description));
            }

            // The same record as JSON lines: produce and the JSON decoder give the same reason.
            var skipped = await CliRunner.RunAsync("produce", "-I", path, "--on-bad-row", "skip");
            string good = skipped.StdoutText;
            string bad = good.Replace("\"Invoice\":\"1\"", "\"Invoice\":\"2\"", StringComparison.Ordinal).Replace("\"StockCode\":\"A\"", "\"StockCode\":\"B\"", StringComparison.Ordinal)
                .Replace("\"Description\":\"GOOD\"", "\"Description\":\"" + (column == RetailFields.Description ? "X\\u0000Y" : "X") + "\"", StringComparison.Ordinal)
                .Replace("\"Price\":1.5", "\"Price\":" + (column == RetailFields.Price ? raw : "1.5"), StringComparison.Ordinal);
            Assert.False(Retail.Delivery.JsonRecordDecoder.Instance.TryDecode(Encoding.UTF8.GetBytes(bad), out _, out string? jsonError));
            Assert.Equal($"column {column} (\"{raw}\"): {reason}", jsonError);
            string jsonPath = WriteTemp(".json", Encoding.UTF8.GetBytes(good + bad));
            try
            {
                var fromJson = await CliRunner.RunAsync("produce", "-I", jsonPath, "--dry-run");
                Assert.Equal(1, fromJson.ExitCode);
                Assert.Contains($"line 2, column {column} (\"{raw}\"): {reason}", ErrorLine(fromJson), StringComparison.Ordinal);
            }
            finally
            {
                File.Delete(jsonPath);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Produce_InputFileIsADirectory_SaysItIsADirectory()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync("produce", "-I", dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--input-file {dir.Path} is a directory", ErrorLine(result), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".csv", "utf-16", "UTF-16LE (byte order mark FF FE)")]
    [InlineData(".csv", "utf-16BE", "UTF-16BE (byte order mark FE FF)")]
    [InlineData(".csv", "utf-32", "UTF-32LE (byte order mark FF FE 00 00)")]
    [InlineData(".json", "utf-16", "UTF-16LE (byte order mark FF FE)")]
    public async Task Produce_WideEncodingInput_SaysToConvertNamingTheEncoding(string extension, string encodingName, string expected)
    {
        var encoding = Encoding.GetEncoding(encodingName);
        string text = extension == ".csv"
            ? CsvHeader + "\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK\n"
            : "{\"Invoice\":\"1\",\"StockCode\":\"A\",\"Description\":\"GOOD\",\"Quantity\":1,\"InvoiceDate\":\"2010-12-01 08:45:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}\n";
        string path = WriteTemp(extension, [.. encoding.GetPreamble(), .. encoding.GetBytes(text)]);
        try
        {
            foreach (string mode in new[] { "fail", "skip" })
            {
                var result = await CliRunner.RunAsync("produce", "-I", path, "--on-bad-row", mode);
                Assert.Equal(1, result.ExitCode);
                string error = ErrorLine(result);
                Assert.Contains($"the input is {expected}, not UTF-8: convert it to UTF-8", error, StringComparison.Ordinal);
                Assert.DoesNotContain("invalid UTF-8", error, StringComparison.Ordinal);
                Assert.DoesNotContain("--on-bad-row", error, StringComparison.Ordinal);
                Assert.Empty(result.Stdout);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(CsvHeader + ",Price", "columns 6 (\"Price\") and 9 (\"Price\") both name Price")]
    [InlineData(CsvHeader + ",Customer_ID", "columns 7 (\"Customer ID\") and 9 (\"Customer_ID\") both name Customer ID")]
    public async Task Produce_AmbiguousHeader_RejectedNamingBothColumns(string header, string reason)
    {
        string path = WriteTemp(".csv", Encoding.UTF8.GetBytes(header + "\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK,9\n"));
        try
        {
            var result = await CliRunner.RunAsync("produce", "-I", path, "--dry-run");
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("ambiguous header: " + reason, ErrorLine(result), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Produce_TwoMegabyteDescription_ReportedAsRecordTooLongWithSizeAndLimit()
    {
        string row = "2,B," + new string('x', 2 * 1024 * 1024) + ",1,2010-12-01 08:45:00,1.5,,UK";
        string path = WriteTemp(".csv", Encoding.UTF8.GetBytes(CsvHeader + "\n" + row + "\n3,C,GOOD,1,2010-12-01 08:45:00,1.5,,UK\n"));
        try
        {
            var skip = await CliRunner.RunAsync("produce", "-I", path, "--on-bad-row", "skip");
            Assert.Equal(0, skip.ExitCode);
            Assert.Contains($"[WARN] skipped bad row: line 2: record too long ({row.Length:N0} bytes, limit 1,048,576)", skip.Stderr, StringComparison.Ordinal);
            Assert.Equal(["GOOD"], new JsonLinesReader(new MemoryStream(skip.Stdout)).ReadAll().Select(r => r.Description));
            var strict = await CliRunner.RunAsync("produce", "-I", path, "--dry-run");
            Assert.Equal(1, strict.ExitCode);
            Assert.Contains($"line 2: record too long ({row.Length:N0} bytes, limit 1,048,576)", ErrorLine(strict), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
