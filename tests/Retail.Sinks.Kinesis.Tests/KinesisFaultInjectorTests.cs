using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>The fault injector against a trivial inner handler that plays a Kinesis which stores every entry.</summary>
public sealed class KinesisFaultInjectorTests
{
    /// <summary>Answers PutRecords with a sequence number per entry (failing the entries whose data is "fail") and
    /// every other call with <c>{}</c>; keeps the entries it received.</summary>
    private sealed class TrivialKinesis : HttpMessageHandler
    {
        public List<string> Received { get; } = [];
        public int Calls { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            string target = request.Headers.GetValues("X-Amz-Target").Single();
            string answer = "{}";
            if (target == "Kinesis_20131202.PutRecords")
            {
                var json = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
                var records = new JsonArray();
                int failed = 0;
                foreach (var entry in json["Records"]!.AsArray())
                {
                    string data = Encoding.UTF8.GetString(Convert.FromBase64String(entry!["Data"]!.GetValue<string>()));
                    if (data == "fail")
                    {
                        failed++;
                        records.Add(new JsonObject { ["ErrorCode"] = "InternalFailure", ["ErrorMessage"] = "Internal service failure." });
                        continue;
                    }
                    Received.Add(data);
                    records.Add(new JsonObject { ["SequenceNumber"] = "seq-" + data, ["ShardId"] = "shardId-000000000000" });
                }
                answer = new JsonObject { ["FailedRecordCount"] = failed, ["Records"] = records }.ToJsonString();
            }
            var content = new StringContent(answer);
            content.Headers.ContentType = new("application/x-amz-json-1.1");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
        }
    }

    private static HttpRequestMessage Request(string operation, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:1/") { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        return request;
    }

    private static HttpRequestMessage PutRecords(params string[] data) => Request("PutRecords", new JsonObject
    {
        ["StreamName"] = "s",
        ["Records"] = new JsonArray([.. data.Select(d => (JsonNode)new JsonObject
        {
            ["Data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(d)), ["PartitionKey"] = "pk-" + d,
        })]),
    }.ToJsonString());

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static string Outcome(JsonElement entry) =>
        entry.TryGetProperty("SequenceNumber", out var s) ? s.GetString()! : entry.GetProperty("ErrorCode").GetString()!;

    [Fact]
    public async Task SendAsync_PutRecordsEntriesChosen_RemovedBeforeForwardingAndSplicedBackInPlace()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, FailPutRecordsEntry = (_, index, _) => index is 1 or 3 };
        using var invoker = new HttpMessageInvoker(injector);

        using var response = await invoker.SendAsync(PutRecords("a", "b", "c", "d", "fail"), CancellationToken.None);
        var body = await BodyAsync(response);

        Assert.Equal(["a", "c"], inner.Received); // b and d never reached the emulator
        Assert.Equal(["seq-a", "ProvisionedThroughputExceededException", "seq-c", "ProvisionedThroughputExceededException", "InternalFailure"],
            body.GetProperty("Records").EnumerateArray().Select(Outcome));
        Assert.Equal(3, body.GetProperty("FailedRecordCount").GetInt32()); // 2 injected + the inner handler's own failure
        Assert.StartsWith("Rate exceeded for shard", body.GetProperty("Records")[1].GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, injector.InjectedEntryFailures);
        Assert.Equal("application/x-amz-json-1.1", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SendAsync_EveryPutRecordsEntryChosen_AnsweredWithoutForwarding()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, FailPutRecordsEntry = (_, _, _) => true };
        using var invoker = new HttpMessageInvoker(injector);

        using var response = await invoker.SendAsync(PutRecords("a", "b"), CancellationToken.None);
        var body = await BodyAsync(response);

        Assert.Equal(0, inner.Calls);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body.GetProperty("FailedRecordCount").GetInt32());
        Assert.All(body.GetProperty("Records").EnumerateArray(), e => Assert.Equal("ProvisionedThroughputExceededException", Outcome(e)));
    }

    [Fact]
    public async Task SendAsync_FractionOfEntriesWithSameSeed_FailsTheSameEntries()
    {
        async Task<List<string>> RunAsync()
        {
            var inner = new TrivialKinesis();
            using var injector = new KinesisFaultInjector(seed: 7) { InnerHandler = inner };
            injector.FailPutRecordsEntries(0.3);
            using var invoker = new HttpMessageInvoker(injector);
            using var response = await invoker.SendAsync(PutRecords([.. Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]), CancellationToken.None);
            Assert.Equal(100 - inner.Received.Count, injector.InjectedEntryFailures);
            return inner.Received;
        }

        var first = await RunAsync();
        Assert.Equal(first, await RunAsync());
        Assert.InRange(first.Count, 50, 90);
    }

    [Fact]
    public async Task SendAsync_GetRecordsThrottled_400ProvisionedThroughputExceededWithoutForwarding()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, ThrottleGetRecords = call => call.OperationNumber == 1 };
        using var invoker = new HttpMessageInvoker(injector);

        using var throttled = await invoker.SendAsync(Request("GetRecords", "{}"), CancellationToken.None);
        using var passed = await invoker.SendAsync(Request("GetRecords", "{}"), CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, throttled.StatusCode);
        Assert.Equal("ProvisionedThroughputExceededException", (await BodyAsync(throttled)).GetProperty("__type").GetString());
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(1, injector.InjectedGetRecordsThrottles);
    }

    [Fact]
    public async Task SendAsync_GetRecordsIteratorExpired_400ExpiredIteratorWithoutForwarding()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, ExpireGetRecordsIterator = _ => true };
        using var invoker = new HttpMessageInvoker(injector);

        using var response = await invoker.SendAsync(Request("GetRecords", "{}"), CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("ExpiredIteratorException", (await BodyAsync(response)).GetProperty("__type").GetString());
        Assert.Equal(0, inner.Calls);
        Assert.Equal(1, injector.InjectedExpiredIterators);
    }

    [Theory]
    [InlineData(500, "InternalFailure")]
    [InlineData(503, "ServiceUnavailable")]
    public async Task SendAsync_FailCall_ServerErrorWithoutForwarding(int status, string type)
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, FailCall = _ => status };
        using var invoker = new HttpMessageInvoker(injector);

        using var response = await invoker.SendAsync(PutRecords("a"), CancellationToken.None);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(type, (await BodyAsync(response)).GetProperty("__type").GetString());
        Assert.Empty(inner.Received);
        Assert.Equal(1, injector.InjectedServerErrors);
    }

    [Fact]
    public async Task SendAsync_ResetConnection_ThrowsHttpRequestExceptionOverIOException()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, ResetConnection = call => call.Operation == "PutRecords" };
        using var invoker = new HttpMessageInvoker(injector);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(PutRecords("a"), CancellationToken.None));

        Assert.IsType<IOException>(error.InnerException);
        Assert.Equal(0, inner.Calls);
        Assert.Equal(1, injector.InjectedConnectionResets);
    }

    [Fact]
    public async Task SendAsync_DelayAfterForwardingCancelled_CallTookEffectButClientTimesOut()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, DelayAfterForwarding = _ => Timeout.InfiniteTimeSpan };
        using var invoker = new HttpMessageInvoker(injector);
        using var cancel = new CancellationTokenSource();

        var send = invoker.SendAsync(PutRecords("a"), cancel.Token);
        Assert.False(send.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.Equal(["a"], inner.Received);
        Assert.Equal(1, injector.InjectedDelays);
    }

    [Fact]
    public async Task SendAsync_DelayBeforeForwardingCancelled_NeverForwarded()
    {
        var inner = new TrivialKinesis();
        using var injector = new KinesisFaultInjector { InnerHandler = inner, DelayBeforeForwarding = _ => Timeout.InfiniteTimeSpan };
        using var invoker = new HttpMessageInvoker(injector);
        using var cancel = new CancellationTokenSource();

        var send = invoker.SendAsync(PutRecords("a"), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.Equal(0, inner.Calls);
    }
}
