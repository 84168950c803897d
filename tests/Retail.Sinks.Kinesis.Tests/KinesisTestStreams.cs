using Amazon.Runtime;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>Fresh streams on an emulator, through Retail's own Kinesis client (signed; optionally over a fault injector).</summary>
internal static class KinesisTestStreams
{
    /// <summary>Dummy credentials: the emulators accept any signature but need one.</summary>
    public static readonly BasicAWSCredentials Credentials = new("AKIDRETAILTEST", "retail-test-secret-key");

    public static KinesisOptions Options(KinesisEmulatorFixture fixture, string? stream = null) => new()
    {
        StreamName = stream, ServiceUrl = fixture.ServiceUrl, Region = "us-east-1",
        // Tests read fresh small streams: pace as Kinesis asks, but without the full second after each empty read.
        EmptyReadDelay = TimeSpan.FromMilliseconds(250),
    };

    public static KinesisStreamManager Manager(KinesisEmulatorFixture fixture) =>
        KinesisClientFactory.CreateManager(Options(fixture), Credentials);

    /// <summary>A new stream of <paramref name="shards"/> shards, ACTIVE; its client goes through <paramref name="transport"/> when given.</summary>
    public static async Task<IRecordStream> CreateAsync(KinesisEmulatorFixture fixture, int shards, HttpMessageHandler? transport = null, Action<KinesisOptions>? configure = null)
    {
        string name = KinesisEmulatorFixture.FreshStreamName();
        using (var manager = Manager(fixture)) await manager.CreateStreamAsync(name, shards);
        var options = Options(fixture, name);
        configure?.Invoke(options);
        return KinesisClientFactory.CreateStream(options, Credentials, transport ?? new SocketsHttpHandler());
    }
}
