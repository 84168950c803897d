using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Retail.Hosting.Dashboard;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Cli;

/// <summary>
/// The dashboard web server of <c>retail serve</c> and <c>retail demo --serve</c>: Kestrel on the given URLs (loopback by
/// default) with the dashboard at <c>/</c>, over the given query engine and speed-layer view.
/// </summary>
internal static class DashboardServer
{
    /// <summary>Where the dashboard listens unless told otherwise: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>The Host header values a loopback-only server answers (any port).</summary>
    internal static readonly string[] LoopbackHosts = ["127.0.0.1", "localhost", "[::1]"];

    /// <summary><c>--urls URL[;URL…]</c>, checked at parse time: absolute http:// or https:// URLs with a host.</summary>
    public static Option<string> CreateUrlsOption()
    {
        var urls = new Option<string>("--urls") { Description = $"Where the dashboard listens (ASP.NET Core's format; ';' between several). Loopback unless told otherwise.", DefaultValueFactory = _ => DefaultUrls };
        urls.Validators.Add(r =>
        {
            foreach (var problem in Check(r.GetValueOrDefault<string>() ?? "")) r.AddError(problem);
        });
        return urls;
    }

    /// <summary>Every problem with <paramref name="urls"/>, each naming the option and the bad URL.</summary>
    internal static IEnumerable<string> Check(string urls)
    {
        var parts = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) yield return "--urls must give at least one URL, such as http://127.0.0.1:5080.";
        foreach (var part in parts)
        {
            if (!TryParse(part, out var u) || u.Scheme is not ("http" or "https") || string.IsNullOrEmpty(u.Host))
                yield return $"--urls '{part}' is not an http:// or https:// URL with a host and port (such as http://127.0.0.1:5080).";
            else if (u.AbsolutePath != "/" || u.Query.Length > 0)
                yield return $"--urls '{part}' has a path; the dashboard is served at the root of each URL.";
        }
    }

    /// <summary>
    /// One of a user's <c>--urls</c> as a URI. Kestrel's wildcard hosts (<c>http://*:5080</c>, <c>http://+:5080</c>), which a
    /// user may give to listen on every interface, are not URIs: they are read as the any-address, so they count as
    /// non-loopback.
    /// </summary>
    private static bool TryParse(string url, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out uri);

    /// <summary>The URLs that listen beyond this machine (anything but loopback).</summary>
    internal static IEnumerable<string> NonLoopback(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(part =>
        {
            if (!TryParse(part, out var u)) return false;
            if (u.IsLoopback) return false;
            return !(IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        });

    /// <summary>
    /// Starts the server and returns it once it listens, with the addresses it bound (port 0 resolved). Stop it with
    /// <see cref="IAsyncDisposable.DisposeAsync"/> (after <c>StopAsync</c>).
    /// </summary>
    /// <exception cref="CliException">Kestrel could not bind (the port is in use, or the address is not this machine's).</exception>
    public static async Task<(WebApplication App, IReadOnlyList<string> Addresses)> StartAsync(string urls, IQueryEngine engine, ISpeedLayerView? view, TextWriter stderr, CancellationToken ct)
    {
        foreach (var url in NonLoopback(urls))
            await stderr.WriteLineAsync($"[WARN] --urls {url} listens beyond this machine: anyone who can reach it sees the lake's figures (the dashboard has no login).").ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        // stdout carries the command's data (the demo's summary): the server's log goes to stderr, all of it.
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        // The command's own Ctrl-C handling stops the server; the host must not install a second one.
        builder.Services.AddSingleton<IHostLifetime, NoConsoleLifetime>();
        builder.Services.AddSingleton(engine);
        if (view is not null) builder.Services.AddSingleton(view);
        // Listening on loopback only: requests must name a loopback host too, so a web page the user visits cannot read
        // the figures through a DNS name rebound to 127.0.0.1 (DNS rebinding).
        bool loopbackOnly = !NonLoopback(urls).Any();
        if (loopbackOnly) builder.Services.Configure<HostFilteringOptions>(o => o.AllowedHosts = LoopbackHosts);
        var app = builder.Build();
        if (loopbackOnly) app.UseHostFiltering();
        app.MapRetailDashboard("/");
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"cannot listen on --urls {urls}: {e.Message} (is another server using the port? choose another with --urls)", 1, e);
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        return (app, addresses);
    }

    /// <summary>Waits until <paramref name="ct"/> is cancelled (Ctrl-C, SIGTERM) or the app stops on its own.</summary>
    public static async Task ServeUntilStoppedAsync(WebApplication app, CancellationToken ct)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = ct.Register(() => stopped.TrySetResult());
        using var b = app.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
        await stopped.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// The dashboard's engine and speed-layer view before the command has opened them (<c>retail demo --serve</c> listens
    /// first, then empties the lake if told to, then opens it): until <see cref="Open"/>, every call fails, which the
    /// dashboard answers with a one-line 503.
    /// </summary>
    internal sealed class DeferredServices : IQueryEngine, ISpeedLayerView
    {
        private volatile IQueryEngine? _engine;
        private volatile ISpeedLayerView? _view;
        private volatile bool _opened;

        public void Open(IQueryEngine engine, ISpeedLayerView? view)
        {
            _view = view;
            _engine = engine;
            _opened = true;
        }

        public ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default) =>
            (_engine ?? throw Starting()).QueryAsync(sql, parameters, maxRows, cancellationToken);

        public ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default) =>
            _view is { } view ? view.HistogramAsync(request, cancellationToken)
                : _opened ? ValueTask.FromResult(new SpeedLayerHistogram([], 0, 0, false))
                : throw Starting();

        private static InvalidOperationException Starting() => new("The demo is starting: the lake is not open yet.");
    }

    private sealed class NoConsoleLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
