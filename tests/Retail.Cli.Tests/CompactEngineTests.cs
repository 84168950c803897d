using System.Security.Cryptography;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;
using Retail.Synthetic;

namespace Retail.Cli.Tests;

/// <summary><c>retail compact --engine parquet|athena --basic-datetime TIME --dry-run</c>.</summary>
public sealed class CompactEngineTests
{
    private static readonly DateTime Hour01 = new(2020, 2, 28, 1, 0, 0);
    private static readonly DateTime Hour02 = new(2020, 2, 28, 2, 0, 0);
    private static readonly DateTime Hour03 = new(2020, 2, 28, 3, 0, 0);

    private static async Task<List<RetailTransaction>> WriteHourAsync(IObjectStore store, DateTime hour, ulong seed, int objects = 2)
    {
        var rows = new List<RetailTransaction>();
        for (int n = 0; n < objects; n++)
        {
            var ms = new MemoryStream();
            foreach (var r in new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed * 10 + (ulong)n }).Generate(7))
            {
                ms.Write(RetailJson.ToJsonLine(r));
                rows.Add(r);
            }
            await store.PutAsync(LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour) + $"retail-trans-1-{hour:yyyy-MM-dd-HH}-{n:D2}", ms.ToArray());
        }
        return rows;
    }

    /// <summary>Every file of the lake folder with the hash of its content.</summary>
    private static List<string> Snapshot(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => Path.GetRelativePath(dir, f) + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))))];

    [Fact]
    public async Task Compact_ParquetBasicDatetime_CompactsOnlyTheHourBeforeThatTime()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await WriteHourAsync(store, Hour01, 1);
        var rows02 = await WriteHourAsync(store, Hour02, 2);
        await WriteHourAsync(store, Hour03, 3);

        var result = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--basic-datetime", "2020-02-28T03:05:00Z");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal($"hours 1, compacted 1, up to date 0, not closed 0, failed 0; rows {rows02.Count}, files 1,", result.StdoutText[..result.StdoutText.IndexOf(" bytes", StringComparison.Ordinal)]);
        Assert.Contains("[INFO] compacting the hour 2020-02-28 02:00 (the hour before --basic-datetime)", result.Stderr, StringComparison.Ordinal);
        Assert.Single(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(Hour02)).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal)).ToListAsync());
        Assert.Empty(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(Hour01)).ToListAsync());
        Assert.Empty(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(Hour03)).ToListAsync());

        var again = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--basic-datetime", "2020-02-28T03:59:59+00:00");

        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.StartsWith("hours 1, compacted 0, up to date 1, not closed 0, failed 0; rows 0, files 0,", again.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compact_ParquetDryRun_PrintsTheHoursAndSourceObjectsAndChangesNothing()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await WriteHourAsync(store, Hour01, 1, objects: 1);
        await WriteHourAsync(store, Hour02, 2, objects: 3);
        var before = Snapshot(dir.Path);

        var one = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--dry-run", "--basic-datetime", "2020-02-28T03:05:00Z");

        Assert.True(one.ExitCode == 0, one.Stderr);
        var lines = one.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("dry run: 1 hours with source objects, 3 objects, ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("2020-02-28 02:00 3 source objects, ", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("→ parquet-retail-trans/year=2020/month=02/day=28/hour=02/ (0 Parquet parts published so far)", lines[1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Count(l => l.StartsWith("  json-data/year=2020/month=02/day=28/hour=02/retail-trans-1-", StringComparison.Ordinal)));
        Assert.True(lines.Length == 5, one.StdoutText);
        Assert.Contains("[INFO] dry run: nothing was written", one.Stderr, StringComparison.Ordinal);

        var all = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--dry-run", "--all");

        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.StartsWith("dry run: 2 hours with source objects, 4 objects, ", all.StdoutText, StringComparison.Ordinal);
        Assert.Contains("\n2020-02-28 01:00 1 source objects, ", all.StdoutText, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(dir.Path));
    }

    [Theory]
    [InlineData("--basic-datetime 2020-02-28T03:05:00Z --all", "--basic-datetime compacts one hour and --all every hour")]
    [InlineData("--basic-datetime 2020-02-28T03:05:00Z --lookback-hours 3", "--lookback-hours does not apply with --basic-datetime")]
    [InlineData("--basic-datetime yesterday", "--basic-datetime 'yesterday' is not an ISO 8601 time such as 2020-02-28T03:05:00Z.")]
    [InlineData("--basic-datetime 2020-02-28", "--basic-datetime '2020-02-28' is not an ISO 8601 time")]
    [InlineData("--engine glue", "glue")]
    [InlineData("--work-group primary", "--work-group is for --engine athena.")]
    [InlineData("--region eu-west-1", "--region is for --engine athena.")]
    [InlineData("--engine athena --all", "--all is for --engine parquet")]
    [InlineData("--engine athena --lookback-hours 2", "--lookback-hours is for --engine parquet")]
    [InlineData("--engine athena --verify-values", "--verify-values is for --engine parquet")]
    [InlineData("--athena-endpoint-url http://127.0.0.1:4566", "--athena-endpoint-url is for --engine athena.")]
    public async Task Compact_BadEngineOrTimeOptions_RefusedNamingTheOption(string options, string error)
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync(["compact", "--lake", dir.Path, .. options.Split(' ')]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(error, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Compact_AthenaWithAFolderLake_RefusedNamingTheLake()
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync("compact", "--engine", "athena", "--lake", dir.Path, "--dry-run");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--lake {dir.Path} is a folder; --engine athena needs an s3:// --lake", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compact_ParquetWithoutALakeFolder_RefusedNamingIt()
    {
        string missing = Path.Combine(Path.GetTempPath(), "retail-no-lake-" + Guid.NewGuid().ToString("N"));

        var result = await CliRunner.RunAsync("compact", "--lake", missing, "--dry-run");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"--lake {missing} does not exist.", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    /// <summary>Needs the CTAS compactor's PlanStatements (helper D's work, branch ctas).</summary>
    [Fact]
    public async Task Compact_AthenaDryRunBasicDatetime_PrintsTheStatementsForHour02AndRunsNothing()
    {
        // No Athena endpoint anywhere: the dry run must not need one (its engine refuses every query).
        var result = await CliRunner.RunAsync("compact", "--engine", "athena", "--dry-run", "--basic-datetime", "2020-02-28T03:05:00Z", "--lake", "s3://retail-dry-run-bucket");

        Assert.True(result.ExitCode == 0, result.Stderr + result.StdoutText);
        string sql = result.StdoutText;
        Assert.Contains("[INFO] dry run: the statements for the hour 2020-02-28 02:00; nothing is run", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("year=2020/month=02/day=28/hour=02/", sql, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE", sql, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("PARQUET", sql, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SNAPPY", sql, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("PARTITION", sql, StringComparison.OrdinalIgnoreCase);
        // The CTAS writes hour 02's Parquet under the lake's Parquet prefix, and nothing else is written.
        Assert.Contains("external_location = 's3://retail-dry-run-bucket/parquet-retail-trans/year=2020/month=02/day=28/hour=02/", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("parquet-retail-trans/year=2020/month=02/day=28/hour=03", sql, StringComparison.Ordinal);
    }
}
