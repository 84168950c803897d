using System.Globalization;
using Retail.Storage;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// The dashboard page in a real browser (headless Debian Chromium through Playwright) over a real lake: the page loads,
/// every chart draws data, the figures it shows are the SQL answers to the cent, the filters change them correctly, the
/// live view grows on its own while records stream, and it fits a phone's screen — with no console error anywhere.
/// </summary>
public sealed class DashboardBrowserTests(ChromiumBrowser chromium) : IClassFixture<ChromiumBrowser>
{
    private static readonly string[] Charts = ["chart-daily", "chart-live", "chart-monthly", "chart-countries", "chart-products"];

    [Fact]
    public async Task Page_LakeHalfCompacted_EveryChartDrawsDataAndTheFiguresAreTheSqlAnswersToTheCent()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(300));
        Assert.NotEmpty(await lake.CompactAsync(h => h.Day != 1)); // December 1st stays JSON only
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);
        await using var page = await chromium.NewPageAsync();

        await page.OpenAsync(server.DashboardUrl.ToString());

        Assert.Equal("ready", await page.Page.EvaluateAsync<string>("() => document.body.dataset.state"));
        foreach (string chart in Charts) Assert.True(await page.PointsAsync(chart) > 0, $"{chart} drew no data");
        await AssertFiguresAsync(page, lake, where: "", []);
        Assert.Equal(lake.Records.Select(TestLake.Day).Distinct().Count(), await page.PointsAsync("chart-daily"));
        Assert.Equal(lake.Records.Count.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("live-documents"));
        Assert.Equal(lake.Records.Sum(r => (long)r.Quantity).ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("live-quantity"));
        await page.ScreenshotAsync(ChromiumBrowser.ArtifactPath("dashboard-half-compacted.png"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Page_CountryThenDateFilter_EveryFigureAndTheLiveViewBecomeTheFilteredAnswers()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(300));
        await lake.CompactAsync(h => h.Day % 2 == 0);
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);
        await using var page = await chromium.NewPageAsync();
        await page.OpenAsync(server.DashboardUrl.ToString());
        string all = await page.TextAsync("figure-revenue");

        // The second most frequent country: not the whole lake, not empty.
        string country = lake.Records.GroupBy(r => r.Country).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Skip(1).First().Key;
        await page.ApplyFiltersAsync(country: country);
        await page.WaitForLiveAsync(lake.Records.Count(r => r.Country == country));
        await AssertFiguresAsync(page, lake, "WHERE country = $1", [country]);
        Assert.NotEqual(all, await page.TextAsync("figure-revenue"));
        Assert.Equal(1, await page.PointsAsync("chart-countries"));

        await page.ApplyFiltersAsync(from: "2010-12-01", to: "2010-12-02", country: country);
        var inRange = lake.Records.Where(r => r.Country == country && r.InvoiceDate >= new DateTime(2010, 12, 1) && r.InvoiceDate < new DateTime(2010, 12, 3)).ToList();
        await page.WaitForLiveAsync(inRange.Count);
        await AssertFiguresAsync(page, lake, "WHERE country = $1 AND invoicedate >= $2 AND invoicedate < $3",
            [country, new DateTime(2010, 12, 1), new DateTime(2010, 12, 3)]);
        Assert.Equal(inRange.Select(TestLake.Day).Distinct().Count(), await page.PointsAsync("chart-daily"));
        Assert.Equal("?from=2010-12-01&to=2010-12-02&country=" + Uri.EscapeDataString(country).Replace("%20", "+", StringComparison.Ordinal),
            new Uri(page.Page.Url).Query);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Page_RecordsStreamWhileItIsOpen_TheLiveTotalGrowsWithoutAReloadToTheSpeedLayerCount()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(40));
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView, configure: o => o.LiveRefresh = TimeSpan.FromMilliseconds(250));
        await using var page = await chromium.NewPageAsync();
        await page.OpenAsync(server.DashboardUrl.ToString());
        await page.Page.EvaluateAsync("() => { window.retailLoadedOnce = 42; }");
        await page.WaitForLiveAsync(lake.Records.Count);

        // Three more batches, each waited for on the page as it is: the total it shows follows the speed layer.
        var seen = new List<string> { await page.TextAsync("live-documents") };
        for (int batch = 0; batch < 3; batch++)
        {
            await lake.AddAsync(TestLake.Synthetic(60, seed: 100 + (ulong)batch));
            long documents = await lake.Index.CountAsync();
            await page.WaitForLiveAsync(documents);
            seen.Add(await page.TextAsync("live-documents"));
        }

        Assert.Equal(4, seen.Distinct().Count());
        Assert.Equal(lake.Records.Count.ToString("N0", CultureInfo.InvariantCulture), seen[^1]);
        Assert.Equal(42, await page.Page.EvaluateAsync<int>("() => window.retailLoadedOnce")); // the same document: no reload
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Page_PhoneScreen_FitsItsWidthAndStillDrawsEveryChart()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(100));
        await lake.CompactAsync();
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);
        await using var page = await chromium.NewPageAsync(390, 844, isMobile: true);
        await page.OpenAsync(server.DashboardUrl.ToString());

        Assert.True(await page.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the page scrolls sideways on a 390 px screen");
        foreach (string chart in Charts)
        {
            Assert.True(await page.PointsAsync(chart) > 0, $"{chart} drew no data");
            var box = await page.Page.Locator("#" + chart).BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.X >= 0 && box.X + box.Width <= 390.5, $"{chart} is outside the screen: x {box.X}, width {box.Width}");
        }
        await page.ScreenshotAsync(ChromiumBrowser.ArtifactPath("dashboard-phone.png"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Page_EmptyLake_SaysSoWithoutAnErrorOrAStackTrace()
    {
        await using var lake = await TestLake.CreateAsync();
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);
        await using var page = await chromium.NewPageAsync();
        await page.OpenAsync(server.DashboardUrl.ToString());

        Assert.Equal("empty", await page.Page.EvaluateAsync<string>("() => document.body.dataset.state"));
        Assert.Contains("no records", await page.TextAsync("status"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("0", await page.TextAsync("figure-records"));
        Assert.DoesNotContain("   at ", await page.Page.ContentAsync(), StringComparison.Ordinal);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Page_InjectionInTheAddress_ShowsTheRefusalNamingTheParameterAndLeavesTheLakeUnchanged()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(50));
        await lake.CompactAsync();
        var before = lake.HashFiles();
        await using var server = await DashboardTestServer.StartAsync(lake.Query, lake.SpeedLayerView);
        await using var page = await chromium.NewPageAsync();

        await page.OpenAsync(server.DashboardUrl + "?country=" + Uri.EscapeDataString("France' OR '1'='1"));

        Assert.Equal("error", await page.Page.EvaluateAsync<string>("() => document.body.dataset.state"));
        Assert.Contains("country", await page.TextAsync("status"), StringComparison.Ordinal);
        Assert.All(page.Errors, e => Assert.Contains("400", e, StringComparison.Ordinal)); // the refusals, nothing else
        Assert.Equal(before, lake.HashFiles());
    }

    [Fact]
    public async Task Page_InAUserAppUnderItsOwnPrefix_LoadsItsAssetsAndDrawsEveryChart()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(60));
        await using var server = await DashboardTestServer.StartAsync(services =>
        {
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, lake.Query);
            if (lake.SpeedLayerView is { } view) Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, view);
        }, app =>
        {
            Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(app, "/", () => "the shop's own home page");
            app.MapRetailDashboard("/shop/retail", o => o.Title = "Shop analytics");
        }, "/shop/retail/");
        await using var page = await chromium.NewPageAsync();
        await page.OpenAsync(server.DashboardUrl.ToString());

        Assert.Equal("Shop analytics", await page.Page.TitleAsync());
        foreach (string chart in Charts) Assert.True(await page.PointsAsync(chart) > 0, $"{chart} drew no data");
        Assert.Equal(lake.Records.Count.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("figure-records"));
        Assert.Empty(page.Errors);
    }

    /// <summary>The headline figures equal SQL over the whole JSON table (every record is there) with <paramref name="where"/>.</summary>
    private static async Task AssertFiguresAsync(BrowserPage page, TestLake lake, string where, object?[] parameters)
    {
        var sql = await lake.Query.QueryAsync(
            $"SELECT count(*), sum(quantity * price), max(invoicedate) FROM {RetailLakeDefinition.DefaultJsonTableName} {where}", parameters);
        var row = sql.Rows[0];
        long records = Convert.ToInt64(row[0], CultureInfo.InvariantCulture);
        decimal revenue = Convert.ToDecimal(row[1] ?? 0m, CultureInfo.InvariantCulture);
        Assert.Equal(records.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("figure-records"));
        Assert.Equal(Math.Round(revenue, 2, MidpointRounding.AwayFromZero).ToString("N2", CultureInfo.InvariantCulture), await page.TextAsync("figure-revenue"));
        string last = row[2] is DateTime t ? t.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "—";
        Assert.Equal(last, await page.TextAsync("figure-last"));
    }
}
