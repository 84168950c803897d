using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KinesisFirehose;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.OpenSearchService;
using Amazon.CDK.AWS.S3;
using Constructs;
using Retail.Sinks.Athena;
using Retail.Storage;
using KinesisStream = Amazon.CDK.AWS.Kinesis.Stream;
using KinesisStreamProps = Amazon.CDK.AWS.Kinesis.StreamProps;
using StreamEncryption = Amazon.CDK.AWS.Kinesis.StreamEncryption;
using StreamMode = Amazon.CDK.AWS.Kinesis.StreamMode;

namespace Retail.Hosting.Cdk;

/// <summary>
/// Retail's pipeline on AWS: the encrypted Kinesis stream; the lake bucket; delivery from the stream into the lake (Firehose
/// with the workshop's prefixes and buffering, or the <c>DeliverToS3</c> Lambda); the Glue database with the lake's two
/// tables and an Athena work group; the OpenSearch domain and the <c>UpsertToES</c> Lambda on the stream; the hourly
/// <c>MergeSmallFiles</c> Lambda; alarms and outputs. The functions run the Lambda host's AOT zip on <c>provided.al2023</c>.
/// Every role is granted only the actions it uses on the resources it uses; no custom resources are created.
/// </summary>
public sealed partial class RetailPipeline : Construct
{
    /// <summary>A placeholder lake root the catalog is generated with; the bucket's name token replaces it afterwards (a
    /// token cannot pass the catalog's location check).</summary>
    private const string PlaceholderRoot = "s3://retail-cdk-placeholder-root/";

    private readonly Code _code;
    private readonly RetailLakeDefinition _lake;

    /// <summary>Creates the pipeline. Throws <see cref="ArgumentException"/> naming every invalid prop before any resource is created.</summary>
    public RetailPipeline(Construct scope, string id, RetailPipelineProps props) : base(scope, Checked(id, props))
    {
        var lake = props.Lake.Clone();

        Stream = new KinesisStream(this, "Stream", new KinesisStreamProps
        {
            StreamName = props.StreamName,
            StreamMode = props.ShardCount is null ? StreamMode.ON_DEMAND : StreamMode.PROVISIONED,
            ShardCount = props.ShardCount,
            Encryption = StreamEncryption.MANAGED,
            RetentionPeriod = Duration.Hours(props.StreamRetentionHours),
        });
        // A kept stream would bill on and make the next deploy of the same name fail; its records are in the lake.
        Stream.ApplyRemovalPolicy(props.StreamRemovalPolicy);

        Bucket = new Bucket(this, "Lake", new BucketProps
        {
            Encryption = BucketEncryption.S3_MANAGED,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            EnforceSSL = true,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            RemovalPolicy = props.LakeRemovalPolicy,
            LifecycleRules =
            [
                new LifecycleRule { Id = "errors", Prefix = lake.ErrorPrefix, Expiration = Duration.Days(props.ErrorRetentionDays) },
                new LifecycleRule { Id = "athena-results", Prefix = props.AthenaResultsPrefix, Expiration = Duration.Days(props.AthenaResultsRetentionDays) },
                new LifecycleRule { Id = "abort-incomplete-multipart-uploads", AbortIncompleteMultipartUploadAfter = Duration.Days(1) },
            ],
        });

        _code = props.LambdaCode ?? Code.FromAsset(Path.GetFullPath(props.LambdaZipPath!));
        _lake = lake;
        var delivery = new Construct(this, "Delivery");
        if (props.Delivery == RetailDelivery.Firehose)
            DeliveryStream = CreateFirehose(delivery, props, lake);
        else
            DeliverToS3 = CreateDeliverToS3(delivery, props);
        (Database, JsonTable, ParquetTable) = CreateCatalog(new Construct(this, "Catalog"), props);
        AthenaResultsLocation = $"s3://{Bucket.BucketName}/{props.AthenaResultsPrefix}";
        WorkGroup = CreateWorkGroup(this, "WorkGroup", props.WorkGroupName, enforce: true, props);

        // UpsertToES's role comes first: the domain names it (its master user), and the function names the domain (ES_HOST).
        var speedLayer = new Construct(this, "SpeedLayer");
        var upsertRole = FunctionRole(speedLayer, UpsertToESHandler, UpsertDescription);
        (SearchDomain, SearchEndpoint) = CreateSearch(new Construct(this, "Search"), props, upsertRole, out var network);
        UpsertToES = CreateUpsertToES(speedLayer, props, upsertRole, network);
        SearchSecurityGroup = network?.DomainSecurityGroup;
        MergeSmallFiles = CreateMergeSmallFiles(new Construct(this, "Compaction"), props);

        CreateAlarms(new Construct(this, "Alarms"), props);

        Output("StreamName", Stream.StreamName, "The Kinesis stream: retail produce --service-name kinesis --stream-name <this>");
        Output("StreamArn", Stream.StreamArn, "The Kinesis stream's ARN");
        if (DeliveryStream is not null) Output("DeliveryStreamName", DeliveryStream.Ref, "The Firehose delivery stream");
        if (DeliverToS3 is not null) Output("DeliveryFunctionName", DeliverToS3.FunctionName, "The DeliverToS3 function");
        Output("LakeBucket", Bucket.BucketName, "The lake bucket");
        Output("LakeUri", $"s3://{Bucket.BucketName}/", "The lake's root");
        Output("GlueDatabase", props.DatabaseName, "The Glue database: retail query --engine athena --database <this>");
        Output("AthenaWorkGroup", WorkGroup.Ref, "The Athena work group: retail query --work-group <this>");
        Output("AthenaResults", AthenaResultsLocation, "Where the work group writes results: retail query --output-location <this>");
        Output("OpenSearchEndpoint", $"https://{SearchEndpoint}", "The OpenSearch domain's endpoint: retail upsert --opensearch-url <this>, or ES_HOST");
        Output("UpsertToESName", UpsertToES.FunctionName, "The UpsertToES function (the speed layer)");
        Output("UpsertToESRoleArn", UpsertToES.Role!.RoleArn, "UpsertToES's role: the fine-grained access control master unless SearchMasterUserArn is set");
        Output("MergeSmallFilesName", MergeSmallFiles.FunctionName, "The MergeSmallFiles function (hourly compaction)");
    }

    /// <summary>The Kinesis data stream producers write to.</summary>
    public Amazon.CDK.AWS.Kinesis.IStream Stream { get; }

    /// <summary>The lake bucket.</summary>
    public IBucket Bucket { get; }

    /// <summary>The Firehose delivery stream reading <see cref="Stream"/> into the lake (null with <see cref="RetailDelivery.Lambda"/>).</summary>
    public CfnDeliveryStream? DeliveryStream { get; }

    /// <summary>The DeliverToS3 function reading <see cref="Stream"/> into the lake (null with <see cref="RetailDelivery.Firehose"/>).</summary>
    public IFunction? DeliverToS3 { get; }

    /// <summary>The OpenSearch domain (the speed layer).</summary>
    public CfnDomain SearchDomain { get; }

    /// <summary>In VPC mode, the domain's security group (it admits UpsertToES on 443); add an ingress rule for your own readers,
    /// such as <c>pipeline.SearchSecurityGroup.AddIngressRule(readers, Port.Tcp(443))</c>. Null with a public endpoint.</summary>
    public Amazon.CDK.AWS.EC2.ISecurityGroup? SearchSecurityGroup { get; }

    /// <summary>The domain's endpoint host name.</summary>
    public string SearchEndpoint { get; }

    /// <summary>The UpsertToES function on <see cref="Stream"/>.</summary>
    public IFunction UpsertToES { get; }

    /// <summary>The MergeSmallFiles function, run hourly at five past.</summary>
    public IFunction MergeSmallFiles { get; }

    /// <summary>The Glue database.</summary>
    public CfnDatabase Database { get; }

    /// <summary>The JSON table over the delivered objects.</summary>
    public CfnTable JsonTable { get; }

    /// <summary>The Parquet table over the compacted hours.</summary>
    public CfnTable ParquetTable { get; }

    /// <summary>The Athena work group.</summary>
    public CfnWorkGroup WorkGroup { get; }

    /// <summary>The work group's s3:// result location.</summary>
    public string AthenaResultsLocation { get; }

    /// <summary>An Athena work group (engine 3, CloudWatch metrics) whose results go to the lake's results prefix, encrypted.</summary>
    private CfnWorkGroup CreateWorkGroup(Construct scope, string id, string name, bool enforce, RetailPipelineProps props, string? description = null) =>
        new(scope, id, new CfnWorkGroupProps
        {
            Name = name,
            Description = description,
            RecursiveDeleteOption = true,
            WorkGroupConfiguration = new CfnWorkGroup.WorkGroupConfigurationProperty
            {
                EnforceWorkGroupConfiguration = enforce,
                PublishCloudWatchMetricsEnabled = true,
                EngineVersion = new CfnWorkGroup.EngineVersionProperty { SelectedEngineVersion = "Athena engine version 3" },
                ResultConfiguration = new CfnWorkGroup.ResultConfigurationProperty
                {
                    OutputLocation = $"s3://{Bucket.BucketName}/{props.AthenaResultsPrefix}",
                    EncryptionConfiguration = new CfnWorkGroup.EncryptionConfigurationProperty { EncryptionOption = "SSE_S3" },
                },
            },
        });

    private CfnDeliveryStream CreateFirehose(Construct scope, RetailPipelineProps props, RetailLakeDefinition lake)
    {
        var logGroup = new LogGroup(scope, "Logs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY });
        const string logStreamName = "DestinationDelivery";
        _ = new LogStream(scope, "DeliveryLogStream", new LogStreamProps { LogGroup = logGroup, LogStreamName = logStreamName, RemovalPolicy = RemovalPolicy.DESTROY });
        string logStreamArn = Stack.Of(this).FormatArn(new ArnComponents
        {
            Service = "logs", Resource = "log-group", ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
            ResourceName = $"{logGroup.LogGroupName}:log-stream:{logStreamName}",
        });

        var role = new Role(scope, "Role", new RoleProps
        {
            Description = "Firehose: reads the Retail stream and writes the lake's JSON and error prefixes",
            AssumedBy = new PrincipalWithConditions(new ServicePrincipal("firehose.amazonaws.com"), new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Aws.ACCOUNT_ID },
            }),
        });
        var policy = new Policy(scope, "Policy", new PolicyProps
        {
            Roles = [role],
            Statements =
            [
                Allow(["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"], [Stream.StreamArn]),
                Allow(["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [Bucket.BucketArn]),
                Allow(["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], [Bucket.ArnForObjects(lake.JsonPrefix + "*"), Bucket.ArnForObjects(lake.ErrorPrefix + "*")]),
                Allow(["logs:PutLogEvents"], [logStreamArn]),
            ],
        });

        var firehose = new CfnDeliveryStream(scope, "Firehose", new CfnDeliveryStreamProps
        {
            DeliveryStreamName = props.DeliveryStreamName,
            DeliveryStreamType = "KinesisStreamAsSource",
            KinesisStreamSourceConfiguration = new CfnDeliveryStream.KinesisStreamSourceConfigurationProperty { KinesisStreamArn = Stream.StreamArn, RoleArn = role.RoleArn },
            // No server-side encryption input: Firehose refuses it with a Kinesis source; the stream itself is encrypted.
            ExtendedS3DestinationConfiguration = new CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty
            {
                BucketArn = Bucket.BucketArn,
                RoleArn = role.RoleArn,
                Prefix = lake.JsonPrefixTemplate,
                ErrorOutputPrefix = lake.ErrorPrefixTemplate,
                BufferingHints = new CfnDeliveryStream.BufferingHintsProperty { SizeInMBs = props.BufferSizeMiB, IntervalInSeconds = props.BufferIntervalSeconds },
                CompressionFormat = "UNCOMPRESSED",
                CloudWatchLoggingOptions = new CfnDeliveryStream.CloudWatchLoggingOptionsProperty { Enabled = true, LogGroupName = logGroup.LogGroupName, LogStreamName = logStreamName },
            },
        });
        // Firehose checks at creation that its role can already read the stream.
        firehose.Node.AddDependency(policy);

        var freshness = new Metric(new MetricProps
        {
            Namespace = "AWS/Firehose", MetricName = "DeliveryToS3.DataFreshness", Statistic = "Maximum", Period = Duration.Minutes(1),
            DimensionsMap = new Dictionary<string, string> { ["DeliveryStreamName"] = firehose.Ref },
        });
        AddAlarm(scope, "DataFreshness", props, freshness, 900, "Firehose holds data older than 15 minutes that it has not delivered to the lake.");
        return firehose;
    }

    private (CfnDatabase, CfnTable, CfnTable) CreateCatalog(Construct scope, RetailPipelineProps props)
    {
        var database = new CfnDatabase(scope, "Database", new CfnDatabaseProps
        {
            CatalogId = Aws.ACCOUNT_ID,
            DatabaseInput = new CfnDatabase.DatabaseInputProperty { Name = props.DatabaseName, Description = "Retail's lake (RetailPipeline)" },
        });
        var tables = RetailCatalogTables.From(props.Catalog(PlaceholderRoot));
        string root = $"s3://{Bucket.BucketName}/";
        string Real(string s) => s.Replace(PlaceholderRoot, root, StringComparison.Ordinal);
        static CfnTable.ColumnProperty[] Columns(IEnumerable<KeyValuePair<string, string>> columns) =>
            [.. columns.Select(c => new CfnTable.ColumnProperty { Name = c.Key, Type = c.Value })];
        CfnTable Table(RetailCatalogTable t)
        {
            var table = new CfnTable(scope, t.Name, new CfnTableProps
            {
                CatalogId = Aws.ACCOUNT_ID,
                DatabaseName = props.DatabaseName,
                TableInput = new CfnTable.TableInputProperty
                {
                    Name = t.Name,
                    TableType = "EXTERNAL_TABLE",
                    PartitionKeys = Columns(t.PartitionKeys),
                    Parameters = t.Parameters.ToDictionary(p => p.Key, p => (object)Real(p.Value), StringComparer.Ordinal),
                    StorageDescriptor = new CfnTable.StorageDescriptorProperty
                    {
                        Location = Real(t.Location),
                        Columns = Columns(t.Columns),
                        InputFormat = t.InputFormat,
                        OutputFormat = t.OutputFormat,
                        SerdeInfo = new CfnTable.SerdeInfoProperty
                        {
                            SerializationLibrary = t.SerDe,
                            Parameters = t.SerDeParameters.ToDictionary(p => p.Key, p => (object)p.Value, StringComparer.Ordinal),
                        },
                    },
                },
            });
            table.AddDependency(database);
            return table;
        }
        return (database, Table(tables[0]), Table(tables[1]));
    }

    private void CreateAlarms(Construct scope, RetailPipelineProps props)
    {
        var iteratorAge = Stream.MetricGetRecordsIteratorAgeMilliseconds(new MetricOptions { Statistic = "Maximum", Period = Duration.Minutes(1) });
        AddAlarm(scope, "StreamIteratorAge", props, iteratorAge, props.IteratorAgeAlarm.TotalMilliseconds,
            "The oldest record in the Retail stream has waited longer than the threshold: a consumer is falling behind.");
    }

    /// <summary>An alarm that is OK while the metric is missing, notifying <see cref="RetailPipelineProps.AlarmTopic"/> if set.</summary>
    internal static Alarm AddAlarm(Construct scope, string id, RetailPipelineProps props, IMetric metric, double threshold, string description,
        ComparisonOperator comparison = ComparisonOperator.GREATER_THAN_THRESHOLD, int periods = 5)
    {
        var alarm = new Alarm(scope, id, new AlarmProps
        {
            AlarmDescription = description, Metric = metric, Threshold = threshold, ComparisonOperator = comparison,
            EvaluationPeriods = periods, DatapointsToAlarm = periods, TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        if (props.AlarmTopic is { } topic) alarm.AddAlarmAction(new SnsAction(topic));
        return alarm;
    }

    /// <summary>Validates <paramref name="props"/> before the base constructor adds this construct to its scope.</summary>
    private static string Checked(string id, RetailPipelineProps props)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (props.Validate() is { Count: > 0 } errors) throw new ArgumentException(string.Join(" ", errors), nameof(props));
        return id;
    }

    private static PolicyStatement Allow(string[] actions, string[] resources) =>
        new(new PolicyStatementProps { Effect = Effect.ALLOW, Actions = actions, Resources = resources });

    private void Output(string id, string value, string description) => Output(this, id, value, description);
}
