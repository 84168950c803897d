using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retail.Core.Tests;
using Retail.Sinks.Kinesis.Tests;
using Retail.Sinks.OpenSearch.Tests;
using Retail.Sinks.S3.Tests;
using Retail.Storage;
using Retail.Streaming;
using Xunit.Abstractions;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail upsert</c> as a child process: kinesis-mock → retail upsert → the OpenSearch loopback fake (no OpenSearch
/// server installs here), with dead letters and checkpoints in a local lake; all on 127.0.0.1.
/// </summary>
[Collection(KinesisMockCollection.Name)]
public sealed class UpsertCliTests(KinesisMockFixture kinesis, S3rverFixture s3rver, ITestOutputHelper output) : IClassFixture<S3rverFixture>
{
    /// <summary>A guard, not an expected time (kinesis-mock slows as its shards fill; the machine is shared).</summary>
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Upsert_ProducedRecords_OnOpenSearchFake_AreEachIndexedOnceAndExitZero()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        string stream = await CreateStreamAsync(2);
        var expected = await ProduceAsync(dir.Path, stream, 1000, 21);

        var run = await RunAsync(dir.Path, null, UpsertArgs(stream, fake, dir.Path, "--idle-exit", "3"));

        Assert.True(run.Code == 0, run.Stderr);
        var documents = fake.Documents("retail");
        Assert.Equal(1000, documents.Count);
        Assert.Equal(Sorted(expected.Select(Projection)), Sorted(documents.Values.Select(Projection)));
        Assert.Contains("1000 documents upserted, 0 dead-lettered", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(ErrorLines(dir.Path));
    }

    [Fact]
    public async Task Upsert_RejectedDocumentAndUndecodableRecord_OnOpenSearchFake_GoToTheLakesDeadLetterOutput()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        string stream = await CreateStreamAsync(1);
        var expected = await ProduceAsync(dir.Path, stream, 200, 22);
        const string notJson = "this is not JSON";
        await PutRecordAsync(stream, notJson);
        // The fake answers the record(s) of one invoice line 400 mapper_parsing_exception, as a mapping conflict would.
        var target = JsonNode.Parse(expected[17])!.AsObject();
        string invoice = (string)target["Invoice"]!, stockCode = (string)target["StockCode"]!;
        fake.RejectWhen = (_, _, source) => (string?)source["Invoice"] == invoice && (string?)source["StockCode"] == stockCode;
        var rejectedLines = expected.Where(l => { var o = JsonNode.Parse(l)!; return (string)o["Invoice"]! == invoice && (string)o["StockCode"]! == stockCode; }).ToList();

        var run = await RunAsync(dir.Path, null, UpsertArgs(stream, fake, dir.Path, "--idle-exit", "3"));

        // Every record is accounted for: indexed, or in the dead-letter output with its reason (and exit 0: nothing is lost).
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal(expected.Count - rejectedLines.Count, fake.Documents("retail").Count);
        var dead = ErrorLines(dir.Path);
        Assert.Equal(rejectedLines.Count + 1, dead.Count);
        var invalid = Assert.Single(dead, d => RawData(d) == notJson);
        Assert.Equal("Retail.InvalidRecord", (string)invalid["errorCode"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)invalid["errorMessage"]));
        var rejected = dead.Where(d => RawData(d) != notJson).ToList();
        Assert.Equal(Sorted(rejectedLines), Sorted(rejected.Select(d => RawData(d).TrimEnd('\n'))));
        Assert.All(rejected, d => Assert.Contains("mapper_parsing_exception", $"{d["errorCode"]} {d["errorMessage"]}", StringComparison.Ordinal));
        Assert.All(rejected, d => Assert.Equal("retail", (string?)d["esIndexName"]));
        Assert.Contains($"{rejectedLines.Count + 1} dead-lettered (1 invalid records, {rejectedLines.Count} rejected documents)", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_Sigterm_OnOpenSearchFake_UpsertsTheOpenBatchCheckpointsAndExitsZero_ARestartReadsNothingAgain()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        string stream = await CreateStreamAsync(2);
        var expected = await ProduceAsync(dir.Path, stream, 500, 23);

        // A 300 s batching window keeps every document in the open batch until the signal.
        using (var upsert = RetailChild.Start(dir.Path, UpsertArgs(stream, fake, dir.Path, "--batch-latency", "300")))
        {
            // The progress line (every 5 s) says all 500 are read: signalled by the child's stderr reader, no polling.
            await upsert.WaitForStderrAsync("[INFO] 500 records read", ChildTimeout);
            Assert.Equal(0, fake.TotalDocuments);
            using (var kill = Process.Start("kill", ["-TERM", upsert.Id.ToString(CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();

            int code = await upsert.WaitAsync(ChildTimeout);
            output.WriteLine(upsert.Stderr);

            Assert.True(code == 0, upsert.Stderr);
            Assert.Contains("stopped: interrupted", upsert.Stderr, StringComparison.Ordinal);
            Assert.Contains("500 documents upserted", upsert.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(500, fake.Documents("retail").Count);
        var checkpoints = new ObjectStoreCheckpointStore(new LocalFolderObjectStore(Lake(dir.Path)), stream);
        foreach (var shard in new[] { "shardId-000000000000", "shardId-000000000001" })
            Assert.NotNull((await checkpoints.LoadAsync("speed-layer", shard))?.SequenceNumber);

        int bulksBefore = Bulks(fake);
        var again = await RunAsync(dir.Path, null, UpsertArgs(stream, fake, dir.Path, "--idle-exit", "2"));

        Assert.True(again.Code == 0, again.Stderr);
        Assert.Contains("0 documents upserted", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(bulksBefore, Bulks(fake));
        Assert.Equal(500, fake.Documents("retail").Count);
        Assert.Equal(Sorted(expected.Select(Projection)), Sorted(fake.Documents("retail").Values.Select(Projection)));
    }

    [Fact]
    public async Task Upsert_S3Lake_OnOpenSearchFake_DeadLettersAndCheckpointsGoToTheBucket()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        string stream = await CreateStreamAsync(1);
        var expected = await ProduceAsync(dir.Path, stream, 30, 26);
        await PutRecordAsync(stream, "{\"Invoice\":\"1\"}"); // JSON, but without StockCode and Customer_ID (REQUIRED_FIELDS)
        string prefix = $"upsert-{Guid.NewGuid():N}";

        var run = await RunAsync(dir.Path, null, "upsert", "--stream-name", stream, "--endpoint-url", kinesis.ServiceUrl, "--opensearch-url", fake.Url.ToString(), "--auth", "none",
            "--lake", $"s3://{S3rverFixture.Bucket}/{prefix}", "--s3-endpoint-url", s3rver.ServiceUrl, "--idle-exit", "3");

        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal(Sorted(expected.Select(Projection)), Sorted(fake.Documents("retail").Values.Select(Projection)));
        var store = s3rver.Store(prefix);
        var dead = new List<JsonObject>();
        await foreach (var o in store.ListAsync(LakeLayout.ErrorPrefix))
        {
            Assert.Contains("/AmazonOpenSearchService-failed/", o.Key, StringComparison.Ordinal);
            dead.AddRange(Encoding.UTF8.GetString(await store.GetBytesAsync(o.Key)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()));
        }
        var only = Assert.Single(dead);
        Assert.Equal("{\"Invoice\":\"1\"}", RawData(only));
        Assert.Equal("Retail.InvalidRecord", (string)only["errorCode"]!);
        Assert.NotNull((await new ObjectStoreCheckpointStore(store, stream).LoadAsync("speed-layer", "shardId-000000000000"))?.SequenceNumber);
    }

    [Fact]
    public async Task Upsert_FlagsOverTheWorkshopsEnvironment_OnOpenSearchFake_FlagsWinAndUnflaggedVariablesApply()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("retail-master", "pa ss:w0rd!"));
        string stream = await CreateStreamAsync(1);
        var expected = await ProduceAsync(dir.Path, stream, 50, 24);
        var env = new Dictionary<string, string?>
        {
            ["ES_HOST"] = "127.0.0.1:1", // overridden by --opensearch-url
            ["ES_INDEX"] = "retail-from-env", // no flag: the variable applies
            ["ES_AUTH"] = "sigv4", // overridden by --auth basic
            ["ES_USERNAME"] = "retail-master",
            ["ES_PASSWORD"] = "pa ss:w0rd!",
        };

        var run = await RunAsync(dir.Path, env, "upsert", "--stream-name", stream, "--endpoint-url", kinesis.ServiceUrl,
            "--opensearch-url", fake.Url.ToString(), "--auth", "basic", "--lake", Lake(dir.Path), "--idle-exit", "3");

        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal(50, fake.Documents("retail-from-env").Count);
        Assert.Equal(Sorted(expected.Select(Projection)), Sorted(fake.Documents("retail-from-env").Values.Select(Projection)));
        Assert.DoesNotContain("pa ss:w0rd!", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("basic auth as retail-master", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_OpenSearchRefusesEveryRequest_OnOpenSearchFake_ExitsNonZeroWithoutCheckpointingPastIt()
    {
        using var dir = new TempDir();
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("retail-master", "right"));
        string stream = await CreateStreamAsync(1);
        await ProduceAsync(dir.Path, stream, 20, 25);
        var env = new Dictionary<string, string?> { ["ES_USERNAME"] = "retail-master", ["ES_PASSWORD"] = "wrong" };

        var run = await RunAsync(dir.Path, env, UpsertArgs(stream, fake, dir.Path, "--auth", "basic", "--idle-exit", "3"));

        Assert.NotEqual(0, run.Code);
        Assert.Single(run.Stderr.Split('\n'), l => l.StartsWith("[ERROR]", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, fake.TotalDocuments);
        var checkpoints = new ObjectStoreCheckpointStore(new LocalFolderObjectStore(Lake(dir.Path)), stream);
        Assert.Null((await checkpoints.LoadAsync("speed-layer", "shardId-000000000000"))?.SequenceNumber);
    }

    /// <summary>The upsert command line for the fake (<c>--auth none</c> unless <paramref name="more"/> names --auth).</summary>
    private string[] UpsertArgs(string stream, OpenSearchLoopbackFake fake, string dir, params string[] more)
    {
        string[] auth = more.Contains("--auth") ? [] : ["--auth", "none"];
        return ["upsert", "--stream-name", stream, "--endpoint-url", kinesis.ServiceUrl, "--opensearch-url", fake.Url.ToString(), .. auth, "--lake", Lake(dir), .. more];
    }

    private static string Lake(string dir) => Path.Combine(dir, "lake");

    private static int Bulks(OpenSearchLoopbackFake fake) => fake.Requests.Count(r => r.PathAndQuery.Contains("_bulk", StringComparison.Ordinal));

    /// <summary>The record fields a document keeps as they were (InvoiceDate is rewritten ISO-8601, so it is left out).</summary>
    private static string Projection(string line) => Projection(JsonNode.Parse(line)!.AsObject());

    private static string Projection(JsonObject o) =>
        string.Join('|', new[] { "Invoice", "StockCode", "Description", "Quantity", "Customer_ID", "Country" }.Select(f => o[f]?.ToJsonString() ?? "<missing>"));

    /// <summary>Every error record under the lake's error-json/ prefix.</summary>
    private static List<JsonObject> ErrorLines(string dir)
    {
        string errors = Path.Combine(Lake(dir), LakeLayout.ErrorPrefix.TrimEnd('/'));
        if (!Directory.Exists(errors)) return [];
        var lines = new List<JsonObject>();
        foreach (string file in Directory.EnumerateFiles(errors, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')))
        {
            string text = File.ReadAllText(file);
            Assert.EndsWith("\n", text, StringComparison.Ordinal);
            lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()));
        }
        return lines;
    }

    private static string RawData(JsonObject errorRecord) => Encoding.UTF8.GetString(Convert.FromBase64String((string)errorRecord["rawData"]!));

    private static List<string> Sorted(IEnumerable<string> lines) => lines.Order(StringComparer.Ordinal).ToList();

    private async Task<string> CreateStreamAsync(int shards)
    {
        string name = KinesisEmulatorFixture.FreshStreamName();
        using var dir = new TempDir();
        var r = await RunAsync(dir.Path, null, "stream", "create", "--stream-name", name, "--shard-count", shards.ToString(CultureInfo.InvariantCulture), "--endpoint-url", kinesis.ServiceUrl);
        Assert.True(r.Code == 0, r.Stderr);
        return name;
    }

    /// <summary>Produces <paramref name="count"/> seeded records into the stream; the lines <c>--service-name console</c> prints for the same seed.</summary>
    private async Task<List<string>> ProduceAsync(string tmp, string stream, int count, int seed)
    {
        string n = count.ToString(CultureInfo.InvariantCulture), s = seed.ToString(CultureInfo.InvariantCulture);
        var console = await CliRunner.RunAsync("produce", "--service-name", "console", "--max-count", n, "--seed", s);
        Assert.True(console.ExitCode == 0, console.Stderr);
        var r = await RunAsync(tmp, null, "produce", "--service-name", "kinesis", "--stream-name", stream, "--endpoint-url", kinesis.ServiceUrl, "--max-count", n, "--seed", s);
        Assert.True(r.Code == 0, r.Stderr);
        var lines = console.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(count, lines.Count);
        return lines;
    }

    private async Task PutRecordAsync(string stream, string data)
    {
        using var http = new HttpClient();
        string body = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["StreamName"] = stream,
            ["PartitionKey"] = "not-json",
            ["Data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(data)),
        });
        using var response = await KinesisEmulatorFixture.PostAsync(http, kinesis.ServiceUrl, "PutRecord", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Runs <c>retail</c> to its end with the upsert handler's variables cleared and then <paramref name="env"/> set.</summary>
    private async Task<(int Code, string Stderr)> RunAsync(string tmp, IReadOnlyDictionary<string, string?>? env, params string[] args)
    {
        var result = await UpsertChild.RunAsync(tmp, env, ChildTimeout, args);
        output.WriteLine($"retail {string.Join(' ', args)} → {result.Code}{Environment.NewLine}{result.Stderr}");
        return (result.Code, result.Stderr);
    }
}

/// <summary><c>retail upsert</c> usage and settings errors: one line naming the flag or the variable, exit 2, never a password.</summary>
public sealed class UpsertUsageTests
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Upsert_WithoutStreamName_IsUsageErrorNamingTheFlag()
    {
        var r = await CliRunner.RunAsync("upsert", "--opensearch-url", "http://127.0.0.1:9200", "--auth", "none");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--stream-name", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_NeitherOpenSearchUrlNorEsHost_IsOneErrorLineNamingBoth()
    {
        using var dir = new TempDir();

        var r = await UpsertChild.RunAsync(dir.Path, null, ChildTimeout, "upsert", "--stream-name", "s", "--lake", Path.Combine(dir.Path, "lake"));

        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("[ERROR] --opensearch-url (or ES_HOST)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ES_AUTH", "kerberos", "--auth")]
    [InlineData("RETAIL_ID_MODE", "md5", "--id-mode")]
    [InlineData("ES_INDEX", "Retail_UPPER", "--index")]
    [InlineData("REQUIRED_FIELDS", "Invoice,NoSuchField", "--required-fields")]
    [InlineData("RETAIL_INDEX_ROTATION", "fortnight", "--index-rotation")]
    public async Task Upsert_BadVariable_IsOneErrorLineNamingTheVariableItsFlagAndTheValue(string variable, string value, string flag)
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string?> { ["ES_HOST"] = "http://127.0.0.1:9200", [variable] = value };

        var r = await UpsertChild.RunAsync(dir.Path, env, ChildTimeout, "upsert", "--stream-name", "s", "--lake", Path.Combine(dir.Path, "lake"));

        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"[ERROR] {flag} (or {variable})", line, StringComparison.Ordinal);
        Assert.Contains(value.Split(',')[^1], line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_BasicAuthWithoutUsername_NamesItAndNeverEchoesThePassword()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string?> { ["ES_HOST"] = "http://127.0.0.1:9200", ["ES_AUTH"] = "basic", ["ES_PASSWORD"] = "s3cret-Value" };

        var r = await UpsertChild.RunAsync(dir.Path, env, ChildTimeout, "upsert", "--stream-name", "s", "--lake", Path.Combine(dir.Path, "lake"));

        Assert.Equal(2, r.Code);
        Assert.Contains("ES_USERNAME", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--username", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-Value", r.Stderr + r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upsert_CredentialsInTheUrl_AreRefusedWithoutEchoingThem()
    {
        var r = await CliRunner.RunAsync("upsert", "--stream-name", "s", "--opensearch-url", "https://admin:hunter2@search-retail.example/");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--opensearch-url", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--auth", "kerberos")]
    [InlineData("--id-mode", "md5")]
    [InlineData("--idle-exit", "0")]
    public async Task Upsert_BadFlagValue_IsUsageErrorNamingTheFlag(string flag, string value)
    {
        var r = await CliRunner.RunAsync("upsert", "--stream-name", "s", "--opensearch-url", "http://127.0.0.1:9200", flag, value);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(flag, r.Stderr, StringComparison.Ordinal);
        Assert.Contains(value, r.Stderr, StringComparison.Ordinal);
    }
}

public sealed class UpsertFromFlagTests
{
    [Fact]
    public async Task Upsert_FromAtTimestampWithoutTimestamp_IsUsageErrorNamingBoth()
    {
        var r = await CliRunner.RunAsync("upsert", "--stream-name", "s", "--opensearch-url", "http://127.0.0.1:9200", "--from", "AT_TIMESTAMP");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--from AT_TIMESTAMP needs --timestamp", r.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>A <c>retail</c> child run to its end, its environment free of the upsert handler's variables except those given.</summary>
internal static class UpsertChild
{
    private static readonly string[] HandlerVariables =
    [
        "ES_HOST", "ES_INDEX", "ES_TYPE", "ES_AUTH", "ES_USERNAME", "ES_PASSWORD", "REQUIRED_FIELDS", "REGION_NAME", "DATE_TYPE_FIELDS", "DATE_FORMAT",
        "RETAIL_ID_MODE", "RETAIL_OPENSEARCH_SERVICE", "RETAIL_INDEX_ROTATION", "RETAIL_BULK_ACTION", "RETAIL_REFRESH", "RETAIL_INDEX_TEMPLATE",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    ];

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string tmp, IReadOnlyDictionary<string, string?>? env, TimeSpan timeout, params string[] args)
    {
        using var process = CompactKillTests.RetailProcess(tmp, args);
        var e = process.StartInfo.Environment;
        foreach (var name in HandlerVariables) e.Remove(name);
        // The Kinesis emulator takes any signature; these are the emulators' dummy keys, never real ones.
        e["AWS_ACCESS_KEY_ID"] = "S3RVER";
        e["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
        e["AWS_REGION"] = "us-east-1";
        e["AWS_EC2_METADATA_DISABLED"] = "true";
        e["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(tmp, "no-credentials");
        e["AWS_CONFIG_FILE"] = Path.Combine(tmp, "no-config");
        foreach (var (name, value) in env ?? new Dictionary<string, string?>()) e[name] = value;
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await Task.WhenAll(process.WaitForExitAsync(), stdout, stderr).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"retail {string.Join(' ', args)} did not exit within {timeout.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
