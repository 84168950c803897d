using System.Net;
using System.Text;
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

    /// <summary>Creates a stream and waits until it is ACTIVE (a readiness poll, not a sleep: CREATING until the
    /// emulator's creation delay has passed); returns its StreamDescriptionSummary.</summary>
    private async Task<JsonElement> CreateActiveStreamAsync(HttpClient http, string stream, int shards = 1)
    {
        using (var created = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":{{shards}}}"""))
            Assert.True(created.StatusCode == HttpStatusCode.OK, $"{fixture.Name}: CreateStream answered {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
        using var timeout = new CancellationTokenSource(ActiveTimeout);
        while (true)
        {
            using var described = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""", timeout.Token);
            string body = await described.Content.ReadAsStringAsync(timeout.Token);
            Assert.True(described.StatusCode == HttpStatusCode.OK, $"{fixture.Name}: DescribeStreamSummary answered {(int)described.StatusCode}: {body}");
            var summary = JsonDocument.Parse(body).RootElement.GetProperty("StreamDescriptionSummary").Clone();
            if (summary.GetProperty("StreamStatus").GetString() == "ACTIVE") return summary;
            await Task.Delay(50, timeout.Token);
        }
    }

    private async Task<JsonElement> CallAsync(HttpClient http, string operation, string json)
    {
        using var response = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, operation, json);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{fixture.Name}: {operation} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task CreateStream_OneShard_BecomesActiveWithOneOpenShard()
    {
        using var http = new HttpClient();
        string stream = KinesisEmulatorFixture.FreshStreamName();

        var summary = await CreateActiveStreamAsync(http, stream);

        Assert.Equal(stream, summary.GetProperty("StreamName").GetString());
        Assert.Equal(1, summary.GetProperty("OpenShardCount").GetInt32());
    }

    [Fact]
    public async Task PutRecords_ThroughFaultInjector_InjectedFailuresAreNotStored()
    {
        using var http = new HttpClient();
        string stream = KinesisEmulatorFixture.FreshStreamName();
        await CreateActiveStreamAsync(http, stream);
        using var injector = new KinesisFaultInjector { InnerHandler = new SocketsHttpHandler(), FailPutRecordsEntry = (_, index, _) => index == 1 };
        using var faulty = new HttpClient(injector);
        string[] data = ["a", "b", "c", "d"];
        string records = string.Join(",", data.Select(d => $$"""{"Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(d))}}","PartitionKey":"{{d}}"}"""));

        using var put = await KinesisEmulatorFixture.PostAsync(faulty, fixture.ServiceUrl, "PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{{records}}]}""");
        var answer = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(1, answer.GetProperty("FailedRecordCount").GetInt32());
        Assert.Equal([false, true, false, false], answer.GetProperty("Records").EnumerateArray().Select(e => e.TryGetProperty("ErrorCode", out var code) && code.ValueKind != JsonValueKind.Null));
        var iterator = await CallAsync(http, "GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""");
        var read = await CallAsync(http, "GetRecords", $$"""{"ShardIterator":"{{iterator.GetProperty("ShardIterator").GetString()}}","Limit":100}""");
        Assert.Equal(["a", "c", "d"], read.GetProperty("Records").EnumerateArray().Select(r => Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64())));
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
