namespace Retail.Sinks.Parquet;

/// <summary>
/// A run's local folder for the parts it writes before publishing them: <c>retail-compaction-&lt;run id&gt;/</c>
/// under <see cref="ParquetCompactorOptions.LocalTempPath"/>, beside the lock file
/// <c>retail-compaction-&lt;run id&gt;.lock</c> that the run holds (an OS lock) for as long as the folder is in use.
/// </summary>
/// <remarks>
/// The lock file is created and locked before the folder, and deleted after it, so a folder whose lock can be taken
/// belongs to a run that is gone (killed, or crashed before its clean-up): <see cref="RemoveStale"/> deletes those.
/// </remarks>
internal sealed class WorkFolder : IDisposable
{
    public const string NamePrefix = "retail-compaction-";
    private const string LockSuffix = ".lock";
    private const int RunIdLength = 32;

    private readonly FileStream _lock;

    private WorkFolder(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Locks, then creates, the folder of run <paramref name="runId"/> (32 hex digits) under <paramref name="root"/>.</summary>
    public static WorkFolder Create(string root, string runId)
    {
        string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, NamePrefix + runId));
        Directory.CreateDirectory(root);
        var lockFile = new FileStream(path + LockSuffix, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        try
        {
            Directory.CreateDirectory(path);
            return new WorkFolder(path, lockFile);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Deletes the folder, then releases and deletes its lock file.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        _lock.Dispose();
    }

    /// <summary>
    /// Deletes the work folders (and lone lock files) under <paramref name="root"/> that no live run holds; returns
    /// the paths removed. Folders of live runs, and anything not named like a work folder, are left alone.
    /// </summary>
    public static List<string> RemoveStale(string root)
    {
        var removed = new List<string>();
        if (!Directory.Exists(root)) return removed;
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(root, NamePrefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return removed;
        }
        var runs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            string name = System.IO.Path.GetFileName(entry);
            if (name.EndsWith(LockSuffix, StringComparison.Ordinal)) name = name[..^LockSuffix.Length];
            if (IsRunName(name)) runs.Add(name);
        }
        foreach (var name in runs)
        {
            string path = System.IO.Path.Combine(root, name);
            FileStream lockFile;
            try
            {
                // Taking the lock proves the run is gone; DeleteOnClose removes the lock file once the folder is gone.
                lockFile = new FileStream(path + LockSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException e) when (HourLock.IsLockConflict(e))
            {
                continue; // a live run's
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // another user's temporary folder, or not ours to touch
            }
            using (lockFile)
            {
                try
                {
                    if (Directory.Exists(path))
                    {
                        Directory.Delete(path, recursive: true);
                        removed.Add(path);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Left for a later run; the lock file goes with this handle and is re-created then.
                }
            }
        }
        return removed;
    }

    private static bool IsRunName(string name)
    {
        if (name.Length != NamePrefix.Length + RunIdLength || !name.StartsWith(NamePrefix, StringComparison.Ordinal)) return false;
        foreach (char c in name.AsSpan(NamePrefix.Length))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }
}
