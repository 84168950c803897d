using System.Text;
using System.Text.Json;
using Retail.Core.Tests;

namespace Retail.Cli.Tests;

/// <summary>
/// <c>retail dashboards export</c>: saved-objects NDJSON as the Dashboards import API reads it (one object a line, each
/// with type, id, attributes and references), whose objects reference each other correctly.
/// </summary>
public sealed class DashboardsExportTests
{
    [Fact]
    public async Task Export_Default_IsNdjsonOfThreeObjectsWithUniqueIdsAndEndsInANewline()
    {
        var r = await CliRunner.RunAsync("dashboards", "export");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(r.Stdout.Length > 0 && r.Stdout[^1] == (byte)'\n', "the NDJSON does not end in a newline");
        var objects = Parse(r.Stdout);
        Assert.Equal(["index-pattern", "visualization", "dashboard"], objects.Select(o => o.Type));
        Assert.Equal(objects.Count, objects.Select(o => o.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(objects, o => Assert.False(string.IsNullOrWhiteSpace(o.Id)));
    }

    [Fact]
    public async Task Export_EveryReference_ResolvesToAnExportedObjectOfItsType()
    {
        var objects = Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout);
        var byId = objects.ToDictionary(o => o.Id, StringComparer.Ordinal);

        int references = 0;
        foreach (var o in objects)
            foreach (var reference in o.Json.GetProperty("references").EnumerateArray())
            {
                string id = reference.GetProperty("id").GetString()!;
                Assert.True(byId.TryGetValue(id, out var target), $"{o.Type} {o.Id} references {id}, which is not exported");
                Assert.Equal(reference.GetProperty("type").GetString(), target.Type);
                references++;
            }
        Assert.Equal(2, references);
    }

    [Fact]
    public async Task Export_IndexPattern_HasTheDefaultTitleAndInvoiceDateAsItsTimeField()
    {
        var pattern = Single(Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout), "index-pattern");

        var attributes = pattern.Json.GetProperty("attributes");
        Assert.Equal("retail*", attributes.GetProperty("title").GetString());
        Assert.Equal("InvoiceDate", attributes.GetProperty("timeFieldName").GetString());
    }

    [Fact]
    public async Task Export_Visualization_SumsQuantityPerDateHistogramOfInvoiceDateOverTheIndexPattern()
    {
        var objects = Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout);
        var viz = Single(objects, "visualization");
        var attributes = viz.Json.GetProperty("attributes");

        using var visState = JsonDocument.Parse(attributes.GetProperty("visState").GetString()!);
        var aggs = visState.RootElement.GetProperty("aggs").EnumerateArray().ToList();
        var metric = Assert.Single(aggs, a => a.GetProperty("schema").GetString() == "metric");
        Assert.Equal("sum", metric.GetProperty("type").GetString());
        Assert.Equal("Quantity", metric.GetProperty("params").GetProperty("field").GetString());
        var bucket = Assert.Single(aggs, a => a.GetProperty("schema").GetString() == "segment");
        Assert.Equal("date_histogram", bucket.GetProperty("type").GetString());
        Assert.Equal("InvoiceDate", bucket.GetProperty("params").GetProperty("field").GetString());
        Assert.Equal(2, aggs.Count);

        // The search source names its index through a reference, which points at the exported index pattern.
        using var source = JsonDocument.Parse(attributes.GetProperty("kibanaSavedObjectMeta").GetProperty("searchSourceJSON").GetString()!);
        string refName = source.RootElement.GetProperty("indexRefName").GetString()!;
        var reference = Assert.Single(viz.Json.GetProperty("references").EnumerateArray(), x => x.GetProperty("name").GetString() == refName);
        Assert.Equal("index-pattern", reference.GetProperty("type").GetString());
        Assert.Equal(Single(objects, "index-pattern").Id, reference.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Export_Dashboard_ItsPanelReferencesTheVisualization()
    {
        var objects = Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout);
        var dashboard = Single(objects, "dashboard");

        using var panels = JsonDocument.Parse(dashboard.Json.GetProperty("attributes").GetProperty("panelsJSON").GetString()!);
        var panel = Assert.Single(panels.RootElement.EnumerateArray());
        string refName = panel.GetProperty("panelRefName").GetString()!;
        var reference = Assert.Single(dashboard.Json.GetProperty("references").EnumerateArray(), x => x.GetProperty("name").GetString() == refName);
        Assert.Equal("visualization", reference.GetProperty("type").GetString());
        Assert.Equal(Single(objects, "visualization").Id, reference.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Export_TimeRange_DefaultsToTodayAndTimeFromShowsReplayedYears()
    {
        var today = Single(Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout), "dashboard").Json.GetProperty("attributes");
        Assert.Equal(("now/d", "now/d", true), (today.GetProperty("timeFrom").GetString(), today.GetProperty("timeTo").GetString(), today.GetProperty("timeRestore").GetBoolean()));

        var replay = Single(Parse((await CliRunner.RunAsync("dashboards", "export", "--time-from", "2009-12-01", "--time-to", "now")).Stdout), "dashboard").Json.GetProperty("attributes");
        Assert.Equal(("2009-12-01", "now"), (replay.GetProperty("timeFrom").GetString(), replay.GetProperty("timeTo").GetString()));
    }

    [Fact]
    public async Task Export_TwoRuns_WriteTheSameBytes_SoAReimportOverwrites()
    {
        var first = await CliRunner.RunAsync("dashboards", "export");
        var second = await CliRunner.RunAsync("dashboards", "export");

        Assert.Equal(first.Stdout, second.Stdout);
    }

    [Fact]
    public async Task Export_IndexPattern_ChangesTheTitleAndTheIds()
    {
        var defaults = Parse((await CliRunner.RunAsync("dashboards", "export")).Stdout);
        var r = await CliRunner.RunAsync("dashboards", "export", "--index-pattern", "retail-2026*");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var objects = Parse(r.Stdout);
        Assert.Equal("retail-2026*", Single(objects, "index-pattern").Json.GetProperty("attributes").GetProperty("title").GetString());
        Assert.Empty(objects.Select(o => o.Id).Intersect(defaults.Select(o => o.Id), StringComparer.Ordinal));
    }

    [Fact]
    public async Task Export_Output_WritesTheFileAndNothingToStdout()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "retail-dashboards.ndjson");

        var r = await CliRunner.RunAsync("dashboards", "export", "--output", file);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Empty(r.Stdout);
        Assert.Equal((await CliRunner.RunAsync("dashboards", "export")).Stdout, await File.ReadAllBytesAsync(file));
        Assert.Equal([Path.GetFileName(file)], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_OutputInAMissingFolder_IsOneErrorLineNamingOutput()
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "no-such-folder", "x.ndjson");

        var r = await CliRunner.RunAsync("dashboards", "export", "--output", file);

        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("[ERROR] --output ", line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public async Task Export_OutputIsAFolder_IsOneErrorLineNamingOutput()
    {
        using var dir = new TempDir();

        var r = await CliRunner.RunAsync("dashboards", "export", "--output", dir.Path);

        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--output", line, StringComparison.Ordinal);
        Assert.Contains("is a folder", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("retail data*")]
    [InlineData("_retail")]
    public async Task Export_BadIndexPattern_IsAUsageErrorNamingTheFlag(string pattern)
    {
        var r = await CliRunner.RunAsync("dashboards", "export", "--index-pattern", pattern);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--index-pattern", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(r.Stdout);
    }

    private sealed record SavedObject(string Type, string Id, JsonElement Json);

    /// <summary>Each line parsed on its own, as the import API reads the file.</summary>
    private static List<SavedObject> Parse(byte[] ndjson)
    {
        var lines = Encoding.UTF8.GetString(ndjson).Split('\n');
        Assert.Equal("", lines[^1]);
        var objects = new List<SavedObject>();
        foreach (string line in lines[..^1])
        {
            Assert.False(string.IsNullOrWhiteSpace(line), "an empty line in the NDJSON");
            using var document = JsonDocument.Parse(line);
            var json = document.RootElement.Clone();
            Assert.Equal(JsonValueKind.Object, json.GetProperty("attributes").ValueKind);
            Assert.Equal(JsonValueKind.Array, json.GetProperty("references").ValueKind);
            objects.Add(new SavedObject(json.GetProperty("type").GetString()!, json.GetProperty("id").GetString()!, json));
        }
        return objects;
    }

    private static SavedObject Single(List<SavedObject> objects, string type) => Assert.Single(objects, o => o.Type == type);
}
