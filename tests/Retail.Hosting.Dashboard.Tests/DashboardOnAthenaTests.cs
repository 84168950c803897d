using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Retail.Query;
using Retail.Sinks.Athena;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// One lake (<see cref="DashboardLakeFixture"/>'s records and compacted hours: some hours Parquet, some JSON only) served
/// twice: by a dashboard over the DuckDB engine (<see cref="TestLake.Query"/>) and by a dashboard over the Athena engine
/// (<see cref="AthenaClientFactory.CreateQueryEngine"/>) pointed at the strict Athena loopback fake, which answers
/// Athena's JSON 1.1 API by running each statement with DuckDB over the same lake folder.
/// </summary>
public sealed class DashboardOnAthenaFixture : IAsyncLifetime
{
    public TestLake Lake { get; private set; } = null!;

    public AthenaLoopbackFake Fake { get; private set; } = null!;

    public IQueryEngine Athena { get; private set; } = null!;

    /// <summary>The dashboard over the DuckDB engine.</summary>
    public DashboardTestServer OnDuckDb { get; private set; } = null!;

    /// <summary>The dashboard over the Athena engine and the fake.</summary>
    public DashboardTestServer OnAthena { get; private set; } = null!;

    public IReadOnlyList<DateTime> Compacted { get; private set; } = [];

    public IReadOnlyList<DateTime> JsonOnly { get; private set; } = [];

    private DuckDbStatementExecutor? _executor;

    public async Task InitializeAsync()
    {
        Lake = await TestLake.CreateAsync(TestLake.Synthetic(300).Concat(DashboardLakeFixture.Quirks));
        Compacted = await Lake.CompactAsync(DashboardLakeFixture.IsCompacted);
        JsonOnly = [.. (await Lake.HoursAsync()).Except(Compacted)];
        (_executor, Fake, Athena) = await StartAthenaAsync(Lake);
        OnDuckDb = await DashboardTestServer.StartAsync(Lake.Query);
        OnAthena = await DashboardTestServer.StartAsync(Athena);
    }

    /// <summary>The fake over <paramref name="lake"/>'s folder and an Athena engine pointed at it (fast polls).</summary>
    internal static async Task<(DuckDbStatementExecutor Executor, AthenaLoopbackFake Fake, IQueryEngine Engine)> StartAthenaAsync(TestLake lake)
    {
        var executor = new DuckDbStatementExecutor(lake.Root);
        var fake = await AthenaLoopbackFake.StartAsync(executor.Executor);
        var engine = AthenaClientFactory.CreateQueryEngine(
            new AthenaOptions
            {
                ServiceUrl = fake.Url.ToString(), Region = "us-east-1", OutputLocation = "s3://results-bucket/dashboard/",
                PollInterval = TimeSpan.FromMilliseconds(1), MaxPollInterval = TimeSpan.FromMilliseconds(2),
            },
            new BasicAWSCredentials("AKIDEXAMPLE", "secret"));
        return (executor, fake, engine);
    }

    public async Task DisposeAsync()
    {
        if (OnAthena is not null) await OnAthena.DisposeAsync();
        if (OnDuckDb is not null) await OnDuckDb.DisposeAsync();
        (Athena as IDisposable)?.Dispose();
        if (Fake is not null) await Fake.DisposeAsync();
        _executor?.Dispose();
        if (Lake is not null) await Lake.DisposeAsync();
    }
}

/// <summary>
/// The dashboard's batch-layer API on Athena (through the loopback fake) answers byte for byte what it answers on
/// DuckDB, for every endpoint, with and without filters; the statements it sends are what Athena accepts (positional
/// <c>?</c> in WHERE clauses only, ExecutionParameters of 1 to 1,024 characters, typed SQL literals); a bad parameter is
/// refused before anything reaches Athena.
/// </summary>
public sealed partial class DashboardOnAthenaTests(DashboardOnAthenaFixture fixture) : IClassFixture<DashboardOnAthenaFixture>
{
    /// <summary>Every batch-layer endpoint, with and without filters; <c>true</c> where the answer must hold rows.</summary>
    public static TheoryData<string, bool> Endpoints() => new()
    {
        { "api/summary", true },
        { "api/summary?country=France", true },
        { "api/summary?country=United%20Kingdom", true },
        { "api/summary?country=European%20Community", true },
        { "api/summary?from=2010-12-02&to=2010-12-09", true },
        { "api/summary?from=2010-12-01&to=2010-12-01", true },
        { "api/summary?from=2010-12-02", true },
        { "api/summary?to=2010-12-01", true },
        { "api/summary?country=Australia&from=2010-12-01&to=2010-12-02", true },
        { "api/summary?from=2011-01-04&to=9999-12-31", true },
        { "api/summary?from=0001-01-01&to=2010-12-02", true },
        { "api/summary?country=Nowhere", false },
        { "api/summary?country=R%C3%A9union%20(FR)", false },
        { "api/summary?from=2012-01-01", false },
        { "api/daily", true },
        { "api/daily?country=France", true },
        { "api/daily?from=2010-12-02&to=2010-12-09", true },
        { "api/daily?country=RSA&to=2011-01-04", true },
        { "api/monthly", true },
        { "api/monthly?country=United%20Kingdom&from=2010-12-01", true },
        { "api/monthly?from=2011-01-01", true },
        { "api/top-countries", true },
        { "api/top-countries?limit=3", true },
        { "api/top-countries?limit=50&from=2010-12-09", true },
        { "api/top-countries?country=France&to=2010-12-02", true },
        { "api/top-products", true },
        { "api/top-products?limit=25&country=France", true },
        { "api/top-products?limit=50&from=2010-12-02&to=2010-12-02", true },
        { "api/top-products?country=Nowhere", false },
        { "api/countries", true },
    };

    private static async Task<(HttpStatusCode Status, string? ContentType, byte[] Body)> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public void Lake_SomeHoursCompactedSomeNot_BothTablesHoldRows()
    {
        Assert.NotEmpty(fixture.Compacted);
        Assert.NotEmpty(fixture.JsonOnly);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Api_EndpointOnAthenaFake_AnswersByteForByteTheJsonOfDuckDb(string url, bool hasRows)
    {
        int started = fixture.Fake.Started.Count;

        var duck = await GetAsync(fixture.OnDuckDb.Client, url);
        var athena = await GetAsync(fixture.OnAthena.Client, url);

        string duckText = Encoding.UTF8.GetString(duck.Body), athenaText = Encoding.UTF8.GetString(athena.Body);
        Assert.True(duck.Status == HttpStatusCode.OK, $"DuckDB: {(int)duck.Status} {duckText}");
        Assert.True(athena.Status == HttpStatusCode.OK, $"Athena: {(int)athena.Status} {athenaText}");
        Assert.Equal(duck.ContentType, athena.ContentType);
        Assert.Equal(duckText, athenaText);
        Assert.Equal(duck.Body, athena.Body);
        // The Athena answer came from Athena: the endpoint's statement was started on the fake.
        Assert.True(fixture.Fake.Started.Count > started, "No statement reached the Athena fake.");
        // Not an empty answer compared with an empty answer.
        bool empty = athenaText.Contains("\"rows\":[]", StringComparison.Ordinal) || athenaText.Contains("\"records\":0,", StringComparison.Ordinal)
            || athenaText.Contains("\"countries\":[]", StringComparison.Ordinal);
        Assert.Equal(hasRows, !empty);
    }

    [Fact]
    public async Task Api_StatementsOnAthenaFake_AreWhatAthenaAccepts()
    {
        foreach (var row in Endpoints())
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(fixture.OnAthena.Client, (string)row[0])).Status);

        var statements = fixture.Fake.Started;
        Assert.Contains(statements, s => s.ExecutionParameters.Count > 0);
        Assert.All(statements, s =>
        {
            Assert.Equal(("mydatabase", "AwsDataCatalog", "primary", "s3://results-bucket/dashboard/"), (s.Database, s.Catalog, s.WorkGroup, s.OutputLocation));
            // Positional parameters only, one value each (Athena has no named parameters).
            Assert.Equal(s.QueryString.Count(c => c == '?'), s.ExecutionParameters.Count);
            // "? parameters can be placed only in the WHERE clause": the clause each ? stands in is a WHERE.
            foreach (Match m in Placeholder().Matches(s.QueryString))
                Assert.True(ClauseBefore(s.QueryString, m.Index) == "WHERE", $"A ? at {m.Index} is in a {ClauseBefore(s.QueryString, m.Index)} clause: {s.QueryString}");
            // StartQueryExecution's ExecutionParameters: each 1 to 1,024 characters, an SQL literal.
            Assert.All(s.ExecutionParameters, p =>
            {
                Assert.InRange(p.Length, 1, 1024);
                Assert.Matches(Literal(), p);
            });
        });
        // Dates go as timestamps, countries and the compacted-hours list as strings, absent filters as NULL.
        var all = statements.SelectMany(s => s.ExecutionParameters).ToList();
        Assert.Contains("TIMESTAMP '2010-12-02 00:00:00.000'", all);
        Assert.Contains("TIMESTAMP '2010-12-10 00:00:00.000'", all);
        Assert.Contains("'France'", all);
        Assert.Contains("NULL", all);
        Assert.Contains(all, p => p.StartsWith("'|2010-12-", StringComparison.Ordinal));
    }

    /// <summary>The last clause keyword before <paramref name="index"/> at the same parenthesis depth or outside it.</summary>
    private static string ClauseBefore(string sql, int index)
    {
        int depth = 0;
        for (int i = index - 1; i >= 0; i--)
        {
            char c = sql[i];
            if (c == ')') depth++;
            else if (c == '(') depth = Math.Max(0, depth - 1);
            else if (depth == 0 && char.IsLetter(c) && (i == 0 || !char.IsLetterOrDigit(sql[i - 1]) && sql[i - 1] != '_'))
            {
                var word = Keyword().Match(sql, i);
                if (word.Success && word.Index == i) return word.Groups[1].Value.ToUpperInvariant();
            }
        }
        return "(none)";
    }

    [GeneratedRegex(@"\?")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\G(SELECT|FROM|WHERE|GROUP|ORDER|HAVING|LIMIT|ON|JOIN|UNION)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Keyword();

    [GeneratedRegex(@"^(NULL|'([^']|'')*'|TIMESTAMP '\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}')$")]
    private static partial Regex Literal();

    [Theory]
    [MemberData(nameof(DashboardApiTests.BadRequests), MemberType = typeof(DashboardApiTests))]
    public async Task Api_BadParameterOnAthenaFake_400NamingItWithoutCallingAthena(string url, string parameter)
    {
        int calls = fixture.Fake.Calls.Count;

        var athena = await GetAsync(fixture.OnAthena.Client, url);
        var duck = await GetAsync(fixture.OnDuckDb.Client, url);

        Assert.Equal(HttpStatusCode.BadRequest, athena.Status);
        using var json = System.Text.Json.JsonDocument.Parse(athena.Body);
        Assert.Equal(parameter, json.RootElement.GetProperty("parameter").GetString());
        Assert.Equal(Encoding.UTF8.GetString(duck.Body), Encoding.UTF8.GetString(athena.Body));
        Assert.Equal(calls, fixture.Fake.Calls.Count);
    }

    [Fact]
    public async Task Api_ListsCutAtMaxRowsOnAthenaFake_AnswerByteForByteTheJsonOfDuckDb()
    {
        static void Small(RetailDashboardOptions o) => (o.MaxRows, o.MaxLimit) = (2, 2);
        await using var onDuckDb = await DashboardTestServer.StartAsync(fixture.Lake.Query, configure: Small);
        await using var onAthena = await DashboardTestServer.StartAsync(fixture.Athena, configure: Small);
        foreach (string url in new[] { "api/daily", "api/monthly", "api/countries", "api/top-countries?limit=2", "api/top-products?limit=2&country=United%20Kingdom" })
        {
            var duck = await GetAsync(onDuckDb.Client, url);
            var athena = await GetAsync(onAthena.Client, url);
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (duck.Status, athena.Status));
            Assert.Equal(Encoding.UTF8.GetString(duck.Body), Encoding.UTF8.GetString(athena.Body));
            if (!url.Contains("top-", StringComparison.Ordinal)) Assert.Contains("\"truncated\":true", Encoding.UTF8.GetString(athena.Body), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Api_CompactedHoursOverSeveralParametersOnAthenaFake_AnswerByteForByteTheJsonOfDuckDb()
    {
        // Twelve days of twenty hours, most of them compacted: the compacted-hours list needs several 1,000-character
        // chunks, each one ExecutionParameters member.
        var days = Enumerable.Range(1, 12).Select(d => new DateOnly(2011, 3, d)).ToArray();
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(60, 11, days));
        var compacted = await lake.CompactAsync(h => (h.Day + h.Hour) % 7 != 0);
        Assert.True(compacted.Count > 150, $"{compacted.Count} hours compacted");
        var (executor, fake, engine) = await DashboardOnAthenaFixture.StartAthenaAsync(lake);
        try
        {
            await using var onDuckDb = await DashboardTestServer.StartAsync(lake.Query);
            await using var onAthena = await DashboardTestServer.StartAsync(engine);
            foreach (string url in new[] { "api/summary", "api/summary?from=2011-03-05&to=2011-03-07", "api/daily", "api/top-countries", "api/countries" })
            {
                var duck = await GetAsync(onDuckDb.Client, url);
                var athena = await GetAsync(onAthena.Client, url);
                Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (duck.Status, athena.Status));
                Assert.Equal(Encoding.UTF8.GetString(duck.Body), Encoding.UTF8.GetString(athena.Body));
            }
            var chunks = fake.Started.First(s => s.ExecutionParameters.Count > 0).ExecutionParameters;
            Assert.True(chunks.Count(p => p.Length > 900) >= 2, string.Join(", ", chunks.Select(p => p.Length)));
            Assert.All(fake.Started.SelectMany(s => s.ExecutionParameters), p => Assert.InRange(p.Length, 1, AthenaLoopbackFake.MaxExecutionParameterLength));
        }
        finally
        {
            (engine as IDisposable)?.Dispose();
            await fake.DisposeAsync();
            executor.Dispose();
        }
    }

    [Fact]
    public async Task Api_EmptyLakeOnAthenaFake_AnswersByteForByteTheJsonOfDuckDb()
    {
        await using var lake = await TestLake.CreateAsync();
        var (executor, fake, engine) = await DashboardOnAthenaFixture.StartAthenaAsync(lake);
        try
        {
            await using var onDuckDb = await DashboardTestServer.StartAsync(lake.Query);
            await using var onAthena = await DashboardTestServer.StartAsync(engine);
            foreach (string url in new[] { "api/summary", "api/summary?country=France&from=2010-12-01", "api/daily", "api/monthly", "api/top-countries", "api/top-products", "api/countries" })
            {
                var duck = await GetAsync(onDuckDb.Client, url);
                var athena = await GetAsync(onAthena.Client, url);
                Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (duck.Status, athena.Status));
                Assert.Equal(Encoding.UTF8.GetString(duck.Body), Encoding.UTF8.GetString(athena.Body));
            }
            Assert.NotEmpty(fake.Started);
        }
        finally
        {
            (engine as IDisposable)?.Dispose();
            await fake.DisposeAsync();
            executor.Dispose();
        }
    }
}
