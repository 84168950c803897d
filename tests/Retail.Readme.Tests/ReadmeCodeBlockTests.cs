using System.Text;

namespace Retail.Readme.Tests;

/// <summary>
/// Every ```csharp block of README.md, pasted as Program.cs into a new console app that references the packed
/// packages the README tells the user to add, must build, run, exit 0 and print what the README says it prints
/// (the ```text block after it; "…" there stands for any text).
/// </summary>
[Collection(PackedLibrariesCollection.Name)]
public sealed class ReadmeCodeBlockTests(PackedLibraries packed)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The README's C# blocks, named by the heading they come from.</summary>
    public static TheoryData<string> Snippets => Readme.SnippetNames();

    [Fact]
    public void Readme_QuickStarts_AreAmongTheCSharpBlocks()
    {
        // Without this, a parser that found no block would leave the theory below with nothing to fail.
        var names = Readme.CSharpSnippets().Select(s => s.Name).ToList();
        Assert.Contains("Quick start (no dependency injection)", names);
        Assert.Contains("Quick start with dependency injection", names);
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public async Task CSharpBlock_PastedIntoNewConsoleApp_BuildsRunsAndPrintsWhatTheReadmeSays(string heading)
    {
        var app = (await packed.ReadmeAppsAsync())[heading];
        var snippet = app.Snippet;
        string where = $"README.md's C# block under '{heading}' (line {snippet.Line})";
        Assert.True(snippet.Packages.Count > 0, $"{where}: no `dotnet add package` line comes before it under its heading, so a user cannot know which packages it needs.");
        Assert.True(snippet.ExpectedOutput is not null, $"{where}: no ```text block after it says what it prints.");
        Assert.True(app.Build.Succeeded,
            $"{where} does not build as pasted into a new console app with {string.Join(", ", snippet.Packages)} ({packed.Version}):\n{app.Build.Diagnostics()}");

        string runDirectory = Path.Combine(app.Directory, "run");
        string temp = Path.Combine(runDirectory, "tmp");
        Directory.CreateDirectory(temp);
        if (snippet.Code.Contains("online_retail_II.csv", StringComparison.Ordinal))
            File.Copy(Repository.SharedData("online_retail_II_dev_sample.csv"), Path.Combine(runDirectory, "online_retail_II.csv"));
        // TMPDIR: a block that makes itself a temp folder makes it here, and it is deleted with the rest.
        var run = await Dotnet.RunProcessAsync(Dotnet.HostPath, [app.Assembly], runDirectory, RunTimeout, new Dictionary<string, string> { ["TMPDIR"] = temp + "/" });

        Assert.True(run.ExitCode == 0, $"{where} exited with {run.ExitCode}.\nstdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
        string? mismatch = CompareOutput(snippet.ExpectedOutput!, run.Stdout.Split('\n')[..^1]);
        Assert.True(mismatch is null, $"{where} does not print what the README says: {mismatch}\nexpected (README):\n{string.Join('\n', snippet.ExpectedOutput!)}\nactual stdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
    }

    [Fact]
    public async Task ConsoleApp_BuiltForOneRuntimeIdentifier_CopiesOnlyThatPlatformsDuckDbLibrary()
    {
        // The README's Build note: with -r <rid> the app gets DuckDB's native library for that platform only.
        var app = (await packed.ReadmeAppsAsync()).Values.FirstOrDefault(a => a.Snippet.Packages.Contains("Retail.Sinks.DuckDb"));
        Assert.True(app is not null, "no README C# block uses Retail.Sinks.DuckDb");
        Assert.True(app.Build.Succeeded, app.Build.Diagnostics());
        string output = Path.GetDirectoryName(app.Assembly)!;
        string native = OperatingSystem.IsWindows() ? "duckdb.dll" : OperatingSystem.IsMacOS() ? "libduckdb.dylib" : "libduckdb.so";
        Assert.True(File.Exists(Path.Combine(output, native)), $"{native} is not in {output}");
        Assert.False(Directory.Exists(Path.Combine(output, "runtimes")), $"{output} has a runtimes/ folder: other platforms' native libraries were copied");
    }

    /// <summary>Null when the lines match one for one ("…" matching any text), else what differs first.</summary>
    private static string? CompareOutput(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (int i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            if (i >= actual.Count) return $"output ends before line {i + 1}, \"{expected[i]}\"";
            string line = actual[i].TrimEnd('\r');
            if (i >= expected.Count) return $"line {i + 1}, \"{line}\", is more than the README shows";
            if (!ReadmeSnippet.LineMatches(expected[i], line)) return $"line {i + 1} is \"{line}\", the README says \"{expected[i]}\"";
        }
        return null;
    }
}
