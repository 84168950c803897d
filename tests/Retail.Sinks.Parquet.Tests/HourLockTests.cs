namespace Retail.Sinks.Parquet.Tests;

public sealed class HourLockTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "retail-hourlock-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    [Fact]
    public async Task FileHourLockTryAcquire_HeldByAnotherHandle_NullUntilReleasedAndFileKept()
    {
        string path = Path.Combine(_root, "a", "b", HourLock.LockName);
        var held = HourLock.FileHourLock.TryAcquire(path);
        Assert.NotNull(held);

        Assert.Null(HourLock.FileHourLock.TryAcquire(path));

        await held.DisposeAsync();
        Assert.True(File.Exists(path)); // never deleted: see FileHourLock's remarks
        var again = HourLock.FileHourLock.TryAcquire(path);
        Assert.NotNull(again);
        await again.DisposeAsync();
    }

    [Fact]
    public void FileHourLockTryAcquire_PathUnderAFile_ThrowsInsteadOfReportingBusy()
    {
        Directory.CreateDirectory(_root);
        string file = Path.Combine(_root, "file");
        File.WriteAllText(file, "");

        Assert.ThrowsAny<IOException>(() => HourLock.FileHourLock.TryAcquire(Path.Combine(file, HourLock.LockName)));
    }
}
