using System.Text;
using System.Text.RegularExpressions;
using Retail.Core.Tests;
using Retail.Sinks.Kinesis;
using Retail.Sinks.Kinesis.Tests;
using Retail.Sinks.S3.Tests;
using Retail.Storage;
using Retail.Streaming;
using Xunit.Abstractions;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail produce --service-name kinesis</c>, <c>retail consume</c> and <c>retail deliver</c> as child processes
/// against a Kinesis emulator (kinesis-mock or kinesalite) and s3rver, all on 127.0.0.1.
/// </summary>
public abstract partial class KinesisCliTests(KinesisEmulatorFixture kinesis, S3rverFixture s3rver, ITestOutputHelper output)
{
    protected KinesisEmulatorFixture Kinesis { get; } = kinesis;

    protected S3rverFixture S3rver { get; } = s3rver;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>
    /// A guard against a hung child, not an expected time: kinesis-mock takes 20,000 records at 400–1,300 a second on a
    /// quiet machine, but slows as its shards fill and was seen at 116 a second on a clean-clone CI run (about 3 minutes
    /// for the 20,000), so the guard is generous.
    /// </summary>
    protected static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task Deliver_20000RecordsFrom4Shards_ArriveExactlyOnceUnderTheWorkshopPrefixes()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(4);
        string prefix = $"deliver-{Guid.NewGuid():N}";
        var expected = await ExpectedLinesAsync(20000, 7);

        string produced = await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "20000", "--seed", "7");
        string stderr = await RunAsync(dir.Path, DeliverArgs(stream, prefix, "--idle-exit", "5"));

        // A PutRecords that timed out may still have been stored (Kinesis's at-least-once: kinesis-mock under load took
        // longer than the 30 s request timeout once, and the retried 500 records were in the stream twice). Delivery must
        // then deliver what the stream holds, each record once: the produced records, plus at most the retried ones again.
        int retried = int.Parse(RetriedRegex().Match(produced).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int delivered = int.Parse(DeliveredRegex().Match(stderr).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(delivered, 20000, 20000 + retried);
        var actual = await LakeLinesAsync(prefix);
        Assert.Equal(delivered, actual.Count);
        Assert.Equal(Sorted(expected), Sorted(actual.Distinct(StringComparer.Ordinal)));
        Assert.All(actual.CountBy(l => l, StringComparer.Ordinal), c => Assert.InRange(c.Value, 1, 2));
    }

    [GeneratedRegex(@"records sent, \d+ failed, (\d+) retried")]
    private static partial Regex RetriedRegex();

    [GeneratedRegex(@"(\d+) records delivered in")]
    private static partial Regex DeliveredRegex();

    [Fact]
    public async Task Consume_TrimHorizonMaxCount_PrintsExactlyTheProducedRecords()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(2);
        var expected = await ExpectedLinesAsync(300, 9);
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "300", "--seed", "9");

        using var consume = RetailChild.Start(dir.Path, "consume", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--iter-type", "TRIM_HORIZON", "--max-count", "300");
        int code = await consume.WaitAsync(ChildTimeout);

        Assert.True(code == 0, consume.Stderr);
        Assert.Equal(Sorted(expected), Sorted(consume.StdoutLines));
    }

    [Fact]
    public async Task Produce_NoNewline_SendsTheWorkshopsJsonDumpsBytes_DefaultEndsEachRecordInANewline()
    {
        using var dir = new TempDir();
        string plain = await CreateStreamAsync(1), lines = await CreateStreamAsync(1);
        var expected = await ExpectedLinesAsync(50, 3);
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", plain, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "50", "--seed", "3", "--no-newline");
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", lines, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "50", "--seed", "3");

        Assert.Equal(Sorted(expected), Sorted(await ReadAllAsync(plain, 50)));
        Assert.Equal(Sorted(expected.Select(l => l + "\n")), Sorted(await ReadAllAsync(lines, 50)));
    }

    protected string[] DeliverArgs(string stream, string prefix, params string[] more) =>
    [
        "deliver", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl,
        "--lake", $"s3://{S3rverFixture.Bucket}/{prefix}", "--s3-endpoint-url", S3rver.ServiceUrl, .. more,
    ];

    /// <summary>A fresh stream of <paramref name="shards"/> shards, made with <c>retail stream create</c>.</summary>
    protected async Task<string> CreateStreamAsync(int shards)
    {
        string name = KinesisEmulatorFixture.FreshStreamName();
        using var dir = new TempDir();
        await RunAsync(dir.Path, "stream", "create", "--stream-name", name, "--shard-count", shards.ToString(System.Globalization.CultureInfo.InvariantCulture), "--endpoint-url", Kinesis.ServiceUrl);
        return name;
    }

    /// <summary>The records <c>retail produce --seed</c> makes, as <c>--service-name console</c> prints them.</summary>
    protected static async Task<List<string>> ExpectedLinesAsync(int count, int seed)
    {
        var r = await CliRunner.RunAsync("produce", "--service-name", "console", "--max-count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(count, lines.Count);
        return lines;
    }

    /// <summary>Runs a child to its end; asserts exit 0 and returns its stderr.</summary>
    protected async Task<string> RunAsync(string tmp, params string[] args)
    {
        using var child = RetailChild.Start(tmp, args);
        int code = await child.WaitAsync(ChildTimeout);
        Output.WriteLine($"retail {string.Join(' ', args)} → {code}{Environment.NewLine}{child.Stderr}");
        Assert.True(code == 0, $"retail {string.Join(' ', args)} exited {code}: {child.Stderr}");
        return child.Stderr;
    }

    /// <summary>Every JSON line of every object under json-data/ equals the expected lines, as a multiset, byte for byte.</summary>
    protected async Task AssertLakeHoldsExactlyAsync(string prefix, List<string> expected)
    {
        var actual = await LakeLinesAsync(prefix);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(Sorted(expected), Sorted(actual));
    }

    protected async Task<List<string>> LakeLinesAsync(string prefix)
    {
        var store = S3rver.Store(prefix);
        var lines = new List<string>();
        int objects = 0;
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix))
        {
            Assert.Matches(WorkshopKey(), o.Key);
            byte[] body = await store.GetBytesAsync(o.Key);
            Assert.True(body.Length > 0 && body[^1] == (byte)'\n', $"{o.Key} does not end in a newline");
            lines.AddRange(Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            objects++;
        }
        Output.WriteLine($"{objects} objects, {lines.Count} lines under {prefix}/{LakeLayout.JsonPrefix}");
        return lines;
    }

    protected async Task<int> CountObjectsAsync(string prefix)
    {
        var store = S3rver.Store(prefix);
        int n = 0;
        await foreach (var o in store.ListAsync(LakeLayout.JsonPrefix)) n++;
        return n;
    }

    /// <summary>Every record's data, read straight from the stream with the Kinesis client (not the CLI).</summary>
    private async Task<List<string>> ReadAllAsync(string stream, int count)
    {
        using var client = (IDisposable)KinesisClientFactory.CreateStream(new KinesisOptions { StreamName = stream, ServiceUrl = Kinesis.ServiceUrl, Region = "us-east-1" }, S3rverFixture.Credentials);
        var kinesis = (IRecordStream)client;
        var data = new List<string>();
        foreach (var shard in await kinesis.ListShardsAsync())
        {
            await using var reader = await kinesis.OpenShardReaderAsync(shard.ShardId, StartPosition.TrimHorizon);
            using var timeout = new CancellationTokenSource(ChildTimeout);
            while (data.Count < count)
            {
                var read = await reader.ReadAsync(10_000, TimeSpan.FromSeconds(1), timeout.Token);
                if (read.Records.Count == 0) break;
                data.AddRange(read.Records.Select(r => Encoding.UTF8.GetString(r.Data.Span)));
            }
        }
        return data;
    }

    protected static List<string> Sorted(IEnumerable<string> lines) => lines.Order(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"^json-data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/[^/]+$")]
    private static partial Regex WorkshopKey();
}

[Collection(KinesaliteCollection.Name)]
public sealed class KinesaliteCliTests(KinesaliteFixture kinesis, S3rverFixture s3rver, ITestOutputHelper output)
    : KinesisCliTests(kinesis, s3rver, output), IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task Deliver_KilledMidRunAndRestarted_LosesNothingAndDuplicatesNothing()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(4);
        string prefix = $"kill-{Guid.NewGuid():N}";
        var expected = await ExpectedLinesAsync(20000, 7);

        // Delivery runs while records arrive (about 20 s of them, once it is reading), writing an object per shard every
        // second; it is killed at its first object, while the producer still sends (so the lake cannot hold everything
        // yet, even on a loaded machine where delivery starts reading late and takes a backlog at once).
        int objectsAtKill;
        using (var first = RetailChild.Start(dir.Path, DeliverArgs(stream, prefix, "--buffer-interval", "1")))
        {
            await first.WaitForStderrAsync("[INFO] delivering", ChildTimeout);
            using var produce = RetailChild.Start(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl,
                "--max-count", "20000", "--seed", "7", "--rate", "1000");
            using var timeout = new CancellationTokenSource(ChildTimeout);
            while ((objectsAtKill = await CountObjectsAsync(prefix)) < 1)
            {
                Assert.False(first.HasExited, $"retail deliver exited before it was killed: {first.Stderr}");
                await Task.Delay(100, timeout.Token); // the poll interval of the condition
            }
            first.Kill();
            await first.WaitAsync(ChildTimeout);
            Output.WriteLine($"killed retail deliver with {objectsAtKill} objects in the lake; its stderr: {first.Stderr}");
            Assert.True(await produce.WaitAsync(ChildTimeout) == 0, produce.Stderr);
        }
        Assert.True((await LakeLinesAsync(prefix)).Count < expected.Count, "the first delivery had delivered everything before the kill, so this run tests nothing");

        string stderr = await RunAsync(dir.Path, DeliverArgs(stream, prefix, "--buffer-interval", "1", "--idle-exit", "5"));

        Assert.Contains("stopped: nothing read for 5 s", stderr, StringComparison.Ordinal);
        await AssertLakeHoldsExactlyAsync(prefix, expected);
    }

    [Fact]
    public async Task Consume_AfterASplit_PrintsTheParentsRecordsBeforeTheChildrensAndEachOnce()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(1);
        var before = await ExpectedLinesAsync(100, 11);
        var after = await ExpectedLinesAsync(100, 12);
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "100", "--seed", "11");
        await RunAsync(dir.Path, "stream", "reshard", "--stream-name", stream, "--split", "shardId-000000000000", "--endpoint-url", Kinesis.ServiceUrl);
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "100", "--seed", "12");

        using var consume = RetailChild.Start(dir.Path, "consume", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "200");
        Assert.True(await consume.WaitAsync(ChildTimeout) == 0, consume.Stderr);

        var lines = consume.StdoutLines;
        Assert.Equal(200, lines.Count);
        Assert.Equal(Sorted(before), Sorted(lines.Take(100)));
        Assert.Equal(Sorted(after), Sorted(lines.Skip(100)));
    }

    [Fact]
    public async Task Deliver_Sigterm_WritesWhatIsBufferedChecksItAndExitsZero()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(2);
        string prefix = $"sigterm-{Guid.NewGuid():N}";
        var expected = await ExpectedLinesAsync(1000, 5);
        await RunAsync(dir.Path, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", Kinesis.ServiceUrl, "--max-count", "1000", "--seed", "5");

        // The default 60 s buffer interval keeps every record buffered until the signal.
        using var deliver = RetailChild.Start(dir.Path, DeliverArgs(stream, prefix));
        using (var timeout = new CancellationTokenSource(ChildTimeout))
            while (!deliver.Stderr.Contains("[INFO] 1000 records read", StringComparison.Ordinal))
            {
                Assert.False(deliver.HasExited, deliver.Stderr);
                await Task.Delay(100, timeout.Token); // the poll interval of the condition (the progress line comes every 5 s)
            }
        Assert.Equal(0, await CountObjectsAsync(prefix));
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", deliver.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();

        int code = await deliver.WaitAsync(ChildTimeout);

        Assert.True(code == 0, deliver.Stderr);
        Assert.Contains("stopped: interrupted", deliver.Stderr, StringComparison.Ordinal);
        await AssertLakeHoldsExactlyAsync(prefix, expected);
        var store = S3rver.Store(prefix);
        var checkpoints = new ObjectStoreCheckpointStore(store, stream);
        int saved = 0;
        foreach (var shard in new[] { "shardId-000000000000", "shardId-000000000001" })
            if (await checkpoints.LoadAsync("delivery", shard) is { SequenceNumber: not null }) saved++;
        Assert.Equal(2, saved);
    }

    [Fact]
    public async Task Deliver_SecondProcessOnTheSameConsumerAndLake_IsRefusedInOneLine()
    {
        using var dir = new TempDir();
        string stream = await CreateStreamAsync(1);
        string prefix = $"twice-{Guid.NewGuid():N}";
        using var first = RetailChild.Start(dir.Path, DeliverArgs(stream, prefix));
        // Running once its claim is in the lake.
        var store = S3rver.Store(prefix);
        using (var timeout = new CancellationTokenSource(ChildTimeout))
            while (await store.GetInfoAsync(new ObjectStoreCheckpointStore(store, stream).OwnerKey("delivery"), timeout.Token) is null)
            {
                Assert.False(first.HasExited, first.Stderr);
                await Task.Delay(100, timeout.Token);
            }

        using var second = RetailChild.Start(dir.Path, DeliverArgs(stream, prefix));
        int code = await second.WaitAsync(ChildTimeout);

        Assert.NotEqual(0, code);
        var errors = second.Stderr.Split('\n').Where(l => l.StartsWith("[ERROR]", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("is already running", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", second.Stderr, StringComparison.Ordinal);
        Assert.False(first.HasExited, first.Stderr);
    }
}

[Collection(KinesisMockCollection.Name)]
public sealed class KinesisMockCliTests(KinesisMockFixture kinesis, S3rverFixture s3rver, ITestOutputHelper output)
    : KinesisCliTests(kinesis, s3rver, output), IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task Stream_CreateDescribeSplit_PrintsShardsWithTheirLineage()
    {
        using var dir = new TempDir();
        string name = KinesisEmulatorFixture.FreshStreamName();
        await RunAsync(dir.Path, "stream", "create", "--stream-name", name, "--shard-count", "2", "--endpoint-url", Kinesis.ServiceUrl);

        using var describe = RetailChild.Start(dir.Path, "stream", "describe", "--stream-name", name, "--endpoint-url", Kinesis.ServiceUrl);
        Assert.True(await describe.WaitAsync(ChildTimeout) == 0, describe.Stderr);
        Assert.StartsWith($"stream {name}: ACTIVE, 2 open shards", describe.StdoutLines[0], StringComparison.Ordinal);
        Assert.Equal(2, describe.StdoutLines.Count(l => l.StartsWith("shard shardId-", StringComparison.Ordinal) && l.Contains(" open parents none ", StringComparison.Ordinal)));

        using var split = RetailChild.Start(dir.Path, "stream", "reshard", "--stream-name", name, "--split", "shardId-000000000000", "--endpoint-url", Kinesis.ServiceUrl);
        Assert.True(await split.WaitAsync(ChildTimeout) == 0, split.Stderr);

        var lines = split.StdoutLines;
        Assert.StartsWith($"stream {name}: ACTIVE, 3 open shards", lines[0], StringComparison.Ordinal);
        Assert.Single(lines, l => l.StartsWith("shard shardId-000000000000 closed parents none hash 0..", StringComparison.Ordinal));
        var children = lines.Where(l => l.Contains(" open parents shardId-000000000000 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, children.Count);
        // The children split the parent's range in the middle: the first starts at 0, the second right after the first ends.
        Assert.Contains(" hash 0..", children[0], StringComparison.Ordinal);
        Assert.Equal(5, lines.Count); // the summary, the closed parent, the other original shard and the two children
    }
}
