using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>The fake refuses what OpenSearch refuses (so the client's tests prove something).</summary>
public class OpenSearchLoopbackFakeTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(OpenSearchLoopbackFake fake, string path, string body, string contentType = "application/x-ndjson")
    {
        using var http = new HttpClient { BaseAddress = fake.Url };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await http.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string ErrorType(JsonElement body) => body.GetProperty("error").GetProperty("type").GetString()!;

    private static string Reason(JsonElement body) => body.GetProperty("error").GetProperty("reason").GetString()!;

    [Fact]
    public async Task Bulk_NoTrailingNewline_OnOpenSearchFake_400IllegalArgument()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var (status, body) = await PostAsync(fake, "_bulk", "{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":1}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("illegal_argument_exception", ErrorType(body));
        Assert.Equal("The bulk request must be terminated by a newline [\\n]", Reason(body));
        Assert.Equal(0, fake.TotalDocuments);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/x-ndjson; charset=ISO-8859-1")]
    public async Task Bulk_WrongContentType_OnOpenSearchFake_406(string contentType)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var (status, body) = await PostAsync(fake, "_bulk", "{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":1}\n", contentType);
        Assert.Equal(HttpStatusCode.NotAcceptable, status);
        Assert.StartsWith("Content-Type header [", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, fake.TotalDocuments);
    }

    [Theory]
    [InlineData("[1,2]\n{\"a\":1}\n", "Malformed action/metadata line [1]")]
    [InlineData("not json\n{\"a\":1}\n", "Malformed action/metadata line [1]")]
    [InlineData("{\"upsert\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":1}\n", "expected field [create], [delete], [index] or [update] but found [upsert]")]
    [InlineData("{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n", "index is missing")]
    [InlineData("{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n[1]\n", "is not a JSON object")]
    [InlineData("{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n\"text\"\n", "is not a JSON object")]
    [InlineData("{\"update\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":1}\n", "script or doc is missing")]
    [InlineData("{\"update\":{\"_index\":\"r\"}}\n{\"doc\":{\"a\":1}}\n", "id is missing")]
    [InlineData("{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n", "source is missing")]
    public async Task Bulk_MalformedRequest_OnOpenSearchFake_400AndNothingStored(string ndjson, string reason)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        // A valid first document: a malformed request is refused as a whole.
        var (status, body) = await PostAsync(fake, "_bulk", "{\"index\":{\"_index\":\"ok\",\"_id\":\"0\"}}\n{\"a\":0}\n" + ndjson.Replace("[1]", "[3]", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason.Replace("[1]", "[3]", StringComparison.Ordinal), Reason(body), StringComparison.Ordinal);
        Assert.Equal(0, fake.TotalDocuments);
    }

    [Fact]
    public async Task Bulk_IndexInUrl_OnOpenSearchFake_ActionsWithoutIndexUseIt()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var (status, body) = await PostAsync(fake, "sales/_bulk", "{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body.GetProperty("errors").GetBoolean());
        Assert.Single(fake.Documents("sales"));
    }

    [Fact]
    public async Task Bulk_OverByteLimit_OnOpenSearchFake_413()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(maxRequestBytes: 100);
        var (status, body) = await PostAsync(fake, "_bulk", "{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":\"" + new string('x', 100) + "\"}\n");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("Request size exceeded 100 bytes", body.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task Bulk_CreateTwiceInOneRequest_OnOpenSearchFake_SecondIs409()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var (status, body) = await PostAsync(fake, "_bulk",
            "{\"create\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"create\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":2}\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("errors").GetBoolean());
        var items = body.GetProperty("items");
        Assert.Equal(201, items[0].GetProperty("create").GetProperty("status").GetInt32());
        Assert.Equal(409, items[1].GetProperty("create").GetProperty("status").GetInt32());
        Assert.Equal("version_conflict_engine_exception", items[1].GetProperty("create").GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(1, (int)fake.Documents("r")["1"]["a"]!);
    }

    [Fact]
    public async Task Bulk_Throttling_OnOpenSearchFake_SameItemsForSameSeedAndAcceptedOnRetry()
    {
        var ids = Enumerable.Range(0, 200).Select(i => i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        string body = string.Concat(ids.Select(id => $"{{\"index\":{{\"_index\":\"r\",\"_id\":\"{id}\"}}}}\n{{\"a\":1}}\n"));
        var throttled = new List<List<string>>();
        for (int run = 0; run < 2; run++)
        {
            await using var fake = await OpenSearchLoopbackFake.StartAsync();
            fake.ThrottleFraction = 0.1;
            fake.Seed = 42;
            var (_, first) = await PostAsync(fake, "_bulk", body);
            throttled.Add([.. first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index"))
                .Where(i => i.GetProperty("status").GetInt32() == 429).Select(i => i.GetProperty("_id").GetString()!)]);
            var (_, second) = await PostAsync(fake, "_bulk", body);
            Assert.False(second.GetProperty("errors").GetBoolean());
            Assert.Equal(200, fake.TotalDocuments);
        }
        Assert.Equal(throttled[0], throttled[1]);
        Assert.InRange(throttled[0].Count, 5, 40);
    }

    [Fact]
    public async Task Count_UnknownIndex_OnOpenSearchFake_404IndexNotFound()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var http = new HttpClient { BaseAddress = fake.Url };
        using var response = await http.GetAsync("nothing/_count");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var wildcard = await http.GetAsync("nothing-*/_count");
        Assert.Equal(HttpStatusCode.OK, wildcard.StatusCode);
    }

    [Fact]
    public async Task Any_BasicAuthMissing_OnOpenSearchFake_401()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("u", "p"));
        using var http = new HttpClient { BaseAddress = fake.Url };
        using var response = await http.GetAsync("retail/_count");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, Assert.Single(fake.Requests).Status);
    }

    private const string Aggs = "\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"InvoiceDate\",\"calendar_interval\":\"week\",\"min_doc_count\":1},\"aggs\":{\"q\":{\"sum\":{\"field\":\"Quantity\"}}}}}";

    /// <summary>An index "r" holding a Sunday's and a Monday's documents, mapped by a template as the retail one maps them.</summary>
    private static async Task<OpenSearchLoopbackFake> WeekendAsync()
    {
        var fake = await OpenSearchLoopbackFake.StartAsync();
        using var http = new HttpClient { BaseAddress = fake.Url };
        using (var template = new StringContent(
            "{\"index_patterns\":[\"r\"],\"template\":{\"mappings\":{\"properties\":{\"InvoiceDate\":{\"type\":\"date\",\"format\":\"yyyy-MM-dd HH:mm:ss||strict_date_optional_time||epoch_millis\"},"
            + "\"Quantity\":{\"type\":\"integer\"},\"Country\":{\"type\":\"keyword\"},\"Description\":{\"type\":\"text\",\"fields\":{\"raw\":{\"type\":\"keyword\"}}}}}}}",
            Encoding.UTF8, "application/json"))
        using (var put = await http.PutAsync("_index_template/r-template", template))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var (status, _) = await PostAsync(fake, "_bulk",
            "{\"index\":{\"_index\":\"r\",\"_id\":\"sun\"}}\n{\"InvoiceDate\":\"2010-01-03 23:59:59\",\"Quantity\":12345678,\"Country\":\"France\",\"Description\":\"RED HEART\"}\n"
            + "{\"index\":{\"_index\":\"r\",\"_id\":\"mon\"}}\n{\"InvoiceDate\":\"2010-01-04T00:00:00\",\"Quantity\":-2,\"Country\":\"France\",\"Description\":\"RED HEART\"}\n"
            + "{\"index\":{\"_index\":\"r\",\"_id\":\"mon2\"}}\n{\"InvoiceDate\":1262563200001,\"Quantity\":5,\"Country\":\"EIRE\",\"Description\":\"BLUE STAR\"}\n");
        Assert.Equal(HttpStatusCode.OK, status);
        return fake;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SearchAsync(OpenSearchLoopbackFake fake, string body, string path = "r/_search") =>
        await PostAsync(fake, path, body, "application/json");

    [Fact]
    public async Task Search_WeekHistogram_OnOpenSearchFake_BucketsFromMondayWithJavaDoubleSums()
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake, "{\"size\":0,\"track_total_hits\":true," + Aggs + "}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt64());
        Assert.Equal("eq", body.GetProperty("hits").GetProperty("total").GetProperty("relation").GetString());
        var buckets = body.GetProperty("aggregations").GetProperty("h").GetProperty("buckets");
        Assert.Equal(2, buckets.GetArrayLength());
        // Sunday 2010-01-03 is in the week of Monday 2009-12-28; Monday 2010-01-04 starts the next (epoch milliseconds, UTC).
        Assert.Equal(1261958400000, buckets[0].GetProperty("key").GetInt64());
        Assert.Equal("2009-12-28 00:00:00", buckets[0].GetProperty("key_as_string").GetString()); // the mapping's first format
        Assert.Equal(1, buckets[0].GetProperty("doc_count").GetInt64());
        Assert.Equal(1262563200000, buckets[1].GetProperty("key").GetInt64());
        Assert.Equal(2, buckets[1].GetProperty("doc_count").GetInt64());
        Assert.Contains("\"q\":{\"value\":1.2345678E7}", body.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("\"q\":{\"value\":3.0}", body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_RangeAndTerm_OnOpenSearchFake_FilterAsPublished()
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake,
            "{\"size\":0,\"query\":{\"bool\":{\"filter\":[{\"range\":{\"InvoiceDate\":{\"gte\":\"2010-01-04T00:00:00.000Z\",\"lt\":\"2010-01-04T00:00:00.001Z\",\"format\":\"strict_date_optional_time\"}}},"
            + "{\"term\":{\"Country\":{\"value\":\"France\"}}}]}}}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt64()); // "mon" only
        Assert.False(body.TryGetProperty("aggregations", out _));

        // The range alone: gte inclusive ("mon", at the bound), lt exclusive ("mon2", at the upper bound, and "sun" before).
        var (_, range) = await SearchAsync(fake,
            "{\"size\":0,\"query\":{\"range\":{\"InvoiceDate\":{\"gte\":\"2010-01-04T00:00:00.000Z\",\"lt\":\"2010-01-04T00:00:00.001Z\",\"format\":\"strict_date_optional_time\"}}}}");
        Assert.Equal(1, range.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt64());
        // The term alone: an exact keyword ("EIRE": "mon2"; "eire" matches nothing).
        var (_, term) = await SearchAsync(fake, "{\"size\":0,\"query\":{\"term\":{\"Country\":\"EIRE\"}}}");
        Assert.Equal(1, term.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt64());
        var (_, lower) = await SearchAsync(fake, "{\"size\":0,\"query\":{\"term\":{\"Country\":\"eire\"}}}");
        Assert.Equal(0, lower.GetProperty("hits").GetProperty("total").GetProperty("value").GetInt64());
        // No track_total_hits: OpenSearch's default counts exactly up to 10,000.
        Assert.Equal("eq", lower.GetProperty("hits").GetProperty("total").GetProperty("relation").GetString());
    }

    [Theory]
    [InlineData("{\"size\":0,\"sizes\":1}", "parsing_exception", "Unknown key for a VALUE_NUMBER in [sizes].")]
    [InlineData("{\"size\":0,\"query\":{\"bool\":{\"filters\":[]}}}", "parsing_exception", "[bool] query does not support [filters]")]
    [InlineData("{\"size\":0,\"query\":{\"range\":{\"InvoiceDate\":{\"gte\":\"2010-01-01\",\"lessThan\":\"2010-02-01\"}}}}", "parsing_exception", "[range] query does not support [lessThan]")]
    [InlineData("{\"size\":0,\"query\":{\"trem\":{\"Country\":\"France\"}}}", "parsing_exception", "unknown query [trem]")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"InvoiceDate\",\"calendar_interval\":\"day\",\"min_doc_count\":1,\"zone\":\"UTC\"}}}}", "parsing_exception", "[date_histogram] unknown field [zone]")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"summ\":{\"field\":\"Quantity\"}}}}", "parsing_exception", "Unknown aggregation type [summ]")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"InvoiceDate\",\"calendar_interval\":\"2d\",\"min_doc_count\":1}}}}", "illegal_argument_exception", "The supplied interval [2d] could not be parsed as a calendar interval.")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"InvoiceDate\",\"calendar_interval\":\"day\"}}}}", "illegal_argument_exception", "the loopback fake does not support a [date_histogram] without [min_doc_count: 1]")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"InvoiceDate\",\"fixed_interval\":\"1d\",\"min_doc_count\":1}}}}", "illegal_argument_exception", "the loopback fake does not support [date_histogram] [fixed_interval]")]
    [InlineData("{\"size\":0,\"aggs\":{\"s\":{\"bucket_sort\":{\"size\":2}}}}", "action_request_validation_exception", "bucket_sort aggregation [s] must be declared inside of another aggregation")]
    [InlineData("{\"size\":10}", "illegal_argument_exception", "the loopback fake does not support size [10]")]
    [InlineData("{\"query\":{\"match_all\":{}}}", "illegal_argument_exception", "the loopback fake does not support a search without size 0")]
    public async Task Search_OutsideTheSubset_OnOpenSearchFake_400(string request, string type, string reason)
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake, request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(type, ErrorType(body));
        Assert.Contains(reason, Reason(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"size\":0,\"query\":{\"term\":{\"Description\":\"RED HEART\"}}}", "the loopback fake refuses a [term] query on the text field [Description]", "query its keyword field [Description.raw]")]
    [InlineData("{\"size\":0,\"query\":{\"term\":{\"Country.keyword\":\"France\"}}}", "refuses a [term] query on the field [Country.keyword], which the index [r] does not map", "would match nothing")]
    [InlineData("{\"size\":0,\"aggs\":{\"h\":{\"date_histogram\":{\"field\":\"Country\",\"calendar_interval\":\"day\",\"min_doc_count\":1}}}}", "Field [Country] of type [keyword] is not supported for aggregation [date_histogram]", "")]
    [InlineData("{\"size\":0,\"aggs\":{\"q\":{\"sum\":{\"field\":\"Country\"}}}}", "Field [Country] of type [keyword] is not supported for aggregation [sum]", "")]
    public async Task Search_WrongFieldType_OnOpenSearchFake_400AllShardsFailedWithTheCause(string request, string cause, string more)
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake, request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("search_phase_execution_exception", ErrorType(body));
        Assert.Equal("all shards failed", Reason(body));
        var root = body.GetProperty("error").GetProperty("root_cause")[0];
        Assert.Equal("illegal_argument_exception", root.GetProperty("type").GetString());
        Assert.Contains(cause, root.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains(more, root.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("r", body.GetProperty("error").GetProperty("failed_shards")[0].GetProperty("index").GetString());
    }

    [Fact]
    public async Task Search_MissingIndex_OnOpenSearchFake_404IndexNotFoundAndEmptyPattern200()
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake, "{\"size\":0}", "nothing/_search");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("index_not_found_exception", ErrorType(body));
        Assert.Equal("no such index [nothing]", Reason(body));
        Assert.Equal("nothing", body.GetProperty("error").GetProperty("index").GetString());

        var (patternStatus, pattern) = await SearchAsync(fake, "{\"size\":0,\"track_total_hits\":true," + Aggs + "}", "nothing-*/_search");
        Assert.Equal(HttpStatusCode.OK, patternStatus);
        Assert.Equal(0, pattern.GetProperty("_shards").GetProperty("total").GetInt32());
        Assert.False(pattern.TryGetProperty("aggregations", out _));
    }

    [Fact]
    public async Task Search_UnknownParameter_OnOpenSearchFake_400()
    {
        await using var fake = await WeekendAsync();
        var (status, body) = await SearchAsync(fake, "{\"size\":0}", "r/_search?allow_partial=false");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("contains unrecognized parameter: [allow_partial]", Reason(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(14.0, "14.0")]
    [InlineData(-3.0, "-3.0")]
    [InlineData(2.5, "2.5")]
    [InlineData(9999999.0, "9999999.0")]
    [InlineData(12345678.0, "1.2345678E7")]
    [InlineData(10000000.0, "1.0E7")]
    [InlineData(0.0001, "1.0E-4")]
    public void JavaDouble_AsJavaPrintsIt(double value, string expected)
    {
        Assert.Equal(expected, OpenSearchLoopbackFake.JavaDouble(value));
    }
}
