using System.CommandLine;

namespace Retail.Cli;

/// <summary>The <c>retail</c> command line. Data goes to the given stdout stream; everything else to stderr.</summary>
internal static class RetailCli
{
    public static async Task<int> RunAsync(string[] args, Stream stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Retail: the AWS analytics immersion-day retail pipeline as a .NET SDK, on one machine or on AWS.");
        root.Subcommands.Add(ProduceCommand.Create(stdout, stderr));
        root.Subcommands.Add(DemoCommand.Create(stdout, stderr));
        root.Subcommands.Add(ServeCommand.Create(stdout, stderr));
        root.Subcommands.Add(QueryCommand.Create(stdout, stderr));
        root.Subcommands.Add(CompactCommand.Create(stdout, stderr));
        root.Subcommands.Add(CatalogCommand.Create(stdout, stderr));
        root.Subcommands.Add(ConsumeCommand.Create(stdout, stderr));
        root.Subcommands.Add(DeliverCommand.Create(stdout, stderr));
        root.Subcommands.Add(UpsertCommand.Create(stdout, stderr));
        root.Subcommands.Add(StreamCommand.Create(stdout, stderr));
        root.Subcommands.Add(DashboardsCommand.Create(stdout, stderr));
        // --help and --version are what the user asked for: stdout. Usage errors go to stderr.
        using var helpOut = new StreamWriter(stdout, new System.Text.UTF8Encoding(false), 4096, leaveOpen: true) { AutoFlush = true };
        // Ctrl-C and SIGTERM cancel the command's token; the command then has this long to flush and checkpoint
        // (retail deliver: its shutdown timeout, 30 s) before the process is ended anyway.
        var config = new InvocationConfiguration { Output = helpOut, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = ShutdownGrace };
        try
        {
            var parsed = root.Parse(args);
            // A usage error is one line on stderr (plus a pointer to --help), not the whole help text.
            if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction parseError) parseError.ShowHelp = false;
            return await parsed.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await stderr.WriteLineAsync($"[ERROR] {OneLine(e.Message)}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (Exception e) when (FindCredentialsFailure(e) is { } credentials)
        {
            await stderr.WriteLineAsync($"[ERROR] no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) in the environment, or AWS_PROFILE for a profile in ~/.aws, or run where a role provides them ({OneLine(credentials.Message)})").ConfigureAwait(false);
            return 1;
        }
        catch (Sinks.Kinesis.AwsServiceException e)
        {
            // The message names the service, the operation, the error code and the request id.
            await stderr.WriteLineAsync($"[ERROR] {OneLine(e.Message)}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("[ERROR] cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException
            or Microsoft.Extensions.Options.OptionsValidationException)
        {
            // A component that cannot start (a locked or incompatible index, an unwritable lake) says why in one line.
            await stderr.WriteLineAsync($"[ERROR] {OneLine(e.Message)}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e)
        {
            // No command ends on an unhandled exception: whatever failed is one line and a non-zero exit.
            await stderr.WriteLineAsync($"[ERROR] {e.GetType().Name}: {OneLine(e.Message)}").ConfigureAwait(false);
            return 70;
        }
    }

    /// <summary>How long a command may take to stop after Ctrl-C or SIGTERM before the process ends anyway.</summary>
    internal static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(45);

    /// <summary>A message as one line (an error is one line on stderr).</summary>
    internal static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();

    /// <summary>The AWS SDK's "no credentials" failure in <paramref name="e"/> or its inner exceptions, if that is what failed.</summary>
    internal static Exception? FindCredentialsFailure(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is Amazon.Runtime.AmazonClientException && x.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase)) return x;
            if (x is AggregateException { InnerExceptions: [var only] }) x = only;
        }
        return null;
    }
}

/// <summary>A failure to report as one line on stderr with a non-zero exit code.</summary>
internal sealed class CliException(string message, int exitCode = 1, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
