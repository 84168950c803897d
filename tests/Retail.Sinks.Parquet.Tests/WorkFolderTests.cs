namespace Retail.Sinks.Parquet.Tests;

public sealed class WorkFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "retail-workfolder-tests-" + Guid.NewGuid().ToString("N"));

    public WorkFolderTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private static string RunId() => Guid.NewGuid().ToString("N");

    [Fact]
    public void RemoveStale_LiveAndKilledRuns_RemovesOnlyTheKilledRunsFolderAndLock()
    {
        using var live = WorkFolder.Create(_root);
        File.WriteAllBytes(Path.Combine(live.Path, "part-00000.parquet"), new byte[1000]);
        string dead = Path.Combine(_root, WorkFolder.NamePrefix + RunId());
        Directory.CreateDirectory(dead);
        File.WriteAllBytes(Path.Combine(dead, "part-00000.parquet"), new byte[1000]);
        File.WriteAllText(dead + ".lock", ""); // its process died: nobody holds it
        string loneLock = Path.Combine(_root, WorkFolder.NamePrefix + RunId() + ".lock");
        File.WriteAllText(loneLock, "");

        var removed = WorkFolder.RemoveStale(_root);

        Assert.Equal([dead], removed);
        Assert.False(Directory.Exists(dead));
        Assert.False(File.Exists(dead + ".lock"));
        Assert.False(File.Exists(loneLock));
        Assert.True(File.Exists(Path.Combine(live.Path, "part-00000.parquet")));
        Assert.True(File.Exists(live.Path + ".lock"));
    }

    [Fact]
    public void RemoveStale_NamesThatAreNotWorkFolders_LeftAlone()
    {
        string[] others =
        [
            Path.Combine(_root, WorkFolder.NamePrefix + "tests-" + RunId()),
            Path.Combine(_root, WorkFolder.NamePrefix + RunId().ToUpperInvariant()),
            Path.Combine(_root, "retail-parquet-" + RunId()),
        ];
        foreach (var o in others) Directory.CreateDirectory(o);

        Assert.Empty(WorkFolder.RemoveStale(_root));
        Assert.All(others, o => Assert.True(Directory.Exists(o)));
    }

    [Fact]
    public void Dispose_LiveFolder_FolderAndLockGone()
    {
        var folder = WorkFolder.Create(_root);
        File.WriteAllBytes(Path.Combine(folder.Path, "x"), [1]);

        folder.Dispose();

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public async Task Create_WhileAnotherRunRemovesStaleFolders_NeverFailsAndNeverLosesALiveFolder()
    {
        // Parallel hours share the temporary folder: one run's RemoveStale can open a lock file in the instant between
        // another run's creating and locking it (this failed a real compaction with "being used by another process").
        using var stop = new CancellationTokenSource();
        var swept = new System.Collections.Concurrent.ConcurrentBag<string>();
        var sweeper = Task.Run(() =>
        {
            long sweeps = 0;
            while (!stop.IsCancellationRequested) { foreach (var r in WorkFolder.RemoveStale(_root)) swept.Add(r); sweeps++; }
            return sweeps;
        });
        try
        {
            for (int i = 0; i < 3000; i++)
            {
                using var folder = WorkFolder.Create(_root);
                File.WriteAllBytes(Path.Combine(folder.Path, "part-00000.parquet"), [1, 2, 3]);
                Assert.True(File.Exists(Path.Combine(folder.Path, "part-00000.parquet")), $"attempt {i}: a live run's folder was removed (by the sweep: {swept.Contains(folder.Path)}; exists {Directory.Exists(folder.Path)}, lock {File.Exists(folder.Path + ".lock")})");
                Assert.True(File.Exists(folder.Path + ".lock"), $"attempt {i}: a live run's lock file was removed (folder swept: {swept.Contains(folder.Path)}; exists {Directory.Exists(folder.Path)})");
            }
        }
        finally
        {
            await stop.CancelAsync();
        }
        Assert.True(await sweeper > 0);
        Assert.Empty(WorkFolder.RemoveStale(_root));
    }
}
