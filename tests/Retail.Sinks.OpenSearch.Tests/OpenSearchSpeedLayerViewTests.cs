using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Retail.Indexing;
using Retail.Synthetic;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>
/// <see cref="OpenSearchUpsertIndex.HistogramAsync"/>: synthetic records upserted through the real index into the
/// strict loopback fake, read back, and compared with the same histogram computed with LINQ over the records.
/// </summary>
public class OpenSearchSpeedLayerViewTests
{
    // Days around the boundaries that matter: a Sunday and the Monday after it (ISO weeks start on Monday), a year's
    // end inside a week, month ends and starts.
    private static readonly DateTime[] Days =
    [
        new(2009, 12, 27), new(2009, 12, 28), new(2010, 1, 1), new(2010, 1, 3), new(2010, 1, 4), new(2010, 1, 31),
        new(2010, 2, 1), new(2010, 2, 28), new(2010, 3, 1), new(2010, 6, 15), new(2010, 12, 9),
    ];

    /// <summary>Synthetic records spread over <see cref="Days"/> (each day's invoice dates between midnight and 23:59), every 13th one a cancellation (negative quantity).</summary>
    private static List<IndexDocument> Spread(int perDay = 60, ulong seed = 11) =>
        [.. Days.SelectMany((day, d) => new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed + (ulong)d, Clock = day.AddHours(23).AddMinutes(59) })
            .Generate(perDay)
            .Select((r, i) => new IndexDocument(string.Create(CultureInfo.InvariantCulture, $"s{d:D2}-{i:D4}"), i % 13 == 0 ? r with { Quantity = -r.Quantity } : r)))];

    /// <summary>The bucket start of <paramref name="t"/>, computed independently of the fake: weeks with <see cref="ISOWeek"/>.</summary>
    private static DateTime Floor(DateTime t, HistogramInterval interval) => interval switch
    {
        HistogramInterval.Minute => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0),
        HistogramInterval.Hour => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0),
        HistogramInterval.Day => t.Date,
        HistogramInterval.Week => ISOWeek.ToDateTime(ISOWeek.GetYear(t), ISOWeek.GetWeekOfYear(t), DayOfWeek.Monday),
        HistogramInterval.Month => new DateTime(t.Year, t.Month, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(interval)),
    };

    private static List<HistogramBucket> Expected(IEnumerable<IndexDocument> docs, HistogramInterval interval) =>
        [.. docs.Select(d => d.Record).GroupBy(r => Floor(r.InvoiceDate, interval)).OrderBy(g => g.Key)
            .Select(g => new HistogramBucket(g.Key, g.Count(), g.Sum(r => (long)r.Quantity)))];

    private static async Task<(OpenSearchLoopbackFake Fake, OpenSearchUpsertIndex Index)> LoadedAsync(List<IndexDocument> docs, Action<OpenSearchOptions>? configure = null)
    {
        var fake = await OpenSearchLoopbackFake.StartAsync();
        var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, configure));
        var result = await index.UpsertAsync(docs);
        Assert.Equal(0, result.FailedCount);
        return (fake, index);
    }

    private static FakeRequest SearchRequest(OpenSearchLoopbackFake fake) => Assert.Single(fake.Requests, r => r.PathAndQuery.Contains("/_search", StringComparison.Ordinal));

    [Theory]
    [InlineData(HistogramInterval.Minute)]
    [InlineData(HistogramInterval.Hour)]
    [InlineData(HistogramInterval.Day)]
    [InlineData(HistogramInterval.Week)]
    [InlineData(HistogramInterval.Month)]
    public async Task HistogramAsync_EachInterval_OnOpenSearchFake_BucketsEqualLinq(HistogramInterval interval)
    {
        var docs = Spread();
        var (fake, index) = await LoadedAsync(docs);
        await using var _ = fake;
        using var __ = index;

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = interval, MaxBuckets = SpeedLayerHistogramRequest.MaxBucketsLimit });

        Assert.Equal(Expected(docs, interval), histogram.Buckets);
        Assert.Equal(docs.Count, histogram.Documents);
        Assert.Equal(docs.Sum(d => (long)d.Record.Quantity), histogram.Quantity);
        Assert.False(histogram.Truncated);
        Assert.All(histogram.Buckets, b => Assert.Equal(DateTimeKind.Utc, b.Start.Kind));
        Assert.Equal(200, SearchRequest(fake).Status);
    }

    [Fact]
    public async Task HistogramAsync_WeekAcrossYearEnd_OnOpenSearchFake_OneBucketFromMonday()
    {
        // Monday 2009-12-28 to Sunday 2010-01-03 is one ISO week (2009-W53); Monday 2010-01-04 starts the next.
        var docs = Spread().Where(d => d.Record.InvoiceDate is { Year: 2009, Day: >= 28 } or { Year: 2010, Month: 1, Day: <= 4 }).ToList();
        var (fake, index) = await LoadedAsync(docs);
        await using var _ = fake;
        using var __ = index;

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Week });

        Assert.Equal([new DateTime(2009, 12, 28), new DateTime(2010, 1, 4)], histogram.Buckets.Select(b => b.Start));
        Assert.Equal(docs.Count(d => d.Record.InvoiceDate < new DateTime(2010, 1, 4)), histogram.Buckets[0].Documents);
    }

    [Fact]
    public async Task HistogramAsync_FromTo_OnOpenSearchFake_FromInclusiveToExclusive()
    {
        var from = new DateTime(2010, 1, 4);
        var to = new DateTime(2010, 2, 1);
        var docs = Spread();
        // Records exactly on and next to both bounds.
        docs[0] = docs[0] with { Record = docs[0].Record with { InvoiceDate = from } };
        docs[1] = docs[1] with { Record = docs[1].Record with { InvoiceDate = from.AddSeconds(-1) } };
        docs[2] = docs[2] with { Record = docs[2].Record with { InvoiceDate = to } };
        docs[3] = docs[3] with { Record = docs[3].Record with { InvoiceDate = to.AddSeconds(-1) } };
        var (fake, index) = await LoadedAsync(docs);
        await using var _ = fake;
        using var __ = index;

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Day, From = from, To = to });

        var inside = docs.Where(d => d.Record.InvoiceDate >= from && d.Record.InvoiceDate < to).ToList();
        Assert.Contains(inside, d => d.Id == docs[0].Id);
        Assert.Contains(inside, d => d.Id == docs[3].Id);
        Assert.Equal(Expected(inside, HistogramInterval.Day), histogram.Buckets);
        Assert.Equal(inside.Count, histogram.Documents);
        Assert.Equal(inside.Sum(d => (long)d.Record.Quantity), histogram.Quantity);

        // Bounds finer than OpenSearch's milliseconds: one tick past a document's time leaves it out of From and in To.
        var finer = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Day, From = from.AddTicks(1), To = to.AddTicks(1) });
        var finerInside = docs.Where(d => d.Record.InvoiceDate >= from.AddTicks(1) && d.Record.InvoiceDate < to.AddTicks(1)).ToList();
        Assert.DoesNotContain(finerInside, d => d.Id == docs[0].Id);
        Assert.Contains(finerInside, d => d.Id == docs[2].Id);
        Assert.Equal(Expected(finerInside, HistogramInterval.Day), finer.Buckets);
        Assert.Equal(finerInside.Count, finer.Documents);

        // Only a lower or only an upper bound.
        var onlyFrom = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Month, From = to });
        Assert.Equal(Expected(docs.Where(d => d.Record.InvoiceDate >= to), HistogramInterval.Month), onlyFrom.Buckets);
        var onlyTo = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Month, To = from });
        Assert.Equal(Expected(docs.Where(d => d.Record.InvoiceDate < from), HistogramInterval.Month), onlyTo.Buckets);

        // From == To: nothing.
        var none = await index.HistogramAsync(new SpeedLayerHistogramRequest { From = from, To = from });
        Assert.Empty(none.Buckets);
        Assert.Equal((0L, 0L, false), (none.Documents, none.Quantity, none.Truncated));
    }

    [Fact]
    public async Task HistogramAsync_Country_OnOpenSearchFake_OnlyThatCountryExactly()
    {
        var docs = Spread();
        var (fake, index) = await LoadedAsync(docs);
        await using var _ = fake;
        using var __ = index;
        Assert.Equal("keyword", fake.FieldType("retail", "Country")); // the retail index template's mapping: a term matches the exact value

        foreach (string country in new[] { "United Kingdom", "France", "EIRE" })
        {
            var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Week, Country = country });
            var mine = docs.Where(d => d.Record.Country == country).ToList();
            Assert.NotEmpty(mine);
            Assert.Equal(Expected(mine, HistogramInterval.Week), histogram.Buckets);
            Assert.Equal(mine.Count, histogram.Documents);
            Assert.Equal(mine.Sum(d => (long)d.Record.Quantity), histogram.Quantity);
        }

        // Exact match: another case, or a country with no documents, counts nothing.
        var lower = await index.HistogramAsync(new SpeedLayerHistogramRequest { Country = "united kingdom" });
        Assert.Equal(0, lower.Documents);
        Assert.Empty(lower.Buckets);
        var nowhere = await index.HistogramAsync(new SpeedLayerHistogramRequest { Country = "Atlantis" });
        Assert.Equal((0L, 0L, false), (nowhere.Documents, nowhere.Quantity, nowhere.Truncated));

        // With bounds as well.
        var from = new DateTime(2010, 1, 1);
        var to = new DateTime(2010, 3, 1);
        var both = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Day, Country = "France", From = from, To = to });
        Assert.Equal(Expected(docs.Where(d => d.Record.Country == "France" && d.Record.InvoiceDate >= from && d.Record.InvoiceDate < to), HistogramInterval.Day), both.Buckets);
    }

    [Fact]
    public async Task HistogramAsync_MoreBucketsThanMaxBuckets_OnOpenSearchFake_OldestKeptAndTruncated()
    {
        var docs = Spread();
        var (fake, index) = await LoadedAsync(docs);
        await using var _ = fake;
        using var __ = index;
        var all = Expected(docs, HistogramInterval.Day);
        Assert.Equal(Days.Length, all.Count);

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Day, MaxBuckets = 3 });

        Assert.Equal(all.Take(3), histogram.Buckets);
        Assert.True(histogram.Truncated);
        // The totals still count every matching document, also those of the buckets left out.
        Assert.Equal(docs.Count, histogram.Documents);
        Assert.Equal(docs.Sum(d => (long)d.Record.Quantity), histogram.Quantity);

        // Exactly as many buckets as allowed: not truncated.
        var exact = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Day, MaxBuckets = all.Count });
        Assert.Equal(all, exact.Buckets);
        Assert.False(exact.Truncated);
    }

    [Theory]
    [InlineData(IndexRotation.None, 404)]
    [InlineData(IndexRotation.Day, 200)]
    public async Task HistogramAsync_NoIndexYet_OnOpenSearchFake_EmptyHistogram(IndexRotation rotation, int answered)
    {
        // Unrotated: the index is missing (404 index_not_found_exception). Rotating: the pattern matches no index (200, no shards).
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Rotation = rotation));

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Country = "France", From = new DateTime(2010, 1, 1) });

        Assert.Empty(histogram.Buckets);
        Assert.Equal((0L, 0L, false), (histogram.Documents, histogram.Quantity, histogram.Truncated));
        Assert.Equal(answered, SearchRequest(fake).Status);
    }

    [Fact]
    public async Task HistogramAsync_ServerError_OnOpenSearchFake_ThrowsNamingTheStatusOnceWithoutRetrying()
    {
        var (fake, index) = await LoadedAsync(Spread(perDay: 5));
        await using var _ = fake;
        using var __ = index;
        fake.FailRequests(503, count: 2);

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Equal(503, e.StatusCode);
        Assert.True(e.IsTransient);
        Assert.Contains("HTTP 503", e.Message, StringComparison.Ordinal);
        Assert.Contains("_search on 'retail'", e.Message, StringComparison.Ordinal);
        Assert.Equal(503, SearchRequest(fake).Status); // one request: Retail retries in one place, and the dashboard asks again
    }

    [Theory]
    [InlineData(IndexRotation.Hour)]
    [InlineData(IndexRotation.Day)]
    [InlineData(IndexRotation.Week)]
    [InlineData(IndexRotation.Month)]
    public async Task HistogramAsync_RotatedIndexes_OnOpenSearchFake_EveryDocumentCountedOnce(IndexRotation rotation)
    {
        var docs = Spread(perDay: 30);
        var (fake, index) = await LoadedAsync(docs, o => o.Rotation = rotation);
        await using var _ = fake;
        using var __ = index;
        Assert.True(fake.IndexNames.Count > 1, $"{fake.IndexNames.Count} indices");
        Assert.Equal(docs.Count, fake.TotalDocuments);

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest { Interval = HistogramInterval.Week });

        Assert.Equal(Expected(docs, HistogramInterval.Week), histogram.Buckets); // ISO weeks, although Week rotation names Sunday weeks
        Assert.Equal(docs.Count, histogram.Documents);
        Assert.Equal(docs.Sum(d => (long)d.Record.Quantity), histogram.Quantity);
        var search = SearchRequest(fake);
        Assert.Equal("/retail-*/_search?allow_partial_search_results=false", search.PathAndQuery);
        Assert.Equal(200, search.Status);
    }

    [Fact]
    public async Task HistogramAsync_AllParameters_OnOpenSearchFake_RequestMatchesGoldenJson()
    {
        var (fake, index) = await LoadedAsync([.. TestRecords.Three()]);
        await using var _ = fake;
        using var __ = index;

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest
        {
            Interval = HistogramInterval.Week, From = new DateTime(2009, 12, 1), To = new DateTime(2010, 1, 1), Country = "United Kingdom", MaxBuckets = 52,
        });

        var search = SearchRequest(fake);
        Assert.Equal("POST", search.Method);
        Assert.Equal("/retail/_search?allow_partial_search_results=false", search.PathAndQuery);
        Assert.Equal("application/json", search.Headers["Content-Type"]);
        Assert.Equal(await File.ReadAllBytesAsync(TestRecords.GoldenPath("search-histogram.json")), search.Body);
        // Glass (12) and Postage (1) in the week of Monday 2009-11-30; the Australian cancellation is filtered out.
        Assert.Equal([new HistogramBucket(new DateTime(2009, 11, 30), 2, 13)], histogram.Buckets);
    }

    [Fact]
    public async Task HistogramAsync_NoFilters_OnOpenSearchFake_SendsNoQuery()
    {
        var (fake, index) = await LoadedAsync([.. TestRecords.Three()]);
        await using var _ = fake;
        using var __ = index;

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest());

        Assert.Equal(
            """{"size":0,"track_total_hits":true,"aggs":{"histogram":{"date_histogram":{"field":"InvoiceDate","calendar_interval":"day","min_doc_count":1,"time_zone":"UTC"},"aggs":{"quantity":{"sum":{"field":"Quantity"}},"oldest":{"bucket_sort":{"size":1001}}}},"quantity":{"sum":{"field":"Quantity"}}}}""",
            Encoding.UTF8.GetString(SearchRequest(fake).Body));
        Assert.Equal([new HistogramBucket(new DateTime(2009, 12, 1), 3, 1)], histogram.Buckets);
    }

    [Fact]
    public async Task HistogramAsync_InvalidRequest_OnOpenSearchFake_ArgumentExceptionWithEveryProblemAndNothingSent()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var request = new SpeedLayerHistogramRequest { From = new DateTime(2010, 2, 1), To = new DateTime(2010, 1, 1), MaxBuckets = 0, Country = "" };

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await index.HistogramAsync(request));

        Assert.Equal("request", e.ParamName);
        foreach (string problem in request.Validate()) Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Equal(3, request.Validate().Count);
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task HistogramAsync_IndexWithoutTheTemplate_OnOpenSearchFake_CountryIsTextAndTheRefusalNamesTheRootCause()
    {
        // Without the retail template, dynamic mapping makes Country a text field (with Country.keyword): a term on it would
        // match nothing on OpenSearch; the fake refuses it, and the client's exception carries the shard failure's cause.
        var (fake, index) = await LoadedAsync(Spread(perDay: 5), o => o.EnsureIndexTemplate = false);
        await using var _ = fake;
        using var __ = index;
        Assert.Equal("text", fake.FieldType("retail", "Country"));

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest { Country = "France" }));

        Assert.Equal(400, e.StatusCode);
        Assert.False(e.IsTransient);
        Assert.Equal("search_phase_execution_exception", e.ErrorType);
        Assert.Contains("all shards failed; root cause illegal_argument_exception:", e.Message, StringComparison.Ordinal);
        Assert.Contains("[Country.keyword]", e.Message, StringComparison.Ordinal);

        // Without a country filter the dynamic mapping serves (InvoiceDate detected as a date, Quantity a long).
        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest());
        Assert.Equal(Days.Length * 5, histogram.Documents);
    }

    [Fact]
    public async Task HistogramAsync_QuantityNotAnInteger_OnOpenSearchFake_RefusedNamingTheSum()
    {
        // An index made by hand, without the template: a fractional Quantity makes the field a float and the sums fractional.
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using (var http = new HttpClient { BaseAddress = fake.Url })
        using (var content = new StringContent(
            "{\"index\":{\"_index\":\"retail\",\"_id\":\"1\"}}\n{\"InvoiceDate\":\"2010-12-01T10:00:00\",\"Quantity\":2.5,\"Country\":\"France\"}\n"
            + "{\"index\":{\"_index\":\"retail\",\"_id\":\"2\"}}\n{\"InvoiceDate\":\"2010-12-01T11:00:00\",\"Quantity\":1,\"Country\":\"France\"}\n",
            Encoding.UTF8, "application/x-ndjson"))
        using (var response = await http.PostAsync("_bulk", content))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Equal("invalid_response", e.ErrorType);
        Assert.Contains("is 3.5, not a whole number", e.Message, StringComparison.Ordinal);
        Assert.Contains("Quantity must be mapped as an integer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HistogramAsync_WrongPassword_OnOpenSearchFake_401NamesTheAuthSetting()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("retail", "right"));
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "retail";
            o.Password = "wrong";
        }));

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Equal(401, e.StatusCode);
        Assert.Equal("security_exception", e.ErrorType);
        Assert.Contains("OpenSearchOptions.Auth is Basic as the user 'retail'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HistogramAsync_RightPassword_OnOpenSearchFake_Counts()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("retail", "right"));
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "retail";
            o.Password = "right";
        }));
        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);

        var histogram = await index.HistogramAsync(new SpeedLayerHistogramRequest());

        Assert.Equal(3, histogram.Documents);
        Assert.Equal(1, histogram.Quantity); // 12 - 12 + 1
    }

    [Fact]
    public async Task HistogramAsync_NoAnswerWithinRequestTimeout_OnStubTransport_TimeoutException()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2010, 12, 9, 20, 0, 0, TimeSpan.Zero));
        using var transport = new StubTransport(async ct =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var index = OpenSearchClientFactory.CreateIndex(
            new OpenSearchOptions { Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None, RequestTimeout = TimeSpan.FromSeconds(5) }, transport: transport, timeProvider: time);

        var pending = index.HistogramAsync(new SpeedLayerHistogramRequest()).AsTask();
        await transport.Started.Task;
        time.Advance(TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<OpenSearchException>(() => pending);

        Assert.Equal("timeout", e.ErrorType);
        Assert.Equal(0, e.StatusCode);
        Assert.Contains("OpenSearchOptions.RequestTimeout (00:00:05)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HistogramAsync_AnswerOverTheReadLimit_OnStubTransport_RefusedWithoutReadingItAll()
    {
        var endless = new EndlessStream();
        using var transport = new StubTransport(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(endless) }));
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions { Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None }, transport: transport);

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Equal("invalid_response", e.ErrorType);
        Assert.Contains("is more than the 8388608 bytes this client reads", e.Message, StringComparison.Ordinal);
        Assert.InRange(endless.Served, HistogramSearch.MaxResponseBytes, HistogramSearch.MaxResponseBytes + 64 * 1024);
    }

    [Fact]
    public async Task HistogramAsync_ContentLengthOverTheReadLimit_OnStubTransport_RefusedBeforeReading()
    {
        using var transport = new StubTransport(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(new byte[HistogramSearch.MaxResponseBytes + 1]) }));
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions { Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None }, transport: transport);

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Contains("is 8388609 bytes, more than the 8388608 bytes this client reads", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HistogramAsync_NothingListening_ConnectionFailureException()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions { Endpoint = $"http://127.0.0.1:{port}", Auth = OpenSearchAuth.None });

        var e = await Assert.ThrowsAsync<OpenSearchException>(async () => await index.HistogramAsync(new SpeedLayerHistogramRequest()));

        Assert.Equal(("connection_failure", 0), (e.ErrorType, e.StatusCode));
        Assert.Contains("could not be reached for _search on 'retail'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"value\":1e300}", "beyond 2^53")]
    [InlineData("{\"value\":null}", "missing or not a number")]
    [InlineData("{}", "missing or not a number")]
    public void TryRead_SumNotAnExactWholeNumber_Refused(string sum, string problem)
    {
        string json = "{\"took\":1,\"timed_out\":false,\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0},"
            + "\"hits\":{\"total\":{\"value\":1,\"relation\":\"eq\"},\"max_score\":null,\"hits\":[]},"
            + "\"aggregations\":{\"histogram\":{\"buckets\":[]},\"quantity\":" + sum + "}}";
        Assert.False(HistogramSearch.TryRead(Encoding.UTF8.GetBytes(json), 10, out _, out string? why));
        Assert.Contains(problem, why, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_PartialResults_Refused()
    {
        string json = "{\"took\":1,\"timed_out\":false,\"_shards\":{\"total\":2,\"successful\":1,\"skipped\":0,\"failed\":1,"
            + "\"failures\":[{\"shard\":1,\"index\":\"retail\",\"reason\":{\"type\":\"node_not_connected_exception\",\"reason\":\"gone\"}}]},"
            + "\"hits\":{\"total\":{\"value\":1,\"relation\":\"eq\"},\"max_score\":null,\"hits\":[]},"
            + "\"aggregations\":{\"histogram\":{\"buckets\":[]},\"quantity\":{\"value\":0.0}}}";
        Assert.False(HistogramSearch.TryRead(Encoding.UTF8.GetBytes(json), 10, out _, out string? why));
        Assert.Equal("1 shards failed (its results are partial): node_not_connected_exception: gone", why);
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000Z")]
    [InlineData(1L, "1970-01-01T00:00:00.001Z")]       // one tick past the epoch rounds up to the next millisecond
    [InlineData(10_000L, "1970-01-01T00:00:00.001Z")]  // exactly one millisecond stays
    [InlineData(-1L, "1970-01-01T00:00:00.000Z")]      // one tick before the epoch rounds up to it
    public void Bound_SubMillisecond_RoundsUp(long ticksFromEpoch, string expected)
    {
        Assert.Equal(expected, HistogramSearch.Bound(DateTime.UnixEpoch.AddTicks(ticksFromEpoch)));
    }

    private sealed class StubTransport(Func<CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            return answer(cancellationToken);
        }
    }

    /// <summary>A response body that never ends (no length known up front), counting what it served.</summary>
    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)' ');
            Served += count;
            return count;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
