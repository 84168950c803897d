using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Hosting.Dashboard;

/// <summary>Maps the Retail dashboard into an ASP.NET Core application.</summary>
public static class RetailDashboardEndpointRouteBuilderExtensions
{
    /// <summary>The page's <c>Content-Security-Policy</c>: everything from the application itself, nothing from elsewhere.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>
    /// Maps the dashboard under <paramref name="prefix"/>: the page at <c>{prefix}/</c> (<c>{prefix}</c> redirects there),
    /// its assets under <c>{prefix}/assets/…</c> (chart.js included: nothing comes from a CDN) and the JSON API under
    /// <c>{prefix}/api/…</c> (<c>summary</c>, <c>daily</c>, <c>monthly</c>, <c>top-countries</c>, <c>top-products</c>,
    /// <c>countries</c>, <c>live</c>; GET only).
    /// </summary>
    /// <remarks>
    /// <para>At request time the API resolves from <paramref name="endpoints"/>' services an <see cref="IQueryEngine"/>
    /// (required: without one every batch-layer call answers 503 naming it) and an <see cref="ISpeedLayerView"/>
    /// (optional: without one <c>api/live</c> answers <c>"available": false</c>).</para>
    /// <para>The API runs fixed SQL only: request values are checked (dates <c>yyyy-MM-dd</c>, a country of letters,
    /// digits, spaces and <c>. , &amp; ( ) -</c>, an integer limit, an interval name) and reach the engine only as
    /// positional parameters; an unknown parameter, one given twice or a bad value answers 400
    /// <c>{"error", "parameter"}</c> naming it. Every list is bounded by <see cref="RetailDashboardOptions.MaxRows"/>.
    /// An engine failure answers 503 with a one-line message; the exception is logged, never sent.</para>
    /// </remarks>
    /// <param name="endpoints">The application (or any endpoint route builder).</param>
    /// <param name="prefix">The path the dashboard lives under, e.g. <c>/retail</c> or <c>/shop/retail</c>; <c>""</c> or <c>/</c> for the site root.</param>
    /// <param name="configure">Adjusts the <see cref="RetailDashboardOptions"/>.</param>
    /// <returns>The dashboard's route group, for conventions such as <c>RequireAuthorization()</c>.</returns>
    /// <exception cref="ArgumentException">The prefix is not a path, or the options are invalid (the message lists each problem, naming the property).</exception>
    public static RouteGroupBuilder MapRetailDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/retail", Action<RetailDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        string normalized = NormalizePrefix(prefix);
        var options = new RetailDashboardOptions();
        configure?.Invoke(options);
        var failures = options.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(configure));
        options = options.Clone();

        var services = endpoints.ServiceProvider;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger(Log.Category) ?? NullLogger.Instance;
        var api = new DashboardApi(services, options, logger);
        var page = DashboardAssets.Page(options);
        var assets = DashboardAssets.Files;

        var group = endpoints.MapGroup(normalized.Length == 0 ? "/" : normalized);
        group.MapGet("/", new RequestDelegate(context => PageAsync(context, page)));
        group.MapGet("/assets/{**path}", new RequestDelegate(context => AssetAsync(context, assets)));
        group.MapGet("/api/summary", new RequestDelegate(api.SummaryAsync));
        group.MapGet("/api/daily", new RequestDelegate(api.DailyAsync));
        group.MapGet("/api/monthly", new RequestDelegate(api.MonthlyAsync));
        group.MapGet("/api/top-countries", new RequestDelegate(api.TopCountriesAsync));
        group.MapGet("/api/top-products", new RequestDelegate(api.TopProductsAsync));
        group.MapGet("/api/countries", new RequestDelegate(api.CountriesAsync));
        group.MapGet("/api/live", new RequestDelegate(api.LiveAsync));
        Log.Mapped(logger, normalized, page is not null, assets.Count);
        return group;
    }

    /// <summary><c>""</c> for the root, else <c>/a/b</c> (no trailing slash).</summary>
    internal static string NormalizePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string p = prefix.Trim();
        if (p.Length == 0 || p == "/") return "";
        if (p[0] != '/' || p.EndsWith("//", StringComparison.Ordinal))
            throw new ArgumentException($"The dashboard's prefix must be a path starting with '/', such as '/retail', or '' for the site root (got '{prefix}').", nameof(prefix));
        p = p.TrimEnd('/');
        foreach (string segment in p[1..].Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')))
                throw new ArgumentException($"The dashboard's prefix '{prefix}' must be segments of letters, digits and - _ . ~ separated by single '/' (segment '{segment}').", nameof(prefix));
        }
        return p;
    }

    private static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private static Task PageAsync(HttpContext context, DashboardAsset? page)
    {
        var request = context.Request;
        var response = context.Response;
        SecurityHeaders(response);
        // The page's URLs are relative (assets/…, api/…): they resolve under the prefix only from "{prefix}/".
        if (!request.Path.HasValue || !request.Path.Value.EndsWith('/'))
        {
            string location = (request.PathBase + request.Path).ToUriComponent() + "/" + request.QueryString.ToUriComponent();
            if (location.StartsWith("//", StringComparison.Ordinal) || location.StartsWith("/\\", StringComparison.Ordinal))
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            response.Redirect(location);
            return Task.CompletedTask;
        }
        if (page is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync("This build of Retail.Hosting.Dashboard embeds no page (wwwroot/index.html).", context.RequestAborted);
        }
        response.Headers.CacheControl = "no-cache";
        return WriteAsync(context, page);
    }

    private static Task AssetAsync(HttpContext context, IReadOnlyDictionary<string, DashboardAsset> assets)
    {
        var response = context.Response;
        SecurityHeaders(response);
        if (context.Request.RouteValues["path"] is not string path || !assets.TryGetValue(path, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        // Revalidated on every use (the embedded files change with the package), answered 304 while unchanged.
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch is { Count: > 0 } ifNoneMatch && Matches(ifNoneMatch, asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        return WriteAsync(context, asset);
    }

    private static bool Matches(StringValues ifNoneMatch, string etag)
    {
        foreach (string? value in ifNoneMatch)
        {
            if (value is null) continue;
            foreach (string tag in value.Split(',', StringSplitOptions.TrimEntries))
                if (tag == "*" || tag == etag || tag == "W/" + etag) return true;
        }
        return false;
    }

    private static Task WriteAsync(HttpContext context, DashboardAsset asset)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }
}
