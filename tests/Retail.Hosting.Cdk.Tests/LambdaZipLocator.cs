namespace Retail.Hosting.Cdk.Tests;

/// <summary>
/// The Lambda host's AOT zip, built by its documented publish command
/// (<c>dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64</c>): the test command runs it once and
/// names the zip in <c>RETAIL_LAMBDA_ZIP</c>; run alone, this project runs that command itself. Never a hand-made zip.
/// </summary>
public static class LambdaZipLocator
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) return dir.FullName;
        throw new InvalidOperationException("Could not find the repository root (Retail.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>The documented zip's path: <c>src/Retail.Hosting/Retail.Hosting.Lambda/bin/Release/net10.0/linux-x64/retail-lambda.zip</c>.</summary>
    public static string DocumentedPath(string root) =>
        Path.Combine(root, "src", "Retail.Hosting", "Retail.Hosting.Lambda", "bin", "Release", "net10.0", "linux-x64", "retail-lambda.zip");

    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("RETAIL_LAMBDA_ZIP") is { Length: > 0 } given)
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"RETAIL_LAMBDA_ZIP names {given}, which does not exist.", given);
        string root = RepositoryRoot();
        Publish(root);
        string zip = DocumentedPath(root);
        return File.Exists(zip) ? zip : throw new FileNotFoundException($"The documented publish left no {zip}.", zip);
    }

    private static void Publish(string root) =>
        Retail.Hosting.Lambda.Tests.LambdaPublish.RunAsync(root, [], PublishTimeout).GetAwaiter().GetResult();
}
