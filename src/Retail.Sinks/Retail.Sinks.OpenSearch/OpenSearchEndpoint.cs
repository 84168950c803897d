using System.Diagnostics.CodeAnalysis;

namespace Retail.Sinks.OpenSearch;

/// <summary>Reads <see cref="OpenSearchOptions.Endpoint"/>: a URL, or a bare host name (the workshop's ES_HOST) taken as https.</summary>
internal static class OpenSearchEndpoint
{
    public static bool TryParse(string? value, [NotNullWhen(true)] out Uri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "must be set";
            return false;
        }
        string text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "https://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || string.IsNullOrEmpty(u.Host))
        {
            error = "must be an http:// or https:// URL or a host name";
            return false;
        }
        if (!string.IsNullOrEmpty(u.UserInfo))
        {
            error = "must not carry credentials (use OpenSearchOptions.Auth = Basic with Username and Password)";
            return false;
        }
        if (!string.IsNullOrEmpty(u.Query) || !string.IsNullOrEmpty(u.Fragment))
        {
            error = "must not have a query or a fragment";
            return false;
        }
        // A base for relative paths: always ends in '/'.
        var b = new UriBuilder(u);
        if (!b.Path.EndsWith('/')) b.Path += "/";
        uri = b.Uri;
        error = null;
        return true;
    }

    public static Uri Parse(string? value) =>
        TryParse(value, out var uri, out var error) ? uri : throw new ArgumentException($"OpenSearchOptions.Endpoint {error}, got '{Redact(value)}'.");

    /// <summary>The endpoint as it may be shown in a message: any <c>user:password@</c> before the host replaced by <c>***@</c>.</summary>
    public static string? Redact(string? value)
    {
        if (value is null) return null;
        int start = value.IndexOf("://", StringComparison.Ordinal);
        start = start < 0 ? 0 : start + 3;
        int end = value.IndexOfAny(['/', '?', '#'], start);
        if (end < 0) end = value.Length;
        int at = value.LastIndexOf('@', end - 1, end - start);
        return at < 0 ? value : string.Concat(value.AsSpan(0, start), "***", value.AsSpan(at));
    }
}
