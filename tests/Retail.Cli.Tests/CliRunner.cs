using System.Text;

namespace Retail.Cli.Tests;

internal sealed record CliResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
}

internal static class CliRunner
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int code = await RetailCli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return new CliResult(code, stdout.ToArray(), stderr.ToString());
    }
}
