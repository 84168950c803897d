using Retail.Readme.Tests;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// The Lambda host's documented publish (<c>dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64</c>,
/// plus <paramref name="extraArguments"/>) as a child process, through the README tests' <see cref="Dotnet"/> runner; also
/// linked into the CDK tests, which synthesize its zip.
/// </summary>
internal static class LambdaPublish
{
    /// <summary>Runs the publish from <paramref name="root"/>; returns everything it printed, or throws with it.</summary>
    public static async Task<string> RunAsync(string root, IEnumerable<string> extraArguments, TimeSpan timeout)
    {
        string[] args =
        [
            "publish", Path.Combine("src", "Retail.Hosting", "Retail.Hosting.Lambda"), "-c", "Release", "-r", "linux-x64", .. extraArguments,
            // No build server or MSBuild node may outlive the publish (they would hold this test run's output open).
            "-nodeReuse:false", "-p:UseSharedCompilation=false", "--nologo",
        ];
        // The runner clears NUGET_PACKAGES (the README's projects restore in isolation); this publish keeps the user's.
        var environment = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages } : null;
        ProcessResult result;
        try
        {
            result = await Dotnet.RunProcessAsync(Dotnet.HostPath, args, root, timeout, environment);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"dotnet publish of the Lambda host did not finish: {e.Message}", e);
        }
        if (!result.Succeeded)
            throw new InvalidOperationException($"dotnet publish of the Lambda host failed (exit code {result.ExitCode}):{Environment.NewLine}{result.Output}");
        return result.Output;
    }
}
