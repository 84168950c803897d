using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;
using Retail.Synthetic;

namespace Retail.Cli.Tests;

/// <summary><c>retail compact</c>'s scope: the closed hours of the lookback window by default, every hour with <c>--all</c>.</summary>
public sealed class CompactCommandTests
{
    private static DateTime Hour(DateTime t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0);

    private static async Task WriteHourAsync(IObjectStore store, DateTime hour, ulong seed)
    {
        var ms = new MemoryStream();
        foreach (var r in new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(5))
            ms.Write(RetailJson.ToJsonLine(r));
        await store.PutAsync(LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour) + "retail-trans-1-object", ms.ToArray());
    }

    [Fact]
    public async Task Compact_LookbackHours_CompactsOnlyTheWindowAndAllRescansEveryHour()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var now = DateTime.UtcNow;
        var recent = Hour(now.AddHours(-3)); // closed, inside a 10-hour window
        var old = Hour(now.AddHours(-40));   // outside it (and outside the default 24 hours)
        await WriteHourAsync(store, recent, 1);
        await WriteHourAsync(store, old, 2);

        var pass = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--lookback-hours", "10");

        Assert.True(pass.ExitCode == 0, pass.Stderr);
        Assert.StartsWith("hours 1, compacted 1,", pass.StdoutText, StringComparison.Ordinal);
        Assert.Contains("[INFO] looking at the 10 hours up to the last closed one", pass.Stderr, StringComparison.Ordinal);
        Assert.NotEmpty(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(recent)).ToListAsync());
        Assert.Empty(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(old)).ToListAsync());

        var full = await CliRunner.RunAsync("compact", "--lake", dir.Path, "--all");

        Assert.True(full.ExitCode == 0, full.Stderr);
        Assert.StartsWith("hours 2, compacted 1, up to date 1, not closed 0, failed 0; rows 5,", full.StdoutText, StringComparison.Ordinal);
        Assert.NotEmpty(await store.ListAsync(LakeLayout.ParquetPrefix + LakeLayout.HourPartition(old)).ToListAsync());
    }

    [Theory]
    [InlineData("--lookback-hours 0", "--lookback-hours must be between 1 and 8784, got 0.")]
    [InlineData("--lookback-hours 8785", "--lookback-hours must be between 1 and 8784, got 8785.")]
    [InlineData("--all --lookback-hours 5", "--lookback-hours does not apply with --all")]
    public async Task Compact_BadScopeOptions_RefusedInOneLine(string options, string error)
    {
        using var dir = new TempDir();

        var result = await CliRunner.RunAsync(["compact", "--lake", dir.Path, .. options.Split(' ')]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(error, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompactHelp_SaysAllRescansEveryHourAndTreatsEachAsClosed()
    {
        var help = await CliRunner.RunAsync("compact", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--all", help.StdoutText, StringComparison.Ordinal);
        Assert.Contains("Rescan every hour of the lake and treat each as closed", help.StdoutText.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("--lookback-hours", help.StdoutText, StringComparison.Ordinal);
    }
}
