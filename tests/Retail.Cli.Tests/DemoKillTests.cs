using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail demo</c> as a real process, killed while delivery writes objects: <c>retail compact --all</c> then
/// leaves no temporary file in the lake and the Parquet table equals the JSON table, row for row.
/// </summary>
public sealed class DemoKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Demo_KilledWhileDelivering_CompactAllLeavesNoTemporaryAndTablesEqual()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        string tmp = Path.Combine(dir.Path, "tmp");
        Directory.CreateDirectory(Path.Combine(lake, LakeLayout.JsonPrefix));
        Directory.CreateDirectory(tmp);

        var killed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string stderr;
        using (var demo = CompactKillTests.RetailProcess(tmp, "demo", "--records", "400000", "--lake", lake, "--append"))
        using (var watcher = new FileSystemWatcher(Path.Combine(lake, LakeLayout.JsonPrefix)) { IncludeSubdirectories = true, Filter = LocalFolderObjectStore.TemporaryFilePrefix + "*" })
        {
            int seen = 0;
            // Killed from the watcher's thread at once, while the store writes an object (the third, so that
            // some objects are complete and one is not).
            watcher.Created += (_, e) =>
            {
                if (Interlocked.Increment(ref seen) == 3)
                {
                    demo.Kill(entireProcessTree: true);
                    killed.TrySetResult(e.FullPath);
                }
            };
            watcher.EnableRaisingEvents = true;
            demo.Start();
            var stderrRead = demo.StandardError.ReadToEndAsync();
            var stdoutRead = demo.StandardOutput.ReadToEndAsync();
            var exited = demo.WaitForExitAsync();
            await Task.WhenAny(killed.Task, exited).WaitAsync(TimeSpan.FromSeconds(60));
            await exited.WaitAsync(TimeSpan.FromSeconds(20));
            stderr = await stderrRead;
            _ = await stdoutRead;
            Assert.True(killed.Task.IsCompleted, $"retail demo exited ({demo.ExitCode}) before it was killed: {stderr}");
        }
        output.WriteLine($"killed at {await killed.Task}; temporaries left: {string.Join(", ", CompactKillTests.LakeTemporaries(lake))}");

        using var compact = CompactKillTests.RetailProcess(tmp, "compact", "--lake", lake, "--all");
        compact.Start();
        var outRead = compact.StandardOutput.ReadToEndAsync();
        var errRead = compact.StandardError.ReadToEndAsync();
        await compact.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(compact.ExitCode == 0, $"exit {compact.ExitCode}: {await outRead}{await errRead}");

        Assert.Empty(CompactKillTests.LakeTemporaries(lake));
        const string columns = "invoice, stockcode, description, quantity, invoicedate, price, customer_id, country";
        var counts = await CompactKillTests.QueryAsync(lake,
            "SELECT (SELECT count(*) FROM retail_trans_json), (SELECT count(*) FROM ctas_retail_trans_parquet), " +
            $"(SELECT count(*) FROM (SELECT {columns} FROM retail_trans_json EXCEPT ALL SELECT {columns} FROM ctas_retail_trans_parquet)), " +
            $"(SELECT count(*) FROM (SELECT {columns} FROM ctas_retail_trans_parquet EXCEPT ALL SELECT {columns} FROM retail_trans_json))");
        Assert.True(long.Parse(counts[0], System.Globalization.CultureInfo.InvariantCulture) > 0, "nothing was delivered before the kill");
        Assert.Equal(counts[0], counts[1]);
        Assert.Equal(["0", "0"], counts[2..]);
    }
}
