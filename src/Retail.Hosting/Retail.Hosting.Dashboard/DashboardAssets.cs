using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace Retail.Hosting.Dashboard;

/// <summary>One file the dashboard serves: its bytes, content type and entity tag.</summary>
internal sealed record DashboardAsset(byte[] Content, string ContentType, string ETag)
{
    public static DashboardAsset Create(byte[] content, string contentType) =>
        new(content, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16)) + "\"");
}

/// <summary>
/// The files embedded in this assembly (see the csproj): the page's own <c>wwwroot/…</c> (logical names
/// <c>wwwroot/&lt;path&gt;</c>) and chart.js from npm (<c>npm/chart.js/chart.umd.js</c>) with its licences.
/// </summary>
internal static class DashboardAssets
{
    public const string IndexResource = "wwwroot/index.html";
    public const string ChartJsResource = "npm/chart.js/chart.umd.js";
    public const string TitleToken = "{{TITLE}}";
    public const string LiveRefreshToken = "{{LIVE_REFRESH_MS}}";

    private const string WwwRoot = "wwwroot/";

    /// <summary>Content types by file extension; a file with another extension is not served.</summary>
    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".html"] = "text/html; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
        [".map"] = "application/json; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".webp"] = "image/webp",
        [".woff2"] = "font/woff2",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Assets by their path below <c>{prefix}/assets/</c> (ordinal, case-sensitive), built once.</summary>
    public static FrozenDictionary<string, DashboardAsset> Files { get; } = LoadFiles();

    /// <summary>The page: <c>wwwroot/index.html</c> with its tokens replaced, or null when this build embeds none.</summary>
    public static DashboardAsset? Page(RetailDashboardOptions options) => Read(IndexResource) is { } html ? Render(html, options) : null;

    /// <summary>The page from its template: <c>{{TITLE}}</c> HTML-encoded, <c>{{LIVE_REFRESH_MS}}</c> an integer.</summary>
    internal static DashboardAsset Render(byte[] html, RetailDashboardOptions options)
    {
        string text = Encoding.UTF8.GetString(html)
            .Replace(TitleToken, HtmlEncoder.Default.Encode(options.Title), StringComparison.Ordinal)
            .Replace(LiveRefreshToken, ((long)options.LiveRefresh.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return DashboardAsset.Create(Encoding.UTF8.GetBytes(text), ContentTypes[".html"]);
    }

    private static FrozenDictionary<string, DashboardAsset> LoadFiles()
    {
        var files = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (string name in typeof(DashboardAssets).Assembly.GetManifestResourceNames())
        {
            string normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(WwwRoot, StringComparison.Ordinal) || normalized == IndexResource) continue;
            string path = normalized[WwwRoot.Length..];
            if (ContentTypes.TryGetValue(Path.GetExtension(path), out string? type) && Read(name) is { } content)
                files[path] = DashboardAsset.Create(content, type);
        }
        // chart.js and the licences of what its UMD bundle holds (chart.js, @kurkle/color): fixed names.
        foreach (var (path, resource, type) in new[]
        {
            ("chart.umd.js", ChartJsResource, ContentTypes[".js"]),
            ("licenses/chart.js.txt", "npm/chart.js/LICENSE.md", ContentTypes[".txt"]),
            ("licenses/kurkle-color.txt", "npm/@kurkle/color/LICENSE.md", ContentTypes[".txt"]),
        })
        {
            if (Read(resource) is { } content) files[path] = DashboardAsset.Create(content, type);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[]? Read(string resource)
    {
        var assembly = typeof(DashboardAssets).Assembly;
        using var stream = assembly.GetManifestResourceStream(resource);
        if (stream is null) return null;
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }
}
