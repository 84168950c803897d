using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
namespace Retail.Storage;

/// <summary>
/// The embedded object store: a folder on the local disk. Key <c>a/b/c</c> is the file
/// <c>ROOT/a/b/c</c>. A put writes a temporary file beside the target, flushes it to disk, then
/// renames it over the target, so readers never see a partial object. Keys that could escape the
/// root (<c>..</c>, absolute paths, NUL, backslashes) are rejected. An object's ETag is the lowercase hex MD5
/// of its content (what S3 gives for a single-part upload), computed as the put writes it and kept with the file
/// (see <see cref="ObjectInfo.ETag"/>).
/// </summary>
public sealed class LocalFolderObjectStore : IObjectStore
{
    /// <summary>
    /// How the store's temporary files start: <c>.retail-tmp-&lt;writer's process id&gt;-&lt;guid&gt;</c>. They are
    /// never listed; <see cref="RemoveStaleTemporaryFiles"/> removes those a killed process left.
    /// </summary>
    public const string TemporaryFilePrefix = ".retail-tmp-";

    /// <summary>Uses (and creates) the folder <paramref name="rootPath"/>.</summary>
    public LocalFolderObjectStore(string rootPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootPath);
        RootPath = Path.GetFullPath(rootPath);
        Directory.CreateDirectory(RootPath);
    }

    /// <summary>The absolute path of the root folder.</summary>
    public string RootPath { get; }

    /// <summary>The file path of <paramref name="key"/> (validated; always inside <see cref="RootPath"/>).</summary>
    public string GetPath(string key)
    {
        ObjectKeys.Validate(key);
        string path = Path.GetFullPath(Path.Combine(RootPath, key));
        // (A root of "/" already ends in the separator.)
        string inside = Path.EndsInDirectorySeparator(RootPath) ? RootPath : RootPath + Path.DirectorySeparatorChar;
        if (!path.StartsWith(inside, StringComparison.Ordinal))
            throw new ArgumentException($"Object key '{key}' resolves outside the store's root.", nameof(key));
        return path;
    }

    /// <inheritdoc />
    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await WriteAtomicallyAsync(key, async (file, ct) =>
        {
            await file.WriteAsync(data, ct).ConfigureAwait(false);
            return ContentTags.Hex(MD5.HashData(data.Span));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        await WriteAtomicallyAsync(key, async (file, ct) =>
        {
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                int n;
                while ((n = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    md5.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return ContentTags.Hex(md5.GetHashAndReset());
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts the finished file <paramref name="sourcePath"/> as <paramref name="key"/> by moving it into the store: no copy
    /// when it is on the store's file system (a copy first when not), flushed to disk, then renamed into place
    /// atomically, as <see cref="PutAsync(string, Stream, CancellationToken)"/> does. The file is gone from
    /// <paramref name="sourcePath"/> afterwards. Its ETag (the MD5 of the content) is computed when it is first asked for
    /// (a listing, <see cref="GetInfoAsync"/>), not here: a writer that has just produced a large file does not pay to hash it.
    /// </summary>
    /// <exception cref="FileNotFoundException"><paramref name="sourcePath"/> does not exist.</exception>
    public async ValueTask PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourcePath);
        string path = GetPath(key);
        if (!File.Exists(sourcePath)) throw new FileNotFoundException($"{sourcePath} does not exist.", sourcePath);
        cancellationToken.ThrowIfCancellationRequested();
        string dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{TemporaryFilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try
        {
            File.Move(sourcePath, temp);
            var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                // A file moved in carries no remembered ETag, so the next reader of its ETag hashes it once.
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private async ValueTask WriteAtomicallyAsync(string key, Func<FileStream, CancellationToken, Task<string>> write, CancellationToken cancellationToken)
    {
        string path = GetPath(key);
        string dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{TemporaryFilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"));
        try
        {
            string etag;
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                etag = await write(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            ContentTags.Remember(temp, etag); // the attribute moves with the file
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = GetPath(key);
        try
        {
            return ValueTask.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(key);
        }
    }

    /// <inheritdoc />
    public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(GetPath(key));
        if (!info.Exists) return ValueTask.FromResult<ObjectInfo?>(null);
        try
        {
            return ValueTask.FromResult<ObjectInfo?>(new ObjectInfo(key, info.Length, info.LastWriteTimeUtc, ContentTags.Get(info)));
        }
        catch (FileNotFoundException)
        {
            return ValueTask.FromResult<ObjectInfo?>(null); // deleted meanwhile
        }
    }

    /// <inheritdoc />
    public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        if (maxKeys < 1) throw new ArgumentOutOfRangeException(nameof(maxKeys), maxKeys, "maxKeys must be at least 1.");
        var page = new List<ObjectInfo>(Math.Min(maxKeys, 1024));
        string? last = null;
        foreach (var (key, file) in Enumerate(prefix, cancellationToken))
        {
            if (continuationToken is not null && string.CompareOrdinal(key, continuationToken) <= 0) continue;
            if (page.Count == maxKeys)
                return ValueTask.FromResult(new ObjectPage(page, last));
            string etag;
            try
            {
                etag = ContentTags.Get(file);
            }
            catch (FileNotFoundException)
            {
                continue; // deleted since the folder was read
            }
            page.Add(new ObjectInfo(key, file.Length, file.LastWriteTimeUtc, etag));
            last = key;
        }
        return ValueTask.FromResult(new ObjectPage(page, null));
    }

    /// <summary>Keys under <paramref name="prefix"/> in ordinal order, walking only the folders the prefix can match.</summary>
    private IEnumerable<(string Key, FileInfo File)> Enumerate(string prefix, CancellationToken cancellationToken)
    {
        int slash = prefix.LastIndexOf('/');
        string dirKey = slash < 0 ? "" : prefix[..slash];
        string start = dirKey.Length == 0 ? RootPath : Path.Combine(RootPath, dirKey);
        if (!Directory.Exists(start)) yield break;
        var results = new List<(string, FileInfo)>();
        Walk(new DirectoryInfo(start), dirKey, prefix, results, cancellationToken);
        results.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        foreach (var r in results) yield return r;
    }

    private static void Walk(DirectoryInfo dir, string dirKey, string prefix, List<(string, FileInfo)> results, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        foreach (var entry in dir.EnumerateFileSystemInfos())
        {
            string key = dirKey.Length == 0 ? entry.Name : dirKey + "/" + entry.Name;
            if (entry is DirectoryInfo sub)
            {
                // Descend only where the prefix can still match.
                string asDir = key + "/";
                if (asDir.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(asDir, StringComparison.Ordinal))
                    Walk(sub, key, prefix, results, ct);
            }
            else if (entry is FileInfo file && key.StartsWith(prefix, StringComparison.Ordinal) && !entry.Name.StartsWith(TemporaryFilePrefix, StringComparison.Ordinal))
            {
                results.Add((key, file));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = GetPath(key);
        try
        {
            File.Delete(path); // no error when the file is not there
        }
        catch (DirectoryNotFoundException)
        {
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Removes the temporary files that writers which are gone (a process killed mid-put) left under
    /// <paramref name="prefix"/>, and returns their paths. A file is removed only when the process that wrote it
    /// (named in the file name) is no longer running and nothing holds the file's lock, so a live put — of this
    /// process or another — is never disturbed. A name without a process id (written by an earlier version) counts as
    /// stale once the file has not been written for an hour.
    /// </summary>
    public IReadOnlyList<string> RemoveStaleTemporaryFiles(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string folder = prefix.Length == 0 ? RootPath : Path.GetDirectoryName(GetPath(prefix.EndsWith('/') ? prefix + "x" : prefix))!;
        var removed = new List<string>();
        if (!Directory.Exists(folder)) return removed;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles(TemporaryFilePrefix + "*", SearchOption.AllDirectories))
        {
            if (!WriterIsGone(file)) continue;
            try
            {
                // The writer holds the file under an exclusive lock while it writes; taking it proves nobody does.
                using (new FileStream(file.FullName, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
                removed.Add(file.FullName);
            }
            catch (IOException) { }          // held (a live writer after all) or already gone
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool WriterIsGone(FileInfo file)
    {
        var rest = file.Name.AsSpan(TemporaryFilePrefix.Length);
        int dash = rest.IndexOf('-');
        if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            // A name from before temporary files carried their writer's process id: gone once untouched for an hour
            // (a writer keeps writing to it until it renames it); its lock is still checked before it is removed.
            return DateTime.UtcNow - file.LastWriteTimeUtc > TimeSpan.FromHours(1);
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
