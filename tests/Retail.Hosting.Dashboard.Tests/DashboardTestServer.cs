using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// A real Kestrel server (<see cref="WebApplication"/>) on <c>http://127.0.0.1:0</c> (a free port) with the dashboard
/// mapped, started and ready: <see cref="StartAsync(IQueryEngine?, ISpeedLayerView?, string, Action{RetailDashboardOptions}?)"/>
/// returns once Kestrel listens, and <see cref="BaseAddress"/> is the address it reports (no sleeps, no port guessing).
/// The host runs in the Production environment (no developer exception page: what a user's server sends). Its log is
/// kept in <see cref="Logs"/>.
/// </summary>
/// <remarks>
/// Use: <c>await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);</c> then
/// <c>server.Client.GetAsync("api/summary")</c> (relative to <see cref="DashboardUrl"/>) or a browser at
/// <see cref="DashboardUrl"/>. The engine and view are registered as instances: the caller keeps owning them.
/// </remarks>
public sealed class DashboardTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<LogEntry> _logs;

    private DashboardTestServer(WebApplication app, Uri baseAddress, string dashboardPath, List<LogEntry> logs)
    {
        _app = app;
        _logs = logs;
        BaseAddress = baseAddress;
        DashboardUrl = new Uri(baseAddress, dashboardPath);
        Client = new HttpClient { BaseAddress = DashboardUrl, Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The dashboard page, e.g. <c>http://127.0.0.1:41234/retail/</c> (ends in <c>/</c>).</summary>
    public Uri DashboardUrl { get; }

    /// <summary>A client whose base address is <see cref="DashboardUrl"/>: <c>GetAsync("api/summary")</c>. Redirects are followed.</summary>
    public HttpClient Client { get; }

    /// <summary>The application's services (e.g. to resolve what a test registered).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Everything logged so far (all categories, Debug and up for <c>Retail.*</c>, Warning and up otherwise).</summary>
    public IReadOnlyList<LogEntry> Logs
    {
        get { lock (_logs) return [.. _logs]; }
    }

    /// <summary>
    /// Starts a server with <c>MapRetailDashboard(prefix, configure)</c> over <paramref name="query"/> (null: none registered)
    /// and <paramref name="view"/> (null: none registered).
    /// </summary>
    public static Task<DashboardTestServer> StartAsync(IQueryEngine? query, ISpeedLayerView? view = null, string prefix = "/retail", Action<RetailDashboardOptions>? configure = null) =>
        StartAsync(services =>
        {
            if (query is not null) services.AddSingleton(query);
            if (view is not null) services.AddSingleton(view);
        }, app => app.MapRetailDashboard(prefix, configure), prefix.TrimEnd('/') + "/");

    /// <summary>
    /// Starts a server whose services <paramref name="services"/> adds to and whose endpoints <paramref name="map"/> maps
    /// (a user's own app); <paramref name="dashboardPath"/> is where <see cref="DashboardUrl"/> and <see cref="Client"/> point.
    /// </summary>
    public static async Task<DashboardTestServer> StartAsync(Action<IServiceCollection> services, Action<WebApplication> map, string dashboardPath = "/retail/")
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var logs = new List<LogEntry>();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Retail", LogLevel.Debug);
        builder.Logging.AddProvider(new ListLoggerProvider(logs));
        services(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new DashboardTestServer(app, new Uri(address.TrimEnd('/') + "/"), dashboardPath.TrimStart('/'), logs);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One log message.</summary>
    public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class ListLoggerProvider(List<LogEntry> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, logs);

        public void Dispose() { }
    }

    private sealed class ListLogger(string category, List<LogEntry> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (logs) logs.Add(new LogEntry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
