using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.CDK;
using Retail.Sinks.Athena;
using Retail.Storage;

namespace Retail.Hosting.Cdk;

/// <summary>Which compactor writes the Parquet table: it decides how the table finds its hours.</summary>
public enum RetailCompactionEngine
{
    /// <summary>Retail's Parquet compactor writes hour folders: the Parquet table uses partition projection.</summary>
    Parquet,

    /// <summary>The Athena CTAS compactor registers each hour itself: the Parquet table has no projection.</summary>
    Athena,
}

/// <summary>How records get from the stream into the lake's JSON prefix.</summary>
public enum RetailDelivery
{
    /// <summary>Amazon Data Firehose reads the stream (the workshop's): objects partitioned by arrival time, 1 MiB / 60 s buffers.</summary>
    Firehose,

    /// <summary>The <c>DeliverToS3</c> Lambda on the stream: objects partitioned by event time (InvoiceDate), deterministic keys and a
    /// per-shard checkpoint, so a retried batch writes nothing twice.</summary>
    Lambda,
}

/// <summary>How the OpenSearch domain is reached.</summary>
public enum RetailSearchNetwork
{
    /// <summary>In a VPC (the default): a new two-AZ VPC with isolated subnets and an S3 gateway endpoint, or
    /// <see cref="RetailPipelineProps.SearchVpc"/>; only UpsertToES's security group may reach the domain on 443.</summary>
    Vpc,

    /// <summary>A public endpoint that answers only the addresses in <see cref="RetailPipelineProps.SearchAllowedCidrs"/>
    /// (and UpsertToES's role, which runs outside any VPC).</summary>
    PublicEndpoint,
}

/// <summary>The settings of <see cref="RetailPipeline"/>, validated at synth time (every message names the prop and its value).</summary>
public sealed partial class RetailPipelineProps
{
    /// <summary>The table names and prefixes (default: the workshop's).</summary>
    public RetailLakeDefinition Lake { get; set; } = new();

    /// <summary>The Kinesis data stream (default <c>retail-trans</c>; 1-128 of letters, digits and <c>_.-</c>).</summary>
    public string StreamName { get; set; } = "retail-trans";

    /// <summary>The Firehose delivery stream (default <c>retail-trans</c>; 1-64 of letters, digits and <c>_.-</c>).</summary>
    public string DeliveryStreamName { get; set; } = "retail-trans";

    /// <summary>Provisioned shards (1-10000); null (the default) makes the stream ON_DEMAND.</summary>
    public int? ShardCount { get; set; }

    /// <summary>The stream's retention in hours (24-8760, default 24).</summary>
    public int StreamRetentionHours { get; set; } = 24;

    /// <summary>Firehose's buffer size in MiB (1-128, default 1: the workshop's).</summary>
    public int BufferSizeMiB { get; set; } = 1;

    /// <summary>Firehose's buffer interval in seconds (0-900, default 60: the workshop's).</summary>
    public int BufferIntervalSeconds { get; set; } = 60;

    /// <summary>The Glue database (default <c>mydatabase</c>, the workshop's).</summary>
    public string DatabaseName { get; set; } = "mydatabase";

    /// <summary>The Athena work group (default <c>retail</c>; 1-128 of letters, digits and <c>._-</c>).</summary>
    public string WorkGroupName { get; set; } = "retail";

    /// <summary>With <see cref="RetailCompactionEngine.Athena"/>: MergeSmallFiles's own work group, <see cref="WorkGroupName"/> + <c>-compaction</c>.</summary>
    public string CompactionWorkGroupName => WorkGroupName + "-compaction";

    /// <summary>Where the work group writes query results in the lake bucket (default <c>athena-results/</c>; ends with <c>/</c>,
    /// overlaps no prefix of <see cref="Lake"/>).</summary>
    public string AthenaResultsPrefix { get; set; } = "athena-results/";

    /// <summary>Days objects under the error prefix are kept (1-3650, default 30).</summary>
    public int ErrorRetentionDays { get; set; } = 30;

    /// <summary>Days Athena results are kept (1-3650, default 7).</summary>
    public int AthenaResultsRetentionDays { get; set; } = 7;

    /// <summary>The first year partition projection serves (default 2000).</summary>
    public int ProjectionFirstYear { get; set; } = 2000;

    /// <summary>The last year partition projection serves (default 2099).</summary>
    public int ProjectionLastYear { get; set; } = 2099;

    /// <summary>Which compactor writes the Parquet table (default <see cref="RetailCompactionEngine.Parquet"/>).</summary>
    public RetailCompactionEngine CompactionEngine { get; set; } = RetailCompactionEngine.Parquet;

    /// <summary>How records reach the lake (default <see cref="RetailDelivery.Firehose"/>, the workshop's).</summary>
    public RetailDelivery Delivery { get; set; } = RetailDelivery.Firehose;

    /// <summary>The AOT zip the Lambda host publishes (<c>dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64</c>
    /// leaves it at <c>src/Retail.Hosting/Retail.Hosting.Lambda/bin/Release/net10.0/linux-x64/retail-lambda.zip</c>). Set this or
    /// <see cref="LambdaCode"/>, not both.</summary>
    public string? LambdaZipPath { get; set; }

    /// <summary>The functions' code from elsewhere (say <c>Code.FromBucket</c>): a zip with the Lambda host's <c>bootstrap</c> at its root.
    /// Set this or <see cref="LambdaZipPath"/>, not both.</summary>
    public Amazon.CDK.AWS.Lambda.Code? LambdaCode { get; set; }

    /// <summary>Where the Kinesis event sources start on a new mapping (default <c>TRIM_HORIZON</c>: nothing already in the stream is
    /// skipped; the workshop uses <c>LATEST</c>). <c>AT_TIMESTAMP</c> is not offered.</summary>
    public Amazon.CDK.AWS.Lambda.StartingPosition StartingPosition { get; set; } = Amazon.CDK.AWS.Lambda.StartingPosition.TRIM_HORIZON;

    /// <summary>How many times the event sources retry a failed batch before it goes to the function's on-failure queue (0-10000, default 3;
    /// bisecting a failed batch does not count).</summary>
    public int RetryAttempts { get; set; } = 3;

    /// <summary>UpsertToES's batch size (1-10000, default 1000: the workshop's).</summary>
    public int UpsertBatchSize { get; set; } = 1000;

    /// <summary>Concurrent UpsertToES batches per shard (1-10, default 1). Its document ids come from the source position, so more is safe.</summary>
    public int UpsertParallelizationFactor { get; set; } = 1;

    /// <summary>DeliverToS3's batch size (1-10000, default 10000). Its parallelization factor is always 1 (its checkpoint is per shard).</summary>
    public int DeliveryBatchSize { get; set; } = 10_000;

    /// <summary>How long DeliverToS3's event source gathers records before invoking (0-300 seconds, default 60: Firehose's interval).</summary>
    public int DeliveryBatchingWindowSeconds { get; set; } = 60;

    /// <summary>MergeSmallFiles's reserved concurrency (default 1: one compaction at a time; null leaves it unreserved, for accounts whose
    /// concurrency limit cannot spare a reservation). Two runs of one hour never overlap in any case (the hour's lock).</summary>
    public int? CompactionReservedConcurrency { get; set; } = 1;

    /// <summary>How the OpenSearch domain is reached (default <see cref="RetailSearchNetwork.Vpc"/>).</summary>
    public RetailSearchNetwork SearchNetwork { get; set; } = RetailSearchNetwork.Vpc;

    /// <summary>With <see cref="RetailSearchNetwork.Vpc"/>: your VPC (its private or isolated subnets must reach S3, for UpsertToES's error
    /// output). Null (the default) creates one.</summary>
    public Amazon.CDK.AWS.EC2.IVpc? SearchVpc { get; set; }

    /// <summary>With <see cref="RetailSearchNetwork.PublicEndpoint"/>: the IPv4/IPv6 ranges (CIDR) that may reach the domain; at least one,
    /// and not the whole internet.</summary>
    public IReadOnlyList<string> SearchAllowedCidrs { get; set; } = [];

    /// <summary>The OpenSearch domain's name (default <c>retail</c>; 3-28 of lower-case letters, digits and '-', starting with a letter).</summary>
    public string SearchDomainName { get; set; } = "retail";

    /// <summary>The domain's engine (default <c>OpenSearch_2.19</c>; <c>OpenSearch_</c> and a version).</summary>
    public string SearchEngineVersion { get; set; } = "OpenSearch_2.19";

    /// <summary>The data nodes' instance type (default <c>t3.medium.search</c>; ends with <c>.search</c>).</summary>
    public string SearchInstanceType { get; set; } = "t3.medium.search";

    /// <summary>Data nodes (1, or an even number up to 80 spread over two zones; default 1).</summary>
    public int SearchInstanceCount { get; set; } = 1;

    /// <summary>Each data node's gp3 volume in GiB (10-1024, default 10; the instance type sets the real maximum: 200 for
    /// <c>t3.medium.search</c>, which CloudFormation reports at deploy).</summary>
    public int SearchVolumeGiB { get; set; } = 10;

    /// <summary>The index UpsertToES writes (default <c>retail</c>, the workshop's ES_INDEX; lower-case letters, digits, '-' and '_').</summary>
    public string SearchIndex { get; set; } = "retail";

    /// <summary>The fine-grained access control master user: an IAM role or user ARN. Null (the default) makes UpsertToES's role the master
    /// (it can write at once; map your own users through the security plugin with that role's credentials).</summary>
    public string? SearchMasterUserArn { get; set; }

    /// <summary>What happens to the stream when the stack is deleted (default <see cref="RemovalPolicy.DESTROY"/>: a kept stream bills on,
    /// and the next deploy of the same name fails; what it held is in the lake).</summary>
    public RemovalPolicy StreamRemovalPolicy { get; set; } = RemovalPolicy.DESTROY;

    /// <summary>What happens to the lake bucket when the stack is deleted (default <see cref="RemovalPolicy.RETAIN"/>: the data stays).</summary>
    public RemovalPolicy LakeRemovalPolicy { get; set; } = RemovalPolicy.RETAIN;

    /// <summary>An SNS topic the alarms notify (default none: the alarms only change state).</summary>
    public Amazon.CDK.AWS.SNS.ITopic? AlarmTopic { get; set; }

    /// <summary>How old the oldest unread record may get before the iterator-age alarm fires (1 minute to 7 days, default 5 minutes).</summary>
    public TimeSpan IteratorAgeAlarm { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Every problem, each naming the prop and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        const string P = nameof(RetailPipelineProps);
        var errors = new List<string>();
        if (Lake is null) errors.Add($"{P}.{nameof(Lake)} is null.");
        else errors.AddRange(Catalog("s3://retail-validate/").Validate().Select(e => e
            .Replace($"{nameof(AthenaCatalogOptions)}.{nameof(AthenaCatalogOptions.Database)}", $"{P}.{nameof(DatabaseName)}", StringComparison.Ordinal)
            .Replace($"{nameof(AthenaCatalogOptions)}.", $"{P}.", StringComparison.Ordinal)
            .Replace($"{nameof(RetailLakeDefinition)}.", $"{P}.{nameof(Lake)}.", StringComparison.Ordinal)));
        if (StreamName is null || !Name128().IsMatch(StreamName))
            errors.Add($"{P}.{nameof(StreamName)} '{StreamName}' is not 1-128 letters, digits, '_', '.' or '-'.");
        if (DeliveryStreamName is null || DeliveryStreamName.Length > 64 || !Name128().IsMatch(DeliveryStreamName))
            errors.Add($"{P}.{nameof(DeliveryStreamName)} '{DeliveryStreamName}' is not 1-64 letters, digits, '_', '.' or '-'.");
        Range(errors, nameof(ShardCount), ShardCount, 1, 10_000, "null (ON_DEMAND) or ");
        Range(errors, nameof(StreamRetentionHours), StreamRetentionHours, 24, 8760);
        Range(errors, nameof(BufferSizeMiB), BufferSizeMiB, 1, 128);
        Range(errors, nameof(BufferIntervalSeconds), BufferIntervalSeconds, 0, 900);
        Range(errors, nameof(ErrorRetentionDays), ErrorRetentionDays, 1, 3650);
        Range(errors, nameof(AthenaResultsRetentionDays), AthenaResultsRetentionDays, 1, 3650);
        if (WorkGroupName is null || !Name128().IsMatch(WorkGroupName))
            errors.Add($"{P}.{nameof(WorkGroupName)} '{WorkGroupName}' is not 1-128 letters, digits, '_', '.' or '-'.");
        else if (CompactionEngine == RetailCompactionEngine.Athena && CompactionWorkGroupName.Length > 128)
            errors.Add($"{P}.{nameof(WorkGroupName)} '{WorkGroupName}' is too long for the compaction work group '{CompactionWorkGroupName}' (128 at most).");
        if (AthenaResultsPrefix is null || !ResultsPrefix().IsMatch(AthenaResultsPrefix))
            errors.Add($"{P}.{nameof(AthenaResultsPrefix)} '{AthenaResultsPrefix}' is not a prefix of letters, digits and !-_.*()/ ending with '/' (and not starting with one).");
        else if (Lake is not null)
            foreach (var (name, value) in new[] { (nameof(Lake.JsonPrefix), Lake.JsonPrefix), (nameof(Lake.ErrorPrefix), Lake.ErrorPrefix), (nameof(Lake.ParquetPrefix), Lake.ParquetPrefix), (nameof(Lake.ControlPrefix), Lake.ControlPrefix) })
                if (value is not null && (value.StartsWith(AthenaResultsPrefix, StringComparison.Ordinal) || AthenaResultsPrefix.StartsWith(value, StringComparison.Ordinal)))
                    errors.Add($"{P}.{nameof(AthenaResultsPrefix)} '{AthenaResultsPrefix}' and {P}.{nameof(Lake)}.{name} '{value}' must not contain one another.");
        if (IteratorAgeAlarm < TimeSpan.FromMinutes(1) || IteratorAgeAlarm > TimeSpan.FromDays(7))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{P}.{nameof(IteratorAgeAlarm)} {IteratorAgeAlarm} is not from 1 minute to 7 days."));
        if (!Enum.IsDefined(CompactionEngine)) errors.Add($"{P}.{nameof(CompactionEngine)} '{CompactionEngine}' is not a {nameof(RetailCompactionEngine)}.");
        if (!Enum.IsDefined(Delivery)) errors.Add($"{P}.{nameof(Delivery)} '{Delivery}' is not a {nameof(RetailDelivery)}.");
        ValidateLambda(errors);
        ValidateSearch(errors);
        if (StreamRemovalPolicy is not (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE))
            errors.Add($"{P}.{nameof(StreamRemovalPolicy)} '{StreamRemovalPolicy}' is not RETAIN, DESTROY or RETAIN_ON_UPDATE_OR_DELETE.");
        if (LakeRemovalPolicy is not (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY or RemovalPolicy.SNAPSHOT or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE))
            errors.Add($"{P}.{nameof(LakeRemovalPolicy)} '{LakeRemovalPolicy}' is not a RemovalPolicy.");
        return errors;
    }

    private void ValidateLambda(List<string> errors)
    {
        const string P = nameof(RetailPipelineProps);
        const string Publish = "dotnet publish src/Retail.Hosting/Retail.Hosting.Lambda -c Release -r linux-x64";
        if (LambdaZipPath is null && LambdaCode is null)
            errors.Add($"{P}.{nameof(LambdaZipPath)} and {P}.{nameof(LambdaCode)} are both unset: set {nameof(LambdaZipPath)} to the zip `{Publish}` leaves at src/Retail.Hosting/Retail.Hosting.Lambda/bin/Release/net10.0/linux-x64/retail-lambda.zip.");
        else if (LambdaZipPath is not null && LambdaCode is not null)
            errors.Add($"{P}.{nameof(LambdaZipPath)} and {P}.{nameof(LambdaCode)} are both set: set one.");
        else if (LambdaZipPath is { } zip && LambdaZip.Check(zip) is { } problem)
            errors.Add($"{P}.{nameof(LambdaZipPath)} '{zip}' {problem}: run `{Publish}`.");
        if (StartingPosition is not (Amazon.CDK.AWS.Lambda.StartingPosition.TRIM_HORIZON or Amazon.CDK.AWS.Lambda.StartingPosition.LATEST))
            errors.Add($"{P}.{nameof(StartingPosition)} '{StartingPosition}' is not TRIM_HORIZON or LATEST.");
        Range(errors, nameof(RetryAttempts), RetryAttempts, 0, 10_000);
        Range(errors, nameof(UpsertBatchSize), UpsertBatchSize, 1, 10_000);
        Range(errors, nameof(UpsertParallelizationFactor), UpsertParallelizationFactor, 1, 10);
        Range(errors, nameof(DeliveryBatchSize), DeliveryBatchSize, 1, 10_000);
        Range(errors, nameof(DeliveryBatchingWindowSeconds), DeliveryBatchingWindowSeconds, 0, 300);
        Range(errors, nameof(CompactionReservedConcurrency), CompactionReservedConcurrency, 1, 1000, "null (unreserved) or ");
    }

    private void ValidateSearch(List<string> errors)
    {
        const string P = nameof(RetailPipelineProps);
        if (!Enum.IsDefined(SearchNetwork)) errors.Add($"{P}.{nameof(SearchNetwork)} '{SearchNetwork}' is not a {nameof(RetailSearchNetwork)}.");
        var cidrs = SearchAllowedCidrs ?? [];
        if (SearchNetwork == RetailSearchNetwork.PublicEndpoint)
        {
            if (cidrs.Count == 0)
                errors.Add($"{P}.{nameof(SearchAllowedCidrs)} is empty: a public endpoint needs at least one allowed address range (CIDR), such as 203.0.113.0/24.");
            foreach (string cidr in cidrs)
                if (cidr is null || !System.Net.IPNetwork.TryParse(cidr, out var network) || network.ToString() != cidr.Trim())
                    errors.Add($"{P}.{nameof(SearchAllowedCidrs)} '{cidr}' is not a CIDR range such as 203.0.113.0/24 (no host bits set).");
                else if (network.PrefixLength == 0)
                    errors.Add($"{P}.{nameof(SearchAllowedCidrs)} '{cidr}' is the whole internet: name the ranges that may reach the domain.");
            if (SearchVpc is not null)
                errors.Add($"{P}.{nameof(SearchVpc)} is set but {P}.{nameof(SearchNetwork)} is {nameof(RetailSearchNetwork.PublicEndpoint)}.");
        }
        else if (cidrs.Count > 0)
            errors.Add($"{P}.{nameof(SearchAllowedCidrs)} is set but {P}.{nameof(SearchNetwork)} is {SearchNetwork}: allowed ranges apply to a public endpoint only.");
        if (SearchDomainName is null || !DomainName().IsMatch(SearchDomainName))
            errors.Add($"{P}.{nameof(SearchDomainName)} '{SearchDomainName}' is not 3-28 lower-case letters, digits or '-' starting with a letter.");
        if (SearchEngineVersion is null || !EngineVersion().IsMatch(SearchEngineVersion))
            errors.Add($"{P}.{nameof(SearchEngineVersion)} '{SearchEngineVersion}' is not OpenSearch_<major>.<minor> (such as OpenSearch_2.19).");
        if (SearchInstanceType is null || !InstanceType().IsMatch(SearchInstanceType))
            errors.Add($"{P}.{nameof(SearchInstanceType)} '{SearchInstanceType}' is not an OpenSearch instance type such as t3.medium.search.");
        if (SearchInstanceCount < 1 || SearchInstanceCount > 80 || (SearchInstanceCount > 1 && SearchInstanceCount % 2 != 0))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{P}.{nameof(SearchInstanceCount)} {SearchInstanceCount} is not 1 or an even number up to 80 (more than one node is spread over two zones)."));
        Range(errors, nameof(SearchVolumeGiB), SearchVolumeGiB, 10, 1024);
        if (SearchIndex is null || !IndexName().IsMatch(SearchIndex))
            errors.Add($"{P}.{nameof(SearchIndex)} '{SearchIndex}' is not 1-200 lower-case letters, digits, '-' or '_' starting with a letter or digit.");
        if (SearchMasterUserArn is { } arn && !MasterArn().IsMatch(arn))
            errors.Add($"{P}.{nameof(SearchMasterUserArn)} '{arn}' is not an IAM role or user ARN (arn:aws:iam::123456789012:role/name).");
    }

    /// <summary>The catalog options these props describe, with <paramref name="root"/> as the lake's location.</summary>
    internal AthenaCatalogOptions Catalog(string root) => new()
    {
        Database = DatabaseName,
        Location = root,
        Lake = Lake,
        PartitionProjection = true,
        ProjectionFirstYear = ProjectionFirstYear,
        ProjectionLastYear = ProjectionLastYear,
        ParquetPartitioning = CompactionEngine == RetailCompactionEngine.Athena ? ParquetPartitioning.CompactorRegistered : ParquetPartitioning.HourFolders,
    };

    private static void Range(List<string> errors, string name, int? value, int min, int max, string orNull = "")
    {
        if (value is { } v && (v < min || v > max))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(RetailPipelineProps)}.{name} {v} is not {orNull}from {min} to {max}."));
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{2,27}$")]
    private static partial Regex DomainName();

    [GeneratedRegex(@"^OpenSearch_[0-9]+\.[0-9]+$")]
    private static partial Regex EngineVersion();

    [GeneratedRegex(@"^[a-z0-9]+\.[a-z0-9]+\.search$")]
    private static partial Regex InstanceType();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,199}$")]
    private static partial Regex IndexName();

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$")]
    private static partial Regex MasterArn();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex Name128();

    [GeneratedRegex(@"^[A-Za-z0-9!_.*()-][A-Za-z0-9!_.*()/-]*/$")]
    private static partial Regex ResultsPrefix();
}
