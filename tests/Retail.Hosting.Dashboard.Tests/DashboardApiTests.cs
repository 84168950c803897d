using System.Globalization;
using System.Net;
using System.Text.Json;
using Retail.Indexing;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// The JSON API over a real Kestrel server and a real lake (<see cref="DashboardLakeFixture"/>: some hours Parquet, some
/// JSON only): every figure equals an independent LINQ answer over the records streamed in (and the SQL answer over the
/// JSON table, which holds every record), to the last digit.
/// </summary>
public sealed class DashboardApiTests(DashboardLakeFixture fixture) : IClassFixture<DashboardLakeFixture>
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private HttpClient Client => fixture.Server.Client;

    private IReadOnlyList<RetailTransaction> Records => fixture.Records;

    internal static async Task<JsonElement> GetJsonAsync(HttpClient client, string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(url);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"GET {url}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    private static string Money(decimal value) => value.ToString("0.0000", Inv);

    private static IEnumerable<RetailTransaction> Filter(IEnumerable<RetailTransaction> records, DateOnly? from = null, DateOnly? to = null, string? country = null) =>
        records.Where(r => (from is null || DateOnly.FromDateTime(r.InvoiceDate) >= from) && (to is null || DateOnly.FromDateTime(r.InvoiceDate) <= to)
            && (country is null || r.Country == country));

    private static void AssertSummary(JsonElement json, IReadOnlyCollection<RetailTransaction> expected, bool empty = false)
    {
        decimal revenue = expected.Sum(r => r.Quantity * r.Price);
        Assert.Equal(expected.Count, json.GetProperty("records").GetInt64());
        Assert.Equal(Money(revenue), json.GetProperty("revenue").GetString());
        Assert.Equal(Math.Round(revenue, 2, MidpointRounding.AwayFromZero).ToString("N2", Inv), json.GetProperty("revenueText").GetString());
        Assert.Equal(expected.Sum(r => (long)r.Quantity), json.GetProperty("quantity").GetInt64());
        if (expected.Count == 0) Assert.Equal(JsonValueKind.Null, json.GetProperty("lastInvoiceDate").ValueKind);
        else Assert.Equal(expected.Max(r => r.InvoiceDate).ToString("yyyy-MM-dd'T'HH:mm:ss", Inv), json.GetProperty("lastInvoiceDate").GetString());
        Assert.Equal(empty, json.GetProperty("empty").GetBoolean());
    }

    [Fact]
    public async Task Summary_NoFilter_EqualsEveryRecordAndTheJsonTableTotals()
    {
        var json = await GetJsonAsync(Client, "api/summary");

        AssertSummary(json, [.. Records]);
        // The `retail query` answer: the JSON table holds every record delivered (compaction keeps it).
        var sql = await fixture.Lake.Query.QueryAsync("SELECT count(*), sum(quantity * price) FROM retail_trans_json");
        Assert.Equal(Convert.ToInt64(sql.Rows[0][0], Inv), json.GetProperty("records").GetInt64());
        Assert.Equal(Money((decimal)sql.Rows[0][1]!), json.GetProperty("revenue").GetString());
    }

    [Fact]
    public async Task Summary_SomeHoursCompacted_CountsEveryRecordExactlyOnce()
    {
        // The lake really is mixed: both kinds of hours hold records, and the Parquet table only the compacted ones.
        Assert.NotEmpty(fixture.Compacted);
        Assert.NotEmpty(fixture.JsonOnly);
        var parquet = await fixture.Lake.Query.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet");
        long inCompacted = Records.Count(r => DashboardLakeFixture.IsCompacted(new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)));
        Assert.Equal(inCompacted, Convert.ToInt64(parquet.Rows[0][0], Inv));
        Assert.True(inCompacted > 0 && inCompacted < Records.Count);

        var json = await GetJsonAsync(Client, "api/summary");
        Assert.Equal(Records.Count, json.GetProperty("records").GetInt64());
        // Per day as well: the compacted days, the half-compacted day and the JSON-only days.
        var daily = await GetJsonAsync(Client, "api/daily");
        foreach (var row in daily.GetProperty("rows").EnumerateArray())
        {
            var day = DateOnly.ParseExact(row.GetProperty("date").GetString()!, "yyyy-MM-dd", Inv);
            Assert.Equal(Records.Where(r => DateOnly.FromDateTime(r.InvoiceDate) == day).Sum(r => (long)r.Quantity), row.GetProperty("quantity").GetInt64());
        }
    }

    [Fact]
    public async Task Summary_HourCompactedAfterTheCompactedListWasRead_StillCountedOnce()
    {
        await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(40, 11, new DateOnly(2010, 12, 5)));
        var hours = await lake.HoursAsync();
        await lake.CompactAsync(h => h == hours[0]);
        await using var server = await DashboardTestServer.StartAsync(lake.Query);
        Assert.Equal(lake.Records.Count, (await GetJsonAsync(server.Client, "api/summary")).GetProperty("records").GetInt64());

        // The dashboard reuses its list of compacted hours for a moment: hours compacted since are still counted once.
        await lake.CompactAsync(h => h != hours[0]);
        var json = await GetJsonAsync(server.Client, "api/summary");

        AssertSummary(json, [.. lake.Records]);
        var parquet = await lake.Query.QueryAsync("SELECT count(*) FROM ctas_retail_trans_parquet");
        Assert.Equal((long)lake.Records.Count, Convert.ToInt64(parquet.Rows[0][0], Inv));
    }

    [Theory]
    [InlineData("France")]
    [InlineData("United Kingdom")]
    [InlineData("European Community")]
    public async Task Summary_CountryFilter_EqualsThatCountrysRecords(string country)
    {
        var json = await GetJsonAsync(Client, "api/summary?country=" + Uri.EscapeDataString(country));

        var expected = Filter(Records, country: country).ToList();
        Assert.NotEmpty(expected);
        AssertSummary(json, expected);
    }

    [Fact]
    public async Task Summary_DateRange_IncludesBothWholeDays()
    {
        var json = await GetJsonAsync(Client, "api/summary?from=2010-12-01&to=2010-12-02");

        var expected = Filter(Records, new DateOnly(2010, 12, 1), new DateOnly(2010, 12, 2)).ToList();
        Assert.Contains(expected, r => r.InvoiceDate.Day == 2 && r.InvoiceDate.Hour >= 7); // the end of `to`'s day counts
        AssertSummary(json, expected);
    }

    [Fact]
    public async Task Summary_DateRangeAndCountry_EqualsBothFilters()
    {
        var json = await GetJsonAsync(Client, "api/summary?from=2010-12-02&to=2011-01-04&country=United%20Kingdom");

        AssertSummary(json, [.. Filter(Records, new DateOnly(2010, 12, 2), new DateOnly(2011, 1, 4), "United Kingdom")]);
    }

    [Fact]
    public async Task Summary_FilterMatchingNothing_ZeroRecordsButNotEmpty()
    {
        var json = await GetJsonAsync(Client, "api/summary?from=2020-01-01");

        AssertSummary(json, [], empty: false);
        Assert.Equal("0.0000", json.GetProperty("revenue").GetString());
        Assert.Equal("0.00", json.GetProperty("revenueText").GetString());
    }

    [Fact]
    public async Task Summary_CountryOfSqlLookingAllowedCharacters_IsAValueNotSql()
    {
        // Letters, spaces and ( ) , - are allowed in a country: passed as a parameter, they match no country.
        var json = await GetJsonAsync(Client, "api/summary?country=" + Uri.EscapeDataString("France) OR (1"));

        AssertSummary(json, [], empty: false);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?country=France")]
    [InlineData("?from=2010-12-02&to=2010-12-09")]
    public async Task Daily_EqualsSumOfQuantityAndPricePerDay(string query)
    {
        var json = await GetJsonAsync(Client, "api/daily" + query);

        var records = query switch
        {
            "?country=France" => Filter(Records, country: "France"),
            "" => Records,
            _ => Filter(Records, new DateOnly(2010, 12, 2), new DateOnly(2010, 12, 9)),
        };
        var expected = records.GroupBy(r => DateOnly.FromDateTime(r.InvoiceDate)).OrderBy(g => g.Key)
            .Select(g => (Date: g.Key.ToString("yyyy-MM-dd", Inv), Quantity: g.Sum(r => (long)r.Quantity), Price: Money(g.Sum(r => r.Price)))).ToList();
        var actual = json.GetProperty("rows").EnumerateArray()
            .Select(r => (Date: r.GetProperty("date").GetString()!, Quantity: r.GetProperty("quantity").GetInt64(), Price: r.GetProperty("price").GetString()!)).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        Assert.False(json.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?country=United%20Kingdom&from=2010-12-01")]
    public async Task Monthly_EqualsRevenuePerMonth(string query)
    {
        var json = await GetJsonAsync(Client, "api/monthly" + query);

        var records = query.Length == 0 ? Records : Filter(Records, new DateOnly(2010, 12, 1), country: "United Kingdom");
        var expected = records.GroupBy(r => r.InvoiceDate.ToString("yyyy-MM", Inv)).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Month: g.Key, Revenue: Money(g.Sum(r => r.Price * r.Quantity)))).ToList();
        var actual = json.GetProperty("rows").EnumerateArray()
            .Select(r => (Month: r.GetProperty("month").GetString()!, Revenue: r.GetProperty("revenue").GetString()!)).ToList();
        Assert.Equal(query.Length == 0 ? 3 : 2, expected.Count);
        Assert.Equal(expected, actual);
        Assert.False(json.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("", 10)]
    [InlineData("?limit=3", 3)]
    [InlineData("?limit=50&from=2010-12-09", 50)]
    public async Task TopCountries_EqualsRevenuePerCountryDescending(string query, int limit)
    {
        var json = await GetJsonAsync(Client, "api/top-countries" + query);

        var records = query.Contains("from", StringComparison.Ordinal) ? Filter(Records, new DateOnly(2010, 12, 9)) : Records;
        var expected = records.GroupBy(r => r.Country)
            .Select(g => (Country: g.Key, Revenue: g.Sum(r => r.Quantity * r.Price), Quantity: g.Sum(r => (long)r.Quantity)))
            .OrderByDescending(c => c.Revenue).ThenBy(c => c.Country, StringComparer.Ordinal).Take(limit)
            .Select(c => (c.Country, Revenue: Money(c.Revenue), c.Quantity)).ToList();
        var actual = json.GetProperty("rows").EnumerateArray()
            .Select(r => (Country: r.GetProperty("country").GetString()!, Revenue: r.GetProperty("revenue").GetString()!, Quantity: r.GetProperty("quantity").GetInt64())).ToList();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("", 10)]
    [InlineData("?limit=25&country=France", 25)]
    public async Task TopProducts_EqualsRevenuePerStockCodeDescending(string query, int limit)
    {
        var json = await GetJsonAsync(Client, "api/top-products" + query);

        var records = query.Contains("France", StringComparison.Ordinal) ? Filter(Records, country: "France") : Records;
        var expected = records.GroupBy(r => r.StockCode)
            .Select(g => (StockCode: g.Key, Description: g.Select(r => r.Description).Min(StringComparer.Ordinal)!, Revenue: g.Sum(r => r.Quantity * r.Price), Quantity: g.Sum(r => (long)r.Quantity)))
            .OrderByDescending(p => p.Revenue).ThenBy(p => p.StockCode, StringComparer.Ordinal).Take(limit)
            .Select(p => (p.StockCode, p.Description, Revenue: Money(p.Revenue), p.Quantity)).ToList();
        var actual = json.GetProperty("rows").EnumerateArray()
            .Select(r => (StockCode: r.GetProperty("stockCode").GetString()!, Description: r.GetProperty("description").GetString()!,
                Revenue: r.GetProperty("revenue").GetString()!, Quantity: r.GetProperty("quantity").GetInt64())).ToList();
        Assert.Equal(limit, actual.Count);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task TopProducts_QuirkRecord_KeepsItsDescriptionAndExactPrice()
    {
        var json = await GetJsonAsync(Client, "api/top-products?country=European%20Community&limit=50");

        var row = json.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("stockCode").GetString() == "21523");
        Assert.Equal(" DOORMAT \"FANCY\" FONT, HOME SWEET HOME £ ", row.GetProperty("description").GetString());
        Assert.Equal("67.5000", row.GetProperty("revenue").GetString());
    }

    [Fact]
    public async Task Countries_EqualsDistinctCountriesSorted()
    {
        var json = await GetJsonAsync(Client, "api/countries");

        Assert.Equal(Records.Select(r => r.Country).Distinct().Order(StringComparer.Ordinal), json.GetProperty("countries").EnumerateArray().Select(c => c.GetString()!));
        Assert.False(json.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("", HistogramInterval.Day)]
    [InlineData("?interval=hour&country=France", HistogramInterval.Hour)]
    [InlineData("?interval=month&from=2010-12-01&to=2010-12-31", HistogramInterval.Month)]
    [InlineData("?interval=week", HistogramInterval.Week)]
    [InlineData("?interval=minute&from=2010-12-09&to=2010-12-09", HistogramInterval.Minute)]
    public async Task Live_WithSpeedLayerView_EqualsTheHistogramOfTheRecords(string query, HistogramInterval interval)
    {
        var json = await GetJsonAsync(Client, "api/live" + query);

        var records = Records.AsEnumerable();
        if (query.Contains("France", StringComparison.Ordinal)) records = Filter(records, country: "France");
        if (query.Contains("2010-12-31", StringComparison.Ordinal)) records = Filter(records, new DateOnly(2010, 12, 1), new DateOnly(2010, 12, 31));
        if (query.Contains("2010-12-09", StringComparison.Ordinal)) records = Filter(records, new DateOnly(2010, 12, 9), new DateOnly(2010, 12, 9));
        var list = records.ToList();
        var expected = list.GroupBy(r => ListSpeedLayerView.Start(r.InvoiceDate, interval)).OrderBy(g => g.Key)
            .Select(g => (Start: g.Key.ToString("yyyy-MM-dd'T'HH:mm:ss", Inv), Documents: (long)g.Count(), Quantity: g.Sum(r => (long)r.Quantity))).ToList();
        var actual = json.GetProperty("buckets").EnumerateArray()
            .Select(b => (Start: b.GetProperty("start").GetString()!, Documents: b.GetProperty("documents").GetInt64(), Quantity: b.GetProperty("quantity").GetInt64())).ToList();
        Assert.True(json.GetProperty("available").GetBoolean());
        Assert.Equal(list.Count, json.GetProperty("documents").GetInt64());
        Assert.Equal(list.Sum(r => (long)r.Quantity), json.GetProperty("quantity").GetInt64());
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        Assert.False(json.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Summary_ManyConcurrentCalls_AllAnswerTheSameAsOneAtATime()
    {
        string[] urls = ["api/summary", "api/daily", "api/monthly", "api/top-countries", "api/top-products", "api/countries", "api/summary?country=France", "api/live"];
        var sequential = new List<string>();
        foreach (string url in urls) sequential.Add((await GetJsonAsync(Client, url)).GetRawText());

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(_ => urls).Select(async url => (url, (await GetJsonAsync(Client, url)).GetRawText())));

        foreach (var (url, body) in concurrent) Assert.Equal(sequential[Array.IndexOf(urls, url)], body);
    }

    [Fact]
    public async Task Api_Responses_AreNotCachedAndCarryTheSecurityHeaders()
    {
        using var response = await Client.GetAsync("api/summary");

        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
    }

    // ---- bad parameters: 400 naming the parameter, and nothing in the lake changes ----

    public static TheoryData<string, string> BadRequests() => new()
    {
        // country: quotes, statement separators, comments, NUL, overlong, empty
        { "api/summary?country=' OR '1'='1", "country" },
        { "api/summary?country=1; DROP TABLE x", "country" },
        { "api/summary?country=France--", "country" },
        { "api/summary?country=France%00", "country" },
        { "api/summary?country=%00", "country" },
        { "api/summary?country=", "country" },
        { "api/summary?country=" + new string('A', 65), "country" },
        { "api/daily?country=France'", "country" },
        { "api/monthly?country=France%27%3B%20DROP%20TABLE%20retail_trans_json%3B--", "country" },
        { "api/top-countries?country=\"France\"", "country" },
        { "api/top-products?country=Fran%0Ace", "country" },
        { "api/live?country=' OR '1'='1", "country" },
        // from / to: not a date, impossible dates, injection, reversed range
        { "api/summary?from=2010-13-45", "from" },
        { "api/summary?to=2010-13-45", "to" },
        { "api/summary?from=2010-02-30", "from" },
        { "api/summary?from=' OR '1'='1", "from" },
        { "api/daily?from=2010-12-01; DROP TABLE x", "from" },
        { "api/monthly?to=2010-12-01--", "to" },
        { "api/top-countries?from=2010-12-01%00", "from" },
        { "api/top-products?to=" + new string('9', 5000), "to" },
        { "api/live?from=20101201", "from" },
        { "api/summary?from=2010-12-01T00:00:00", "from" },
        { "api/summary?from=2010-12-09&to=2010-12-01", "to" },
        // limit: not an integer, out of range, injection
        { "api/top-countries?limit=0", "limit" },
        { "api/top-countries?limit=51", "limit" },
        { "api/top-countries?limit=-1", "limit" },
        { "api/top-products?limit=10; DROP TABLE x", "limit" },
        { "api/top-products?limit=' OR '1'='1", "limit" },
        { "api/top-products?limit=1e1", "limit" },
        { "api/top-products?limit=%00", "limit" },
        { "api/top-products?limit=" + new string('1', 300), "limit" },
        // interval
        { "api/live?interval=year", "interval" },
        { "api/live?interval=day'--", "interval" },
        { "api/live?interval=Day", "interval" },
        // unknown parameters, also those of another endpoint
        { "api/summary?foo=1", "foo" },
        { "api/summary?limit=10", "limit" },
        { "api/daily?interval=day", "interval" },
        { "api/countries?country=France", "country" },
        { "api/summary?1%3B%20DROP%20TABLE%20x=1", "1; DROP TABLE x" },
        // a parameter given twice (also in two spellings)
        { "api/summary?country=France&country=Spain", "country" },
        { "api/summary?country=France&Country=France", "country" },
        { "api/top-countries?limit=5&limit=5", "limit" },
        { "api/live?interval=day&interval=hour", "interval" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Api_BadParameter_400NamingIt(string url, string parameter)
    {
        var json = await GetJsonAsync(Client, url, HttpStatusCode.BadRequest);

        Assert.Equal(parameter, json.GetProperty("parameter").GetString());
        string error = json.GetProperty("error").GetString()!;
        Assert.Contains($"'{parameter}'", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
        Assert.True(error.Length < 400, error);
    }

    [Fact]
    public async Task Api_EveryInjectionAttempt_LeavesTheLakeByteForByteUnchanged()
    {
        var before = fixture.Lake.HashFiles();
        Assert.Contains(before.Keys, k => k.StartsWith("parquet-retail-trans/", StringComparison.Ordinal));
        Assert.Contains(before.Keys, k => k.StartsWith("json-data/", StringComparison.Ordinal));

        foreach (var row in BadRequests())
            await GetJsonAsync(Client, (string)row[0], HttpStatusCode.BadRequest);
        // And values that are allowed but look like SQL, which reach the engine as parameters.
        await GetJsonAsync(Client, "api/summary?country=" + Uri.EscapeDataString("x) OR (1"));
        await GetJsonAsync(Client, "api/top-products?country=" + Uri.EscapeDataString("A, B & C (D) - E"));

        Assert.Equal(before, fixture.Lake.HashFiles());
        Assert.Equal(Records.Count, (await GetJsonAsync(Client, "api/summary")).GetProperty("records").GetInt64());
    }

    [Fact]
    public async Task Api_Post_IsNotAllowed()
    {
        using var response = await Client.PostAsync("api/summary", new StringContent(""));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
