using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Lambda.Destinations;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SQS;
using Constructs;
using EventsLambdaTarget = Amazon.CDK.AWS.Events.Targets.LambdaFunction;
using EventsLambdaTargetProps = Amazon.CDK.AWS.Events.Targets.LambdaFunctionProps;
using Function = Amazon.CDK.AWS.Lambda.Function;

namespace Retail.Hosting.Cdk;

public sealed partial class RetailPipeline
{
    /// <summary>The Lambda host's handler names (<c>_HANDLER</c>).</summary>
    internal const string UpsertToESHandler = "UpsertToES", DeliverToS3Handler = "DeliverToS3", MergeSmallFilesHandler = "MergeSmallFiles";

    /// <summary>The consumer name DeliverToS3 checkpoints under (<c>_retail/checkpoints/&lt;stream&gt;/delivery-lambda/</c>).</summary>
    internal const string DeliveryConsumerName = "delivery-lambda";

    /// <summary>The MergeSmallFiles schedule: hourly at five past (the hour before has ended; five minutes cover objects in flight).</summary>
    public const string CompactionSchedule = "cron(5 * * * ? *)";

    /// <summary>One function of the Lambda host with its own role (no managed policies), log group and (for stream consumers) failure
    /// queue. The role may write only its own log group.</summary>
    private Function CreateFunction(Construct scope, string handler, string description, int memoryMiB, Duration timeout,
        Dictionary<string, string> environment, Action<FunctionProps>? configure = null, Role? role = null)
    {
        var logGroup = new LogGroup(scope, "Logs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY });
        role ??= FunctionRole(scope, handler, description);
        role.AddToPrincipalPolicy(Allow(["logs:CreateLogStream", "logs:PutLogEvents"], [logGroup.LogGroupArn]));
        environment["RETAIL_LAKE"] = $"s3://{Bucket.BucketName}";
        var props = new FunctionProps
        {
            Description = $"Retail {handler}: {description}",
            Runtime = Runtime.PROVIDED_AL2023,
            Architecture = Architecture.X86_64,
            Handler = handler,
            Code = _code,
            Role = role,
            LogGroup = logGroup,
            MemorySize = memoryMiB,
            Timeout = timeout,
            Environment = environment,
        };
        configure?.Invoke(props);
        return new Function(scope, "Function", props);
    }

    /// <summary>A function's role: Lambda may assume it; it has no managed policies.</summary>
    private static Role FunctionRole(Construct scope, string handler, string description) => new(scope, "Role", new RoleProps
    {
        Description = $"{handler}: {description}",
        AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
    });

    /// <summary>The queue a consumer's event source sends what still fails after its retries (the batch's shard and sequence range;
    /// the records stay in the stream for its retention).</summary>
    private static Queue FailureQueue(Construct scope, string id = "Failures") => new(scope, id, new QueueProps
    {
        Encryption = QueueEncryption.SQS_MANAGED,
        EnforceSSL = true,
        RetentionPeriod = Duration.Days(14),
    });

    /// <summary>A Kinesis event source that reports batch item failures, bisects a failing batch, retries a bounded number of times and
    /// sends what still fails to <paramref name="failures"/>.</summary>
    private void Consume(Function function, Queue failures, RetailPipelineProps props, int batchSize, int parallelization, Duration? window) =>
        function.AddEventSource(new KinesisEventSource(Stream, new KinesisEventSourceProps
        {
            StartingPosition = props.StartingPosition,
            BatchSize = batchSize,
            MaxBatchingWindow = window,
            ParallelizationFactor = parallelization,
            ReportBatchItemFailures = true,
            BisectBatchOnError = true,
            RetryAttempts = props.RetryAttempts,
            OnFailure = new SqsDlq(failures),
        }));

    /// <summary>Alarms of a stream consumer: its errors, its iterator age and its failure queue's depth.</summary>
    private static void ConsumerAlarms(Construct scope, RetailPipelineProps props, Function function, Queue? failures, bool readsStream)
    {
        AddAlarm(scope, "Errors", props, function.MetricErrors(new MetricOptions { Statistic = "Sum", Period = Duration.Minutes(5) }), 0,
            $"{function.Node.Id} failed at least once in 5 minutes (see its log group).", periods: 1);
        if (readsStream)
            AddAlarm(scope, "IteratorAge", props, function.Metric("IteratorAge", new MetricOptions { Statistic = "Maximum", Period = Duration.Minutes(1) }),
                props.IteratorAgeAlarm.TotalMilliseconds, "The function's event source is falling behind the stream.");
        if (failures is not null)
            AddAlarm(scope, "FailureQueueDepth", props, failures.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Statistic = "Maximum", Period = Duration.Minutes(5) }),
                1, "A batch failed after every retry: its shard and sequence range are in the failure queue.",
                ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, periods: 1);
    }

    private Function CreateDeliverToS3(Construct scope, RetailPipelineProps props)
    {
        var function = CreateFunction(scope, DeliverToS3Handler, "delivers the stream into the lake by event time, exactly once per position",
            1024, Duration.Minutes(5), new() { ["RETAIL_CONSUMER_NAME"] = DeliveryConsumerName });
        var role = function.Role!;
        // ListBucket: without it a checkpoint that does not exist yet reads as 403 instead of 404.
        role.AddToPrincipalPolicy(Allow(["s3:ListBucket"], [Bucket.BucketArn]));
        role.AddToPrincipalPolicy(Allow(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            [Bucket.ArnForObjects(_lake.JsonPrefix + "*"), Bucket.ArnForObjects(_lake.ErrorPrefix + "*"), Bucket.ArnForObjects(_lake.ControlPrefix + "checkpoints/*")]));
        var failures = FailureQueue(scope);
        // Parallelization 1: the checkpoint is per shard, two concurrent batches of one shard would race for it.
        Consume(function, failures, props, props.DeliveryBatchSize, 1, Duration.Seconds(props.DeliveryBatchingWindowSeconds));
        ConsumerAlarms(new Construct(scope, "Alarms"), props, function, failures, readsStream: true);
        Output(scope, "DeliveryFailureQueue", failures.QueueUrl, "DeliverToS3's on-failure queue (batches that failed every retry)");
        return function;
    }

    private const string UpsertDescription = "upserts the stream into OpenSearch";

    private Function CreateUpsertToES(Construct scope, RetailPipelineProps props, Role role, SearchNetworkResources? network)
    {
        var function = CreateFunction(scope, UpsertToESHandler, UpsertDescription, 512, Duration.Minutes(2), new()
        {
            ["ES_HOST"] = SearchEndpoint,
            ["ES_INDEX"] = props.SearchIndex,
            ["ES_AUTH"] = "sigv4",
            ["RETAIL_INDEX_TEMPLATE"] = "true",
        }, p =>
        {
            if (network is null) return;
            p.Vpc = network.Vpc;
            p.VpcSubnets = new SubnetSelection { Subnets = network.Subnets };
            p.SecurityGroups = [network.UpsertSecurityGroup];
        }, role);
        string domain = SearchDomainArn(props);
        role.AddToPrincipalPolicy(Allow(["es:ESHttpPost"], [$"{domain}/_bulk"]));
        role.AddToPrincipalPolicy(Allow(["es:ESHttpPut"], [$"{domain}/_index_template/{props.SearchIndex}-template"]));
        // Dead letters (undecodable records, documents the domain rejects) go to the error prefix as Firehose error records.
        role.AddToPrincipalPolicy(Allow(["s3:PutObject", "s3:AbortMultipartUpload"], [Bucket.ArnForObjects(_lake.ErrorPrefix + "*")]));
        if (network is not null)
        {
            // The function's network interfaces in the search subnets. Describe* has no resource-level permissions in EC2.
            var stack = Stack.Of(this);
            string Ec2(string resource) => stack.FormatArn(new ArnComponents { Service = "ec2", Resource = resource, ResourceName = "*" });
            string[] subnets = [.. network.Subnets.Select(s => stack.FormatArn(new ArnComponents { Service = "ec2", Resource = "subnet", ResourceName = s.SubnetId }))];
            string sg = stack.FormatArn(new ArnComponents { Service = "ec2", Resource = "security-group", ResourceName = network.UpsertSecurityGroup.SecurityGroupId });
            role.AddToPrincipalPolicy(Allow(["ec2:CreateNetworkInterface"], [Ec2("network-interface"), .. subnets, sg]));
            role.AddToPrincipalPolicy(Allow(["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"], [Ec2("network-interface")]));
            role.AddToPrincipalPolicy(Allow(["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], ["*"]));
        }
        var failures = FailureQueue(scope);
        Consume(function, failures, props, props.UpsertBatchSize, props.UpsertParallelizationFactor, window: null);
        ConsumerAlarms(new Construct(scope, "Alarms"), props, function, failures, readsStream: true);
        Output(scope, "UpsertFailureQueue", failures.QueueUrl, "UpsertToES's on-failure queue (batches that failed every retry)");
        return function;
    }

    private Function CreateMergeSmallFiles(Construct scope, RetailPipelineProps props)
    {
        bool athena = props.CompactionEngine == RetailCompactionEngine.Athena;
        var environment = new Dictionary<string, string> { ["COMPACTION_ENGINE"] = athena ? "athena" : "parquet" };
        string? workGroup = null;
        if (athena)
        {
            // Athena refuses a CTAS with external_location in a work group that enforces its settings (as the users' one does),
            // so the compactor has its own, which does not; its results go to the same encrypted, expiring prefix.
            workGroup = CreateWorkGroup(scope, "WorkGroup", props.CompactionWorkGroupName, enforce: false, props,
                "Retail MergeSmallFiles (Athena CTAS): external_location needs a work group that does not enforce its settings").Name;
            foreach (var (k, v) in AthenaCompactionEnvironment(props, workGroup)) environment[k] = v;
            Output(scope, "CompactionWorkGroup", workGroup, "MergeSmallFiles's Athena work group (CTAS with external_location)");
        }
        var failures = FailureQueue(scope);
        var function = CreateFunction(scope, MergeSmallFilesHandler, "compacts the hour before each run into Parquet",
            2048, Duration.Minutes(15), environment, p =>
            {
                // /tmp holds the hour's Parquet while it is written.
                p.EphemeralStorageSize = Size.Mebibytes(2048);
                p.ReservedConcurrentExecutions = props.CompactionReservedConcurrency;
                p.RetryAttempts = 2;
                p.MaxEventAge = Duration.Hours(6);
                p.OnFailure = new SqsDestination(failures);
            });
        var role = function.Role!;
        if (athena) GrantAthenaCompaction(role, props, workGroup!);
        else
        {
            role.AddToPrincipalPolicy(Allow(["s3:ListBucket"], [Bucket.BucketArn]));
            role.AddToPrincipalPolicy(Allow(["s3:GetObject"], [Bucket.ArnForObjects(_lake.JsonPrefix + "*")]));
            role.AddToPrincipalPolicy(Allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                [Bucket.ArnForObjects(_lake.ParquetPrefix + "*"), Bucket.ArnForObjects(_lake.CompactionManifestPrefix + "*")]));
        }
        _ = new Rule(scope, "Hourly", new RuleProps
        {
            Description = "MergeSmallFiles: hourly at five past, compacting the hour before",
            Schedule = Schedule.Expression(CompactionSchedule),
            Targets = [new EventsLambdaTarget(function, new EventsLambdaTargetProps { RetryAttempts = 2, MaxEventAge = Duration.Hours(1) })],
        });
        ConsumerAlarms(new Construct(scope, "Alarms"), props, function, failures, readsStream: false);
        Output(scope, "CompactionFailureQueue", failures.QueueUrl, "MergeSmallFiles's on-failure queue (runs that failed every retry)");
        return function;
    }

    /// <summary>The workshop's MergeSmallFiles variables for the Athena CTAS compactor over this lake.</summary>
    private Dictionary<string, string> AthenaCompactionEnvironment(RetailPipelineProps props, string workGroup) => new()
    {
        ["OLD_DATABASE"] = props.DatabaseName,
        ["OLD_TABLE_NAME"] = _lake.JsonTableName,
        ["NEW_DATABASE"] = props.DatabaseName,
        ["NEW_TABLE_NAME"] = _lake.ParquetTableName,
        ["WORK_GROUP"] = workGroup,
        ["OLD_TABLE_LOCATION_PREFIX"] = $"s3://{Bucket.BucketName}/{_lake.JsonPrefix}",
        ["OUTPUT_PREFIX"] = $"s3://{Bucket.BucketName}/{_lake.ParquetPrefix}",
        ["STAGING_OUTPUT_PREFIX"] = $"s3://{Bucket.BucketName}/{props.AthenaResultsPrefix}",
    };

    private void GrantAthenaCompaction(IRole role, RetailPipelineProps props, string workGroup)
    {
        var stack = Stack.Of(this);
        string Arn(string service, string resource, string name) => stack.FormatArn(new ArnComponents { Service = service, Resource = resource, ResourceName = name });
        string db = props.DatabaseName;
        role.AddToPrincipalPolicy(Allow(["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"],
            [Arn("athena", "workgroup", workGroup)]));
        role.AddToPrincipalPolicy(Allow(
            ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
             "glue:CreateTable", "glue:DeleteTable", "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition"],
            [stack.FormatArn(new ArnComponents { Service = "glue", Resource = "catalog" }), Arn("glue", "database", db),
             Arn("glue", "table", $"{db}/{_lake.JsonTableName}"), Arn("glue", "table", $"{db}/{_lake.ParquetTableName}"),
             Arn("glue", "table", $"{db}/tmp_{_lake.ParquetTableName}_*")]));
        // Athena's Glue integration checks the default database of the catalog before any statement (Athena user guide,
        // "Fine-grained access to databases and tables").
        role.AddToPrincipalPolicy(Allow(["glue:GetDatabase", "glue:CreateDatabase"],
            [stack.FormatArn(new ArnComponents { Service = "glue", Resource = "catalog" }), Arn("glue", "database", "default")]));
        role.AddToPrincipalPolicy(Allow(["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [Bucket.BucketArn]));
        role.AddToPrincipalPolicy(Allow(["s3:GetObject"], [Bucket.ArnForObjects(_lake.JsonPrefix + "*")]));
        // Athena reads the sources and writes the CTAS output and the results with the caller's credentials; it deletes nothing.
        role.AddToPrincipalPolicy(Allow(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            [Bucket.ArnForObjects(_lake.ParquetPrefix + "*"), Bucket.ArnForObjects(props.AthenaResultsPrefix + "*")]));
    }

    private static void Output(Construct scope, string id, string value, string description) =>
        new CfnOutput(scope, id, new CfnOutputProps { Value = value, Description = description }).OverrideLogicalId(LogicalId(scope, id));

    /// <summary>A readable output id, the one <c>cdk deploy</c> prints: the construct path below the stack without CDK's hashes
    /// (<c>RetailLakeBucket</c>, <c>RetailDeliveryDeliveryFailureQueue</c>).</summary>
    private static string LogicalId(Construct scope, string id)
    {
        var stack = Stack.Of(scope);
        var parts = scope.Node.Scopes.SkipWhile(s => s != stack).Skip(1).Select(s => s.Node.Id).Append(id);
        return string.Concat(parts.Select(p => new string([.. p.Where(char.IsAsciiLetterOrDigit)])));
    }
}
