using System.CommandLine;
using Retail.Storage;

namespace Retail.Cli;

/// <summary>The <c>--lake</c> option every command shares, and the checks that turn a bad path into one clear line.</summary>
internal static class LakeOption
{
    /// <summary>The lake's own folders: what a lake "holds", and all that <c>--replace</c> removes.</summary>
    public static readonly string[] Folders = [LakeLayout.JsonPrefix, LakeLayout.ErrorPrefix, LakeLayout.ParquetPrefix, LakeLayout.ControlPrefix];

    /// <summary>
    /// <c>--lake DIR</c> (default <c>retail-lake</c>). A path that is a file is refused at parse time; with
    /// <paramref name="mustExist"/> so is a missing folder.
    /// </summary>
    public static Option<DirectoryInfo> Create(bool mustExist)
    {
        var lake = new Option<DirectoryInfo>("--lake") { Description = "The lake folder.", DefaultValueFactory = _ => new DirectoryInfo("retail-lake") };
        lake.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<DirectoryInfo>() is not { } d) return;
            if (File.Exists(d.FullName)) r.AddError($"--lake {d.FullName} is a file, not a folder.");
            else if (mustExist && !d.Exists) r.AddError($"--lake {d.FullName} does not exist.");
        });
        return lake;
    }

    /// <summary>
    /// <c>--lake DIR|s3://bucket[/prefix]</c> (default <c>retail-lake</c>) for the commands that can work on a bucket.
    /// A bad S3 URI is refused at parse time naming it; a folder is checked as <see cref="Create"/> checks it.
    /// </summary>
    public static Option<string> CreateLocation(bool mustExist)
    {
        var lake = new Option<string>("--lake") { Description = "The lake: a folder, or s3://bucket[/prefix].", DefaultValueFactory = _ => "retail-lake" };
        lake.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is not { } value) return;
            if (IsS3(value))
            {
                try { Sinks.S3.S3LakeOptions.ParseUri(value); }
                catch (ArgumentException e) { r.AddError($"--lake {e.Message}"); }
                return;
            }
            string full = Path.GetFullPath(value);
            if (File.Exists(full)) r.AddError($"--lake {full} is a file, not a folder.");
            else if (mustExist && !Directory.Exists(full)) r.AddError($"--lake {full} does not exist.");
        });
        return lake;
    }

    /// <summary><c>--s3-endpoint-url URL</c>: an S3-compatible store (turns on its settings: path style, no chunked encoding, checksums when required).</summary>
    public static Option<string?> CreateS3Endpoint()
    {
        var endpoint = new Option<string?>("--s3-endpoint-url") { Description = "The endpoint of an S3-compatible store for an s3:// --lake (such as http://127.0.0.1:4569)." };
        endpoint.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
                r.AddError($"--s3-endpoint-url '{url}' is not an absolute http:// or https:// URL.");
        });
        return endpoint;
    }

    /// <summary>True when <paramref name="lake"/> names a bucket (<c>s3://…</c>).</summary>
    public static bool IsS3(string lake) => lake.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Proves an S3 lake can be written before anything runs: a probe object under <c>_retail/</c>, put and deleted.
    /// </summary>
    /// <exception cref="CliException">The bucket cannot be written; the message is the store's (bucket, key, operation).</exception>
    public static async Task EnsureWritableAsync(IObjectStore store, string lake, CancellationToken ct)
    {
        string probe = $"{LakeLayout.ControlPrefix}.probe-{Guid.NewGuid():N}";
        try
        {
            await store.PutAsync(probe, new byte[] { 1 }, ct).ConfigureAwait(false);
            await store.DeleteAsync(probe, ct).ConfigureAwait(false);
        }
        catch (ObjectStoreException e)
        {
            throw new CliException($"--lake {lake} cannot be used as a lake: {e.Message}", 2, e);
        }
    }

    /// <summary>
    /// Creates the lake folder if needed and proves it can be written (a probe file under <c>_retail/</c>), so a
    /// lake on <c>/proc</c>, a read-only or full file system or a path through a file fails before anything runs,
    /// with the reason in words.
    /// </summary>
    /// <exception cref="CliException">The folder cannot be created or written.</exception>
    public static void EnsureWritable(string lake)
    {
        foreach (string folder in Folders)
        {
            string path = FolderPath(lake, folder);
            if (File.Exists(path))
                throw new CliException($"--lake {lake} cannot be used as a lake: {path} is a file where the lake keeps its {folder} folder; move it away.", 2);
        }
        string probe = Path.Combine(lake, LakeLayout.ControlPrefix.TrimEnd('/'), $".probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = FailureClassification.IsPermanent(e, out string? cause) ? cause : e.Message;
            throw new CliException($"--lake {lake} cannot be used as a lake: {why} (writing {probe} failed: {e.Message}).", 2, e);
        }
    }

    /// <summary>How many objects the lake's own folders hold (stops counting at <paramref name="limit"/>).</summary>
    public static async Task<long> CountObjectsAsync(string lake, int limit, CancellationToken ct)
    {
        if (!Directory.Exists(lake)) return 0;
        var store = new LocalFolderObjectStore(lake);
        long n = 0;
        foreach (string folder in Folders)
        {
            var page = await store.ListPageAsync(folder, null, limit, ct).ConfigureAwait(false);
            n += page.Objects.Count;
            if (n >= limit) break;
        }
        return n;
    }

    private static string FolderPath(string lake, string folder) => Path.Combine(lake, folder.TrimEnd('/'));

    /// <summary>Removes the lake's own folders (nothing else under <paramref name="lake"/>).</summary>
    public static void Empty(string lake)
    {
        foreach (string folder in Folders)
        {
            string path = FolderPath(lake, folder);
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--replace could not remove {path}: {e.Message}", 1, e);
            }
        }
    }
}
