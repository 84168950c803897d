using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>kinesis-mock's fixture when the port it chose is taken before the emulator binds it.</summary>
public sealed class KinesisMockFixtureStartTests
{
    [Fact]
    public async Task InitializeAsync_ChosenPortTakenByAnotherKinesis_RetriesOnNewPorts()
    {
        // Another server on the port that answers ListStreams with 200 (as another engineer's emulator would).
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var other = builder.Build();
        other.Run(context =>
        {
            context.Response.ContentType = "application/x-amz-json-1.1";
            return context.Response.WriteAsync("""{"HasMoreStreams":false,"StreamNames":[]}""");
        });
        await other.StartAsync();
        int taken = new Uri(other.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;

        int picks = 0;
        var fixture = new KinesisMockFixture { ChoosePort = () => ++picks == 1 ? taken : KinesisEmulatorFixture.FreePort() };
        try
        {
            await fixture.InitializeAsync();

            Assert.Equal(2, fixture.StartAttempts);
            Assert.NotEqual($"http://127.0.0.1:{taken}", fixture.ServiceUrl);
            using var http = new HttpClient();
            using var response = await KinesisEmulatorFixture.PostAsync(http, fixture.ServiceUrl, "ListStreams", "{}");
            Assert.Contains(fixture.SentinelStream, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
