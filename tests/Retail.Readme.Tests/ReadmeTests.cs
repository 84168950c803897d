namespace Retail.Readme.Tests;

/// <summary>How the README's blocks are read: which packages and which output belong to a C# block.</summary>
public sealed class ReadmeTests
{
    [Fact]
    public void Parse_SectionWithAddPackageCodeAndText_GivesTheBlockItsHeadingPackagesAndOutput()
    {
        string[] lines =
        [
            "# Title",
            "## Quick start",
            "```bash",
            "# a comment, not a heading",
            "dotnet add package Retail.Core",
            "dotnet add MyApp.csproj package Retail.Hosting --version 1.0.0",
            "```",
            "```csharp",
            "Console.WriteLine(\"hi\");",
            "```",
            "It prints:",
            "```text",
            "hi",
            "```",
            "```csharp",
            "return 0;",
            "```",
            "## Next",
            "```text",
            "not an output",
            "```",
        ];

        var snippets = Readme.Parse(lines);

        Assert.Equal(2, snippets.Count);
        Assert.Equal("Quick start", snippets[0].Name);
        Assert.Equal("Console.WriteLine(\"hi\");\n", snippets[0].Code);
        Assert.Equal(8, snippets[0].Line); // the ```csharp line
        Assert.Equal(["Retail.Core", "Retail.Hosting"], snippets[0].Packages);
        Assert.Equal(["hi"], snippets[0].ExpectedOutput);
        Assert.Equal("Quick start (2)", snippets[1].Name);
        Assert.Null(snippets[1].ExpectedOutput);
    }

    [Fact]
    public void Parse_UnclosedBlock_ThrowsNamingTheLineAndHeading()
    {
        var error = Assert.Throws<FormatException>(() => Readme.Parse(["## Broken", "```csharp", "var x = 1;"]));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("'Broken'", error.Message);
    }

    [Theory]
    [InlineData("… records, … bad rows", "1051 records, 0 bad rows", true)]
    [InlineData("… records, … bad rows", "1051 records, 0 bad rows!", false)]
    [InlineData("lake: …retail-lake-…", "lake: /tmp/x/retail-lake-abc", true)]
    [InlineData("revenue 1.5 (x)", "revenue 1.5 (x)", true)]
    [InlineData("revenue 1.5", "revenue 105", false)]
    [InlineData("delivered 1000 records", "delivered 999 records", false)]
    public void LineMatches_EllipsisInExpectedLine_MatchesAnyTextAndNothingElseIsPattern(string expected, string actual, bool matches)
    {
        Assert.Equal(matches, ReadmeSnippet.LineMatches(expected, actual));
    }
}
