using System.Net;
using System.Text.Json;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>The emulator fixtures themselves: each one starts, answers, and creates streams that become ACTIVE.</summary>
public abstract class KinesisEmulatorFixtureTests(KinesisEmulatorFixture fixture)
{
    private static readonly TimeSpan ActiveTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void ServiceUrl_AfterStart_IsLoopback()
    {
        Assert.StartsWith("http://127.0.0.1:", fixture.ServiceUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateStream_OneShard_BecomesActiveWithOneOpenShard()
    {
        using var http = new HttpClient();
        string stream = KinesisEmulatorFixture.FreshStreamName();
        using (var created = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}"""))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        // A readiness poll (not a sleep): CREATING until the emulator's creation delay has passed.
        using var timeout = new CancellationTokenSource(ActiveTimeout);
        JsonElement summary;
        while (true)
        {
            using var described = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""", timeout.Token);
            string body = await described.Content.ReadAsStringAsync(timeout.Token);
            Assert.True(described.StatusCode == HttpStatusCode.OK, $"{fixture.Name}: DescribeStreamSummary answered {(int)described.StatusCode}: {body}");
            summary = JsonDocument.Parse(body).RootElement.GetProperty("StreamDescriptionSummary").Clone();
            if (summary.GetProperty("StreamStatus").GetString() == "ACTIVE") break;
            await Task.Delay(50, timeout.Token);
        }
        Assert.Equal(stream, summary.GetProperty("StreamName").GetString());
        Assert.Equal(1, summary.GetProperty("OpenShardCount").GetInt32());
    }

    [Fact]
    public async Task DescribeStreamSummary_UnknownStream_ResourceNotFound()
    {
        using var http = new HttpClient();
        using var response = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "DescribeStreamSummary", $$"""{"StreamName":"{{KinesisEmulatorFixture.FreshStreamName()}}"}""");
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("ResourceNotFoundException", JsonDocument.Parse(body).RootElement.GetProperty("__type").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FreshStreamName_TwoCalls_DifferAndAreValid()
    {
        string a = KinesisEmulatorFixture.FreshStreamName(), b = KinesisEmulatorFixture.FreshStreamName();
        Assert.NotEqual(a, b);
        Assert.Matches("^t-[0-9a-f]{12}$", a);
    }
}

[Collection(KinesisMockCollection.Name)]
public sealed class KinesisMockFixtureTests(KinesisMockFixture fixture) : KinesisEmulatorFixtureTests(fixture)
{
    [Fact]
    public async Task ListStreams_AfterStart_ListsTheSentinelStream()
    {
        using var http = new HttpClient();
        using var response = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "ListStreams", "{}");
        Assert.Contains(fixture.SentinelStream, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

[Collection(KinesaliteCollection.Name)]
public sealed class KinesaliteFixtureTests(KinesaliteFixture fixture) : KinesisEmulatorFixtureTests(fixture);
