using Amazon.CDK;
using Retail.Hosting.Cdk.App;

namespace Retail.Hosting.Cdk.Tests;

[Collection(CdkCollection.Name)]
public sealed class RetailPipelinePropsTests(CdkFixture cdk)
{
    public static TheoryData<string, string> Invalid => new()
    {
        { "ShardCount=0", "RetailPipelineProps.ShardCount 0" },
        { "ShardCount=10001", "RetailPipelineProps.ShardCount 10001" },
        { "StreamName=bad name", "RetailPipelineProps.StreamName 'bad name'" },
        { "DeliveryStreamName=" + new string('d', 65), "RetailPipelineProps.DeliveryStreamName" },
        { "StreamRetentionHours=23", "RetailPipelineProps.StreamRetentionHours 23" },
        { "BufferSizeMiB=129", "RetailPipelineProps.BufferSizeMiB 129" },
        { "BufferIntervalSeconds=901", "RetailPipelineProps.BufferIntervalSeconds 901" },
        { "ErrorRetentionDays=0", "RetailPipelineProps.ErrorRetentionDays 0" },
        { "AthenaResultsRetentionDays=0", "RetailPipelineProps.AthenaResultsRetentionDays 0" },
        { "WorkGroupName=", "RetailPipelineProps.WorkGroupName ''" },
        { "DatabaseName=my-db", "RetailPipelineProps.DatabaseName 'my-db'" },
        { "AthenaResultsPrefix=results", "RetailPipelineProps.AthenaResultsPrefix 'results'" },
        { "AthenaResultsPrefix=json-data/athena/", "RetailPipelineProps.AthenaResultsPrefix 'json-data/athena/' and RetailPipelineProps.Lake.JsonPrefix" },
        { "ProjectionFirstYear=2100", "RetailPipelineProps.ProjectionFirstYear" },
        { "IteratorAgeAlarm=00:00:30", "RetailPipelineProps.IteratorAgeAlarm 00:00:30" },
        { "Lake.JsonPrefix=json", "RetailPipelineProps.Lake.JsonPrefix" },
        { "Lake.ParquetTableName=retail_trans_json", "RetailPipelineProps.Lake.JsonTableName" },
        { "RetryAttempts=10001", "RetailPipelineProps.RetryAttempts 10001" },
        { "UpsertBatchSize=0", "RetailPipelineProps.UpsertBatchSize 0" },
        { "UpsertParallelizationFactor=11", "RetailPipelineProps.UpsertParallelizationFactor 11" },
        { "DeliveryBatchSize=10001", "RetailPipelineProps.DeliveryBatchSize 10001" },
        { "DeliveryBatchingWindowSeconds=301", "RetailPipelineProps.DeliveryBatchingWindowSeconds 301" },
        { "CompactionReservedConcurrency=0", "RetailPipelineProps.CompactionReservedConcurrency 0 is not null (unreserved) or from 1 to 1000" },
        { "SearchDomainName=Retail", "RetailPipelineProps.SearchDomainName 'Retail'" },
        { "SearchEngineVersion=Elasticsearch_7.10", "RetailPipelineProps.SearchEngineVersion 'Elasticsearch_7.10'" },
        { "SearchInstanceType=t3.medium", "RetailPipelineProps.SearchInstanceType 't3.medium'" },
        { "SearchInstanceCount=3", "RetailPipelineProps.SearchInstanceCount 3" },
        { "SearchVolumeGiB=5", "RetailPipelineProps.SearchVolumeGiB 5" },
        { "SearchIndex=Retail", "RetailPipelineProps.SearchIndex 'Retail'" },
        { "SearchMasterUserArn=admin", "RetailPipelineProps.SearchMasterUserArn 'admin'" },
        { "SearchNetwork=PublicEndpoint", "RetailPipelineProps.SearchAllowedCidrs is empty" },
        { "PublicCidr=0.0.0.0/0", "RetailPipelineProps.SearchAllowedCidrs '0.0.0.0/0' is the whole internet" },
        { "PublicCidr=10.0.0.1/8", "RetailPipelineProps.SearchAllowedCidrs '10.0.0.1/8' is not a CIDR range" },
        { "VpcCidr=10.0.0.0/8", "RetailPipelineProps.SearchAllowedCidrs is set but RetailPipelineProps.SearchNetwork is Vpc" },
        { "LambdaZipPath=/nonexistent/retail-lambda.zip", "RetailPipelineProps.LambdaZipPath '/nonexistent/retail-lambda.zip' does not exist: run `dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64`" },
        { "LambdaZipPath=bootstrap", "RetailPipelineProps.LambdaZipPath 'bootstrap' is not a .zip" },
        { "LambdaZipPath=no-bootstrap.zip", "has no bootstrap at its root" },
        { "LambdaZipPath=not-executable.zip", "holds a bootstrap that is not executable" },
        { "LambdaCode=also", "RetailPipelineProps.LambdaZipPath and RetailPipelineProps.LambdaCode are both set" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Constructor_InvalidProp_ThrowsNamingThePropBeforeCreatingAnything(string assignment, string expected)
    {
        var props = new RetailPipelineProps { LambdaZipPath = cdk.LambdaZip };
        var (name, value) = (assignment[..assignment.IndexOf('=')], assignment[(assignment.IndexOf('=') + 1)..]);
        switch (name)
        {
            case "ShardCount": props.ShardCount = int.Parse(value); break;
            case "StreamName": props.StreamName = value; break;
            case "DeliveryStreamName": props.DeliveryStreamName = value; break;
            case "StreamRetentionHours": props.StreamRetentionHours = int.Parse(value); break;
            case "BufferSizeMiB": props.BufferSizeMiB = int.Parse(value); break;
            case "BufferIntervalSeconds": props.BufferIntervalSeconds = int.Parse(value); break;
            case "ErrorRetentionDays": props.ErrorRetentionDays = int.Parse(value); break;
            case "AthenaResultsRetentionDays": props.AthenaResultsRetentionDays = int.Parse(value); break;
            case "WorkGroupName": props.WorkGroupName = value; break;
            case "DatabaseName": props.DatabaseName = value; break;
            case "AthenaResultsPrefix": props.AthenaResultsPrefix = value; break;
            case "ProjectionFirstYear": props.ProjectionFirstYear = int.Parse(value); break;
            case "IteratorAgeAlarm": props.IteratorAgeAlarm = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "Lake.JsonPrefix": props.Lake.JsonPrefix = value; break;
            case "Lake.ParquetTableName": props.Lake.ParquetTableName = value; break;
            case "RetryAttempts": props.RetryAttempts = int.Parse(value); break;
            case "UpsertBatchSize": props.UpsertBatchSize = int.Parse(value); break;
            case "UpsertParallelizationFactor": props.UpsertParallelizationFactor = int.Parse(value); break;
            case "DeliveryBatchSize": props.DeliveryBatchSize = int.Parse(value); break;
            case "DeliveryBatchingWindowSeconds": props.DeliveryBatchingWindowSeconds = int.Parse(value); break;
            case "CompactionReservedConcurrency": props.CompactionReservedConcurrency = int.Parse(value); break;
            case "SearchDomainName": props.SearchDomainName = value; break;
            case "SearchEngineVersion": props.SearchEngineVersion = value; break;
            case "SearchInstanceType": props.SearchInstanceType = value; break;
            case "SearchInstanceCount": props.SearchInstanceCount = int.Parse(value); break;
            case "SearchVolumeGiB": props.SearchVolumeGiB = int.Parse(value); break;
            case "SearchIndex": props.SearchIndex = value; break;
            case "SearchMasterUserArn": props.SearchMasterUserArn = value; break;
            case "SearchNetwork": props.SearchNetwork = Enum.Parse<RetailSearchNetwork>(value); break;
            case "PublicCidr": props.SearchNetwork = RetailSearchNetwork.PublicEndpoint; props.SearchAllowedCidrs = [value]; break;
            case "VpcCidr": props.SearchAllowedCidrs = [value]; break;
            case "LambdaZipPath": props.LambdaZipPath = value.Contains('/', StringComparison.Ordinal) || value == "bootstrap" ? value : Zip(value); break;
            case "LambdaCode": props.LambdaCode = Amazon.CDK.AWS.Lambda.Code.FromInline("x"); break;
            default: throw new ArgumentOutOfRangeException(nameof(assignment), assignment, null);
        }
        Assert.Contains(props.Validate(), e => e.Contains(expected, StringComparison.Ordinal));

        var stack = new Stack(cdk.NewApp([]), "Invalid");
        var e = Assert.Throws<ArgumentException>(() => new RetailPipeline(stack, "Retail", props));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Empty(stack.Node.Children);
    }

    /// <summary>A zip beside the test's output: no-bootstrap.zip holds only a README; not-executable.zip a bootstrap with mode 0644.</summary>
    private static string Zip(string name)
    {
        string path = Path.Combine(Path.GetTempPath(), $"retail-cdk-{Guid.NewGuid():N}-{name}");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        {
            var entry = zip.CreateEntry(name == "no-bootstrap.zip" ? "README" : "bootstrap");
            entry.ExternalAttributes = 0b110_100_100 << 16;
            using var w = new StreamWriter(entry.Open());
            w.Write("#!/bin/sh\n");
        }
        return path;
    }

    [Fact]
    public void Constructor_AlarmTopic_EveryAlarmNotifiesIt()
    {
        var app = cdk.NewApp([]);
        var stack = new Stack(app, "WithTopic");
        var topic = new Amazon.CDK.AWS.SNS.Topic(stack, "Topic");
        _ = new RetailPipeline(stack, "Retail", new RetailPipelineProps { AlarmTopic = topic, LambdaZipPath = cdk.LambdaZip });
        var template = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(app.Synth().GetStackByName(stack.StackName).TemplateFullPath))!;
        var alarms = template["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == "AWS::CloudWatch::Alarm").ToArray();
        // The stream's iterator age, Firehose's freshness; UpsertToES's errors, iterator age and failure queue; MergeSmallFiles's errors and queue.
        Assert.Equal(7, alarms.Length);
        var (topicId, _) = Assert.Single(template["Resources"]!.AsObject(), r => (string?)r.Value!["Type"] == "AWS::SNS::Topic");
        Assert.All(alarms, a => Assert.Equal(topicId, (string?)a.Value!["Properties"]!["AlarmActions"]![0]!["Ref"]));
    }

    [Fact]
    public void Validate_DefaultsWithTheZip_NoErrors() => Assert.Empty(new RetailPipelineProps { LambdaZipPath = cdk.LambdaZip }.Validate());

    [Fact]
    public void Validate_DefaultsWithoutCode_OneErrorNamingThePublishCommand()
    {
        var error = Assert.Single(new RetailPipelineProps().Validate());
        Assert.Contains("RetailPipelineProps.LambdaZipPath and RetailPipelineProps.LambdaCode are both unset", error, StringComparison.Ordinal);
        Assert.Contains("dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("shards", "4x", "context 'shards' ('4x') must be a whole number from 1 to 10000 (RetailPipelineProps.ShardCount)")]
    [InlineData("shards", "0", "context 'shards' ('0')")]
    [InlineData("engine", "spark", "context 'engine' ('spark') must be 'parquet' or 'athena'")]
    [InlineData("delivery", "kinesis", "context 'delivery' ('kinesis') must be 'firehose' or 'lambda' (RetailPipelineProps.Delivery)")]
    [InlineData("search", "open", "context 'search' ('open') must be 'vpc' or 'public'")]
    [InlineData("startingPosition", "AT_TIMESTAMP", "context 'startingPosition' ('AT_TIMESTAMP')")]
    [InlineData("searchInstances", "x", "context 'searchInstances' ('x')")]
    [InlineData("compactionConcurrency", "0", "context 'compactionConcurrency' ('0')")]
    [InlineData("lambdaZip", "missing.zip", "RetailPipelineProps.LambdaZipPath '")]
    [InlineData("errorRetentionDays", "-1", "context 'errorRetentionDays' ('-1')")]
    public void Build_BadContext_ThrowsNamingTheKey(string key, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RetailPipelineApp.Build(cdk.NewApp([new(key, value)])));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
