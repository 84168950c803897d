using System.Diagnostics;
using System.Text;

namespace Retail.Cli.Tests;

/// <summary>
/// A <c>retail</c> child process with the emulators' dummy credentials in its environment (s3rver takes only
/// S3RVER/S3RVER; the Kinesis emulators take any), its stdout lines and stderr collected as they come.
/// </summary>
internal sealed class RetailChild : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Text, TaskCompletionSource Reached)> _stderrWaiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RetailChild(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) _stdoutClosed.TrySetResult();
            else lock (_stdout) _stdout.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stderrClosed.TrySetResult();
                lock (_stderr) foreach (var w in _stderrWaiters) w.Reached.TrySetException(new InvalidOperationException($"stderr closed without '{w.Text}': {_stderr}"));
            }
            else
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                    foreach (var w in _stderrWaiters) if (e.Data.Contains(w.Text, StringComparison.Ordinal)) w.Reached.TrySetResult();
                }
            }
        };
    }

    public static RetailChild Start(string tmp, params string[] args) => Start(tmp, credentials: true, args);

    public static RetailChild Start(string tmp, bool credentials, params string[] args)
    {
        var process = CompactKillTests.RetailProcess(tmp, args);
        var env = process.StartInfo.Environment;
        foreach (var name in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE" }) env.Remove(name);
        if (credentials)
        {
            env["AWS_ACCESS_KEY_ID"] = "S3RVER";
            env["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
        }
        env["AWS_REGION"] = "us-east-1";
        env["AWS_EC2_METADATA_DISABLED"] = "true";
        env["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(tmp, "no-credentials");
        env["AWS_CONFIG_FILE"] = Path.Combine(tmp, "no-config");
        var child = new RetailChild(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Completes once a line of stderr contains <paramref name="text"/> (fails if stderr closes first).</summary>
    public Task WaitForStderrAsync(string text, TimeSpan timeout)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderr)
        {
            if (_stderr.ToString().Contains(text, StringComparison.Ordinal)) return Task.CompletedTask;
            _stderrWaiters.Add((text, reached));
        }
        return reached.Task.WaitAsync(timeout);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public List<string> StdoutLines
    {
        get { lock (_stdout) return [.. _stdout]; }
    }

    /// <summary>Waits for the exit and for both streams to be read to their end; the exit code.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await Task.WhenAll(_process.WaitForExitAsync(), _stdoutClosed.Task, _stderrClosed.Task).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"retail {string.Join(' ', _process.StartInfo.ArgumentList.Skip(4))} did not exit within {timeout.TotalSeconds} s: {Stderr}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no flush, no checkpoint, no release of the consumer claim.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
