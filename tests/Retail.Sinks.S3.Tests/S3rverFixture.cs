using System.Diagnostics;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Retail.Sinks.S3;
using Retail.Storage;

namespace Retail.Sinks.S3.Tests;

/// <summary>
/// s3rver 3.7.1 (installed by tests/setup.sh from tests/emulators/package-lock.json) on 127.0.0.1 at a port the OS
/// picks (<c>-p 0</c>; the port is read from its start-up line), with the bucket <see cref="Bucket"/> created at
/// start; ready once it answers HTTP; killed with its process tree at the end.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "retail-test";

    /// <summary>s3rver accepts only this access key (and secret).</summary>
    public static readonly BasicAWSCredentials Credentials = new("S3RVER", "S3RVER");

    private Process? _process;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "retail-s3rver-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _output = [];

    public string ServiceUrl { get; private set; } = "";

    /// <summary>Options for a store on the fixture's bucket under <paramref name="prefix"/>.</summary>
    public S3LakeOptions Options(string prefix = "", Action<AmazonS3Config>? configureClient = null) => new()
    {
        Bucket = Bucket, Prefix = prefix, ServiceUrl = ServiceUrl, ConfigureClient = configureClient,
    };

    /// <summary>A store on the fixture's bucket under <paramref name="prefix"/>.</summary>
    public IObjectStore Store(string prefix = "", Action<AmazonS3Config>? configureClient = null) =>
        S3ObjectStoreFactory.Create(Options(prefix, configureClient), Credentials);

    public async Task InitializeAsync()
    {
        string script = FindS3rver();
        Directory.CreateDirectory(_data);
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 17+'s
        // OpenSSL 3 only has in its legacy provider (without it every paginated listing answers 500).
        foreach (var a in new[] { "--openssl-legacy-provider", script, "-d", _data, "-a", "127.0.0.1", "-p", "0", "--no-vhost-buckets", "--silent", "--configure-bucket", Bucket })
            start.ArgumentList.Add(a);
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.Add(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) port.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.Exited += (_, _) => port.TrySetException(new InvalidOperationException("s3rver exited at start-up: " + Output()));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (timeout.Token.Register(() => port.TrySetException(new TimeoutException("s3rver did not report its port within 60 s: " + Output()))))
            ServiceUrl = $"http://127.0.0.1:{await port.Task}";

        // Ready when it answers an HTTP request for the bucket (any status: it is up).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            timeout.Token.ThrowIfCancellationRequested();
            try
            {
                using var response = await http.GetAsync($"{ServiceUrl}/{Bucket}?list-type=2", timeout.Token);
                break;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50, timeout.Token); // the poll interval: connection refused until it listens
            }
        }
    }

    private string Output()
    {
        lock (_output) return string.Join(Environment.NewLine, _output);
    }

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex Listening();

    private static string FindS3rver()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "emulators", "node_modules", "s3rver", "bin", "s3rver.js");
            if (File.Exists(candidate)) return candidate;
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln")))
                throw new InvalidOperationException($"s3rver is not installed under {Path.Combine(dir.FullName, "tests", "emulators")}: run tests/setup.sh (npm ci from the committed lock file) first.");
        }
        throw new InvalidOperationException("Could not find the repository root (Retail.sln) above " + AppContext.BaseDirectory);
    }

    public Task DisposeAsync()
    {
        if (_process is { } p)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { Directory.Delete(_data, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
