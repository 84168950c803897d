using System.Text.RegularExpressions;

namespace Retail.Readme.Tests;

/// <summary>
/// A ```csharp block of README.md as a user would paste it: its code, the heading it sits under, the packages the
/// README tells the user to add before it, and the output the README says it prints.
/// </summary>
/// <param name="Name">The heading it comes from ("Quick start (no dependency injection)"), with " (2)", " (3)", … for a second block under one heading.</param>
/// <param name="Code">The block, exactly as written.</param>
/// <param name="Line">Line of README.md (from 1) of the block's opening ```csharp.</param>
/// <param name="Packages">The ids of the <c>dotnet add package</c> lines between the heading and the block.</param>
/// <param name="ExpectedOutput">The lines of the ```text block that follows the block (before the next heading or C# block), or null when there is none.</param>
internal sealed record ReadmeSnippet(string Name, string Code, int Line, IReadOnlyList<string> Packages, IReadOnlyList<string>? ExpectedOutput)
{
    /// <summary>In an expected line, "…" stands for any text (a count that depends on the user's file, a temp path).</summary>
    public const string AnyText = "…";

    public static bool LineMatches(string expected, string actual)
    {
        string pattern = "^" + string.Join(".*", expected.Split(AnyText).Select(Regex.Escape)) + "$";
        return Regex.IsMatch(actual, pattern, RegexOptions.CultureInvariant);
    }
}

/// <summary>Reads README.md's fenced blocks.</summary>
internal static partial class Readme
{
    public static IReadOnlyList<ReadmeSnippet> CSharpSnippets() => Parse(File.ReadAllLines(Repository.ReadmePath));

    /// <summary>The snippets' names, as xunit theory data.</summary>
    public static TheoryData<string> SnippetNames()
    {
        var data = new TheoryData<string>();
        foreach (var snippet in CSharpSnippets()) data.Add(snippet.Name);
        return data;
    }

    internal static List<ReadmeSnippet> Parse(IReadOnlyList<string> lines)
    {
        var snippets = new List<ReadmeSnippet>();
        var perHeading = new Dictionary<string, int>(StringComparer.Ordinal);
        string heading = "(before the first heading)";
        var packages = new List<string>();
        ReadmeSnippet? awaitingOutput = null;

        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i];
            if (HeadingPattern().Match(line) is { Success: true } h)
            {
                heading = h.Groups[1].Value.Trim();
                packages.Clear();
                awaitingOutput = null;
                continue;
            }
            if (!line.StartsWith("```", StringComparison.Ordinal)) continue;

            string info = line[3..].Trim();
            int start = i + 1;
            int end = start;
            while (end < lines.Count && !lines[end].StartsWith("```", StringComparison.Ordinal)) end++;
            if (end == lines.Count) throw new FormatException($"README.md line {i + 1}: the ``` block under '{heading}' is never closed");
            var body = lines.Skip(start).Take(end - start).ToList();
            i = end;

            if (info.Equals("csharp", StringComparison.OrdinalIgnoreCase) || info.Equals("cs", StringComparison.OrdinalIgnoreCase) || info.Equals("c#", StringComparison.OrdinalIgnoreCase))
            {
                int n = perHeading[heading] = perHeading.GetValueOrDefault(heading) + 1;
                awaitingOutput = new ReadmeSnippet(n == 1 ? heading : $"{heading} ({n})", string.Join('\n', body) + "\n", start, packages.ToList(), null);
                snippets.Add(awaitingOutput);
            }
            else if (info.Equals("text", StringComparison.OrdinalIgnoreCase) && awaitingOutput is not null)
            {
                snippets[^1] = awaitingOutput with { ExpectedOutput = body };
                awaitingOutput = null;
            }
            else
            {
                foreach (string command in body)
                {
                    if (AddPackagePattern().Match(command) is { Success: true } p) packages.Add(p.Groups[1].Value);
                }
            }
        }
        return snippets;
    }

    [GeneratedRegex(@"^#{1,6}\s+(.+)$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"^\s*dotnet add (?:\S+\s+)?package\s+([A-Za-z0-9_.\-]+)")]
    private static partial Regex AddPackagePattern();
}
