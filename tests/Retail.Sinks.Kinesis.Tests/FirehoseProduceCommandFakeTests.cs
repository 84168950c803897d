using System.Text;
using Retail.Cli;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary><c>retail produce --service-name firehose</c>, in process, against the strict loopback fake of Firehose.</summary>
public sealed class FirehoseProduceCommandFakeTests
{
    private const string Stream = "retail-delivery";

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        // The command takes credentials from the SDK's default chain; the fake accepts any signed request.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIDFIREHOSETEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "firehose-test-secret");
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int code = await RetailCli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    [Fact]
    public async Task Produce_Firehose_SendsTheConsoleRecordsEachEndingInANewlineAndResendsFailedEntries()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync(Stream);
        var random = new Random(3);
        fake.FailEntry = _ => { lock (random) return random.NextDouble() < 0.1; }; // calls arrive concurrently

        var console = await RunAsync("produce", "--service-name", "console", "--max-count", "1200", "--seed", "7");
        var sent = await RunAsync("produce", "--service-name", "firehose", "--stream-name", Stream, "--endpoint-url", fake.ServiceUrl, "--max-count", "1200", "--seed", "7");

        Assert.True(sent.Code == 0, sent.Stderr);
        var expected = console.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l + "\n").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(1200, expected.Count);
        var delivered = fake.Records(Stream).Select(b => Encoding.UTF8.GetString(b)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, delivered); // each record once, as the workshop's Firehose producer sends it: one JSON object and "\n"
        Assert.Contains("1200", sent.Stderr, StringComparison.Ordinal);
        Assert.Matches("retried|retries", sent.Stderr);
    }

    [Fact]
    public async Task Produce_FirehoseUnknownStream_OneErrorLineAndNonZeroExit()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync("other");
        var result = await RunAsync("produce", "--service-name", "firehose", "--stream-name", Stream, "--endpoint-url", fake.ServiceUrl, "--max-count", "5", "--seed", "7");
        Assert.NotEqual(0, result.Code);
        var error = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.Contains("ResourceNotFoundException", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
