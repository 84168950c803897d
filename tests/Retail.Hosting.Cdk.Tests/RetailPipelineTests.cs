using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.CDK.Assertions;
using Match = Amazon.CDK.Assertions.Match;
using Retail.Sinks.Athena;
using Retail.Storage;

namespace Retail.Hosting.Cdk.Tests;

[Collection(CdkCollection.Name)]
public sealed partial class RetailPipelineTests(CdkFixture cdk)
{
    [Fact]
    public void Stream_Default_OnDemandRetail_TransKmsManaged()
    {
        var (_, p) = cdk.Default.Single("AWS::Kinesis::Stream");
        Assert.Equal("retail-trans", (string?)p["Name"]);
        Assert.Equal("ON_DEMAND", (string?)p["StreamModeDetails"]!["StreamMode"]);
        Assert.Null(p["ShardCount"]);
        Assert.Equal(24, (int?)p["RetentionPeriodHours"]);
        Assert.Equal("KMS", (string?)p["StreamEncryption"]!["EncryptionType"]);
        Assert.Equal("alias/aws/kinesis", (string?)p["StreamEncryption"]!["KeyId"]);
        // Deleted with the stack: a kept stream bills on and blocks the next deploy of the same name.
        Assert.Equal("Delete", (string?)cdk.Default.Resources[cdk.Default.Single("AWS::Kinesis::Stream").Id]!["DeletionPolicy"]);
    }

    [Fact]
    public void Stream_ShardsContext_ProvisionedWithThatShardCount()
    {
        var (_, p) = cdk.ProvisionedAthena.Single("AWS::Kinesis::Stream");
        Assert.Equal("PROVISIONED", (string?)p["StreamModeDetails"]!["StreamMode"]);
        Assert.Equal(4, (int?)p["ShardCount"]);
        Assert.Equal("KMS", (string?)p["StreamEncryption"]!["EncryptionType"]);
    }

    [Fact]
    public void Bucket_Default_EncryptedPrivateTlsOnlyWithLifecycleRules()
    {
        var (bucketId, p) = cdk.Default.Single("AWS::S3::Bucket");
        Assert.Equal("AES256", (string?)p["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!["ServerSideEncryptionByDefault"]!["SSEAlgorithm"]);
        foreach (var key in new[] { "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets" })
            Assert.True((bool?)p["PublicAccessBlockConfiguration"]![key], key);
        Assert.Equal("BucketOwnerEnforced", (string?)p["OwnershipControls"]!["Rules"]![0]!["ObjectOwnership"]);
        Assert.Equal("Retain", (string?)cdk.Default.Resources[bucketId]!["DeletionPolicy"]);

        var rules = p["LifecycleConfiguration"]!["Rules"]!.AsArray().ToDictionary(r => (string)r!["Id"]!, r => r!);
        Assert.Equal("error-json/", (string?)rules["errors"]["Prefix"]);
        Assert.Equal(30, (int?)rules["errors"]["ExpirationInDays"]);
        Assert.Equal("athena-results/", (string?)rules["athena-results"]["Prefix"]);
        Assert.Equal(7, (int?)rules["athena-results"]["ExpirationInDays"]);
        Assert.Equal(1, (int?)rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]!["DaysAfterInitiation"]);
        Assert.All(rules.Values, r => Assert.Equal("Enabled", (string?)r["Status"]));

        // TLS only: the bucket policy denies every request without aws:SecureTransport.
        var (_, policy) = cdk.Default.Single("AWS::S3::BucketPolicy");
        var statement = Assert.Single(policy["PolicyDocument"]!["Statement"]!.AsArray());
        Assert.Equal("Deny", (string?)statement!["Effect"]);
        Assert.Equal("false", (string?)statement["Condition"]!["Bool"]!["aws:SecureTransport"]);
        Assert.Equal("s3:*", (string?)statement["Action"]);
        cdk.Default.Template.HasResourceProperties("AWS::S3::BucketPolicy", Match.ObjectLike(new Dictionary<string, object>
        {
            ["Bucket"] = new Dictionary<string, object> { ["Ref"] = bucketId },
        }));
    }

    [Fact]
    public void Firehose_Default_FromTheStreamWithTheWorkshopsPrefixesAndBuffering()
    {
        var lake = new RetailLakeDefinition();
        var (id, p) = cdk.Default.Single("AWS::KinesisFirehose::DeliveryStream");
        Assert.StartsWith("RetailDelivery", id, StringComparison.Ordinal);
        Assert.Equal("retail-trans", (string?)p["DeliveryStreamName"]);
        Assert.Equal("KinesisStreamAsSource", (string?)p["DeliveryStreamType"]);
        var (streamId, _) = cdk.Default.Single("AWS::Kinesis::Stream");
        Assert.Equal(streamId, (string?)p["KinesisStreamSourceConfiguration"]!["KinesisStreamARN"]!["Fn::GetAtt"]![0]);

        var s3 = p["ExtendedS3DestinationConfiguration"]!;
        Assert.Equal("json-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/", (string?)s3["Prefix"]);
        Assert.Equal(lake.JsonPrefixTemplate, (string?)s3["Prefix"]);
        Assert.Equal("error-json/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/", (string?)s3["ErrorOutputPrefix"]);
        Assert.Equal(lake.ErrorPrefixTemplate, (string?)s3["ErrorOutputPrefix"]);
        Assert.Equal(1, (int?)s3["BufferingHints"]!["SizeInMBs"]);
        Assert.Equal(60, (int?)s3["BufferingHints"]!["IntervalInSeconds"]);
        Assert.Equal("UNCOMPRESSED", (string?)s3["CompressionFormat"]);
        Assert.True((bool?)s3["CloudWatchLoggingOptions"]!["Enabled"]);
        Assert.Equal("DestinationDelivery", (string?)s3["CloudWatchLoggingOptions"]!["LogStreamName"]);
        Assert.Null(p["DeliveryStreamEncryptionConfigurationInput"]);   // refused with a Kinesis source

        // Created only once its role can read the stream.
        var (policyId, _) = Assert.Single(cdk.Default.OfType("AWS::IAM::Policy"), p => p.Id.StartsWith("RetailDeliveryPolicy", StringComparison.Ordinal));
        Assert.Contains(policyId, cdk.Default.Resources[id]!["DependsOn"]!.AsArray().Select(d => (string?)d));
    }

    [Fact]
    public void Firehose_Role_ExactlyTheActionsAndResourcesItUses()
    {
        var (roleId, role) = Assert.Single(cdk.Default.OfType("AWS::IAM::Role"), r => r.Id.StartsWith("RetailDeliveryRole", StringComparison.Ordinal));
        var trust = Assert.Single(role["AssumeRolePolicyDocument"]!["Statement"]!.AsArray())!;
        Assert.Equal("firehose.amazonaws.com", (string?)trust["Principal"]!["Service"]);
        Assert.NotNull(trust["Condition"]!["StringEquals"]!["aws:SourceAccount"]);
        Assert.Null(role["ManagedPolicyArns"]);

        var (_, policy) = Assert.Single(cdk.Default.OfType("AWS::IAM::Policy"), p => p.Id.StartsWith("RetailDeliveryPolicy", StringComparison.Ordinal));
        Assert.Equal(roleId, (string?)policy["Roles"]![0]!["Ref"]);
        var grants = Grants(policy["PolicyDocument"]!).Order().ToArray();
        string[] expected =
        [
            .. new[] { "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards" }.Select(a => $"{a} -> stream"),
            .. new[] { "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads" }.Select(a => $"{a} -> bucket"),
            .. new[] { "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject" }.SelectMany(a => new[] { $"{a} -> bucket/error-json/*", $"{a} -> bucket/json-data/*" }),
            "logs:PutLogEvents -> arn:partition:logs:region:account:log-group:loggroup:log-stream:DestinationDelivery",
        ];
        Assert.Equal(expected.Order(), grants);
    }

    [Fact]
    public void Glue_Tables_EqualAthenaCatalogsDdl_ColumnsTypesSerDeAndProjection()
    {
        var json = Table(cdk.Default, "retail_trans_json");
        var parquet = Table(cdk.Default, "ctas_retail_trans_parquet");
        var ddl = AthenaCatalog.Statements(new AthenaCatalogOptions { Location = "s3://bucket/", PartitionProjection = true });

        foreach (var (table, statement) in new[] { (json, ddl[1]), (parquet, ddl[2]) })
        {
            var input = table["TableInput"]!;
            Assert.Equal("EXTERNAL_TABLE", (string?)input["TableType"]);
            Assert.Equal("mydatabase", (string?)table["DatabaseName"]);
            var columns = input["StorageDescriptor"]!["Columns"]!.AsArray().Select(c => $"{c!["Name"]} {c["Type"]}");
            Assert.Equal(DdlColumns(statement), columns);
            Assert.Equal(RetailLakeDefinition.Columns.Select(c => $"{c.Name} {AthenaCatalog.DdlType(c.SqlType)}"), columns);
            Assert.Contains("price decimal(18,4)", columns);
            Assert.Contains("invoicedate timestamp", columns);
            Assert.Equal(["year int", "month int", "day int", "hour int"], input["PartitionKeys"]!.AsArray().Select(c => $"{c!["Name"]} {c["Type"]}"));
            Assert.Equal("LOCATION '" + Flatten(input["StorageDescriptor"]!["Location"]!) + "'", LocationLine(statement));
            var parameters = input["Parameters"]!.AsObject().ToDictionary(p => p.Key, p => Flatten(p.Value!));
            foreach (var (k, v) in Pairs(statement, "TBLPROPERTIES")) Assert.Equal(v, parameters[k]);
            Assert.Equal("TRUE", parameters["EXTERNAL"]);
        }
        var jsonInput = json["TableInput"]!;
        Assert.Equal("org.openx.data.jsonserde.JsonSerDe", (string?)jsonInput["StorageDescriptor"]!["SerdeInfo"]!["SerializationLibrary"]);
        Assert.Contains("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'", ddl[1], StringComparison.Ordinal);
        Assert.Equal(Pairs(ddl[1], "SERDEPROPERTIES"), jsonInput["StorageDescriptor"]!["SerdeInfo"]!["Parameters"]!.AsObject().Select(p => KeyValuePair.Create(p.Key, (string)p.Value!)));
        Assert.Contains($"INPUTFORMAT '{jsonInput["StorageDescriptor"]!["InputFormat"]}'", ddl[1], StringComparison.Ordinal);
        Assert.Contains($"OUTPUTFORMAT '{jsonInput["StorageDescriptor"]!["OutputFormat"]}'", ddl[1], StringComparison.Ordinal);

        // Projection on both tables, every key, with the literal ${…} placeholders (Fn::Join, never Fn::Sub).
        foreach (var (table, prefix) in new[] { (json, "json-data/"), (parquet, "parquet-retail-trans/") })
        {
            var parameters = table["TableInput"]!["Parameters"]!.AsObject().ToDictionary(p => p.Key, p => Flatten(p.Value!));
            Assert.Equal("true", parameters["projection.enabled"]);
            Assert.Equal("2000,2099", parameters["projection.year.range"]);
            foreach (var k in new[] { "month", "day", "hour" }) Assert.Equal("2", parameters[$"projection.{k}.digits"]);
            Assert.Equal($"s3://bucket/{prefix}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/", parameters["storage.location.template"]);
        }
        Assert.Equal("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", (string?)parquet["TableInput"]!["StorageDescriptor"]!["SerdeInfo"]!["SerializationLibrary"]);
        Assert.All(cdk.Default.OfType("AWS::Glue::Table"), t => Assert.DoesNotContain("Fn::Sub", t.Properties.ToJsonString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Glue_AthenaEngine_ParquetTableWithoutProjection()
    {
        var parquet = Table(cdk.ProvisionedAthena, "ctas_retail_trans_parquet")["TableInput"]!["Parameters"]!.AsObject();
        Assert.DoesNotContain(parquet, p => p.Key.StartsWith("projection.", StringComparison.Ordinal) || p.Key == "storage.location.template");
        Assert.Equal("true", (string?)Table(cdk.ProvisionedAthena, "retail_trans_json")["TableInput"]!["Parameters"]!["projection.enabled"]);
        var ddl = AthenaCatalog.Statements(new AthenaCatalogOptions { Location = "s3://bucket/", PartitionProjection = true, ParquetPartitioning = ParquetPartitioning.CompactorRegistered });
        Assert.DoesNotContain("projection", ddl[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Glue_Database_TablesDependOnIt()
    {
        var (dbId, db) = cdk.Default.Single("AWS::Glue::Database");
        Assert.Equal("mydatabase", (string?)db["DatabaseInput"]!["Name"]);
        Assert.Equal("AWS::AccountId", (string?)db["CatalogId"]!["Ref"]);
        foreach (var (id, _) in cdk.Default.OfType("AWS::Glue::Table"))
            Assert.Contains(dbId, cdk.Default.Resources[id]!["DependsOn"]!.AsArray().Select(d => (string?)d));
        Assert.Equal(2, cdk.Default.OfType("AWS::Glue::Table").Count());
    }

    [Fact]
    public void WorkGroup_Default_ResultsInTheLakeEncryptedAndEnforced()
    {
        var (_, p) = cdk.Default.Single("AWS::Athena::WorkGroup");
        Assert.Equal("retail", (string?)p["Name"]);
        var config = p["WorkGroupConfiguration"]!;
        Assert.True((bool?)config["EnforceWorkGroupConfiguration"]);
        Assert.Equal("Athena engine version 3", (string?)config["EngineVersion"]!["SelectedEngineVersion"]);
        Assert.Equal("s3://bucket/athena-results/", Flatten(config["ResultConfiguration"]!["OutputLocation"]!));
        Assert.Equal("SSE_S3", (string?)config["ResultConfiguration"]!["EncryptionConfiguration"]!["EncryptionOption"]);
        cdk.Default.Template.HasResourceProperties("AWS::Athena::WorkGroup", Match.ObjectLike(new Dictionary<string, object> { ["RecursiveDeleteOption"] = true }));
    }

    [Fact]
    public void Alarms_Default_StreamIteratorAgeAndFirehoseFreshnessNotBreachingWhenMissing()
    {
        var alarms = cdk.Default.OfType("AWS::CloudWatch::Alarm").Where(a => (string?)a.Properties["Namespace"] is "AWS/Kinesis" or "AWS/Firehose")
            .ToDictionary(a => (string)a.Properties["MetricName"]!, a => a.Properties);
        Assert.Equal(["DeliveryToS3.DataFreshness", "GetRecords.IteratorAgeMilliseconds"], alarms.Keys.Order());
        var age = alarms["GetRecords.IteratorAgeMilliseconds"];
        Assert.Equal("AWS/Kinesis", (string?)age["Namespace"]);
        Assert.Equal(300_000, (double?)age["Threshold"]);
        Assert.Equal("Maximum", (string?)age["Statistic"]);
        var freshness = alarms["DeliveryToS3.DataFreshness"];
        Assert.Equal("AWS/Firehose", (string?)freshness["Namespace"]);
        Assert.Equal(900, (double?)freshness["Threshold"]);
        var (firehoseId, _) = cdk.Default.Single("AWS::KinesisFirehose::DeliveryStream");
        Assert.Equal(firehoseId, (string?)freshness["Dimensions"]![0]!["Value"]!["Ref"]);
        foreach (var a in alarms.Values)
        {
            Assert.Equal("GreaterThanThreshold", (string?)a["ComparisonOperator"]);
            Assert.Equal("notBreaching", (string?)a["TreatMissingData"]);
            Assert.Equal(5, (int?)a["EvaluationPeriods"]);
            Assert.Null(a["AlarmActions"]);   // no AlarmTopic
        }
    }

    [Fact]
    public void Outputs_Default_NamesAUserNeedsNext()
    {
        var outputs = cdk.Default.Json["Outputs"]!.AsObject().Select(o => o.Key).ToArray();
        foreach (var name in new[] { "StreamName", "StreamArn", "DeliveryStreamName", "LakeBucket", "LakeUri", "GlueDatabase", "AthenaWorkGroup", "AthenaResults",
            "OpenSearchEndpoint", "UpsertToESName", "UpsertToESRoleArn", "MergeSmallFilesName", "SpeedLayerUpsertFailureQueue", "CompactionCompactionFailureQueue" })
            Assert.Contains("Retail" + name, outputs);   // readable ids, as cdk deploy prints them (no CDK hashes)
        Assert.Contains("RetailCompactionCompactionWorkGroup", cdk.ProvisionedAthena.Json["Outputs"]!.AsObject().Select(o => o.Key));
        Assert.Contains("RetailDeliveryFunctionName", cdk.Lambda.Json["Outputs"]!.AsObject().Select(o => o.Key));
        Assert.DoesNotContain(cdk.Default.Json["Outputs"]!.AsObject(), o => o.Value!["Export"] is not null);
    }

    [Theory]
    [InlineData("firehose")]
    [InlineData("lambda")]
    public void Golden_EachDeliveryMode_TemplateUnchanged(string mode)
    {
        var synth = mode == "firehose" ? cdk.Default : cdk.Lambda;
        string actual = Normalized(synth.Json);
        string name = $"retail-pipeline.{mode}.template.json";
        if (Environment.GetEnvironmentVariable("RETAIL_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(Environment.GetEnvironmentVariable("RETAIL_GOLDEN_DIR")!, name), actual);
            return;
        }
        string expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", name)).ReplaceLineEndings("\n");
        if (expected != actual)
        {
            string path = Path.Combine(Path.GetTempPath(), name);
            File.WriteAllText(path, actual);
            Assert.Fail($"The template differs from Golden/{name} (actual written to {path}; update with RETAIL_UPDATE_GOLDEN=1 RETAIL_GOLDEN_DIR=$PWD/tests/Retail.Hosting.Cdk.Tests/Golden).");
        }
    }

    /// <summary>The template as the golden files hold it: 2-space indent, and the zip's asset hash (which changes with every
    /// publish: the zip holds timestamps) as <c>&lt;asset-hash&gt;</c>. tests/cdk-synth.sh normalizes the same way.</summary>
    internal static string Normalized(JsonObject template) =>
        AssetHash().Replace(template.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }), "\"<asset-hash>$1\"")
            .ReplaceLineEndings("\n") + "\n";

    [GeneratedRegex("\"[0-9a-f]{64}(\\.zip)?\"")]
    private static partial Regex AssetHash();

    /// <summary>Actions EC2 authorizes on "*" only (the Service Authorization Reference lists no resource types for them).</summary>
    private static readonly HashSet<string> NoResourceLevelPermissions = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"];

    private static JsonObject Table(Synth synth, string name) =>
        synth.OfType("AWS::Glue::Table").Single(t => (string?)t.Properties["TableInput"]!["Name"] == name).Properties;

    /// <summary>A policy document's grants as "action -> resource", resources flattened with readable placeholders.</summary>
    internal static IEnumerable<string> Grants(JsonNode document) =>
        from s in document["Statement"]!.AsArray()
        where (string?)s!["Effect"] == "Allow"
        from a in Strings(s!["Action"])
        from r in s["Resource"] is JsonArray arr ? arr.Select(x => x!) : [s["Resource"]!]
        select $"{a} -> {Flatten(r)}";

    internal static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a.Select(x => (string)x!),
        _ => [(string)node!],
    };

    /// <summary>A CloudFormation value as text: Fn::Join concatenated; the bucket, stream and log group as placeholders.</summary>
    internal static string Flatten(JsonNode node) => node switch
    {
        JsonValue v => v.ToString(),
        JsonObject o when o["Fn::Join"] is JsonArray join => string.Join((string)join[0]!, join[1]!.AsArray().Select(x => Flatten(x!))),
        JsonObject o when o["Ref"] is { } r => (string)r! switch
        {
            "AWS::Partition" => "partition", "AWS::Region" => "region", "AWS::AccountId" => "account",
            var id when id.Contains("Lake", StringComparison.Ordinal) => "bucket",
            var id when id.Contains("Logs", StringComparison.Ordinal) => "loggroup",
            var id => id,
        },
        JsonObject o when o["Fn::GetAtt"] is JsonArray att => ((string)att[0]!, (string)att[1]!) switch
        {
            (var id, "Arn") when id.Contains("Lake", StringComparison.Ordinal) => "bucket",
            (var id, "Arn") when id.Contains("Stream", StringComparison.Ordinal) => "stream",
            var (id, a) => $"{id}.{a}",
        },
        _ => node.ToJsonString(),
    };

    private static IEnumerable<string> DdlColumns(string statement) =>
        statement.Split('\n').SkipWhile(l => !l.StartsWith("CREATE EXTERNAL TABLE", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l != ")").Select(l => l.Trim().TrimEnd(','));

    private static string LocationLine(string statement) => statement.Split('\n').Single(l => l.StartsWith("LOCATION ", StringComparison.Ordinal));

    private static IEnumerable<KeyValuePair<string, string>> Pairs(string statement, string keyword)
    {
        int i = statement.IndexOf(keyword + " (", StringComparison.Ordinal);
        if (i < 0) return [];
        int end = statement.IndexOf(')', i);
        return PairRegex().Matches(statement[i..end]).Select(m => KeyValuePair.Create(m.Groups[1].Value, m.Groups[2].Value)).ToArray();
    }

    [GeneratedRegex(@"'([^']*)' = '([^']*)'")]
    private static partial Regex PairRegex();
}
