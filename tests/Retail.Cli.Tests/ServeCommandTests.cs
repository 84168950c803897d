using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Retail.Core.Tests;
using Retail.Hosting.Dashboard.Tests;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail serve</c> and <c>retail demo --serve</c> as a user runs them, in a real browser (headless Debian Chromium through
/// Playwright): after the main job the dashboard command serves every chart with data and totals equal to
/// <c>retail query</c>'s; while the demo streams, the live view grows without a reload to the speed layer's count.
/// </summary>
public sealed partial class ServeCommandTests(ChromiumBrowser chromium) : IClassFixture<ChromiumBrowser>
{
    private static readonly string[] Charts = ["chart-daily", "chart-live", "chart-monthly", "chart-countries", "chart-products"];
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(6); // a bound on a hang, not a timing assertion

    [Fact]
    public async Task Serve_AfterTheMainJob_EveryChartHasDataAndTotalsEqualRetailQueryWithAndWithoutACountry()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        // The README's main job, then its dashboard command.
        var demo = await CliRunner.RunAsync("demo", "--lake", lake, "--replace");
        Assert.True(demo.ExitCode == 0, demo.Stderr);

        await using var serve = BackgroundCli.Start("serve", "--lake", lake, "--urls", "http://127.0.0.1:0");
        string url = (await serve.WaitForStdoutAsync(ServingLine(), Guard)).Groups["url"].Value;
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        await using var page = await chromium.NewPageAsync();
        await page.OpenAsync(url);

        foreach (string chart in Charts) Assert.True(await page.PointsAsync(chart) > 0, $"{chart} drew no data");
        var (records, revenue) = await QueryTotalsAsync(lake, "");
        Assert.Equal(records.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("figure-records"));
        Assert.Equal(Cents(revenue), await page.TextAsync("figure-revenue"));
        Assert.Equal(records.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("live-documents"));
        await page.ScreenshotAsync(ChromiumBrowser.ArtifactPath("retail-serve.png"));
        // The README's screenshot comes from this run: RETAIL_UPDATE_SCREENSHOT=1 writes it to docs/.
        if (Environment.GetEnvironmentVariable("RETAIL_UPDATE_SCREENSHOT") == "1")
            await page.ScreenshotAsync(Path.Combine(RepositoryRoot(), "docs", "dashboard.png"));

        string country = await page.Page.EvaluateAsync<string>("() => document.querySelector('#filter-country option:nth-child(3)').value");
        await page.ApplyFiltersAsync(country: country);
        var (inCountry, countryRevenue) = await QueryTotalsAsync(lake, $"WHERE country = '{country.Replace("'", "''", StringComparison.Ordinal)}'");
        Assert.InRange(inCountry, 1, records - 1);
        Assert.Equal(inCountry.ToString("N0", CultureInfo.InvariantCulture), await page.TextAsync("figure-records"));
        Assert.Equal(Cents(countryRevenue), await page.TextAsync("figure-revenue"));
        Assert.Empty(page.Errors);

        // Loopback only: a request naming another host (a DNS name rebound to 127.0.0.1) is refused.
        using (var http = new HttpClient())
        {
            using var rebound = new HttpRequestMessage(HttpMethod.Get, url + "api/summary");
            rebound.Headers.Host = "rebound.example";
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.SendAsync(rebound)).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(url + "api/summary")).StatusCode);
        }

        await serve.StopAsync();
        Assert.Equal(0, await serve.ExitCode);
        Assert.DoesNotContain("info:", serve.Stdout, StringComparison.Ordinal); // the server's log is on stderr
    }

    [Fact]
    public async Task DemoServeReplace_PortInUse_FailsBeforeEmptyingTheLake()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        Assert.Equal(0, (await CliRunner.RunAsync("demo", "--lake", lake, "--records", "500")).ExitCode);
        var before = Hashes(lake);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        string urls = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";

        var result = await CliRunner.RunAsync("demo", "--lake", lake, "--replace", "--serve", "--urls", urls, "--records", "500");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot listen on --urls {urls}", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Hashes(lake));
    }

    private static SortedDictionary<string, string> Hashes(string root)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            hashes[Path.GetRelativePath(root, file)] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        return hashes;
    }

    [Fact]
    public async Task DemoServe_200kRecordsAt20kPerSecond_LiveTotalGrowsWithoutAReloadAndEndsAtTheSpeedLayerCount()
    {
        using var dir = new TempDir();
        string lake = Path.Combine(dir.Path, "lake");
        await using var demo = BackgroundCli.Start("demo", "--serve", "--records", "200000", "--rate", "20000", "--lake", lake, "--urls", "http://127.0.0.1:0");
        string url = (await demo.WaitForStderrAsync(DemoServingLine(), Guard)).Groups["url"].Value;
        await using var page = await chromium.NewPageAsync();
        await page.Page.GotoAsync(url);
        // Every total the live view shows, as it shows it, in one document (a reload would lose this list).
        await page.Page.EvaluateAsync("""
            () => {
              window.retailSeen = [];
              const live = document.getElementById('live-documents');
              new MutationObserver(() => window.retailSeen.push(live.textContent.trim())).observe(live, { childList: true, characterData: true, subtree: true });
            }
            """);

        await demo.WaitForStderrAsync(DoneLine(), Guard);
        string summary = demo.Stdout;
        long documents = long.Parse(SpeedLayerDocuments().Match(summary).Groups["n"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Equal(200_000, documents);
        await page.WaitForLiveAsync(documents);

        var seen = (await page.Page.EvaluateAsync<string[]>("() => window.retailSeen"))
            .Where(t => t.Length > 0 && char.IsAsciiDigit(t[0])).Select(t => long.Parse(t, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).Distinct().ToList();
        Assert.True(seen.Count >= 3, $"the live total changed only {seen.Count} times: {string.Join(", ", seen)}");
        Assert.Equal(seen.Order(), seen); // it only grows
        Assert.Equal(documents, seen[^1]);
        Assert.Empty(page.Errors);

        await demo.StopAsync(); // the demo goes on serving until Ctrl-C
        Assert.Equal(0, await demo.ExitCode);
    }

    [Fact]
    public void Serve_NoUrlsGiven_ListensOnLoopbackOnly()
    {
        var parsed = ServeCommand.Create(Stream.Null, TextWriter.Null).Parse("--lake .");
        var urls = parsed.CommandResult.Command.Options.Single(o => o.Name == "--urls");
        Assert.Equal("http://127.0.0.1:5080", parsed.GetValue<string>(urls.Name));
        Assert.Empty(DashboardServer.NonLoopback("http://127.0.0.1:5080;http://[::1]:5081;http://localhost:5082"));
        Assert.Equal(["http://0.0.0.0:5080", "http://*:80"], DashboardServer.NonLoopback("http://0.0.0.0:5080;http://*:80;http://127.0.0.1:1"));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:21", "is not an http:// or https:// URL")]
    [InlineData("127.0.0.1:5080", "is not an http:// or https:// URL")]
    [InlineData("http://127.0.0.1:5080/retail", "has a path")]
    public async Task Serve_BadUrls_UsageErrorNamingTheOption(string urls, string says)
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync("serve", "--lake", dir.Path, "--urls", urls);
        Assert.Equal(1, result.ExitCode); // a usage error, as for every command
        Assert.Contains($"--urls '{urls}' {says}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MissingLake_UsageErrorNamingIt()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync("serve", "--lake", Path.Combine(dir.Path, "nothing-here"));
        Assert.Equal(1, result.ExitCode); // a usage error, as for every command
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortInUse_OneLineErrorNamingTheUrls()
    {
        using var dir = new TempDir();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        string urls = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";
        var result = await CliRunner.RunAsync("serve", "--lake", dir.Path, "--urls", urls);
        Assert.Equal(1, result.ExitCode);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains($"cannot listen on --urls {urls}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--urls", "http://127.0.0.1:0" }, "--urls is for --serve")]
    [InlineData(new[] { "--rate", "0" }, "--rate must be a positive number")]
    [InlineData(new[] { "--rate", "-5" }, "--rate must be a positive number")]
    public async Task Demo_BadServeOrRateFlags_UsageErrorNamingTheFlag(string[] flags, string says)
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync(["demo", "--lake", Path.Combine(dir.Path, "lake"), "--records", "10", .. flags]);
        Assert.Equal(1, result.ExitCode); // a usage error, as for every command
        Assert.Contains(says, result.Stderr, StringComparison.Ordinal);
    }

    /// <summary><c>retail query</c>'s count and revenue over the Parquet table (the demo compacted every hour).</summary>
    private static async Task<(long Records, decimal Revenue)> QueryTotalsAsync(string lake, string where)
    {
        var result = await CliRunner.RunAsync("query", $"SELECT count(*) n, sum(quantity*price) revenue FROM ctas_retail_trans_parquet {where}", "--lake", lake, "--format", "csv");
        Assert.True(result.ExitCode == 0, result.Stderr);
        string[] row = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim().Split(',');
        return (long.Parse(row[0], CultureInfo.InvariantCulture), decimal.Parse(row[1], CultureInfo.InvariantCulture));
    }

    private static string Cents(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero).ToString("N2", CultureInfo.InvariantCulture);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) return dir.FullName;
        throw new FileNotFoundException("Retail.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"serving the dashboard of .+ at (?<url>http://127\.0\.0\.1:\d+/)")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"\[INFO\] serving the dashboard at (?<url>http://127\.0\.0\.1:\d+/)")]
    private static partial Regex DemoServingLine();

    [GeneratedRegex(@"\[INFO\] the demo is done")]
    private static partial Regex DoneLine();

    [GeneratedRegex(@"speed-layer documents\s+(?<n>[\d,]+)")]
    private static partial Regex SpeedLayerDocuments();

    /// <summary>A <c>retail</c> command running in this process until it ends or <see cref="StopAsync"/> cancels it (Ctrl-C).</summary>
    private sealed class BackgroundCli : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly WatchedText _stdout = new(), _stderr = new();
        private readonly WatchedStream _stdoutStream;

        private BackgroundCli(string[] args)
        {
            _stdoutStream = new WatchedStream(_stdout);
            var writer = new WatchedWriter(_stderr);
            ExitCode = Task.Run(() => RetailCli.RunAsync(args, _stdoutStream, writer, _cancel.Token));
            _ = ExitCode.ContinueWith(_ => { _stdout.End(); _stderr.End(); }, TaskScheduler.Default);
        }

        public Task<int> ExitCode { get; }
        public string Stdout => _stdout.Text;
        public string Stderr => _stderr.Text;

        public static BackgroundCli Start(params string[] args) => new(args);

        public Task<Match> WaitForStdoutAsync(Regex pattern, TimeSpan guard) => _stdout.WaitForAsync(pattern, guard, () => Stderr);
        public Task<Match> WaitForStderrAsync(Regex pattern, TimeSpan guard) => _stderr.WaitForAsync(pattern, guard, () => Stderr);

        public async Task StopAsync()
        {
            await _cancel.CancelAsync();
            await ExitCode.WaitAsync(Guard);
        }

        public async ValueTask DisposeAsync()
        {
            if (!ExitCode.IsCompleted)
            {
                await _cancel.CancelAsync();
                try { await ExitCode.WaitAsync(Guard); } catch (TimeoutException) { }
            }
            _cancel.Dispose();
        }
    }

    /// <summary>Text written so far, and waiters for a pattern in it (woken on every write, not polled).</summary>
    private sealed class WatchedText
    {
        private readonly StringBuilder _text = new();
        private readonly List<(Regex Pattern, TaskCompletionSource<Match> Done)> _waiters = [];
        private bool _ended;

        public string Text { get { lock (_text) return _text.ToString(); } }

        public void Append(string s)
        {
            lock (_text)
            {
                _text.Append(s);
                Check();
            }
        }

        public void End()
        {
            lock (_text)
            {
                _ended = true;
                Check();
            }
        }

        public async Task<Match> WaitForAsync(Regex pattern, TimeSpan guard, Func<string> stderr)
        {
            var done = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_text)
            {
                _waiters.Add((pattern, done));
                Check();
            }
            try
            {
                return await done.Task.WaitAsync(guard);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                throw new Xunit.Sdk.XunitException($"'{pattern}' never appeared ({e.Message}); stderr: {stderr()}");
            }
        }

        private void Check()
        {
            string text = _text.ToString();
            foreach (var w in _waiters.ToList())
            {
                var m = w.Pattern.Match(text);
                if (m.Success) w.Done.TrySetResult(m);
                else if (_ended) w.Done.TrySetException(new InvalidOperationException("the command ended first"));
                else continue;
                _waiters.Remove(w);
            }
        }
    }

    private sealed class WatchedWriter(WatchedText text) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override void Write(char value) => text.Append(value.ToString());
        public override void Write(string? value) { if (value is not null) text.Append(value); }
        public override void Write(char[] buffer, int index, int count) => text.Append(new string(buffer, index, count));
        public override void WriteLine(string? value) => text.Append((value ?? "") + NewLine);
        public override Task WriteLineAsync(string? value) { WriteLine(value); return Task.CompletedTask; }
        public override Task WriteAsync(string? value) { Write(value); return Task.CompletedTask; }
        public override string ToString() => text.Text;
    }

    private sealed class WatchedStream(WatchedText text) : MemoryStream
    {
        // MemoryStream's span and async writes of a derived type call this overload: everything arrives here once.
        public override void Write(byte[] buffer, int offset, int count)
        {
            base.Write(buffer, offset, count);
            text.Append(Encoding.UTF8.GetString(buffer, offset, count));
        }
        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
