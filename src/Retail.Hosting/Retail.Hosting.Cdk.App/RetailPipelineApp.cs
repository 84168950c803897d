using System.Globalization;
using Amazon.CDK;
using Retail.Hosting.Cdk;

namespace Retail.Hosting.Cdk.App;

/// <summary>The app's one stack: a <see cref="RetailPipeline"/> configured from context (<c>-c key=value</c> or cdk.json).</summary>
/// <remarks>Env-agnostic on purpose: synth needs no account, credentials or network.</remarks>
public static class RetailPipelineApp
{
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

        string delivery = Get("delivery") ?? "firehose";
        if (delivery != "firehose")
            throw new ArgumentException($"context 'delivery' ('{delivery}') must be 'firehose' (the DeliverToS3 Lambda mode is not built yet).");
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
            Description = "Retail: Kinesis stream, S3 lake, Firehose delivery, Glue catalog and Athena work group (Retail.Hosting.Cdk)",
        });
        _ = new RetailPipeline(stack, "Retail", props);
        return stack;
    }
}
