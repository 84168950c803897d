using System.Diagnostics;
using System.Text;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// The Lambda host's documented publish (<c>dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64</c>,
/// plus <paramref name="extraArguments"/>) as a child process; also linked into the CDK tests, which synthesize its zip.
/// </summary>
internal static class LambdaPublish
{
    /// <summary>Runs the publish from <paramref name="root"/>; returns everything it printed, or throws with it.</summary>
    public static async Task<string> RunAsync(string root, IEnumerable<string> extraArguments, TimeSpan timeout)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "publish", Path.Combine("src", "Retail.Hosting", "Retail.Hosting.Lambda"), "-c", "Release", "-r", "linux-x64" }
            .Concat(extraArguments)
            // No build server or MSBuild node may outlive the publish (they would hold this test run's output open).
            .Concat(["-nodeReuse:false", "-p:UseSharedCompilation=false", "--nologo"]))
            start.ArgumentList.Add(a);
        // The test host's MSBuild variables point at the running SDK's internals; the child finds its own.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish of the Lambda host did not finish within {timeout}:{Environment.NewLine}{Text(output)}");
        }
        string text = Text(output);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish of the Lambda host failed (exit code {process.ExitCode}):{Environment.NewLine}{text}");
        return text;
    }

    private static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
