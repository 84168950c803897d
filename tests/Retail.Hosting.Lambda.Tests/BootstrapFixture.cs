using System.Diagnostics;
using System.IO.Compression;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// Publishes the native-AOT <c>bootstrap</c> once per test run, exactly as the README says
/// (<c>dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64</c>, here with <c>-o</c> a
/// temporary folder and the zip beside it), as a child process; a failed publish fails the fixture with its output.
/// The test command (tests/run-tests.sh) runs that publish once, before the tests, and names its output in
/// <c>RETAIL_LAMBDA_PUBLISH_DIR</c>, <c>RETAIL_LAMBDA_ZIP</c> and <c>RETAIL_LAMBDA_PUBLISH_LOG</c>: then this fixture uses it
/// (the CDK tests synthesize the same zip, and two publishes of one project at once would race on its obj/ folder).
/// </summary>
public sealed class BootstrapFixture : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    private static readonly string? Given = Environment.GetEnvironmentVariable("RETAIL_LAMBDA_PUBLISH_DIR") is { Length: > 0 } d ? d : null;

    public string Folder { get; } = Given ?? Path.Combine(Path.GetTempPath(), "retail-bootstrap-" + Guid.NewGuid().ToString("N"));

    /// <summary>The published executable.</summary>
    public string Bootstrap => Path.Combine(Folder, "bootstrap");

    /// <summary>The zip to upload.</summary>
    public string Zip => Given is not null && Environment.GetEnvironmentVariable("RETAIL_LAMBDA_ZIP") is { Length: > 0 } zip ? zip
        : Path.Combine(Folder, "retail-lambda.zip");

    /// <summary>Everything the publish printed.</summary>
    public string PublishOutput { get; private set; } = "";

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) return dir.FullName;
        throw new InvalidOperationException("Could not find the repository root (Retail.sln) above " + AppContext.BaseDirectory);
    }

    public async Task InitializeAsync()
    {
        if (Given is not null)
        {
            PublishOutput = Environment.GetEnvironmentVariable("RETAIL_LAMBDA_PUBLISH_LOG") is { Length: > 0 } log && File.Exists(log)
                ? await File.ReadAllTextAsync(log)
                : throw new InvalidOperationException("RETAIL_LAMBDA_PUBLISH_DIR is set but RETAIL_LAMBDA_PUBLISH_LOG names no publish log.");
            if (!File.Exists(Bootstrap) || !File.Exists(Zip))
                throw new InvalidOperationException($"RETAIL_LAMBDA_PUBLISH_DIR names {Folder}, which holds no bootstrap (or {Zip} is missing).");
            return;
        }
        PublishOutput = await LambdaPublish.RunAsync(RepositoryRoot(), ["-o", Folder, $"-p:RetailLambdaZip={Zip}"], PublishTimeout);
        if (!File.Exists(Bootstrap))
            throw new InvalidOperationException($"dotnet publish succeeded but left no {Bootstrap}:{Environment.NewLine}{PublishOutput}");
    }

    /// <summary>The zip's entries: name and Unix mode (from the external attributes' high 16 bits).</summary>
    public IReadOnlyList<(string Name, int Mode)> ZipEntries()
    {
        using var zip = ZipFile.OpenRead(Zip);
        return [.. zip.Entries.Select(e => (e.FullName, (e.ExternalAttributes >> 16) & 0xFFFF))];
    }

    public Task DisposeAsync()
    {
        if (Given is not null) return Task.CompletedTask;   // the test command's publish, not this fixture's
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class BootstrapCollection : ICollectionFixture<BootstrapFixture>, ICollectionFixture<Retail.Sinks.S3.Tests.S3rverFixture>
{
    public const string Name = "published bootstrap";
}

/// <summary>The published bootstrap running as a process, its output captured line by line.</summary>
internal sealed class BootstrapProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    private BootstrapProcess(Process process) => _process = process;

    public static BootstrapProcess Start(string path, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Only what a Lambda sandbox would set: nothing of this machine's AWS configuration leaks in.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("RETAIL_", StringComparison.Ordinal)
                     || k.StartsWith("ES_", StringComparison.Ordinal) || k is "_HANDLER" or "HTTP_PROXY" or "HTTPS_PROXY" or "http_proxy" or "https_proxy").ToList())
            start.Environment.Remove(name);
        start.Environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var run = new BootstrapProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (run._lines) run._lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (run._lines) run._lines.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public string Output => string.Join(Environment.NewLine, Lines);

    /// <summary>Waits for the process to exit by itself.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
