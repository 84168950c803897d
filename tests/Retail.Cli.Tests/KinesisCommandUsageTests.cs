using Retail.Core.Tests;

namespace Retail.Cli.Tests;

/// <summary>The Kinesis commands' usage errors and local refusals: nothing here needs an emulator.</summary>
public sealed class KinesisCommandUsageTests
{
    [Theory]
    [InlineData("kinesis")]
    [InlineData("firehose")]
    public async Task Produce_ServiceWithoutStreamName_IsUsageErrorNamingTheFlag(string service)
    {
        var r = await CliRunner.RunAsync("produce", "--service-name", service, "--max-count", "1");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"--stream-name is required with --service-name {service}", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10241")]
    public async Task Produce_MaxRecordKibOutOfRange_IsUsageError(string kib)
    {
        var r = await CliRunner.RunAsync("produce", "--service-name", "kinesis", "--stream-name", "s", "--max-record-kib", kib);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"--max-record-kib must be 1 to 10240 (KiB), got {kib}", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produce_MaxRecordKibWithFirehose_IsUsageError()
    {
        var r = await CliRunner.RunAsync("produce", "--service-name", "firehose", "--stream-name", "s", "--max-record-kib", "2048");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--max-record-kib applies to --service-name kinesis only", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produce_MaxInFlightZero_IsUsageError()
    {
        var r = await CliRunner.RunAsync("produce", "--service-name", "kinesis", "--stream-name", "s", "--max-in-flight", "0");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--max-in-flight must be 1 to 64, got 0", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produce_RecordOverTheLimit_NamesRecordNumberAndInvoiceAndFails()
    {
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "big.json");
        string description = new('x', 2000);
        await File.WriteAllTextAsync(input,
            $"{{\"Invoice\":\"C489449\",\"StockCode\":\"22087\",\"Description\":\"{description}\",\"Quantity\":-12,\"InvoiceDate\":\"2009-12-01 10:33:00\",\"Price\":0.85,\"Customer_ID\":\"16321\",\"Country\":\"Australia\"}}\n");

        // Refused before anything is sent: no stream needs to exist at the endpoint.
        var r = await CliRunner.RunAsync("produce", "--service-name", "kinesis", "--stream-name", "s", "--endpoint-url", "http://127.0.0.1:9",
            "--input-file", input, "--max-record-kib", "1");

        Assert.Equal(1, r.ExitCode);
        var errors = r.Stderr.Split('\n').Where(l => l.StartsWith("[ERROR]", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains("record 1 of", errors[0], StringComparison.Ordinal);
        Assert.Contains("(Invoice C489449)", errors[0], StringComparison.Ordinal);
        Assert.Contains("at most 1024 bytes", errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("0 records sent, 0 failed, 0 retried, 0 unsent", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("consume", "--iter-type")]
    [InlineData("deliver", "--from")]
    public async Task AtTimestampWithoutTimestamp_IsUsageError(string command, string flag)
    {
        string[] args = command == "deliver"
            ? [command, "--stream-name", "s", "--lake", "unused-lake", flag, "AT_TIMESTAMP"]
            : [command, "--stream-name", "s", flag, "AT_TIMESTAMP"];

        var r = await CliRunner.RunAsync(args);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"{flag} AT_TIMESTAMP needs --timestamp", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_BadTimestamp_IsUsageError()
    {
        var r = await CliRunner.RunAsync("consume", "--stream-name", "s", "--iter-type", "AT_TIMESTAMP", "--timestamp", "yesterday");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--timestamp must be ISO-8601", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-12-02T10:00:00Z", 1796205600)]
    [InlineData("2026-12-02T10:00:00", 1796205600)]
    [InlineData("2026-12-02T11:00:00+01:00", 1796205600)]
    [InlineData("1796205600", 1796205600)]
    public void TryParseTimestamp_IsoOrEpochSeconds_IsThatInstant(string text, long epochSeconds)
    {
        Assert.True(KinesisFlags.TryParseTimestamp(text, out var t));
        Assert.Equal(epochSeconds, t.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("consume")]
    [InlineData("deliver")]
    [InlineData("stream describe")]
    public async Task WithoutStreamName_IsUsageErrorNamingTheFlag(string command)
    {
        var r = await CliRunner.RunAsync([.. command.Split(' '), .. command == "deliver" ? new[] { "--lake", "unused-lake" } : []]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--stream-name", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deliver_WithoutLake_IsUsageErrorNamingTheFlag()
    {
        var r = await CliRunner.RunAsync("deliver", "--stream-name", "s");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--lake", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--stream-name", "s")]
    [InlineData("--stream-name", "s", "--split", "shardId-000000000000", "--shard-count", "3")]
    [InlineData("--stream-name", "s", "--shard-count", "3", "--at", "5")]
    public async Task Reshard_NotExactlyOneChange_IsUsageError(params string[] args)
    {
        var r = await CliRunner.RunAsync(["stream", "reshard", .. args]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--split", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsTheKinesisCommands()
    {
        var r = await CliRunner.RunAsync("--help");

        Assert.Equal(0, r.ExitCode);
        foreach (var command in new[] { "consume", "deliver", "stream", "produce" })
            Assert.Contains("  " + command + " ", r.StdoutText, StringComparison.Ordinal);
        var produce = await CliRunner.RunAsync("produce", "--help");
        foreach (var flag in new[] { "--endpoint-url", "--no-newline", "--max-in-flight", "--max-record-kib" })
            Assert.Contains(flag, produce.StdoutText, StringComparison.Ordinal);
        var stream = await CliRunner.RunAsync("stream", "--help");
        foreach (var sub in new[] { "create", "describe", "reshard" })
            Assert.Contains("  " + sub + " ", stream.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_WithoutCredentials_SaysToSetTheAwsCredentialsInOneLine()
    {
        using var dir = new TempDir();
        using var child = RetailChild.Start(dir.Path, credentials: false, "stream", "describe", "--stream-name", "s", "--endpoint-url", "http://127.0.0.1:9");

        int code = await child.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, code);
        var lines = child.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(lines);
        Assert.StartsWith("[ERROR] no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", child.Stderr, StringComparison.Ordinal);
    }
}
