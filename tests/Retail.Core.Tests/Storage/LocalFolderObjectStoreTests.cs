using System.Text;
using Retail.Storage;

namespace Retail.Core.Tests.Storage;

public class LocalFolderObjectStoreTests
{
    [Fact]
    public async Task PutGetListDelete_RoundTripsBytesInKeyOrderWithPages()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var keys = new[] { "a/b/2", "a/b/1", "a/c", "a/b/10", "b/x", "a/b £/é" };
        foreach (var k in keys) await store.PutAsync(k, Encoding.UTF8.GetBytes("data:" + k));

        var all = new List<string>();
        string? token = null;
        do
        {
            var page = await store.ListPageAsync("a/", token, maxKeys: 2);
            Assert.True(page.Objects.Count <= 2);
            all.AddRange(page.Objects.Select(o => o.Key));
            token = page.ContinuationToken;
        }
        while (token is not null);
        Assert.Equal(keys.Where(k => k.StartsWith("a/", StringComparison.Ordinal)).Order(StringComparer.Ordinal), all);

        Assert.Equal(["a/b/1", "a/b/10"], await store.ListAsync("a/b/1").Select(o => o.Key).ToListAsync());
        foreach (var k in keys) Assert.Equal("data:" + k, Encoding.UTF8.GetString(await store.GetBytesAsync(k)));
        await store.DeleteAsync("a/c");
        await store.DeleteAsync("a/c"); // not there: no error
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await store.OpenReadAsync("a/c"));
        Assert.Null(await store.GetInfoAsync("a/c"));
        Assert.Equal(8, (await store.GetInfoAsync("b/x"))!.Size);
    }

    [Fact]
    public async Task Put_Overwrite_ReplacesWholeObjectAndLeavesNoTempFiles()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await store.PutAsync("k", new byte[100_000]);
        await store.PutAsync("k", new MemoryStream(Encoding.UTF8.GetBytes("short")));
        Assert.Equal("short", Encoding.UTF8.GetString(await store.GetBytesAsync("k")));
        Assert.Single(Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\b")]
    [InlineData("a/\0/b")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("")]
    public async Task Put_KeyThatCouldEscapeRoot_IsRejected(string key)
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await store.PutAsync(key, new byte[1]));
        Assert.Contains("not allowed", ex.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(dir.Path)!, "outside"));
    }

    [Fact]
    public async Task PutFileAsync_MovesTheFileInWithTheSameBytesAndTheMd5ETagLeavingNothingBehind()
    {
        using var dir = new TempDir();
        using var work = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        byte[] content = new byte[3_000_000];
        new Random(7).NextBytes(content);
        string source = Path.Combine(work.Path, "part-00000.parquet");
        await File.WriteAllBytesAsync(source, content);
        await store.PutAsync("p/part-00000.parquet", "old"u8.ToArray());   // replaced whole

        await store.PutFileAsync("p/part-00000.parquet", source);

        Assert.False(File.Exists(source));
        Assert.Equal(content, await store.GetBytesAsync("p/part-00000.parquet"));
        var info = await store.GetInfoAsync("p/part-00000.parquet");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(content)), info!.ETag);
        Assert.Equal(info.ETag, Assert.Single(await store.ListAsync("p/").ToListAsync()).ETag);
        Assert.Equal(["part-00000.parquet"], Directory.GetFiles(Path.Combine(dir.Path, "p")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task PutFileAsync_MissingSourceOrEscapingKey_RefusedAndTheStoreUnchanged()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        string source = Path.Combine(dir.Path, "..", "retail-put-file-" + Guid.NewGuid().ToString("N"));
        await Assert.ThrowsAsync<FileNotFoundException>(async () => await store.PutFileAsync("p/x", source));
        await File.WriteAllBytesAsync(source, [1, 2, 3]);
        try
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await store.PutFileAsync("../escape", source));
            Assert.True(File.Exists(source));
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories));
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public void TryParseHourPartition_FindsHour()
    {
        Assert.Equal(new DateTime(2009, 12, 1, 7, 0, 0), LakeLayout.TryParseHourPartition("json-data/year=2009/month=12/day=01/hour=07/x"));
        Assert.Null(LakeLayout.TryParseHourPartition("json-data/year=2009/month=13/day=01/hour=07/x"));
        Assert.Null(LakeLayout.TryParseHourPartition("json-data/2009/12/01/07/x"));
    }
}

public class LocalFolderObjectStoreTemporaryFileTests
{
    private static int DeadProcessId()
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public void RemoveStaleTemporaryFiles_KilledWritersFilesGoLiveWritersFilesStay()
    {
        using var dir = new TempDir();
        var store = new Retail.Storage.LocalFolderObjectStore(dir.Path);
        string hour = Path.Combine(dir.Path, "json-data", "year=2010", "month=12", "day=01", "hour=08");
        Directory.CreateDirectory(hour);
        string dead = Path.Combine(hour, $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}{DeadProcessId()}-0123");
        string mine = Path.Combine(hour, $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}{Environment.ProcessId}-4567");
        string init = Path.Combine(hour, $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}1-89ab"); // a live process, not ours
        string other = Path.Combine(dir.Path, "parquet-retail-trans", $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}{DeadProcessId()}-cdef");
        Directory.CreateDirectory(Path.GetDirectoryName(other)!);
        string oldStale = Path.Combine(hour, $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}0123456789abcdef0123456789abcdef");
        string oldFresh = Path.Combine(hour, $"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}fedcba9876543210fedcba9876543210");
        foreach (var f in new[] { dead, mine, init, other, oldStale, oldFresh }) File.WriteAllText(f, "partial");
        File.SetLastWriteTimeUtc(oldStale, DateTime.UtcNow.AddHours(-2));
        File.WriteAllText(Path.Combine(hour, "retail-trans-1-2010-12-01-08-00-00-x"), "{}\n");

        var removed = store.RemoveStaleTemporaryFiles("json-data/");

        Assert.Equal(new[] { dead, oldStale }.Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
        Assert.True(File.Exists(oldFresh)); // an earlier version's name, written recently: perhaps live
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(mine));
        Assert.True(File.Exists(init));
        Assert.True(File.Exists(other)); // outside the prefix
        Assert.True(File.Exists(Path.Combine(hour, "retail-trans-1-2010-12-01-08-00-00-x")));
    }

    [Fact]
    public async Task PutAsync_TemporaryFileNamesTheWritingProcess()
    {
        using var dir = new TempDir();
        var store = new Retail.Storage.LocalFolderObjectStore(dir.Path);
        string seen = "";
        using var watcher = new FileSystemWatcher(dir.Path) { IncludeSubdirectories = true };
        var created = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Directory.CreateDirectory(Path.Combine(dir.Path, "a"));
        watcher.Created += (_, e) => created.TrySetResult(e.Name ?? "");
        watcher.EnableRaisingEvents = true;
        await store.PutAsync("a/b", new byte[] { 1, 2, 3 });
        seen = Path.GetFileName(await created.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith($"{Retail.Storage.LocalFolderObjectStore.TemporaryFilePrefix}{Environment.ProcessId}-", seen, StringComparison.Ordinal);
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(Path.Combine(dir.Path, "a", "b")));
    }
}

public class LocalFolderObjectStoreRootTests
{
    [Fact]
    public void GetPath_StoreRootedAtFileSystemRoot_KeysResolveInsideIt()
    {
        var store = new Retail.Storage.LocalFolderObjectStore("/");
        Assert.Equal("/json-data/x", store.GetPath("json-data/x"));
        Assert.Throws<ArgumentException>(() => store.GetPath("../x"));
    }
}
