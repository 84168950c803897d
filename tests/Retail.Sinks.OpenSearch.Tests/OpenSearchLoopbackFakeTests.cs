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
}
