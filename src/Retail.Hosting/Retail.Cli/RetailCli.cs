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
        root.Subcommands.Add(QueryCommand.Create(stdout, stderr));
        root.Subcommands.Add(CompactCommand.Create(stdout, stderr));
        // --help and --version are what the user asked for: stdout. Usage errors go to stderr.
        using var helpOut = new StreamWriter(stdout, new System.Text.UTF8Encoding(false), 4096, leaveOpen: true) { AutoFlush = true };
        var config = new InvocationConfiguration { Output = helpOut, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            var parsed = root.Parse(args);
            // A usage error is one line on stderr (plus a pointer to --help), not the whole help text.
            if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction parseError) parseError.ShowHelp = false;
            return await parsed.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await stderr.WriteLineAsync($"[ERROR] {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
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
            await stderr.WriteLineAsync($"[ERROR] {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e)
        {
            // No command ends on an unhandled exception: whatever failed is one line and a non-zero exit.
            await stderr.WriteLineAsync($"[ERROR] {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return 70;
        }
    }
}

/// <summary>A failure to report as one line on stderr with a non-zero exit code.</summary>
internal sealed class CliException(string message, int exitCode = 1, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
