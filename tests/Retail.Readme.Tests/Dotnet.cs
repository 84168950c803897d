using System.Diagnostics;
using System.Text;

namespace Retail.Readme.Tests;

/// <summary>What a finished process wrote and returned.</summary>
internal sealed record ProcessResult(string CommandLine, int ExitCode, string Stdout, string Stderr, string Output)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The compiler's and NuGet's errors and warnings first, then the end of the output: enough to see why.</summary>
    public string Diagnostics(int tailLines = 60)
    {
        string[] lines = Output.Split('\n', StringSplitOptions.TrimEntries);
        var diagnostics = lines.Where(l => l.Contains(": error ", StringComparison.Ordinal) || l.Contains(": warning ", StringComparison.Ordinal)).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine($"`{CommandLine}` exited with {ExitCode}.");
        if (diagnostics.Count > 0)
        {
            text.AppendLine("errors and warnings:");
            foreach (string d in diagnostics) text.AppendLine("  " + d);
        }
        text.AppendLine($"last {Math.Min(tailLines, lines.Length)} lines of output:");
        foreach (string l in lines.TakeLast(tailLines)) text.AppendLine("  " + l);
        return text.ToString();
    }
}

/// <summary>Runs the dotnet CLI (and the apps it builds) as a user would, with a time limit.</summary>
internal static class Dotnet
{
    /// <summary>The dotnet host running these tests, else the one on PATH.</summary>
    public static string HostPath { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static Task<ProcessResult> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunProcessAsync(HostPath, args, workingDirectory, timeout, environment: null);

    /// <summary>
    /// Runs a process and waits for it. The child's environment is this one without what the test host's own
    /// build and run left in it (MSBuild's and VSTest's variables, NUGET_PACKAGES), so NuGet and MSBuild read only the given folder's
    /// configuration. On timeout the whole process tree is killed and the output so far is in the exception.
    /// </summary>
    public static async Task<ProcessResult> RunProcessAsync(string fileName, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.Equals("NUGET_PACKAGES", StringComparison.OrdinalIgnoreCase)) start.Environment.Remove(key);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild worker nodes left behind once a build ends.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }

        string commandLine = $"{Path.GetFileName(fileName)} {string.Join(' ', start.ArgumentList)}";
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        if (!process.Start()) throw new InvalidOperationException($"could not start `{commandLine}`");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            lock (output) throw new TimeoutException($"`{commandLine}` (in {workingDirectory}) did not finish within {timeout}; output so far:\n{output}");
        }
        lock (output) return new ProcessResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString(), output.ToString());

        void Append(StringBuilder stream, string? line)
        {
            if (line is null) return;
            lock (output)
            {
                stream.Append(line).Append('\n');
                output.Append(line).Append('\n');
            }
        }
    }
}
