using System.Globalization;
using Amazon.CDK;
using Retail.Hosting.Cdk;

namespace Retail.Hosting.Cdk.App;

/// <summary>The app's one stack: a <see cref="RetailPipeline"/> configured from context (<c>-c key=value</c> or cdk.json).</summary>
/// <remarks>Env-agnostic on purpose: synth needs no account, credentials or network.</remarks>
public static class RetailPipelineApp
{
    /// <summary>Where the Lambda host's documented publish leaves its zip, relative to this app's folder.</summary>
    public const string DefaultLambdaZip = "../Retail.Hosting.Lambda/bin/Release/net10.0/linux-x64/retail-lambda.zip";

    /// <summary>Builds the stack into <paramref name="app"/> from its context. Throws <see cref="ArgumentException"/> naming the context key.</summary>
    public static Stack Build(Amazon.CDK.App app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var props = new RetailPipelineProps();
        string? Get(string key) => app.Node.TryGetContext(key) is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
        int? Int(string key, int min, int max, string prop)
        {
            if (Get(key) is not { } s) return null;
            if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n;
            throw new ArgumentException($"context '{key}' ('{s}') must be a whole number from {min} to {max} ({nameof(RetailPipelineProps)}.{prop}).");
        }

        const string P = nameof(RetailPipelineProps);
        props.Delivery = Get("delivery") switch
        {
            null or "firehose" => RetailDelivery.Firehose,
            "lambda" => RetailDelivery.Lambda,
            var d => throw new ArgumentException($"context 'delivery' ('{d}') must be 'firehose' or 'lambda' ({P}.{nameof(RetailPipelineProps.Delivery)})."),
        };
        // Relative to the app's folder (where cdk.json is, the CLI's working directory).
        string zip = Get("lambdaZip") ?? DefaultLambdaZip;
        props.LambdaZipPath = Path.GetFullPath(zip, Directory.GetCurrentDirectory());
        props.SearchNetwork = Get("search") switch
        {
            null or "vpc" => RetailSearchNetwork.Vpc,
            "public" => RetailSearchNetwork.PublicEndpoint,
            var n => throw new ArgumentException($"context 'search' ('{n}') must be 'vpc' or 'public' ({P}.{nameof(RetailPipelineProps.SearchNetwork)})."),
        };
        if (Get("allowedCidrs") is { } cidrs)
            props.SearchAllowedCidrs = [.. cidrs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        if (Get("searchMasterUserArn") is { } master) props.SearchMasterUserArn = master;
        if (Get("searchVersion") is { } version) props.SearchEngineVersion = version;
        if (Get("searchInstanceType") is { } instanceType) props.SearchInstanceType = instanceType;
        if (Int("searchInstances", 1, 80, nameof(RetailPipelineProps.SearchInstanceCount)) is { } instances) props.SearchInstanceCount = instances;
        if (Int("searchVolumeGiB", 10, 1024, nameof(RetailPipelineProps.SearchVolumeGiB)) is { } volume) props.SearchVolumeGiB = volume;
        if (Get("searchIndex") is { } index) props.SearchIndex = index;
        if (Get("searchDomainName") is { } domainName) props.SearchDomainName = domainName;
        props.StartingPosition = Get("startingPosition") switch
        {
            null or "TRIM_HORIZON" => Amazon.CDK.AWS.Lambda.StartingPosition.TRIM_HORIZON,
            "LATEST" => Amazon.CDK.AWS.Lambda.StartingPosition.LATEST,
            var sp => throw new ArgumentException($"context 'startingPosition' ('{sp}') must be 'TRIM_HORIZON' or 'LATEST' ({P}.{nameof(RetailPipelineProps.StartingPosition)})."),
        };
        if (Get("compactionConcurrency") is { } concurrency)
            props.CompactionReservedConcurrency = concurrency == "none" ? null
                : Int("compactionConcurrency", 1, 1000, nameof(RetailPipelineProps.CompactionReservedConcurrency));
        props.ShardCount = Int("shards", 1, 10_000, nameof(RetailPipelineProps.ShardCount));
        if (Get("streamName") is { } stream) props.StreamName = stream;
        if (Get("deliveryStreamName") is { } deliveryStream) props.DeliveryStreamName = deliveryStream;
        if (Get("database") is { } database) props.DatabaseName = database;
        if (Get("workGroup") is { } workGroup) props.WorkGroupName = workGroup;
        if (Int("errorRetentionDays", 1, 3650, nameof(RetailPipelineProps.ErrorRetentionDays)) is { } days) props.ErrorRetentionDays = days;
        props.CompactionEngine = Get("engine") switch
        {
            null or "parquet" => RetailCompactionEngine.Parquet,
            "athena" => RetailCompactionEngine.Athena,
            var e => throw new ArgumentException($"context 'engine' ('{e}') must be 'parquet' or 'athena' ({nameof(RetailPipelineProps)}.{nameof(RetailPipelineProps.CompactionEngine)})."),
        };

        var stack = new Stack(app, Get("stackName") ?? "RetailPipeline", new StackProps
        {
            Description = "Retail: Kinesis stream, S3 lake, delivery, Glue catalog, Athena work group, OpenSearch speed layer and hourly compaction (Retail.Hosting.Cdk)",
        });
        _ = new RetailPipeline(stack, "Retail", props);
        return stack;
    }
}
