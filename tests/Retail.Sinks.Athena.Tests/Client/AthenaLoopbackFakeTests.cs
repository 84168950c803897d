using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Retail.Sinks.Shared;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Sinks.Athena.Tests.Client;

/// <summary>The fake itself is strict: what real Athena refuses, it refuses (so the client's tests mean something).</summary>
public sealed class AthenaLoopbackFakeTests
{
    private static readonly FakeQueryOutcome One = new([new("n", "bigint")], [["1"]]);
    private static readonly string Token = new('a', 40);

    private static async Task<(HttpStatusCode Status, JsonObject Body)> CallAsync(HttpClient http, AthenaLoopbackFake fake, string operation, JsonObject body,
        string contentType = "application/x-amz-json-1.1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, fake.Url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        request.Headers.Add("X-Amz-Target", "AmazonAthena." + operation);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static HttpClient Signed() => AwsHttp.CreateClient("athena", "us-east-1", new BasicAWSCredentials("AKIDEXAMPLE", "secret"), null, TimeSpan.FromSeconds(30));

    private static string Code(JsonObject body) => body["__type"]!.GetValue<string>().Split('#')[^1];

    [Fact]
    public async Task Call_OnAthenaFakeUnsignedOrWrongContentTypeOrTarget_Rejected()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var plain = new HttpClient();
        var unsigned = await CallAsync(plain, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1", ["ClientRequestToken"] = Token });
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.Status);
        using var http = Signed();
        var json = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1", ["ClientRequestToken"] = Token }, "application/json");
        Assert.Equal("SerializationException", Code(json.Body));
        var unknown = await CallAsync(http, fake, "RunEverything", new JsonObject());
        Assert.Equal("UnknownOperationException", Code(unknown.Body));
        Assert.Empty(fake.Started);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("short-token")]
    public async Task StartQueryExecution_OnAthenaFakeTokenMissingOrShort_InvalidRequest(string? token)
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var http = Signed();
        var body = new JsonObject { ["QueryString"] = "select 1" };
        if (token is not null) body["ClientRequestToken"] = token;
        var answer = await CallAsync(http, fake, "StartQueryExecution", body);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("InvalidRequestException", Code(answer.Body));
        Assert.Empty(fake.Started);
    }

    [Theory]
    [InlineData(0, 0)] // an empty list (the API wants at least 1 member when the list is given)
    [InlineData(1, 0)] // an empty member
    [InlineData(2, 1025)] // a member over the 1,024 characters of the API reference
    public async Task StartQueryExecution_OnAthenaFakeExecutionParametersOutOfTheirLimits_InvalidRequest(int count, int length)
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var http = Signed();
        var list = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)JsonValue.Create(i == count - 1 ? new string('x', length) : "1")!)]);
        var answer = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1 where ? = ?", ["ClientRequestToken"] = Token, ["ExecutionParameters"] = list });
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("InvalidRequestException", Code(answer.Body));
        Assert.Empty(fake.Started);
    }

    [Fact]
    public async Task StartQueryExecution_OnAthenaFakeExecutionParameterOf1024Characters_Accepted()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var http = Signed();
        string longest = "'" + new string('x', AthenaLoopbackFake.MaxExecutionParameterLength - 2) + "'";
        var answer = await CallAsync(http, fake, "StartQueryExecution", new JsonObject
        {
            ["QueryString"] = "select 1 where ? = ?", ["ClientRequestToken"] = Token, ["ExecutionParameters"] = new JsonArray("1", longest),
        });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(["1", longest], Assert.Single(fake.Started).ExecutionParameters);
    }

    [Fact]
    public async Task StartQueryExecution_OnAthenaFakeReusedToken_SameIdOnceAndOtherTextRefused()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var http = Signed();
        var first = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1", ["ClientRequestToken"] = Token });
        var again = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1", ["ClientRequestToken"] = Token });
        Assert.Equal(first.Body["QueryExecutionId"]!.GetValue<string>(), again.Body["QueryExecutionId"]!.GetValue<string>());
        var other = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 2", ["ClientRequestToken"] = Token });
        Assert.Equal("InvalidRequestException", Code(other.Body));
        Assert.Single(fake.Started);
    }

    [Fact]
    public async Task GetQueryResults_OnAthenaFakeBeforeSuccessOrTooManyOrUnknownId_InvalidRequest()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(One));
        using var http = Signed();
        var started = await CallAsync(http, fake, "StartQueryExecution", new JsonObject { ["QueryString"] = "select 1", ["ClientRequestToken"] = Token });
        string id = started.Body["QueryExecutionId"]!.GetValue<string>();
        var early = await CallAsync(http, fake, "GetQueryResults", new JsonObject { ["QueryExecutionId"] = id });
        Assert.Equal("InvalidRequestException", Code(early.Body));
        var tooMany = await CallAsync(http, fake, "GetQueryResults", new JsonObject { ["QueryExecutionId"] = id, ["MaxResults"] = 1001 });
        Assert.Equal("InvalidRequestException", Code(tooMany.Body));
        var unknown = await CallAsync(http, fake, "GetQueryExecution", new JsonObject { ["QueryExecutionId"] = "no-such-query" });
        Assert.Equal("InvalidRequestException", Code(unknown.Body));
    }
}
