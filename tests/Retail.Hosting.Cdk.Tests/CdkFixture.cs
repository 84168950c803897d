using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Retail.Hosting.Cdk.App;

namespace Retail.Hosting.Cdk.Tests;

[CollectionDefinition(Name)]
public sealed class CdkCollection : ICollectionFixture<CdkFixture>
{
    public const string Name = "cdk";
}

/// <summary>One synthesized stack: the template as JSON (checked in .NET) and as an Assertions <see cref="Template"/>.</summary>
public sealed record Synth(Stack Stack, JsonObject Json, Template Template)
{
    public JsonObject Resources => Json["Resources"]!.AsObject();

    public IEnumerable<(string Id, JsonObject Properties)> OfType(string type) =>
        Resources.Where(r => (string?)r.Value!["Type"] == type).Select(r => (r.Key, r.Value!["Properties"]?.AsObject() ?? []));

    public (string Id, JsonObject Properties) Single(string type) => Assert.Single(OfType(type));
}

/// <summary>
/// Synthesizes each variant of the app once, lazily, through the app's own code path (<see cref="RetailPipelineApp.Build"/>)
/// with cdk.json's context. jsii's one Node.js kernel is not thread-safe: every test is in one serial collection.
/// </summary>
public sealed class CdkFixture : IDisposable
{
    private readonly List<string> _outdirs = [];
    private readonly Lazy<Synth> _default, _provisionedAthena, _lambda;
    private readonly Lazy<string> _zip = new(LambdaZipLocator.Locate);

    public CdkFixture()
    {
        _default = new(() => Synthesize([]));
        _provisionedAthena = new(() => Synthesize([new("shards", "4"), new("engine", "athena"), new("search", "public"),
            new("allowedCidrs", "203.0.113.0/24, 2001:db8::/32"), new("searchMasterUserArn", "arn:aws:iam::123456789012:role/search-admin"),
            new("searchInstances", "2"), new("compactionConcurrency", "none")]));
        _lambda = new(() => Synthesize([new("delivery", "lambda")]));
    }

    /// <summary>The Lambda host's zip, from its documented publish.</summary>
    public string LambdaZip => _zip.Value;

    /// <summary>cdk.json's context: firehose, ON_DEMAND, parquet, OpenSearch in a new VPC.</summary>
    public Synth Default => _default.Value;

    /// <summary><c>-c shards=4 -c engine=athena -c search=public -c allowedCidrs=… -c searchMasterUserArn=… -c searchInstances=2 -c compactionConcurrency=none</c>.</summary>
    public Synth ProvisionedAthena => _provisionedAthena.Value;

    /// <summary>cdk.json's context with <c>-c delivery=lambda</c>.</summary>
    public Synth Lambda => _lambda.Value;

    /// <summary>Every variant.</summary>
    public IEnumerable<Synth> All => [Default, ProvisionedAthena, Lambda];

    /// <summary>cdk.json's context entries (values as the CLI would pass them).</summary>
    public static Dictionary<string, object> CdkJsonContext()
    {
        var cdkJson = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "cdk.json")))!;
        return cdkJson["context"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => (object)p.Value!.ToString(),
        });
    }

    /// <summary>A fresh app with cdk.json's context plus <paramref name="overrides"/>, writing to a temporary folder.</summary>
    public Amazon.CDK.App NewApp(IEnumerable<KeyValuePair<string, object>> overrides)
    {
        var outdir = Directory.CreateTempSubdirectory("retail-cdk-").FullName;
        _outdirs.Add(outdir);
        var context = CdkJsonContext();
        context["lambdaZip"] = LambdaZip;
        foreach (var (k, v) in overrides) context[k] = v;
        context["aws:cdk:enable-path-metadata"] = false;
        context["aws:cdk:enable-asset-metadata"] = false;
        return new Amazon.CDK.App(new AppProps { Outdir = outdir, Context = context, AnalyticsReporting = false, StackTraces = false });
    }

    private Synth Synthesize(IEnumerable<KeyValuePair<string, object>> overrides)
    {
        var app = NewApp(overrides);
        var stack = RetailPipelineApp.Build(app);
        var assembly = app.Synth();
        Assert.Empty(assembly.Manifest.Missing ?? []);   // no context lookups: no account, credentials or network
        var json = JsonNode.Parse(File.ReadAllText(assembly.GetStackByName(stack.StackName).TemplateFullPath))!.AsObject();
        return new Synth(stack, json, Template.FromStack(stack));
    }

    public void Dispose()
    {
        foreach (var d in _outdirs)
            try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
