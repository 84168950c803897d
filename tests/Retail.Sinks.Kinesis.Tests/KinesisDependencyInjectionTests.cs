using Microsoft.Extensions.DependencyInjection;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// The DI registrations sign through IHttpClientFactory's pipeline with the SDK's default credential chain (the
/// environment's keys here): a signer in that pipeline must come without an inner handler, which AWSSDK.Core's
/// SigV4SigningHandler always makes itself.
/// </summary>
[Collection(KinesaliteCollection.Name)]
public sealed class KinesisDependencyInjectionTests(KinesaliteFixture fixture)
{
    private static void DummyEnvironmentCredentials()
    {
        // Every test of this process that sets them sets the same dummy keys.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "AKIDRETAILTEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "retail-test-secret");
    }

    [Fact]
    public async Task AddKinesisStream_OnKinesalite_ResolvedStreamPutsSignedRecords()
    {
        DummyEnvironmentCredentials();
        string name = KinesisEmulatorFixture.FreshStreamName();
        using (var manager = KinesisTestStreams.Manager(fixture)) await manager.CreateStreamAsync(name, 1);
        var services = new ServiceCollection();
        new RetailBuilder(services).AddKinesisStream(o =>
        {
            o.StreamName = name;
            o.ServiceUrl = fixture.ServiceUrl;
            o.Region = "us-east-1";
        });
        await using var provider = services.BuildServiceProvider();
        var stream = provider.GetRequiredService<IRecordStream>();

        var result = await stream.PutRecordsAsync([new PutRecordsEntry("p", "{\"a\":1}"u8.ToArray())]);

        Assert.Equal(0, result.FailedRecordCount);
        Assert.Single(result.Records);
    }

    [Fact]
    public async Task AddFirehoseTarget_OnFirehoseFake_EveryRequestSigned()
    {
        DummyEnvironmentCredentials();
        await using var fake = await FirehoseLoopbackFake.StartAsync("retail-ds");
        var services = new ServiceCollection();
        new RetailBuilder(services).AddFirehoseTarget(o =>
        {
            o.DeliveryStreamName = "retail-ds";
            o.ServiceUrl = fake.ServiceUrl;
            o.Region = "eu-west-1";
        });
        await using var provider = services.BuildServiceProvider();
        var target = provider.GetRequiredService<IRecordPutTarget>();

        var result = await target.PutRecordsAsync([new PutRecordsEntry("p", "{\"a\":1}\n"u8.ToArray())]);

        Assert.Equal(0, result.FailedRecordCount);
        Assert.Single(fake.Records("retail-ds"));
        Assert.All(fake.RequestHeaders, h => Assert.Contains("/eu-west-1/firehose/aws4_request", h["Authorization"], StringComparison.Ordinal));
    }
}
