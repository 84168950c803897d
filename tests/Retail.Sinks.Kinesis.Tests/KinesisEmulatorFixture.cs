using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// A Kinesis emulator (installed by tests/setup.sh from tests/emulators/package-lock.json) started as a Node.js process,
/// reached at <see cref="ServiceUrl"/> on 127.0.0.1; ready once it answers a ListStreams call with HTTP 200; killed with
/// its process tree at the end. Give each test its own stream (<see cref="FreshStreamName"/>): the emulators slow down
/// as a shard fills.
/// </summary>
public abstract class KinesisEmulatorFixture : IAsyncLifetime
{
    /// <summary>A dummy SigV4 Authorization header: both emulators accept any signature but need one (and X-Amz-Date).</summary>
    public const string DummyAuthorization =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const int MaxStartAttempts = 5;

    private Process? _process;
    private readonly List<string> _output = [];

    /// <summary>"kinesis-mock" or "kinesalite".</summary>
    public abstract string Name { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string ServiceUrl { get; private set; } = "";

    /// <summary>How many processes it took to start (more than 1 when a chosen port was taken in the meantime).</summary>
    public int StartAttempts { get; private set; }

    /// <summary>A unique, valid stream name ("t-" and 12 hex digits).</summary>
    public static string FreshStreamName() => "t-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// How to start the emulator: the process, and the port it will listen on when the fixture chose it (kinesis-mock
    /// takes its port from an environment variable), or null when the emulator reports it on stdout
    /// (<see cref="TryReadPort"/>).
    /// </summary>
    protected abstract (ProcessStartInfo Start, int? Port) CreateStart(string emulators);

    /// <summary>The port announced by a line of the emulator's stdout, or null.</summary>
    protected virtual int? TryReadPort(string line) => null;

    /// <summary>Whether a 200 answer to ListStreams came from this fixture's process (and not some other server that
    /// took the port first).</summary>
    protected virtual bool IsOwnListStreamsAnswer(string body) => true;

    /// <summary>Whether the output of a process that exited at start-up says its port was taken (then the fixture
    /// retries with new ports).</summary>
    protected virtual bool PortWasTaken(string output) => false;

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            StopProcess(); // a start-up that failed leaves no emulator behind
            throw;
        }
    }

    private async Task StartAsync()
    {
        string emulators = FindEmulators();
        using var timeout = new CancellationTokenSource(StartTimeout);
        for (int attempt = 1; ; attempt++)
        {
            StartAttempts = attempt;
            var (start, chosenPort) = CreateStart(emulators);
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.RedirectStandardInput = true; // kinesalite's launcher exits when this closes
            start.UseShellExecute = false;
            var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (chosenPort is int p) port.TrySetResult(p);
            lock (_output) _output.Clear();
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_output) _output.Add(e.Data);
                if (TryReadPort(e.Data) is int announced) port.TrySetResult(announced);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
            process.Exited += (_, _) =>
            {
                exited.TrySetResult();
                port.TrySetException(new InvalidOperationException($"{Name} exited at start-up: {Output()}"));
            };
            _process = process;
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            try
            {
                await using (timeout.Token.Register(() => port.TrySetException(new TimeoutException($"{Name} did not report its port within {StartTimeout.TotalSeconds} s: {Output()}"))))
                    ServiceUrl = $"http://127.0.0.1:{await port.Task}";
                if (await WaitReadyAsync(exited.Task, timeout.Token)) return;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name} did not answer ListStreams with HTTP 200 within {StartTimeout.TotalSeconds} s: {Output()}");
            }

            // It exited at start-up: retry with new ports when another process took its port, fail otherwise.
            StopProcess(); // also waits until its output is read to the end
            string output = Output();
            if (attempt >= MaxStartAttempts || !PortWasTaken(output))
                throw new InvalidOperationException($"{Name} exited at start-up (attempt {attempt}): {output}");
        }
    }

    /// <summary>True once ListStreams answers 200 (from this process); false when the process exits first.</summary>
    private async Task<bool> WaitReadyAsync(Task exited, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (exited.IsCompleted) return false;
            try
            {
                using var response = await PostAsync(http, ServiceUrl, "ListStreams", "{}", cancellationToken);
                string body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK)
                    throw new InvalidOperationException($"{Name} answered ListStreams with {(int)response.StatusCode}: {body}{Environment.NewLine}{Output()}");
                if (IsOwnListStreamsAnswer(body)) return true;
                // Another server holds the port: this process will exit with EADDRINUSE and be restarted on new ports.
                await Task.WhenAny(exited, Task.Delay(50, cancellationToken));
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50, cancellationToken); // the poll interval: connection refused until it listens
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // One request timed out (the client's 5 s): ask again until the overall timeout.
            }
        }
    }

    /// <summary>POSTs one Kinesis JSON 1.1 call (<c>Kinesis_20131202.<paramref name="operation"/></c>) with a dummy
    /// signature, as the emulators accept.</summary>
    public static Task<HttpResponseMessage> PostAsync(HttpClient http, string serviceUrl, string operation, string json, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = new HttpRequestMessage(HttpMethod.Post, serviceUrl + "/")
        {
            Content = new StringContent(json, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        request.Headers.TryAddWithoutValidation("Authorization", DummyAuthorization);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        return http.SendAsync(request, cancellationToken);
    }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output()
    {
        lock (_output) return string.Join(Environment.NewLine, _output);
    }

    /// <summary>A port that was free on 127.0.0.1 a moment ago (the OS picks it; the listener is stopped at once).</summary>
    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }

    private static string FindEmulators()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) continue;
            string emulators = Path.Combine(dir.FullName, "tests", "emulators");
            if (File.Exists(Path.Combine(emulators, "node_modules", "kinesis-local", "main.js"))
                && File.Exists(Path.Combine(emulators, "node_modules", "kinesalite", "index.js")))
                return emulators;
            throw new InvalidOperationException($"kinesis-local and kinesalite are not installed under {emulators}: run tests/setup.sh (npm ci from the committed lock file) first.");
        }
        throw new InvalidOperationException("Could not find the repository root (Retail.sln) above " + AppContext.BaseDirectory);
    }

    private void StopProcess()
    {
        if (_process is not { } p) return;
        _process = null;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        catch (InvalidOperationException) { }
        p.Dispose();
    }

    public Task DisposeAsync()
    {
        StopProcess();
        return Task.CompletedTask;
    }
}

/// <summary>
/// kinesis-mock (npm kinesis-local 0.6.2, the engine LocalStack uses): <c>node main.js</c> in its package folder (it
/// reads its TLS certificate server.json from the working directory), on ports the fixture picks (it takes them only from
/// <c>KINESIS_MOCK_PLAIN_PORT</c> / <c>KINESIS_MOCK_TLS_PORT</c>; a start-up that finds a port taken is retried on new
/// ports). It listens on all interfaces; the fixture connects via 127.0.0.1 only. Logs only warnings and errors,
/// persists nothing. A sentinel stream created at start (<c>INITIALIZE_STREAMS</c>) proves that the server answering
/// ListStreams is this process; tests should not count the streams ListStreams returns. Ready in about 1 s here.
/// Seen in 0.6.2 (where it differs from the API reference or from kinesalite): successful PutRecords entries carry
/// <c>"ErrorCode":null,"ErrorMessage":null</c>, and absent fields come as <c>null</c> (ListShards' <c>NextToken</c>,
/// an open shard's <c>EndingSequenceNumber</c>); a shard closed by SplitShard reports <c>EndingSequenceNumber</c>
/// 9223372036854775807 (not a sequence number of the shard); GetRecords answers <c>"ChildShards":null</c> while the
/// shard has more, and its last record comes in the same response as the <c>ChildShards</c> and no next iterator.
/// </summary>
public sealed class KinesisMockFixture : KinesisEmulatorFixture
{
    /// <summary>The stream created at start-up so that readiness proves whose server answers.</summary>
    public string SentinelStream { get; } = "fixture-" + Guid.NewGuid().ToString("N")[..12];

    public override string Name => "kinesis-mock";

    /// <summary>Picks the ports to try (tests of the fixture replace it to hand it a taken port).</summary>
    internal Func<int> ChoosePort { get; init; } = FreePort;

    protected override (ProcessStartInfo Start, int? Port) CreateStart(string emulators)
    {
        int plain = ChoosePort(), tls = FreePort();
        while (tls == plain) tls = FreePort();
        var start = new ProcessStartInfo("node") { WorkingDirectory = Path.Combine(emulators, "node_modules", "kinesis-local") };
        start.ArgumentList.Add("main.js");
        start.Environment["KINESIS_MOCK_PLAIN_PORT"] = plain.ToString(CultureInfo.InvariantCulture);
        start.Environment["KINESIS_MOCK_TLS_PORT"] = tls.ToString(CultureInfo.InvariantCulture);
        start.Environment["LOG_LEVEL"] = "WARN";
        start.Environment["ROOT_LOG_LEVEL"] = "ERROR";
        start.Environment["SHOULD_PERSIST_DATA"] = "false";
        start.Environment["LOAD_DATA_IF_EXISTS"] = "false";
        start.Environment["INITIALIZE_STREAMS"] = SentinelStream + ":1";
        return (start, plain);
    }

    protected override bool IsOwnListStreamsAnswer(string body) => body.Contains('"' + SentinelStream + '"', StringComparison.Ordinal);

    protected override bool PortWasTaken(string output) =>
        output.Contains("EADDRINUSE", StringComparison.Ordinal) || output.Contains("Address already in use", StringComparison.Ordinal);
}

/// <summary>
/// kinesalite 3.3.3 (in memory; the engine older LocalStack used) through tests/emulators/kinesalite-launch.js, which
/// binds it to 127.0.0.1 at a port the OS picks and prints that port; streams become ACTIVE at once and the shard limit
/// is 100. Ready in well under 1 s. Seen in 3.3.3: GetRecords never returns <c>ChildShards</c> (it predates them): a
/// closed shard's end is a response with no records and no next iterator, so its children must be found through
/// ListShards' <c>ParentShardId</c>; a closed shard's <c>EndingSequenceNumber</c> is a real sequence number; absent
/// fields are left out rather than null.
/// </summary>
public sealed partial class KinesaliteFixture : KinesisEmulatorFixture
{
    public override string Name => "kinesalite";

    protected override (ProcessStartInfo Start, int? Port) CreateStart(string emulators)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = emulators };
        start.ArgumentList.Add(Path.Combine(emulators, "kinesalite-launch.js"));
        return (start, null);
    }

    protected override int? TryReadPort(string line) =>
        Listening().Match(line) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^kinesalite listening on 127\.0\.0\.1:(\d+)$")]
    private static partial Regex Listening();
}

[CollectionDefinition(Name)]
public sealed class KinesisMockCollection : ICollectionFixture<KinesisMockFixture>
{
    public const string Name = "kinesis-mock";
}

[CollectionDefinition(Name)]
public sealed class KinesaliteCollection : ICollectionFixture<KinesaliteFixture>
{
    public const string Name = "kinesalite";
}
