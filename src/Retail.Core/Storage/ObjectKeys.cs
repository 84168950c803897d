using System.Text;

namespace Retail.Storage;

/// <summary>Rules every object key obeys, whatever the store.</summary>
public static class ObjectKeys
{
    /// <summary>Largest key, in UTF-8 bytes (S3's limit).</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the problem unless <paramref name="key"/> is a
    /// safe relative key: not empty, at most 1024 UTF-8 bytes, no NUL or other control character, no
    /// backslash, no leading <c>/</c>, no empty, <c>.</c> or <c>..</c> segment. This is what keeps a
    /// key from escaping a local store's root.
    /// </summary>
    public static void Validate(string key, string parameterName = "key")
    {
        if (!IsValid(key, out string? why)) throw new ArgumentException($"Object key '{Printable(key)}' is not allowed: {why}.", parameterName);
    }

    /// <summary>Validates a listing prefix: like a key, but it may be empty and may end with <c>/</c> or a partial segment.</summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length == 0) return;
        string probe = prefix.EndsWith('/') ? prefix + "x" : prefix;
        if (!IsValid(probe, out string? why) && !(probe.EndsWith('.') && IsValid(probe + "x", out _)))
            throw new ArgumentException($"Object key prefix '{Printable(prefix)}' is not allowed: {why}.", parameterName);
    }

    /// <summary>True if <paramref name="key"/> passes <see cref="Validate"/>.</summary>
    public static bool IsValid(string? key, out string? why)
    {
        why = null;
        if (string.IsNullOrEmpty(key)) { why = "it is empty"; return false; }
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes) { why = $"it is longer than {MaxKeyBytes} UTF-8 bytes"; return false; }
        foreach (char c in key)
        {
            if (c == '\0') { why = "it contains NUL"; return false; }
            if (char.IsControl(c)) { why = "it contains a control character"; return false; }
            if (c == '\\') { why = "it contains a backslash"; return false; }
        }
        if (key[0] == '/') { why = "it is absolute (starts with '/')"; return false; }
        if (key.Length >= 2 && key[1] == ':') { why = "it looks like a drive path"; return false; }
        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0) { why = "it has an empty segment ('//' or a trailing '/')"; return false; }
            if (segment is "." or "..") { why = $"it has a '{segment}' segment"; return false; }
        }
        return true;
    }

    private static string Printable(string? s) => s is null ? "(null)" : s.Replace("\0", "\\0", StringComparison.Ordinal);
}
