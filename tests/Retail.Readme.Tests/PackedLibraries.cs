using System.Runtime.InteropServices;
using System.Text;
using System.Security;

namespace Retail.Readme.Tests;

/// <summary>
/// Packs every library once per test run into a local feed under a fresh temp folder, with a version no earlier
/// run used (<c>0.1.0-readme-&lt;guid&gt;</c>), so a stale package can never be restored; and, on first use, makes
/// one console app per README C# block that references those packages, restores them together once and
/// builds each. Everything lives outside the repository, so none of its Directory.Build.props,
/// Directory.Packages.props or NuGet settings apply to the apps, and is deleted afterwards.
/// </summary>
public sealed class PackedLibraries : IAsyncLifetime
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _appsLock = new(1, 1);
    private IReadOnlyDictionary<string, ReadmeApp>? _apps;

    /// <summary>The temp folder everything is made in.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "retail-readme-" + Guid.NewGuid().ToString("N"));

    /// <summary>The local feed: the .nupkg and .snupkg files.</summary>
    public string Feed => Path.Combine(Root, "feed");

    /// <summary>This run's package version.</summary>
    public string Version { get; } = "0.1.0-readme-" + Guid.NewGuid().ToString("N");

    /// <summary>The runtime identifier the apps are built for, as the README's Build note says (e.g. linux-x64).</summary>
    public static string RuntimeIdentifier => RuntimeInformation.RuntimeIdentifier;

    internal ProcessResult Pack { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        // Nothing above the temp folder (another Directory.Build.props, a NuGet.Config) may leak into what is made here.
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(Root, file), "<Project />\n");

        string solution = Path.Combine(Root, "libraries.slnx");
        File.WriteAllText(solution, "<Solution>\n" + string.Concat(Repository.Libraries.Select(l => $"  <Project Path=\"{SecurityElement.Escape(l.Path)}\" />\n")) + "</Solution>\n");
        // --no-build: the libraries were built in this configuration with the tests (the test project references them).
        Pack = await Dotnet.RunAsync(Root, StepTimeout, "pack", solution, "-c", Repository.Configuration, "--no-build", "-tl:off", "-nodeReuse:false",
            "-o", Feed, $"-p:Version={Version}", $"-p:NuspecOutputPath={Path.Combine(Root, "nuspec")}/");
        if (!Pack.Succeeded) throw new InvalidOperationException("dotnet pack of the libraries failed:\n" + Pack.Diagnostics());
    }

    public Task DisposeAsync()
    {
        _appsLock.Dispose();
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
        return Task.CompletedTask;
    }

    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public string SymbolsPackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.snupkg");

    /// <summary>The README's C# blocks as built console apps, by snippet name (made, restored and built once).</summary>
    internal async Task<IReadOnlyDictionary<string, ReadmeApp>> ReadmeAppsAsync()
    {
        await _appsLock.WaitAsync();
        try
        {
            return _apps ??= await MakeReadmeAppsAsync();
        }
        finally
        {
            _appsLock.Release();
        }
    }

    private async Task<IReadOnlyDictionary<string, ReadmeApp>> MakeReadmeAppsAsync()
    {
        string appsRoot = Path.Combine(Root, "apps");
        Directory.CreateDirectory(appsRoot);
        File.WriteAllText(Path.Combine(appsRoot, "NuGet.config"), NuGetConfig());

        var snippets = Readme.CSharpSnippets();
        var apps = new List<ReadmeApp>();
        for (int i = 0; i < snippets.Count; i++)
        {
            var snippet = snippets[i];
            string name = $"ReadmeBlock{i + 1}";
            string dir = Path.Combine(appsRoot, name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name + ".csproj"), ConsoleProject(snippet.Packages));
            File.WriteAllText(Path.Combine(dir, "Program.cs"), snippet.Code);
            apps.Add(new ReadmeApp(snippet, dir, Path.Combine(dir, "bin", "Release", "net10.0", RuntimeIdentifier, name + ".dll")));
        }

        // One restore for all of them.
        string solution = Path.Combine(appsRoot, "apps.slnx");
        File.WriteAllText(solution, "<Solution>\n" + string.Concat(apps.Select(a => $"  <Project Path=\"{Path.GetFileName(a.Directory)}/{Path.GetFileName(a.Directory)}.csproj\" />\n")) + "</Solution>\n");
        var restore = await Dotnet.RunAsync(appsRoot, StepTimeout, "restore", solution, "-r", RuntimeIdentifier, "-tl:off", "-nodeReuse:false");

        var built = new Dictionary<string, ReadmeApp>(StringComparer.Ordinal);
        foreach (var app in apps)
        {
            // A failed restore is every app's failure, reported with the restore's own output.
            var build = restore.Succeeded
                ? await Dotnet.RunAsync(app.Directory, StepTimeout, "build", "-c", "Release", "-r", RuntimeIdentifier, "--no-restore", "-tl:off", "-nodeReuse:false")
                : restore;
            built[app.Snippet.Name] = app with { Build = build };
        }
        return built;
    }

    /// <summary>
    /// `dotnet new console`'s project, plus the README's `dotnet add package` lines: the Retail packages at this
    /// run's version, any other package at its latest. Warnings are errors, so README code that warns fails.
    /// </summary>
    private string ConsoleProject(IReadOnlyList<string> packages)
    {
        var text = new StringBuilder();
        text.Append("""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- hermetic: no vulnerability feed decides whether the README compiles -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>

            """);
        foreach (string id in packages.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            string version = Repository.Libraries.Any(l => l.Name.Equals(id, StringComparison.OrdinalIgnoreCase)) ? Version : "*";
            text.Append($"    <PackageReference Include=\"{SecurityElement.Escape(id)}\" Version=\"{version}\" />\n");
        }
        text.Append("  </ItemGroup>\n</Project>\n");
        return text.ToString();
    }

    /// <summary>
    /// The local feed for Retail.* and nuget.org for the rest (source mapping makes it strict). Packages restore
    /// into a folder of this run; the user's own global packages folder is only read, as a fallback, so nothing
    /// from this run is left in it.
    /// </summary>
    private string NuGetConfig()
    {
        string userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string fallback = Directory.Exists(userPackages) ? $"    <add key=\"user\" value=\"{SecurityElement.Escape(userPackages)}\" />\n" : "";
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{SecurityElement.Escape(Path.Combine(Root, "packages"))}" />
              </config>
              <packageSources>
                <clear />
                <add key="retail-local" value="{SecurityElement.Escape(Feed)}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
            {fallback}  </fallbackPackageFolders>
              <packageSourceMapping>
                <packageSource key="retail-local">
                  <package pattern="Retail.*" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>

            """;
    }
}

/// <summary>A README C# block as a console app: where it is, what it builds to, and how its build went.</summary>
internal sealed record ReadmeApp(ReadmeSnippet Snippet, string Directory, string Assembly)
{
    public ProcessResult Build { get; init; } = null!;
}

[CollectionDefinition(Name)]
public sealed class PackedLibrariesCollection : ICollectionFixture<PackedLibraries>
{
    public const string Name = "packed libraries";
}
