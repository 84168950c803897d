using System.Security.Cryptography;
using Retail.Core.Tests;

namespace Retail.Cli.Tests;

/// <summary>A second demo on one lake, lakes that cannot be written, and stages that fail.</summary>
public class LakeSafetyTests
{
    private static Dictionary<string, string> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static async Task<string> ScalarAsync(string lake, string sql)
    {
        var q = await CliRunner.RunAsync("query", sql, "--lake", lake, "--format", "csv");
        Assert.True(q.ExitCode == 0, q.Stderr);
        return q.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim();
    }

    private static string SummaryValue(CliResult demo, string name) =>
        demo.StdoutText.Split('\n').Single(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim();

    private static void AssertOneErrorLineNoStackTrace(CliResult result, string contains)
    {
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains(contains, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_LakeAlreadyHoldsData_RefusesWithoutAppendOrReplaceAndLeavesItUnchanged()
    {
        using var dir = new TempDir();
        var first = await CliRunner.RunAsync("demo", "--records", "500", "--lake", dir.Path);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var before = Snapshot(dir.Path);

        var second = await CliRunner.RunAsync("demo", "--records", "500", "--lake", dir.Path);

        Assert.Equal(2, second.ExitCode);
        AssertOneErrorLineNoStackTrace(second, "--append");
        Assert.Contains("--replace", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(dir.Path));
    }

    [Fact]
    public async Task Demo_Append_AddsThisRunToBothTablesAndTheSpeedLayerWithoutOverwriting()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await CliRunner.RunAsync("demo", "--records", "500", "--lake", dir.Path)).ExitCode);

        // The same seed: identical records, which must still be new rows and new documents (new stream positions).
        var append = await CliRunner.RunAsync("demo", "--records", "300", "--lake", dir.Path, "--append");

        Assert.True(append.ExitCode == 0, append.Stderr + append.StdoutText);
        Assert.Equal("800", await ScalarAsync(dir.Path, "SELECT count(*) FROM retail_trans_json"));
        Assert.Equal("800", await ScalarAsync(dir.Path, "SELECT count(*) FROM ctas_retail_trans_parquet"));
        Assert.Equal("800", SummaryValue(append, "speed-layer documents"));
    }

    [Fact]
    public async Task Demo_Replace_EmptiesTheLakeAndIndexFirstAndNothingElse()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await CliRunner.RunAsync("demo", "--records", "500", "--lake", dir.Path)).ExitCode);
        string mine = Path.Combine(dir.Path, "notes.txt");
        File.WriteAllText(mine, "not the lake's");

        var replace = await CliRunner.RunAsync("demo", "--records", "300", "--seed", "9", "--lake", dir.Path, "--replace");

        Assert.True(replace.ExitCode == 0, replace.Stderr + replace.StdoutText);
        Assert.Equal("300", await ScalarAsync(dir.Path, "SELECT count(*) FROM retail_trans_json"));
        Assert.Equal("300", await ScalarAsync(dir.Path, "SELECT count(*) FROM ctas_retail_trans_parquet"));
        Assert.Equal("300", SummaryValue(replace, "speed-layer documents"));
        Assert.Equal("not the lake's", File.ReadAllText(mine));
    }

    [Fact]
    public async Task Demo_AppendAndReplaceTogether_IsAUsageError()
    {
        using var dir = new TempDir();
        var demo = await CliRunner.RunAsync("demo", "--records", "10", "--lake", dir.Path, "--append", "--replace");
        Assert.NotEqual(0, demo.ExitCode);
        Assert.Contains("--append and --replace cannot be used together", demo.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("compact")]
    [InlineData("query")]
    public async Task Command_LakeIsAFile_SaysSoInOneLine(string command)
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "lake");
        File.WriteAllText(file, "x");
        string[] args = command == "query" ? ["query", "SELECT 1", "--lake", file] : [command, "--lake", file];
        var result = await CliRunner.RunAsync(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--lake {file} is a file, not a folder", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("compact")]
    public async Task Command_LakeOnProc_SaysItCannotBeUsedInWords(string command)
    {
        var result = await CliRunner.RunAsync(command, "--lake", "/proc");
        Assert.Equal(2, result.ExitCode);
        AssertOneErrorLineNoStackTrace(result, "--lake /proc cannot be used as a lake");
        Assert.DoesNotContain("Could not find file '/proc/_retail'", result.Stderr.Split(" (writing")[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// A failure retrying cannot fix (here the table folder is a file, so no object can be created) stops the demo
    /// at once with its cause — before, delivery retried for five minutes and the producer then blamed the stream.
    /// </summary>
    [Fact]
    public async Task Demo_LakeCannotTakeObjects_StopsAtOnceNamingTheCauseNotTheStream()
    {
        using var dir = new TempDir();
        // The arrival-time partition folder cannot be created: a file holds its name.
        Directory.CreateDirectory(Path.Combine(dir.Path, "json-data"));
        File.WriteAllText(Path.Combine(dir.Path, "json-data", $"year={DateTime.UtcNow.Year:0000}"), "in the way");

        var demo = await CliRunner.RunAsync("demo", "--records", "200000", "--lake", dir.Path, "--append").WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, demo.ExitCode);
        AssertOneErrorLineNoStackTrace(demo, "deliver to lake failed");
        Assert.Contains("json-data/", demo.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ProvisionedThroughputExceeded", demo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_FileWhereTheLakeKeepsAFolder_RefusedBeforeAnythingRuns()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "json-data"), "in the way");
        var demo = await CliRunner.RunAsync("demo", "--records", "10", "--lake", dir.Path, "--replace");
        Assert.Equal(2, demo.ExitCode);
        AssertOneErrorLineNoStackTrace(demo, "is a file where the lake keeps its json-data/ folder");
        Assert.Equal("in the way", File.ReadAllText(Path.Combine(dir.Path, "json-data")));
    }

    /// <summary>The demo's summary compares the two tables and fails loudly when they differ (here: a stray Parquet file).</summary>
    [Fact]
    public async Task Demo_TablesDisagree_ExitsNonZeroNamingBothTotals()
    {
        using var dir = new TempDir();
        Assert.Equal(0, (await CliRunner.RunAsync("demo", "--records", "500", "--lake", dir.Path)).ExitCode);
        string part = Directory.EnumerateFiles(Path.Combine(dir.Path, "parquet-retail-trans"), "*.parquet", SearchOption.AllDirectories).First();
        string stray = Path.Combine(dir.Path, "parquet-retail-trans", "year=2001", "month=01", "day=01", "hour=00");
        Directory.CreateDirectory(stray);
        File.Copy(part, Path.Combine(stray, Path.GetFileName(part)));

        var demo = await CliRunner.RunAsync("demo", "--records", "100", "--lake", dir.Path, "--append");

        Assert.Equal(1, demo.ExitCode);
        AssertOneErrorLineNoStackTrace(demo, "the JSON and Parquet tables differ: rows 600 / 1100");
    }

    [Fact]
    public async Task Help_GoesToStdout()
    {
        var help = await CliRunner.RunAsync("demo", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--replace", help.StdoutText, StringComparison.Ordinal);
        Assert.Equal("", help.Stderr);
    }
}

/// <summary>The largest prices and quantities the lake accepts survive a replay exactly, and the workshop's queries hold.</summary>
public class ExtremeValueReplayTests
{
    [Fact]
    public async Task Demo_ExtremePricesAndQuantities_BothTablesExactAndEqualAndNoCrash()
    {
        using var dir = new TempDir();
        string csv = Path.Combine(dir.Path, "extreme.csv");
        File.WriteAllText(csv,
            "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n" +
            "489434,85048,BIG,2147483647,2010-12-01 07:45:00,99999999999.9999,13085.0,United Kingdom\n" +
            "489435,85049,SMALL,-2147483648,2010-12-01 07:46:00,99999999999.9999,,United Kingdom\n" +
            "489436,85050,PRECISE,3,2010-12-01 07:47:00,12345678901.2345,13085.0,France\n" +
            "489437,85051,DOUBLE-BREAKER,1,2010-12-01 07:48:00,9007199254.7409,13085.0,France\n" +
            // More integer digits than the lake accepts (a double would read them rounded): refused at the door, with the reason.
            "489438,85052,TOO-BIG,1,2010-12-01 07:49:00,1234567890123.4567,13085.0,France\n" +
            "489439,85053,TOO-BIG,1,2010-12-01 07:50:00,-100000000000,13085.0,France\n");
        string lake = Path.Combine(dir.Path, "lake");

        var demo = await CliRunner.RunAsync("demo", "--input-file", csv, "--partition-by", "event-time", "--lake", lake);

        Assert.True(demo.ExitCode == 0, demo.Stderr + demo.StdoutText);
        Assert.Matches(@"error records \(error-json/…/processing-failed/\) +2\n", demo.StdoutText);
        // Delivery's error output (the speed layer dead-letters the same two under AmazonOpenSearchService-failed/).
        var errors = Directory.GetFiles(Path.Combine(lake, "error-json"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains("processing-failed", StringComparison.Ordinal)).SelectMany(File.ReadAllLines).ToList();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Contains("at most 11 integer digits", e, StringComparison.Ordinal));
        decimal expected = 2147483647m * 99999999999.9999m + -2147483648m * 99999999999.9999m + 3 * 12345678901.2345m + 9007199254.7409m;
        foreach (var table in new[] { "retail_trans_json", "ctas_retail_trans_parquet" })
        {
            var q = await CliRunner.RunAsync("query", $"SELECT sum(quantity*price), max(price), min(price), count(*) FROM {table}", "--lake", lake, "--format", "csv");
            Assert.True(q.ExitCode == 0, q.Stderr);
            Assert.Equal($"{expected.ToString(System.Globalization.CultureInfo.InvariantCulture)},99999999999.9999,9007199254.7409,4",
                q.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
            var p = await CliRunner.RunAsync("query", $"SELECT price FROM {table} WHERE invoice = '489436'", "--lake", lake, "--format", "csv");
            Assert.Equal("12345678901.2345", p.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
        }
    }
}
