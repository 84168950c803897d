using System.Reflection;
using System.Xml.Linq;

namespace Retail.Readme.Tests;

/// <summary>The repository these tests run from: its root, README, library projects and shared sample data.</summary>
internal static class Repository
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder that holds Retail.sln.</summary>
    public static string Root => LazyRoot.Value;

    public static string ReadmePath => Path.Combine(Root, "README.md");

    /// <summary>The configuration the tests (and so the libraries they reference) were built in.</summary>
    public static string Configuration =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value
        ?? throw new InvalidOperationException("the test assembly does not say its build configuration");

    /// <summary>
    /// The packable libraries: every project under src/ that is not an application (Directory.Build.props
    /// makes those packable; the console host is an Exe). Folder name = csproj name = package id.
    /// </summary>
    public static IReadOnlyList<LibraryProject> Libraries { get; } = FindLibraries();

    /// <summary>The repository URL declared once in Directory.Build.props.</summary>
    public static string RepositoryUrl
    {
        get
        {
            var props = XDocument.Load(Path.Combine(Root, "Directory.Build.props"));
            string? url = props.Descendants("RepositoryUrl").Select(e => e.Value.Trim()).FirstOrDefault();
            return string.IsNullOrEmpty(url) ? throw new InvalidOperationException("Directory.Build.props declares no RepositoryUrl") : url;
        }
    }

    /// <summary>The license expression declared in Directory.Build.props.</summary>
    public static string LicenseExpression =>
        XDocument.Load(Path.Combine(Root, "Directory.Build.props")).Descendants("PackageLicenseExpression").Select(e => e.Value.Trim()).FirstOrDefault()
        ?? throw new InvalidOperationException("Directory.Build.props declares no PackageLicenseExpression");

    /// <summary>The commit checked out (what the packages were built from).</summary>
    public static async Task<string> HeadCommitAsync()
    {
        var git = await Dotnet.RunProcessAsync("git", ["rev-parse", "HEAD"], Root, TimeSpan.FromMinutes(1), environment: null);
        return git.Succeeded ? git.Stdout.Trim() : throw new InvalidOperationException("git rev-parse HEAD failed:\n" + git.Output);
    }

    /// <summary>A file of ../shared/data (beside the repository), found above the test binaries.</summary>
    public static string SharedData(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{fileName} not found above {AppContext.BaseDirectory}");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"Retail.sln not found above {AppContext.BaseDirectory}");
    }

    private static List<LibraryProject> FindLibraries()
    {
        var libraries = new List<LibraryProject>();
        foreach (string csproj in Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            // The CDK app's node_modules (its locked CLI) holds C# init templates, not Retail projects.
            if (csproj.Replace('\\', '/').Contains("/node_modules/", StringComparison.Ordinal)) continue;
            var project = XDocument.Load(csproj);
            if (project.Descendants("OutputType").Any(e => e.Value.Trim().Equals("Exe", StringComparison.OrdinalIgnoreCase))) continue;
            string description = project.Descendants("Description").Select(e => e.Value.Trim()).FirstOrDefault() ?? "";
            libraries.Add(new LibraryProject(Path.GetFileNameWithoutExtension(csproj), csproj, description));
        }
        return libraries;
    }
}

/// <summary>A library project of src/.</summary>
/// <param name="Name">The csproj's name, which is also the package id.</param>
/// <param name="Path">The csproj.</param>
/// <param name="Description">Its Description property, as written in the csproj.</param>
internal sealed record LibraryProject(string Name, string Path, string Description)
{
    public string FolderName => System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(Path)!);
}
