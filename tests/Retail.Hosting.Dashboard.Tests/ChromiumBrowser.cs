using Microsoft.Playwright;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// Headless Debian Chromium (<c>/usr/bin/chromium</c>, installed by tests/setup.sh) driven by Playwright for .NET: one
/// browser per test class, a new context (no shared cookies or cache) per page. Playwright's own browser download does
/// not work on this machine, so the browser is the system's; the flags keep it off the network (it has none here).
/// </summary>
public sealed class ChromiumBrowser : IAsyncLifetime
{
    /// <summary>Where the test command installs Chromium.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Where the tests leave their screenshots (the CI run's artifacts): <c>TestResults/screenshots</c> beside the test binaries.</summary>
    public static string ArtifactPath(string name) => Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots", name);

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The running browser.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing: run tests/setup.sh (the README's test command does), which installs Debian's chromium.");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>
    /// A new page (in its own context) of <paramref name="width"/> × <paramref name="height"/> CSS pixels that records every
    /// console error, failed request and uncaught exception into <see cref="BrowserPage.Errors"/>.
    /// </summary>
    public async Task<BrowserPage> NewPageAsync(int width = 1440, int height = 1100, bool isMobile = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            IsMobile = isMobile,
            HasTouch = isMobile,
            DeviceScaleFactor = 1,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000); // a bound on a hang, not a timing assertion
        var result = new BrowserPage(context, page);
        page.Console += (_, m) => { if (m.Type == "error") result.Errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => result.Errors.Add($"uncaught: {e}");
        page.RequestFailed += (_, r) => result.Errors.Add($"request failed: {r.Url} {r.Failure}");
        page.Response += (_, r) => { if (r.Status >= 400) result.Errors.Add($"HTTP {r.Status}: {r.Url}"); };
        return result;
    }
}

/// <summary>A page and its context, with what went wrong on it.</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    /// <summary>Console errors, uncaught exceptions, failed requests and 4xx/5xx responses seen so far.</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> Errors { get; } = [];

    /// <summary>Opens <paramref name="url"/> and waits until its first full refresh and first live poll have completed.</summary>
    public async Task OpenAsync(string url)
    {
        await Page.GotoAsync(url);
        await Page.WaitForFunctionAsync("() => +document.body.dataset.refreshes > 0 && +document.body.dataset.liveRefreshes > 0");
    }

    /// <summary>Waits until the live view shows <paramref name="documents"/> documents (it polls on its own).</summary>
    public Task WaitForLiveAsync(long documents) =>
        Page.WaitForFunctionAsync("n => document.getElementById('live-documents').textContent.trim() === n",
            documents.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The text of the element with <paramref name="id"/>.</summary>
    public async Task<string> TextAsync(string id) => (await Page.Locator("#" + id).TextContentAsync() ?? "").Trim();

    /// <summary>How many data points the chart on canvas <paramref name="id"/> drew (its <c>data-points</c>).</summary>
    public async Task<int> PointsAsync(string id) => int.Parse(await Page.Locator("#" + id).GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Sets the filters, applies them and waits for the refresh they start to complete.</summary>
    public async Task ApplyFiltersAsync(string? from = null, string? to = null, string? country = null)
    {
        int before = int.Parse(await Page.EvaluateAsync<string>("() => document.body.dataset.refreshes"), System.Globalization.CultureInfo.InvariantCulture);
        await Page.FillAsync("#filter-from", from ?? "");
        await Page.FillAsync("#filter-to", to ?? "");
        await Page.SelectOptionAsync("#filter-country", country ?? "");
        await Page.ClickAsync("#filter-apply");
        await Page.WaitForFunctionAsync($"() => +document.body.dataset.refreshes > {before}");
    }

    /// <summary>Saves a full-page screenshot to <paramref name="path"/> (its folder is created).</summary>
    public async Task ScreenshotAsync(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
    }

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}
