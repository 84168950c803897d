using System.Diagnostics;
using System.Globalization;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail compact</c> as a real process, killed while it publishes: the next <c>retail compact --all</c> leaves no
/// temporary file anywhere and the Parquet table equals the JSON table.
/// </summary>
public sealed class CompactKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Hours = 4;
    private const int ObjectsPerHour = 12;
    private const int RowsPerObject = 5_000;
    private static readonly DateTime FirstHour = new(2009, 12, 1, 7, 0, 0);

    private const string TempMarker = ".retail-tmp-";

    [Fact]
    public async Task Compact_KilledWhilePublishing_NextCompactAllLeavesNoTemporaryAndTablesEqual()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        string tmp = Path.Combine(dir.Path, "tmp"); // the compact processes' own TMPDIR, where their work folders go
        Directory.CreateDirectory(tmp);
        long rows = await WriteLakeAsync(lake);

        // Kill the first compaction as soon as the store has a temporary file open in the Parquet table (a part
        // being published). The hour folders exist beforehand so that the watcher sees every file created in them.
        for (int h = 0; h < Hours; h++)
            Directory.CreateDirectory(Path.Combine(lake, LakeLayout.ParquetPrefix, LakeLayout.HourPartition(FirstHour.AddHours(h))));
        string firstStderr;
        var killed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var first = RetailProcess(tmp, "compact", "--lake", lake, "--all"))
        using (var watcher = new FileSystemWatcher(Path.Combine(lake, LakeLayout.ParquetPrefix)) { IncludeSubdirectories = true, Filter = TempMarker + "*" })
        {
            // Killed from the watcher's own thread, at once: on a busy machine a continuation can run seconds later.
            watcher.Created += (_, e) =>
            {
                if (!killed.Task.IsCompleted)
                {
                    first.Kill(entireProcessTree: true);
                    killed.TrySetResult(e.FullPath);
                }
            };
            watcher.EnableRaisingEvents = true;
            first.Start();
            var firstStderrRead = first.StandardError.ReadToEndAsync();
            var exited = first.WaitForExitAsync();
            var done = await Task.WhenAny(killed.Task, exited).WaitAsync(TimeSpan.FromSeconds(20));
            await exited.WaitAsync(TimeSpan.FromSeconds(20));
            firstStderr = await firstStderrRead;
            Assert.True(done == killed.Task || killed.Task.IsCompleted, $"retail compact exited ({first.ExitCode}) before it published a part: {firstStderr}");
        }

        // What the kill left: the run's work folder (and often the store's partial part).
        var lakeLeft = LakeTemporaries(lake);
        var workLeft = WorkEntries(tmp);
        Assert.True(lakeLeft.Count + workLeft.Count > 0, $"the kill at {await killed.Task} left no temporary file, so this run tests nothing; its output: {firstStderr}");

        output.WriteLine($"killed at {await killed.Task}; left in the lake: {string.Join(", ", lakeLeft)}; in TMPDIR: {string.Join(", ", workLeft)}");

        using var again = RetailProcess(tmp, "compact", "--lake", lake, "--all");
        again.Start();
        var stdoutRead = again.StandardOutput.ReadToEndAsync();
        var stderrRead = again.StandardError.ReadToEndAsync();
        await again.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        string stdout = await stdoutRead, stderr = await stderrRead;
        Assert.True(again.ExitCode == 0, $"exit {again.ExitCode}: {stdout}{stderr}");

        Assert.Empty(LakeTemporaries(lake));
        Assert.Empty(WorkEntries(tmp));
        const string columns = "invoice, stockcode, description, quantity, invoicedate, price, customer_id, country";
        Assert.Equal([$"{rows}", "0", "0"], await QueryAsync(lake,
            $"SELECT (SELECT count(*) FROM ctas_retail_trans_parquet), " +
            $"(SELECT count(*) FROM (SELECT {columns} FROM retail_trans_json EXCEPT ALL SELECT {columns} FROM ctas_retail_trans_parquet)), " +
            $"(SELECT count(*) FROM (SELECT {columns} FROM ctas_retail_trans_parquet EXCEPT ALL SELECT {columns} FROM retail_trans_json))"));
    }

    /// <summary>JSON-lines objects as delivery writes them: <see cref="Hours"/> hours of <see cref="ObjectsPerHour"/> objects.</summary>
    private static async Task<long> WriteLakeAsync(string lake)
    {
        var store = new LocalFolderObjectStore(lake);
        var rng = new Random(7);
        long rows = 0;
        for (int h = 0; h < Hours; h++)
        {
            var hour = FirstHour.AddHours(h);
            for (int o = 0; o < ObjectsPerHour; o++)
            {
                var ms = new MemoryStream();
                using (var writer = new JsonLinesWriter(ms, leaveOpen: true))
                {
                    for (int i = 0; i < RowsPerObject; i++, rows++)
                    {
                        writer.Write(new RetailTransaction
                        {
                            Invoice = (500000 + rows / 4).ToString(CultureInfo.InvariantCulture),
                            StockCode = rng.Next(10000, 99999).ToString(CultureInfo.InvariantCulture) + (char)('A' + rng.Next(26)),
                            Description = i % 9 == 0 ? " PAPER CHAIN KIT, 50'S CHRISTMAS " : "WHITE HANGING HEART T-LIGHT HOLDER " + rng.Next(100).ToString(CultureInfo.InvariantCulture),
                            Quantity = i % 13 == 0 ? -rng.Next(1, 24) : rng.Next(1, 24),
                            InvoiceDate = hour.AddSeconds(rng.Next(3600)),
                            Price = rng.Next(0, 100_000) / 100m,
                            CustomerId = i % 7 == 0 ? "" : rng.Next(12000, 18000).ToString(CultureInfo.InvariantCulture),
                            Country = i % 3 == 0 ? "France" : "United Kingdom",
                        });
                    }
                }
                string key = LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour) +
                    string.Create(CultureInfo.InvariantCulture, $"retail-trans-1-{hour:yyyy-MM-dd-HH}-00-00-{o:00000000}");
                await store.PutAsync(key, ms.ToArray());
            }
        }
        return rows;
    }

    /// <summary>The built <c>retail</c> command (not started) with <paramref name="tmp"/> as its temporary folder.</summary>
    internal static Process RetailProcess(string tmp, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        // The test project's dependency file: it knows where DuckDB's native library lies in this folder.
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Retail.Cli.Tests.deps.json"));
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "retail.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["TMPDIR"] = tmp;
        start.Environment["DOTNET_EnableDiagnostics"] = "0"; // no diagnostics socket in TMPDIR
        return new Process { StartInfo = start };
    }

    internal static List<string> LakeTemporaries(string lake) =>
        Directory.EnumerateFiles(lake, TempMarker + "*", SearchOption.AllDirectories).ToList();

    /// <summary>What the compactor left in its temporary folder (its work folders and their lock files).</summary>
    private static List<string> WorkEntries(string tmp) => Directory.EnumerateFileSystemEntries(tmp, "retail-*").ToList();

    internal static async Task<List<string>> QueryAsync(string lake, string sql)
    {
        var q = await CliRunner.RunAsync("query", sql, "--lake", lake, "--format", "csv");
        Assert.True(q.ExitCode == 0, q.Stderr);
        var lines = q.StdoutText.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        return [.. lines[1].Split(',')];
    }
}
