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
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Constructor_InvalidProp_ThrowsNamingThePropBeforeCreatingAnything(string assignment, string expected)
    {
        var props = new RetailPipelineProps();
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
            default: throw new ArgumentOutOfRangeException(nameof(assignment), assignment, null);
        }
        Assert.Contains(props.Validate(), e => e.Contains(expected, StringComparison.Ordinal));

        var stack = new Stack(cdk.NewApp([]), "Invalid");
        var e = Assert.Throws<ArgumentException>(() => new RetailPipeline(stack, "Retail", props));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Empty(stack.Node.Children);
    }

    [Fact]
    public void Constructor_AlarmTopic_EveryAlarmNotifiesIt()
    {
        var app = cdk.NewApp([]);
        var stack = new Stack(app, "WithTopic");
        var topic = new Amazon.CDK.AWS.SNS.Topic(stack, "Topic");
        _ = new RetailPipeline(stack, "Retail", new RetailPipelineProps { AlarmTopic = topic });
        var template = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(app.Synth().GetStackByName(stack.StackName).TemplateFullPath))!;
        var alarms = template["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == "AWS::CloudWatch::Alarm").ToArray();
        Assert.Equal(2, alarms.Length);
        var (topicId, _) = Assert.Single(template["Resources"]!.AsObject(), r => (string?)r.Value!["Type"] == "AWS::SNS::Topic");
        Assert.All(alarms, a => Assert.Equal(topicId, (string?)a.Value!["Properties"]!["AlarmActions"]![0]!["Ref"]));
    }

    [Fact]
    public void Validate_Defaults_NoErrors() => Assert.Empty(new RetailPipelineProps().Validate());

    [Theory]
    [InlineData("shards", "4x", "context 'shards' ('4x') must be a whole number from 1 to 10000 (RetailPipelineProps.ShardCount)")]
    [InlineData("shards", "0", "context 'shards' ('0')")]
    [InlineData("engine", "spark", "context 'engine' ('spark') must be 'parquet' or 'athena'")]
    [InlineData("delivery", "lambda", "context 'delivery' ('lambda')")]
    [InlineData("errorRetentionDays", "-1", "context 'errorRetentionDays' ('-1')")]
    public void Build_BadContext_ThrowsNamingTheKey(string key, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RetailPipelineApp.Build(cdk.NewApp([new(key, value)])));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
