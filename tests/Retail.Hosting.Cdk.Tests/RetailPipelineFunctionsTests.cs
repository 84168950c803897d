using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Match = Amazon.CDK.Assertions.Match;
using static Retail.Hosting.Cdk.Tests.RetailPipelineTests;

namespace Retail.Hosting.Cdk.Tests;

/// <summary>The Lambda functions, their event sources and schedule, the OpenSearch domain, and the two delivery modes.</summary>
[Collection(CdkCollection.Name)]
public sealed class RetailPipelineFunctionsTests(CdkFixture cdk)
{
    private static (string Id, JsonObject Properties) Function(Synth synth, string handler) =>
        Assert.Single(synth.OfType("AWS::Lambda::Function"), f => (string?)f.Properties["Handler"] == handler);

    private static Dictionary<string, string> Environment(JsonObject function) =>
        function["Environment"]!["Variables"]!.AsObject().ToDictionary(v => v.Key, v => Flatten(v.Value!));

    private static (string Id, JsonObject Properties) Mapping(Synth synth, string functionId) =>
        Assert.Single(synth.OfType("AWS::Lambda::EventSourceMapping"), m => (string?)m.Properties["FunctionName"]!["Ref"] == functionId);

    private static string[] RoleGrants(Synth synth, JsonObject function)
    {
        string roleId = (string)function["Role"]!["Fn::GetAtt"]![0]!;
        return [.. synth.OfType("AWS::IAM::Policy").Where(p => p.Properties["Roles"]!.AsArray().Any(r => (string?)r!["Ref"] == roleId))
            .SelectMany(p => Grants(p.Properties["PolicyDocument"]!)).Order()];
    }

    [Fact]
    public void Functions_EveryVariant_OursOnly_ProvidedAl2023FromTheLocatedZip_NoCustomResourcesNoManagedPolicies()
    {
        // The staged asset in cdk.out is the located zip, byte for byte, and every function's code is that asset.
        var staged = Assert.Single(Directory.GetFiles(((Amazon.CDK.App)cdk.Default.Stack.Node.Root).Outdir, "asset.*.zip"));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(cdk.LambdaZip)), SHA256.HashData(File.ReadAllBytes(staged)));
        string zipHash = Path.GetFileName(staged)["asset.".Length..^".zip".Length];
        foreach (var synth in cdk.All)
        {
            Assert.DoesNotContain(synth.Resources, r => ((string)r.Value!["Type"]!).StartsWith("Custom::", StringComparison.Ordinal)
                || (string?)r.Value["Type"] == "AWS::CloudFormation::CustomResource");
            Assert.All(synth.OfType("AWS::IAM::Role"), r => Assert.Null(r.Properties["ManagedPolicyArns"]));
            Assert.Empty(synth.OfType("AWS::IAM::ManagedPolicy"));
            var functions = synth.OfType("AWS::Lambda::Function").ToArray();
            Assert.All(functions, f =>
            {
                Assert.Equal("provided.al2023", (string?)f.Properties["Runtime"]);
                Assert.Equal("x86_64", (string?)f.Properties["Architectures"]![0]);
                Assert.Equal(zipHash + ".zip", (string?)f.Properties["Code"]!["S3Key"]);
                Assert.NotNull(f.Properties["LoggingConfig"]!["LogGroup"]);
                Assert.Equal(f.Properties["Environment"]!["Variables"]!["RETAIL_LAKE"]!.ToJsonString(),
                    new JsonObject { ["Fn::Join"] = new JsonArray("", new JsonArray("s3://", new JsonObject { ["Ref"] = synth.Single("AWS::S3::Bucket").Id })) }.ToJsonString());
            });
            string[] expected = synth == cdk.Lambda ? ["DeliverToS3", "MergeSmallFiles", "UpsertToES"] : ["MergeSmallFiles", "UpsertToES"];
            Assert.Equal(expected, functions.Select(f => (string)f.Properties["Handler"]!).Order());
        }
    }

    [Fact]
    public void UpsertToES_EventSource_ReportsItemFailuresBisectsBoundedRetriesOnFailureQueue()
    {
        var (id, f) = Function(cdk.Default, "UpsertToES");
        var (_, m) = Mapping(cdk.Default, id);
        Assert.Equal(["ReportBatchItemFailures"], m["FunctionResponseTypes"]!.AsArray().Select(x => (string)x!));
        Assert.True((bool?)m["BisectBatchOnFunctionError"]);
        Assert.Equal(3, (int?)m["MaximumRetryAttempts"]);
        Assert.Equal(1000, (int?)m["BatchSize"]);
        Assert.Equal(1, (int?)m["ParallelizationFactor"]);
        Assert.Equal("TRIM_HORIZON", (string?)m["StartingPosition"]);
        Assert.Equal(cdk.Default.Single("AWS::Kinesis::Stream").Id, (string?)m["EventSourceArn"]!["Fn::GetAtt"]![0]);
        string queue = (string)m["DestinationConfig"]!["OnFailure"]!["Destination"]!["Fn::GetAtt"]![0]!;
        Assert.Equal("AWS::SQS::Queue", (string?)cdk.Default.Resources[queue]!["Type"]);
        var q = cdk.Default.Resources[queue]!["Properties"]!;
        Assert.True((bool?)q["SqsManagedSseEnabled"]);
        Assert.Equal(14 * 86400, (int?)q["MessageRetentionPeriod"]);

        Assert.Equal(512, (int?)f["MemorySize"]);
        Assert.Equal(120, (int?)f["Timeout"]);
        var env = Environment(f);
        Assert.Equal($"{cdk.Default.Single("AWS::OpenSearchService::Domain").Id}.DomainEndpoint", env["ES_HOST"]);
        Assert.Equal("retail", env["ES_INDEX"]);
        Assert.Equal("sigv4", env["ES_AUTH"]);
        Assert.Equal("true", env["RETAIL_INDEX_TEMPLATE"]);
        cdk.Default.Template.HasResourceProperties("AWS::Lambda::EventSourceMapping", Match.ObjectLike(new Dictionary<string, object>
        {
            ["FunctionResponseTypes"] = new[] { "ReportBatchItemFailures" }, ["BisectBatchOnFunctionError"] = true,
        }));
    }

    [Fact]
    public void UpsertToES_Role_ExactlyBulkTheTemplateErrorsItsQueueTheStreamAndItsNetworkInterfaces()
    {
        var (_, f) = Function(cdk.Default, "UpsertToES");
        string domain = "arn:partition:es:region:account:domain/retail";
        string[] ec2 = ["ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"];
        var grants = RoleGrants(cdk.Default, f);
        Assert.Contains($"es:ESHttpPost -> {domain}/_bulk", grants);
        Assert.Contains($"es:ESHttpPut -> {domain}/_index_template/retail-template", grants);
        Assert.Contains("s3:PutObject -> bucket/error-json/*", grants);
        Assert.Contains("s3:AbortMultipartUpload -> bucket/error-json/*", grants);
        Assert.Contains("kinesis:GetRecords -> stream", grants);
        Assert.All(ec2, a => Assert.Contains($"{a} -> arn:partition:ec2:region:account:network-interface/*", grants));
        Assert.Contains(grants, g => g.StartsWith("ec2:CreateNetworkInterface -> arn:partition:ec2:region:account:subnet/", StringComparison.Ordinal));
        Assert.Contains(grants, g => g.StartsWith("ec2:CreateNetworkInterface -> arn:partition:ec2:region:account:security-group/", StringComparison.Ordinal));
        // Nothing else on the lake, nothing else on the domain.
        Assert.DoesNotContain(grants, g => g.StartsWith("s3:", StringComparison.Ordinal) && !g.EndsWith("bucket/error-json/*", StringComparison.Ordinal));
        Assert.Equal(2, grants.Count(g => g.StartsWith("es:", StringComparison.Ordinal)));
        // Public endpoint: no VPC, so no network-interface grants.
        Assert.DoesNotContain(RoleGrants(cdk.ProvisionedAthena, Function(cdk.ProvisionedAthena, "UpsertToES").Properties), g => g.StartsWith("ec2:", StringComparison.Ordinal));
    }

    [Fact]
    public void MergeSmallFiles_Schedule_HourlyAtFivePastWithOneRunAtATimeAndAFailureQueue()
    {
        var (id, f) = Function(cdk.Default, "MergeSmallFiles");
        var (ruleId, rule) = cdk.Default.Single("AWS::Events::Rule");
        Assert.Equal("cron(5 * * * ? *)", (string?)rule["ScheduleExpression"]);
        Assert.Equal(RetailPipeline.CompactionSchedule, (string?)rule["ScheduleExpression"]);
        Assert.Equal(id, (string?)rule["Targets"]![0]!["Arn"]!["Fn::GetAtt"]![0]);
        var (_, permission) = cdk.Default.Single("AWS::Lambda::Permission");
        Assert.Equal("events.amazonaws.com", (string?)permission["Principal"]);
        Assert.Equal(ruleId, (string?)permission["SourceArn"]!["Fn::GetAtt"]![0]);

        Assert.Equal(1, (int?)f["ReservedConcurrentExecutions"]);
        Assert.Equal(900, (int?)f["Timeout"]);
        Assert.Equal(2048, (int?)f["MemorySize"]);
        Assert.Equal(2048, (int?)f["EphemeralStorage"]!["Size"]);
        Assert.Equal("parquet", Environment(f)["COMPACTION_ENGINE"]);
        var (_, invoke) = cdk.Default.Single("AWS::Lambda::EventInvokeConfig");
        Assert.Equal(2, (int?)invoke["MaximumRetryAttempts"]);
        Assert.Equal("AWS::SQS::Queue", (string?)cdk.Default.Resources[(string)invoke["DestinationConfig"]!["OnFailure"]!["Destination"]!["Fn::GetAtt"]![0]!]!["Type"]);
        Assert.Null(Function(cdk.ProvisionedAthena, "MergeSmallFiles").Properties["ReservedConcurrentExecutions"]);   // compactionConcurrency=none

        string[] expected =
        [
            "logs:CreateLogStream -> RetailCompactionLogs", "logs:PutLogEvents -> RetailCompactionLogs",
            "s3:ListBucket -> bucket", "s3:GetObject -> bucket/json-data/*",
            .. new[] { "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject" }
                .SelectMany(a => new[] { $"{a} -> bucket/_retail/compaction/*", $"{a} -> bucket/parquet-retail-trans/*" }),
            .. new[] { "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage" }.Select(a => $"{a} -> RetailCompactionFailures"),
        ];
        Assert.Equal(expected.Order(), RoleGrants(cdk.Default, f).Select(WithoutHash).Order());
    }

    [Fact]
    public void MergeSmallFiles_AthenaEngine_ItsOwnNonEnforcingWorkGroupAndTheCatalogGrants()
    {
        var synth = cdk.ProvisionedAthena;
        var (_, f) = Function(synth, "MergeSmallFiles");
        var env = Environment(f);
        Assert.Equal("athena", env["COMPACTION_ENGINE"]);
        Assert.Equal("mydatabase", env["OLD_DATABASE"]);
        Assert.Equal("retail_trans_json", env["OLD_TABLE_NAME"]);
        Assert.Equal("ctas_retail_trans_parquet", env["NEW_TABLE_NAME"]);
        Assert.Equal("s3://bucket/json-data/", env["OLD_TABLE_LOCATION_PREFIX"]);
        Assert.Equal("s3://bucket/parquet-retail-trans/", env["OUTPUT_PREFIX"]);
        Assert.Equal("s3://bucket/athena-results/", env["STAGING_OUTPUT_PREFIX"]);
        // A CTAS with external_location is refused in a work group that enforces its settings.
        var groups = synth.OfType("AWS::Athena::WorkGroup").ToDictionary(g => (string)g.Properties["Name"]!, g => g.Properties);
        Assert.Equal(["retail", "retail-compaction"], groups.Keys.Order());
        Assert.Equal("retail-compaction", env["WORK_GROUP"]);
        Assert.False((bool?)groups["retail-compaction"]["WorkGroupConfiguration"]!["EnforceWorkGroupConfiguration"]);
        Assert.True((bool?)groups["retail"]["WorkGroupConfiguration"]!["EnforceWorkGroupConfiguration"]);
        Assert.Single(cdk.Default.OfType("AWS::Athena::WorkGroup"));

        var grants = RoleGrants(synth, f);
        Assert.Contains("athena:StartQueryExecution -> arn:partition:athena:region:account:workgroup/retail-compaction", grants);
        Assert.Contains("glue:CreateTable -> arn:partition:glue:region:account:table/mydatabase/tmp_ctas_retail_trans_parquet_*", grants);
        Assert.Contains("glue:BatchCreatePartition -> arn:partition:glue:region:account:table/mydatabase/retail_trans_json", grants);
        Assert.Contains("glue:UpdatePartition -> arn:partition:glue:region:account:table/mydatabase/ctas_retail_trans_parquet", grants);
        Assert.Contains("s3:PutObject -> bucket/parquet-retail-trans/*", grants);
        Assert.Contains("glue:GetDatabase -> arn:partition:glue:region:account:database/default", grants);
        Assert.DoesNotContain(grants, g => g.StartsWith("s3:DeleteObject", StringComparison.Ordinal) || g.StartsWith("s3:PutObject -> bucket/json-data", StringComparison.Ordinal));
        Assert.DoesNotContain(grants, g => g.Contains("workgroup/retail ", StringComparison.Ordinal) || g.EndsWith("workgroup/retail", StringComparison.Ordinal));
    }

    [Fact]
    public void Domain_Vpc_FineGrainedEncryptedHttpsOnlyReachableFromUpsertToESOnly()
    {
        var (_, d) = cdk.Default.Single("AWS::OpenSearchService::Domain");
        Assert.Equal("retail", (string?)d["DomainName"]);
        Assert.Equal("OpenSearch_2.19", (string?)d["EngineVersion"]);
        Assert.True((bool?)d["AdvancedSecurityOptions"]!["Enabled"]);
        Assert.False((bool?)d["AdvancedSecurityOptions"]!["InternalUserDatabaseEnabled"]);
        var (_, upsert) = Function(cdk.Default, "UpsertToES");
        Assert.Equal((string)upsert["Role"]!["Fn::GetAtt"]![0]!, (string?)d["AdvancedSecurityOptions"]!["MasterUserOptions"]!["MasterUserARN"]!["Fn::GetAtt"]![0]);
        Assert.True((bool?)d["NodeToNodeEncryptionOptions"]!["Enabled"]);
        Assert.True((bool?)d["EncryptionAtRestOptions"]!["Enabled"]);
        Assert.True((bool?)d["DomainEndpointOptions"]!["EnforceHTTPS"]);
        Assert.StartsWith("Policy-Min-TLS-1-2", (string?)d["DomainEndpointOptions"]!["TLSSecurityPolicy"], StringComparison.Ordinal);
        Assert.Equal("gp3", (string?)d["EBSOptions"]!["VolumeType"]);
        Assert.False((bool?)d["ClusterConfig"]!["ZoneAwarenessEnabled"]);

        // In the VPC: the domain's security group admits 443 from UpsertToES's group only; UpsertToES runs in the same subnets.
        string domainGroup = (string)d["VPCOptions"]!["SecurityGroupIds"]![0]!["Fn::GetAtt"]![0]!;
        var (_, ingress) = cdk.Default.Single("AWS::EC2::SecurityGroupIngress");
        Assert.Equal(domainGroup, (string?)ingress["GroupId"]!["Fn::GetAtt"]![0]);
        Assert.Equal(443, (int?)ingress["FromPort"]);
        Assert.Equal(443, (int?)ingress["ToPort"]);
        Assert.Equal((string)upsert["VpcConfig"]!["SecurityGroupIds"]![0]!["Fn::GetAtt"]![0]!, (string?)ingress["SourceSecurityGroupId"]!["Fn::GetAtt"]![0]);
        Assert.Equal(d["VPCOptions"]!["SubnetIds"]!.ToJsonString(), upsert["VpcConfig"]!["SubnetIds"]!.ToJsonString());
        Assert.Null(cdk.Default.Resources[domainGroup]!["Properties"]!["SecurityGroupIngress"]);
        // Isolated subnets: no internet gateway, no NAT; S3 through a gateway endpoint.
        Assert.Empty(cdk.Default.OfType("AWS::EC2::InternetGateway"));
        Assert.Empty(cdk.Default.OfType("AWS::EC2::NatGateway"));
        var (_, endpoint) = cdk.Default.Single("AWS::EC2::VPCEndpoint");
        Assert.Contains(".s3", Flatten(endpoint["ServiceName"]!), StringComparison.Ordinal);
    }

    [Fact]
    public void Domain_PublicEndpoint_AnswersOnlyTheAllowedRangesWithTheGivenMasterAcrossTwoZones()
    {
        var synth = cdk.ProvisionedAthena;
        var (_, d) = synth.Single("AWS::OpenSearchService::Domain");
        Assert.Null(d["VPCOptions"]);
        Assert.Empty(synth.OfType("AWS::EC2::VPC"));
        Assert.Equal("arn:aws:iam::123456789012:role/search-admin", (string?)d["AdvancedSecurityOptions"]!["MasterUserOptions"]!["MasterUserARN"]);
        var statement = Assert.Single(d["AccessPolicies"]!["Statement"]!.AsArray())!;
        Assert.Equal("Allow", (string?)statement["Effect"]);
        Assert.Equal(["203.0.113.0/24", "2001:db8::/32"], statement["Condition"]!["IpAddress"]!["aws:SourceIp"]!.AsArray().Select(x => (string)x!));
        Assert.Equal("arn:partition:es:region:account:domain/retail/*", Flatten(statement["Resource"]!));
        Assert.True((bool?)d["ClusterConfig"]!["ZoneAwarenessEnabled"]);
        Assert.Equal(2, (int?)d["ClusterConfig"]!["InstanceCount"]);
        Assert.Equal(2, (int?)d["ClusterConfig"]!["ZoneAwarenessConfig"]!["AvailabilityZoneCount"]);
        Assert.Null(Function(synth, "UpsertToES").Properties["VpcConfig"]);
    }

    [Fact]
    public void DeliverToS3_LambdaMode_EventTimeDeliveryWithParallelization1AndExactlyItsGrants()
    {
        var synth = cdk.Lambda;
        Assert.Empty(synth.OfType("AWS::KinesisFirehose::DeliveryStream"));
        var (id, f) = Function(synth, "DeliverToS3");
        Assert.StartsWith("RetailDelivery", id, StringComparison.Ordinal);
        Assert.Equal("delivery-lambda", Environment(f)["RETAIL_CONSUMER_NAME"]);
        var (_, m) = Mapping(synth, id);
        Assert.Equal(1, (int?)m["ParallelizationFactor"]);   // the checkpoint is per shard
        Assert.Equal(10_000, (int?)m["BatchSize"]);
        Assert.Equal(60, (int?)m["MaximumBatchingWindowInSeconds"]);
        Assert.Equal(["ReportBatchItemFailures"], m["FunctionResponseTypes"]!.AsArray().Select(x => (string)x!));
        Assert.True((bool?)m["BisectBatchOnFunctionError"]);
        Assert.Equal(3, (int?)m["MaximumRetryAttempts"]);
        Assert.NotNull(m["DestinationConfig"]!["OnFailure"]!["Destination"]);

        var grants = RoleGrants(synth, f).Select(WithoutHash).ToArray();
        string[] s3 =
        [
            "s3:ListBucket -> bucket",
            .. new[] { "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject" }
                .SelectMany(a => new[] { $"{a} -> bucket/_retail/checkpoints/*", $"{a} -> bucket/error-json/*", $"{a} -> bucket/json-data/*" }),
        ];
        Assert.Equal(s3.Order(), grants.Where(g => g.StartsWith("s3:", StringComparison.Ordinal)).Order());
        Assert.Contains("kinesis:GetRecords -> stream", grants);
        Assert.DoesNotContain(grants, g => g.StartsWith("es:", StringComparison.Ordinal) || g.StartsWith("ec2:", StringComparison.Ordinal));
        Assert.Contains(synth.OfType("AWS::CloudWatch::Alarm"), a => a.Id.StartsWith("RetailDeliveryAlarmsIteratorAge", StringComparison.Ordinal));
        Assert.Contains(synth.Json["Outputs"]!.AsObject(), o => o.Key == "RetailDeliveryFunctionName");
    }

    [Fact]
    public void DeliveryModes_Switching_ChangesOnlyTheDeliveryResourcesAndOutputs()
    {
        static JsonObject WithoutDelivery(Synth synth)
        {
            var copy = JsonNode.Parse(Normalized(synth.Json))!.AsObject();
            foreach (var section in new[] { "Resources", "Outputs" })
                foreach (var key in copy[section]!.AsObject().Select(p => p.Key).Where(k => k.StartsWith("RetailDelivery", StringComparison.Ordinal)).ToList())
                    copy[section]!.AsObject().Remove(key);
            return copy;
        }
        var firehose = WithoutDelivery(cdk.Default);
        var lambda = WithoutDelivery(cdk.Lambda);
        Assert.True(JsonNode.DeepEquals(firehose, lambda), "the templates differ outside the delivery resources");
        // And delivery differs: Firehose on one side, DeliverToS3 on the other.
        Assert.Contains(cdk.Default.Resources, r => r.Key.StartsWith("RetailDelivery", StringComparison.Ordinal) && (string?)r.Value!["Type"] == "AWS::KinesisFirehose::DeliveryStream");
        Assert.Contains(cdk.Lambda.Resources, r => r.Key.StartsWith("RetailDelivery", StringComparison.Ordinal) && (string?)r.Value!["Type"] == "AWS::Lambda::Function");
    }

    [Fact]
    public void Alarms_EveryConsumer_ErrorsIteratorAgeAndFailureQueueDepth()
    {
        foreach (var synth in cdk.All)
        {
            var alarms = synth.OfType("AWS::CloudWatch::Alarm").Select(a => a.Properties).ToArray();
            foreach (var (functionId, _) in synth.OfType("AWS::Lambda::Function"))
            {
                var mine = alarms.Where(a => a["Dimensions"]?.AsArray().Any(x => (string?)x!["Value"]!["Ref"] == functionId) == true).ToArray();
                Assert.Contains(mine, a => (string?)a["MetricName"] == "Errors" && (double?)a["Threshold"] == 0 && (string?)a["Statistic"] == "Sum");
                bool consumer = synth.OfType("AWS::Lambda::EventSourceMapping").Any(m => (string?)m.Properties["FunctionName"]!["Ref"] == functionId);
                Assert.Equal(consumer, mine.Any(a => (string?)a["MetricName"] == "IteratorAge"));
            }
            foreach (var (queueId, _) in synth.OfType("AWS::SQS::Queue"))
                Assert.Contains(alarms, a => (string?)a["MetricName"] == "ApproximateNumberOfMessagesVisible" && (double?)a["Threshold"] == 1
                    && (string?)a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                    && (string?)a["Dimensions"]![0]!["Value"]!["Fn::GetAtt"]![0] == queueId);
            Assert.All(alarms, a => Assert.Equal("notBreaching", (string?)a["TreatMissingData"]));
        }
    }

    /// <summary>"RetailCompactionLogsF924A7E4.Arn" → "RetailCompactionLogs": grants compared without CDK's hashes.</summary>
    private static string WithoutHash(string grant) =>
        System.Text.RegularExpressions.Regex.Replace(grant, "([A-Za-z]+)[0-9A-F]{8}(\\.Arn)?$", "$1");
}
