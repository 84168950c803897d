using System.Text;
using System.Text.Json;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Cli.Tests;

/// <summary>How <c>retail demo</c> reads its --input-file: the header check before anything runs, and the replay of rows into the stream.</summary>
public class DemoInputTests
{
    private const string Header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";

    private static string ErrorLine(CliResult result) =>
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));

    [Fact]
    public async Task Demo_InputFileIsADirectory_SaysItIsADirectory()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync("demo", "--input-file", dir.Path, "--lake", Path.Combine(dir.Path, "lake"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--input-file {dir.Path} is a directory", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("utf-16", "UTF-16LE (byte order mark FF FE)", true)]
    [InlineData("utf-16BE", "UTF-16BE (byte order mark FE FF)", true)]
    [InlineData("utf-32BE", "UTF-32BE (byte order mark 00 00 FE FF)", true)]
    [InlineData("utf-16", "UTF-16LE (no byte order mark; NUL bytes between the characters)", false)]
    public async Task Demo_WideEncodingInput_SaysToConvertNamingTheEncodingWithoutEchoingNuls(string encodingName, string expected, bool bom)
    {
        using var dir = new TempDir();
        var encoding = Encoding.GetEncoding(encodingName);
        string path = Path.Combine(dir.Path, "in.csv");
        byte[] text = encoding.GetBytes(Header + "\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK\n");
        File.WriteAllBytes(path, bom ? [.. encoding.GetPreamble(), .. text] : text);

        var result = await CliRunner.RunAsync("demo", "--input-file", path, "--lake", Path.Combine(dir.Path, "lake"));
        Assert.Equal(2, result.ExitCode);
        string error = ErrorLine(result);
        Assert.Contains($"--input-file {path}: line 1: the input is {expected}, not UTF-8: convert it to UTF-8", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', result.Stderr);
        Assert.DoesNotContain("no header row", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_AmbiguousHeader_RejectedNamingBothColumnsBeforeAnythingRuns()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "in.csv");
        File.WriteAllText(path, Header + ",Customer_ID\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK,9\n");
        string lake = Path.Combine(dir.Path, "lake");
        var result = await CliRunner.RunAsync("demo", "--input-file", path, "--lake", lake);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ambiguous header: columns 7 (\"Customer ID\") and 9 (\"Customer_ID\") both name Customer ID", ErrorLine(result), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(lake, LakeLayout.JsonPrefix)));
    }

    [Fact]
    public void ReadHeader_EmptyFile_SaysItIsEmpty()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "empty.csv");
        File.WriteAllBytes(path, []);
        var ex = Assert.Throws<CliException>(() => DemoCommand.ReadHeader(path));
        Assert.Contains("is empty: expected a header row", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProduceCsvAsync_TwoMegabyteDescription_ErrorRecordSaysRecordTooLongAndKeepsRawDataToItsBound()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "in.csv");
        string longRow = "2,B," + new string('x', 2_000_000) + ",1,2010-12-01 08:45:00,1.5,,UK";
        File.WriteAllText(path, Header + "\n1,A,GOOD,1,2010-12-01 08:45:00,1.5,,UK\n" + longRow + "\n3,C,ALSO GOOD,1,2010-12-01 08:45:00,1.5,,UK\n");

        // The demo's own pieces: the header check, the in-process stream, the replay, and delivery with the CSV row decoder.
        string header = DemoCommand.ReadHeader(path);
        var store = new LocalFolderObjectStore(Path.Combine(dir.Path, "lake"));
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("delivery");
        var delivery = new DeliveryEngine(stream, store, stream, new DeliveryOptions(), new OnlineRetailCsvRowDecoder(header));
        var run = delivery.RunAsync();
        long produced = await DemoCommand.ProduceCsvAsync(stream, path, seed: 7, CancellationToken.None);
        stream.Complete();
        await run;

        Assert.Equal(3, produced);
        Assert.Equal(2, delivery.Stats.RecordsDelivered);
        Assert.Equal(1, delivery.Stats.RecordsFailed);
        var errorKey = Assert.Single(await store.ListAsync(LakeLayout.ErrorPrefix).Select(o => o.Key).ToListAsync());
        string line = Assert.Single(Encoding.UTF8.GetString(await store.GetBytesAsync(errorKey)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var error = JsonDocument.Parse(line).RootElement;
        const int limit = OnlineRetailCsvRowDecoder.DefaultMaxRowBytes;
        Assert.Equal($"record too long ({longRow.Length:N0} bytes, limit {limit:N0})", error.GetProperty("errorMessage").GetString());
        byte[] rawData = Convert.FromBase64String(error.GetProperty("rawData").GetString()!);
        Assert.Equal(Encoding.UTF8.GetBytes(longRow)[..limit], rawData[..limit]);
        Assert.Equal("\n" + error.GetProperty("errorMessage").GetString(), Encoding.UTF8.GetString(rawData.AsSpan(limit)));

        var delivered = new List<RetailTransaction>();
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
            delivered.AddRange(new JsonLinesReader(new MemoryStream(await store.GetBytesAsync(o.Key))).ReadAll());
        Assert.Equal(["ALSO GOOD", "GOOD"], delivered.Select(r => r.Description).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ProduceCsvAsync_RowAtTheLimit_TravelsWholeAndIsDelivered()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "in.csv");
        const string tail = ",1,2010-12-01 08:45:00,1.5,,UK";
        string row = "2,B," + new string('x', OnlineRetailCsvRowDecoder.DefaultMaxRowBytes - 4 - tail.Length) + tail;
        Assert.Equal(OnlineRetailCsvRowDecoder.DefaultMaxRowBytes, row.Length);
        File.WriteAllText(path, Header + "\n" + row + "\n");

        var store = new LocalFolderObjectStore(Path.Combine(dir.Path, "lake"));
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("delivery");
        var delivery = new DeliveryEngine(stream, store, stream, new DeliveryOptions(), new OnlineRetailCsvRowDecoder(DemoCommand.ReadHeader(path)));
        var run = delivery.RunAsync();
        Assert.Equal(1, await DemoCommand.ProduceCsvAsync(stream, path, seed: 7, CancellationToken.None));
        stream.Complete();
        await run;
        Assert.Equal(1, delivery.Stats.RecordsDelivered);
        Assert.Equal(0, delivery.Stats.RecordsFailed);
    }
}
