using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Retail.Storage;

/// <summary>
/// The local folder store's ETags: the lowercase hex MD5 of a file's content. A put computes it while it writes
/// and keeps it in the file's extended attribute <c>user.retail.etag</c> (on Linux) together with the file's
/// size and last-write time, so listing does not read the files; when the attribute is missing (another OS, a
/// file system without user attributes, a file copied in from outside) or no longer matches the file's size
/// and time (the file was changed in place), the MD5 is computed from the content.
/// </summary>
internal static partial class ContentTags
{
    private const string AttributeName = "user.retail.etag";
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    public static string Hex(ReadOnlySpan<byte> md5) => Convert.ToHexStringLower(md5);

    /// <summary>Records <paramref name="etag"/> for the file as it is now (size and last-write time).</summary>
    public static void Remember(string path, string etag)
    {
        if (s_unavailable) return;
        var info = new FileInfo(path);
        byte[] value = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{etag} {info.Length} {info.LastWriteTimeUtc.Ticks}"));
        try
        {
            _ = SetXattr(path, AttributeName, value, (nuint)value.Length, 0); // best effort: a failure only costs a later read
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
    }

    /// <summary>The ETag of the file <paramref name="file"/> (which exists).</summary>
    public static string Get(FileInfo file)
    {
        if (!s_unavailable && TryRecalled(file) is { } recalled) return recalled;
        string etag;
        using (var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan))
            etag = Hex(MD5.HashData(stream));
        // Kept for the next listing, so a file copied in (or edited in place) is hashed once per version — unless it
        // changed while it was read, when the hash may be of neither version.
        var after = new FileInfo(file.FullName);
        if (after.Exists && after.Length == file.Length && after.LastWriteTimeUtc == file.LastWriteTimeUtc) Remember(file.FullName, etag);
        return etag;
    }

    private static string? TryRecalled(FileInfo file)
    {
        Span<byte> buffer = stackalloc byte[96];
        nint n;
        try
        {
            n = GetXattr(file.FullName, AttributeName, buffer, (nuint)buffer.Length);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return null;
        }
        if (n <= 0) return null;
        var parts = Encoding.ASCII.GetString(buffer[..(int)n]).Split(' ');
        return parts.Length == 3 && parts[0].Length == 32
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size == file.Length
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) && ticks == file.LastWriteTimeUtc.Ticks
            ? parts[0] : null;
    }

    [LibraryImport("libc.so.6", EntryPoint = "setxattr", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetXattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "getxattr", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetXattr(string path, string name, Span<byte> value, nuint size);
}
