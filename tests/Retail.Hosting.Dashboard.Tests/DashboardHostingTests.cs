using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retail.Indexing;
using Retail.Query;
using Retail.Sinks.DuckDb;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// The dashboard in an application: empty, missing and broken lakes, missing services, the page and its assets, a
/// user's app mapping it under its own prefix, options.
/// </summary>
public sealed class DashboardHostingTests
{
    private static readonly string ChartJsPath = Path.Combine(RepoRoot(), "src/Retail.Hosting/Retail.Hosting.Dashboard/node_modules/chart.js/dist/chart.umd.js");

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Retail.sln not found above " + AppContext.BaseDirectory);
    }

    private static void AssertNoStackTrace(string body)
    {
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", body, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', body.TrimEnd());
    }

    [Fact]
    public async Task Summary_EmptyLake_EmptyTrueAndEveryListEmpty()
    {
        await using var lake = await TestLake.CreateAsync();
        await using var server = await DashboardTestServer.StartAsync(lake.Query);

        var summary = await DashboardApiTests.GetJsonAsync(server.Client, "api/summary");
        Assert.Equal(0, summary.GetProperty("records").GetInt64());
        Assert.True(summary.GetProperty("empty").GetBoolean());
        Assert.Equal("0.0000", summary.GetProperty("revenue").GetString());
        Assert.Equal("0.00", summary.GetProperty("revenueText").GetString());
        Assert.Equal(0, summary.GetProperty("quantity").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, summary.GetProperty("lastInvoiceDate").ValueKind);
        Assert.True((await DashboardApiTests.GetJsonAsync(server.Client, "api/summary?country=France")).GetProperty("empty").GetBoolean());
        foreach (string list in new[] { "api/daily", "api/monthly", "api/top-countries", "api/top-products" })
            Assert.Equal(0, (await DashboardApiTests.GetJsonAsync(server.Client, list)).GetProperty("rows").GetArrayLength());
        Assert.Equal(0, (await DashboardApiTests.GetJsonAsync(server.Client, "api/countries")).GetProperty("countries").GetArrayLength());
    }

    [Fact]
    public async Task Summary_MissingLakeFolder_EmptyTrue()
    {
        string missing = Path.Combine(Path.GetTempPath(), "retail-dashboard-missing-" + Guid.NewGuid().ToString("N"));
        var engine = DuckDbFactory.CreateQueryEngine(new DuckDbQueryOptions { LakePath = missing });
        try
        {
            await using var server = await DashboardTestServer.StartAsync(engine);

            var summary = await DashboardApiTests.GetJsonAsync(server.Client, "api/summary");
            Assert.Equal(0, summary.GetProperty("records").GetInt64());
            Assert.True(summary.GetProperty("empty").GetBoolean());
            Assert.Equal(0, (await DashboardApiTests.GetJsonAsync(server.Client, "api/daily")).GetProperty("rows").GetArrayLength());
            Assert.False(Directory.Exists(missing)); // reading created nothing
        }
        finally
        {
            ((IDisposable)engine).Dispose();
        }
    }

    [Fact]
    public async Task Summary_CorruptParquetFile_503OneLineErrorLoggedNoStackTrace()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(20, days: new DateOnly(2010, 12, 1)));
        var hour = (await lake.HoursAsync())[0];
        await lake.Store.PutAsync("parquet-retail-trans/" + Retail.Storage.LakeLayout.HourPartition(hour) + "part-00000.parquet", Encoding.UTF8.GetBytes("not a parquet file"));
        await using var server = await DashboardTestServer.StartAsync(lake.Query);

        using var response = await server.Client.GetAsync("api/summary");
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AssertNoStackTrace(body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.StartsWith("The batch layer could not be queried: ", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains(server.Logs, l => l.Level == LogLevel.Error && l.Category == "Retail.Hosting.Dashboard" && l.Exception is not null && l.Message.Contains("summary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Api_NoQueryEngine_503NamingTheService()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);

        foreach (string url in new[] { "api/summary", "api/daily", "api/monthly", "api/top-countries", "api/top-products", "api/countries" })
        {
            var json = await DashboardApiTests.GetJsonAsync(server.Client, url, HttpStatusCode.ServiceUnavailable);
            Assert.Contains(nameof(IQueryEngine), json.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        // Parameters are still checked first.
        await DashboardApiTests.GetJsonAsync(server.Client, "api/summary?country=x'", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Live_NoSpeedLayerView_AvailableFalse()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);

        var json = await DashboardApiTests.GetJsonAsync(server.Client, "api/live?interval=hour");

        Assert.Equal("""{"available":false,"documents":0,"quantity":0,"buckets":[],"truncated":false}""", json.GetRawText());
    }

    [Fact]
    public async Task Live_RecordsStreamIntoTheRunningLake_TotalsGrowOnTheSameServer()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(10, days: new DateOnly(2010, 12, 1)));
        await using var server = await DashboardTestServer.StartAsync(lake.Query, new ListSpeedLayerView(() => lake.Records));
        Assert.Equal(10, (await DashboardApiTests.GetJsonAsync(server.Client, "api/live")).GetProperty("documents").GetInt64());

        await lake.AddAsync(TestLake.Synthetic(15, seed: 3, new DateOnly(2010, 12, 2)));

        Assert.Equal(25, (await DashboardApiTests.GetJsonAsync(server.Client, "api/live")).GetProperty("documents").GetInt64());
        Assert.Equal(25, (await DashboardApiTests.GetJsonAsync(server.Client, "api/summary")).GetProperty("records").GetInt64());
        Assert.Equal(25, await lake.Index.CountAsync());
    }

    [Fact]
    public async Task Live_ViewFails_503OneLine()
    {
        var view = new ListSpeedLayerView([]) { Fail = new InvalidOperationException("index closed\n   at Somewhere.Deep()") };
        await using var server = await DashboardTestServer.StartAsync(query: null, view);

        using var response = await server.Client.GetAsync("api/live");
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("""{"error":"The speed layer could not be read: index closed"}""", body);
    }

    [Fact]
    public async Task Live_Parameters_ReachTheViewAsTypedValues()
    {
        var view = new ListSpeedLayerView([]);
        await using var server = await DashboardTestServer.StartAsync(query: null, view, configure: o => o.MaxRows = 500);

        await DashboardApiTests.GetJsonAsync(server.Client, "api/live?interval=week&from=2010-12-01&to=2010-12-31&country=EIRE");
        await DashboardApiTests.GetJsonAsync(server.Client, "api/live?to=9999-12-31");

        var first = view.Requests[0];
        Assert.Equal(HistogramInterval.Week, first.Interval);
        Assert.Equal(new DateTime(2010, 12, 1), first.From);
        Assert.Equal(new DateTime(2011, 1, 1), first.To); // through the end of `to`'s day
        Assert.Equal("EIRE", first.Country);
        Assert.Equal(500, first.MaxBuckets);
        Assert.Equal(HistogramInterval.Day, view.Requests[1].Interval);
        Assert.Null(view.Requests[1].To); // the last day there is: no upper bound
    }

    [Fact]
    public async Task Daily_MoreDaysThanMaxRows_OldestMaxRowsAndTruncated()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(5));
        await using var server = await DashboardTestServer.StartAsync(lake.Query, configure: o => { o.MaxRows = 2; o.MaxLimit = 2; });

        var daily = await DashboardApiTests.GetJsonAsync(server.Client, "api/daily");
        Assert.Equal(["2010-11-29", "2010-12-01"], daily.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("date").GetString()!));
        Assert.True(daily.GetProperty("truncated").GetBoolean());
        var monthly = await DashboardApiTests.GetJsonAsync(server.Client, "api/monthly");
        Assert.Equal(2, monthly.GetProperty("rows").GetArrayLength());
        Assert.True(monthly.GetProperty("truncated").GetBoolean());
        var all = await DashboardApiTests.GetJsonAsync(server.Client, "api/monthly?from=2010-12-01");
        Assert.False(all.GetProperty("truncated").GetBoolean());
        await DashboardApiTests.GetJsonAsync(server.Client, "api/top-countries?limit=3", HttpStatusCode.BadRequest);
    }

    // ---- page and assets ----

    [Fact]
    public async Task Assets_ChartJs_ServedFromTheAssemblyWithContentTypeAndSecurityHeaders()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);

        using var response = await server.Client.GetAsync("assets/chart.umd.js");
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(RetailDashboardEndpointRouteBuilderExtensions.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.StartsWith("/*!\n * Chart.js v4.", Encoding.UTF8.GetString(body, 0, 40), StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(ChartJsPath), body); // the npm file, byte for byte

        // Revalidation: the same ETag answers 304.
        using var again = new HttpRequestMessage(HttpMethod.Get, "assets/chart.umd.js");
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var notModified = await server.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Assets_ChartJsLicences_Served()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);

        foreach (string licence in new[] { "assets/licenses/chart.js.txt", "assets/licenses/kurkle-color.txt" })
        {
            using var response = await server.Client.GetAsync(licence);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("MIT License", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("assets/nope.js")]
    [InlineData("assets/")]
    [InlineData("assets/chart.umd.min.js")]
    [InlineData("assets/CHART.UMD.JS")]
    [InlineData("assets/licenses")]
    [InlineData("assets/licenses/")]
    [InlineData("assets/wwwroot/dashboard.js")]
    [InlineData("assets/index.html")]
    [InlineData("nothing-here")]
    public async Task Assets_Unknown_404(string url)
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);

        using var response = await server.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Page_AtPrefixSlash_HtmlWithHeadersOr404WhenThisBuildEmbedsNone()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null, configure: o => o.Title = "Shop <b>\"Retail\"</b>");

        using var response = await server.Client.GetAsync("");
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(RetailDashboardEndpointRouteBuilderExtensions.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        if (typeof(RetailDashboardOptions).Assembly.GetManifestResourceInfo(DashboardAssets.IndexResource) is null)
        {
            // The page (wwwroot/index.html) is the lead's; until it is merged this build embeds none.
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("embeds no page", body, StringComparison.Ordinal);
            return;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.DoesNotContain("{{TITLE}}", body, StringComparison.Ordinal);
        Assert.DoesNotContain("{{LIVE_REFRESH_MS}}", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Page_Tokens_TitleHtmlEncodedAndRefreshInMilliseconds()
    {
        var options = new RetailDashboardOptions { Title = "Shop <script>alert('x')</script> & \"co\"", LiveRefresh = TimeSpan.FromSeconds(1.5) };
        byte[] template = Encoding.UTF8.GetBytes("<title>{{TITLE}}</title><h1>{{TITLE}}</h1><body data-live-refresh-ms=\"{{LIVE_REFRESH_MS}}\">");

        string page = Encoding.UTF8.GetString(DashboardAssets.Render(template, options).Content);

        Assert.Equal("<title>Shop &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;co&quot;</title><h1>Shop &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;co&quot;</h1><body data-live-refresh-ms=\"1500\">", page);
    }

    [Fact]
    public async Task Page_WithoutTrailingSlash_RedirectsToIt()
    {
        await using var server = await DashboardTestServer.StartAsync(query: null);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };

        using var response = await client.GetAsync("retail?x=1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/retail/?x=1", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task MapRetailDashboard_UserAppUnderItsOwnPrefix_ServesPageAssetsAndApiThereBesideItsOwnEndpoint()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(10));
        await using var server = await DashboardTestServer.StartAsync(
            services => services.AddSingleton(lake.Query),
            app =>
            {
                app.MapGet("/shop/hello", () => "hello from the shop");
                app.MapRetailDashboard("/shop/retail", o => o.Title = "Shop");
            },
            "/shop/retail/");
        using var root = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };

        Assert.Equal("hello from the shop", await root.GetStringAsync("shop/hello"));
        var summary = await DashboardApiTests.GetJsonAsync(root, "shop/retail/api/summary");
        Assert.Equal(lake.Records.Count, summary.GetProperty("records").GetInt64());
        using (var js = await root.GetAsync("shop/retail/assets/chart.umd.js")) Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        using (var redirect = await root.GetAsync("shop/retail")) Assert.Equal("/shop/retail/", redirect.Headers.Location?.OriginalString);
        using (var page = await root.GetAsync("shop/retail/"))
        {
            Assert.Equal(typeof(RetailDashboardOptions).Assembly.GetManifestResourceInfo(DashboardAssets.IndexResource) is null ? HttpStatusCode.NotFound : HttpStatusCode.OK, page.StatusCode);
            Assert.Contains(page.Headers.GetValues("Content-Security-Policy"), v => v.Contains("default-src 'self'", StringComparison.Ordinal));
        }
        // Nothing at the default prefix or the root.
        using (var other = await root.GetAsync("retail/api/summary")) Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var api = await root.GetAsync("api/summary")) Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
    }

    [Fact]
    public async Task MapRetailDashboard_RootPrefix_PageAndApiAtTheRoot()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(3));
        await using var server = await DashboardTestServer.StartAsync(lake.Query, prefix: "");

        Assert.Equal(server.BaseAddress, server.DashboardUrl);
        Assert.Equal(lake.Records.Count, (await DashboardApiTests.GetJsonAsync(server.Client, "api/summary")).GetProperty("records").GetInt64());
        using var js = await server.Client.GetAsync("assets/chart.umd.js");
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
    }

    [Fact]
    public async Task MapRetailDashboard_TwoDashboards_EachWithItsOwnOptions()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(5));
        await using var server = await DashboardTestServer.StartAsync(
            services => services.AddSingleton(lake.Query),
            app =>
            {
                app.MapRetailDashboard("/a", o => { o.MaxRows = 1; o.MaxLimit = 1; });
                app.MapRetailDashboard("/b");
            },
            "/");

        Assert.Equal(1, (await DashboardApiTests.GetJsonAsync(server.Client, "a/api/daily")).GetProperty("rows").GetArrayLength());
        Assert.Equal(5, (await DashboardApiTests.GetJsonAsync(server.Client, "b/api/daily")).GetProperty("rows").GetArrayLength());
    }

    [Theory]
    [InlineData("retail")]
    [InlineData("/re tail")]
    [InlineData("/retail//x")]
    [InlineData("/{id}")]
    [InlineData("/a/../b")]
    [InlineData("/shop?x")]
    public void MapRetailDashboard_BadPrefix_ThrowsNamingIt(string prefix)
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var e = Assert.Throws<ArgumentException>(() => app.MapRetailDashboard(prefix));

        Assert.Equal("prefix", e.ParamName);
        Assert.Contains(prefix, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/retail/", "/retail")]
    [InlineData("/", "")]
    [InlineData("", "")]
    [InlineData("/shop/retail", "/shop/retail")]
    public void NormalizePrefix_Paths_NoTrailingSlash(string prefix, string expected) =>
        Assert.Equal(expected, RetailDashboardEndpointRouteBuilderExtensions.NormalizePrefix(prefix));

    [Fact]
    public void MapRetailDashboard_InvalidOptions_ThrowsListingEachProperty()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var e = Assert.Throws<ArgumentException>(() => app.MapRetailDashboard("/retail", o =>
        {
            o.Title = "";
            o.LiveRefresh = TimeSpan.FromMilliseconds(100);
            o.MaxRows = 0;
            o.MaxLimit = 20_000;
            o.JsonTable = "retail_trans_json; DROP TABLE x";
            o.ParquetTable = "1table";
        }));

        foreach (string property in new[] { "Title", "LiveRefresh", "MaxRows", "MaxLimit", "JsonTable", "ParquetTable" })
            Assert.Contains($"RetailDashboardOptions.{property}", e.Message, StringComparison.Ordinal);
        Assert.Contains("got 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Valid()
    {
        var options = new RetailDashboardOptions();

        Assert.Empty(options.Validate());
        Assert.Equal("retail_trans_json", options.JsonTable);
        Assert.Equal("ctas_retail_trans_parquet", options.ParquetTable);
        Assert.Equal(TimeSpan.FromSeconds(2), options.LiveRefresh);
        Assert.Equal(1000, options.MaxRows);
        Assert.Equal(50, options.MaxLimit);
    }

    [Fact]
    public async Task Api_OtherTableNames_QueriesThoseTables()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(5));
        await using var server = await DashboardTestServer.StartAsync(lake.Query, configure: o => o.ParquetTable = "no_such_table");

        var json = await DashboardApiTests.GetJsonAsync(server.Client, "api/summary", HttpStatusCode.ServiceUnavailable);

        Assert.Contains("no_such_table", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_ManyConcurrentCalls_AtMostFourReachTheEngineAtOnce()
    {
        var engine = new GatedQueryEngine();
        await using var server = await DashboardTestServer.StartAsync(engine);

        var calls = Enumerable.Range(0, 10).Select(_ => server.Client.GetAsync("api/countries")).ToList();
        await engine.Reached(DashboardApi.MaxConcurrentQueries).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(DashboardApi.MaxConcurrentQueries, engine.Running);
        engine.Open.TrySetResult();
        foreach (var response in await Task.WhenAll(calls))
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Equal(DashboardApi.MaxConcurrentQueries, engine.MaxRunning);
        Assert.Equal(10, engine.Calls);
    }

    [Fact]
    public async Task Api_Calls_CountedByEndpointAndOutcome()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<(string Endpoint, string Outcome)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RetailDashboardDiagnostics.MeterName && instrument.Name == "retail.dashboard.api.requests") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? endpoint = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "endpoint") endpoint = tag.Value as string;
                if (tag.Key == "outcome") outcome = tag.Value as string;
            }
            seen.Add((endpoint!, outcome!));
        });
        listener.Start();
        await using var server = await DashboardTestServer.StartAsync(query: null);

        await DashboardApiTests.GetJsonAsync(server.Client, "api/summary?x=1", HttpStatusCode.BadRequest);
        await DashboardApiTests.GetJsonAsync(server.Client, "api/daily", HttpStatusCode.ServiceUnavailable);
        await DashboardApiTests.GetJsonAsync(server.Client, "api/live");

        Assert.Contains(("summary", "bad_request"), seen);
        Assert.Contains(("daily", "unavailable"), seen);
        Assert.Contains(("live", "ok"), seen);
    }

    /// <summary>An engine that holds every query until <see cref="Open"/> is set, counting how many run at once.</summary>
    private sealed class GatedQueryEngine : IQueryEngine
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Running { get; private set; }

        public int MaxRunning { get; private set; }

        public int Calls { get; private set; }

        public Task Reached(int count)
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (Running >= count) tcs.SetResult();
                else _waiters.Add((count, tcs));
            }
            return tcs.Task;
        }

        public async ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
        {
            // The list of compacted hours (read once, shared by the calls): none.
            if (sql.StartsWith("SELECT DISTINCT CAST(year", StringComparison.Ordinal)) return new QueryResult(["y", "m", "d", "h"], ["INTEGER", "INTEGER", "INTEGER", "INTEGER"], [], false);
            lock (_lock)
            {
                Calls++;
                Running++;
                MaxRunning = Math.Max(MaxRunning, Running);
                foreach (var w in _waiters.Where(w => Running >= w.Count)) w.Reached.TrySetResult();
            }
            try
            {
                await Open.Task.WaitAsync(cancellationToken);
                return new QueryResult(["country"], ["VARCHAR"], [["France"]], false);
            }
            finally
            {
                lock (_lock) Running--;
            }
        }
    }
}

public sealed class CompactedHoursFilterTests
{
    [Fact]
    public void Build_WholeDaysAndSingleHours_DayKeysAndHourKeys()
    {
        var hours = Enumerable.Range(0, 24).Select(h => (2010, 12, 1, h)).Concat([(2010, 12, 2, 7), (2010, 12, 2, 11), (2011, 1, 4, 0), (2010, 12, 2, 7)]);

        var chunks = CompactedHoursFilter.Build(hours);

        Assert.Equal(CompactedHoursFilter.Chunks, chunks.Length);
        Assert.Equal("|2010-12-1||2010-12-2-7||2010-12-2-11||2011-1-4-0|", chunks[0]);
        Assert.All(chunks.Skip(1), c => Assert.Equal("", c));
    }

    [Fact]
    public void Build_MoreHoursThanFit_ChunksBoundedAndTheRestLeftOut()
    {
        var start = new DateTime(2010, 1, 1);
        var hours = Enumerable.Range(0, 20_000).Select(i => start.AddHours(i * 2)).Select(t => (t.Year, t.Month, t.Day, t.Hour)).ToList();

        var chunks = CompactedHoursFilter.Build(hours);

        Assert.Equal(CompactedHoursFilter.Chunks, chunks.Length);
        Assert.All(chunks, c => Assert.InRange(c.Length, CompactedHoursFilter.ChunkLength - 20, CompactedHoursFilter.ChunkLength));
        Assert.StartsWith("|2010-1-1-0||2010-1-1-2|", chunks[0], StringComparison.Ordinal);
        Assert.All(chunks, c => Assert.True(c.StartsWith('|') && c.EndsWith('|'), c));
    }
}
