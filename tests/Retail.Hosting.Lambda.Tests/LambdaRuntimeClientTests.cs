using System.Net;
using System.Text;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>The Runtime API client against the fake, and the fake's own strictness (what the real API refuses).</summary>
public sealed class LambdaRuntimeClientTests
{
    [Fact]
    public async Task NextAsync_OnRuntimeApiFake_ReadsTheInvocationHeadersAndBody()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var client = new LambdaRuntimeClient(fake.RuntimeApi);
        var next = client.NextAsync();
        Assert.False(next.IsCompleted); // it blocks until an event is queued
        var before = DateTimeOffset.UtcNow;
        string id = fake.Enqueue("""{"k":1}""", TimeSpan.FromSeconds(30), "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
        var invocation = await next.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(id, invocation.RequestId);
        Assert.Equal("""{"k":1}""", Encoding.UTF8.GetString(invocation.Payload));
        Assert.Equal(fake.FunctionArn, invocation.InvokedFunctionArn);
        Assert.Equal("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", invocation.TraceId);
        Assert.InRange(invocation.Deadline, before.AddSeconds(29), DateTimeOffset.UtcNow.AddSeconds(31));

        Assert.Null(await client.PostResponseAsync(id, "{}"u8.ToArray()));
        var result = await fake.WaitForResultAsync(id);
        Assert.False(result.IsError);
        Assert.Equal("{}", result.Text);
    }

    [Fact]
    public async Task PostResponseAsync_OnRuntimeApiFake_UnknownOrAnsweredIdOrTooLarge_IsRefused()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var client = new LambdaRuntimeClient(fake.RuntimeApi);
        string id = fake.Enqueue("{}");
        var invocation = await client.NextAsync();

        Assert.Contains("HTTP 400", await client.PostResponseAsync("not-an-id", "{}"u8.ToArray()), StringComparison.Ordinal);
        Assert.Contains("HTTP 413", await client.PostResponseAsync(id, new byte[LambdaRuntimeApiFake.MaxResponseBytes + 1]), StringComparison.Ordinal);
        Assert.Null(await client.PostResponseAsync(id, "{}"u8.ToArray()));
        Assert.Contains("HTTP 403", await client.PostResponseAsync(id, "{}"u8.ToArray()), StringComparison.Ordinal);
        Assert.Contains("HTTP 403", await client.PostInvocationErrorAsync(id, LambdaRuntimeClient.ErrorBody("X.Y", "late")), StringComparison.Ordinal);
        Assert.Equal(invocation.RequestId, (await fake.WaitForResultAsync(id)).RequestId);
    }

    [Fact]
    public async Task PostInvocationErrorAsync_OnRuntimeApiFake_SendsTheErrorTypeHeaderAndErrorJson()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var client = new LambdaRuntimeClient(fake.RuntimeApi);
        string id = fake.Enqueue("{}");
        await client.NextAsync();
        Assert.Null(await client.PostInvocationErrorAsync(id, LambdaRuntimeClient.ErrorBody("Retail.InvalidEvent", "bad event")));
        var result = await fake.WaitForResultAsync(id);
        Assert.True(result.IsError);
        Assert.Equal("Retail.InvalidEvent", result.ErrorType);
        Assert.Equal(LambdaRuntimeApiFake.ErrorContentType, result.ContentType);
        Assert.Equal("""{"errorMessage":"bad event","errorType":"Retail.InvalidEvent","stackTrace":[]}""", result.Text);
    }

    [Fact]
    public async Task PostInitErrorAsync_OnRuntimeApiFake_AcceptedBeforeNextRefusedAfter()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var client = new LambdaRuntimeClient(fake.RuntimeApi);
        Assert.Null(await client.PostInitErrorAsync(LambdaRuntimeClient.ErrorBody("Runtime.NoSuchHandler", "no handler")));
        var init = await fake.WaitForInitErrorAsync();
        Assert.Equal("Runtime.NoSuchHandler", init.ErrorType);
        Assert.Contains("no handler", init.Text, StringComparison.Ordinal);

        fake.Enqueue("{}");
        await client.NextAsync();
        Assert.Contains("HTTP 403", await client.PostInitErrorAsync(LambdaRuntimeClient.ErrorBody("Runtime.NoSuchHandler", "late")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuntimeApiFake_UnknownPathsMethodsAndMalformedErrors_AreRejected()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{fake.RuntimeApi}/") };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("2018-06-01/runtime/invocation/abc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("2019-01-01/runtime/invocation/next")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("2018-06-01/runtime/invocation/next", new StringContent(""))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.GetAsync("2018-06-01/runtime/init/error")).StatusCode);

        string id = fake.Enqueue("{}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("2018-06-01/runtime/invocation/next")).StatusCode);
        // A second /next while the invocation is outstanding.
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("2018-06-01/runtime/invocation/next")).StatusCode);
        var malformed = new StringContent("""{"message":"x"}""", Encoding.UTF8, LambdaRuntimeApiFake.ErrorContentType);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"2018-06-01/runtime/invocation/{id}/error", malformed)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync($"2018-06-01/runtime/invocation/{id}/response", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task NextAsync_OnRuntimeApiFakeThatStopped_ThrowsFatal()
    {
        await using var fake = await LambdaRuntimeApiFake.StartAsync();
        using var client = new LambdaRuntimeClient(fake.RuntimeApi);
        var next = client.NextAsync();
        fake.StopServing();
        var e = await Assert.ThrowsAsync<LambdaRuntimeFatalException>(() => next.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("HTTP 500", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:9001", "http://127.0.0.1:9001/2018-06-01/")]
    [InlineData("localhost:80", "http://localhost/2018-06-01/")]
    public void ParseRuntimeApi_HostAndPort_IsTheBaseUri(string value, string expected) =>
        Assert.Equal(new Uri(expected), LambdaRuntimeClient.ParseRuntimeApi(value));

    [Theory]
    [InlineData("http://127.0.0.1:9001")]
    [InlineData("127.0.0.1:9001/x")]
    [InlineData("")]
    public void ParseRuntimeApi_NotHostAndPort_Throws(string value) =>
        Assert.Throws<FormatException>(() => LambdaRuntimeClient.ParseRuntimeApi(value));
}
