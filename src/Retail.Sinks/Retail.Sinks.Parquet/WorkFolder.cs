namespace Retail.Sinks.Parquet;

/// <summary>
/// A run's local folder for the parts it writes before publishing them: <c>retail-compaction-&lt;id&gt;/</c> (a fresh id)
/// under <see cref="ParquetCompactorOptions.LocalTempPath"/>, beside the lock file
/// <c>retail-compaction-&lt;id&gt;.lock</c> that the run holds (an OS lock) for as long as the folder is in use.
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

    /// <summary>This process's live work folders: <see cref="RemoveStale"/> never touches them, whatever the OS lock says
    /// (a sweep in this process could otherwise take a lock file in the instant before its run locks it).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);

    private WorkFolder(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>Locks, then creates, a fresh work folder (a new 32-hex-digit id) under <paramref name="root"/>.</summary>
    /// <remarks>
    /// Another run's <see cref="RemoveStale"/> may open a lock file in the instant between its creation here and its
    /// locking (it cannot tell that file from a dead run's): then this lock attempt fails, and that run removes the
    /// file as stale. The folder is then made under a new id; a few collisions in a row are not a real failure.
    /// </remarks>
    public static WorkFolder Create(string root)
    {
        Directory.CreateDirectory(root);
        const int attempts = 8;
        for (int attempt = 1; ; attempt++)
        {
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, NamePrefix + Guid.NewGuid().ToString("N")));
            Live[path] = 0;
            FileStream lockFile;
            try
            {
                // Not DeleteOnClose: .NET unlinks such a file even when its lock fails, which would delete the lock file of the
                // run that holds it. The lock file is deleted explicitly, by whoever holds its lock.
                lockFile = new FileStream(path + LockSuffix, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException e) when (attempt < attempts && HourLock.IsLockConflict(e))
            {
                Live.TryRemove(path, out _);
                continue; // another process's RemoveStale holds it: it deletes the file
            }
            catch
            {
                Live.TryRemove(path, out _);
                throw;
            }
            try
            {
                Directory.CreateDirectory(path);
                return new WorkFolder(path, lockFile);
            }
            catch
            {
                DeleteLockFile(path + LockSuffix);
                lockFile.Dispose();
                Live.TryRemove(path, out _);
                throw;
            }
        }
    }

    /// <summary>Deletes the folder, then deletes its lock file and releases it.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        DeleteLockFile(Path + LockSuffix);
        _lock.Dispose();
        Live.TryRemove(Path, out _);
    }

    /// <summary>Deletes a lock file whose lock the caller holds (names are never reused, so nobody can lock it anew).</summary>
    private static void DeleteLockFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
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
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, name));
            if (Live.ContainsKey(path)) continue; // this process's, in use
            FileStream lockFile;
            try
            {
                // Taking the lock proves the run is gone. Not DeleteOnClose: a failed lock would still unlink the live run's file.
                lockFile = new FileStream(path + LockSuffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
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
                    // Left for a later run; the lock file goes now and is re-created then.
                }
                DeleteLockFile(path + LockSuffix);
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
