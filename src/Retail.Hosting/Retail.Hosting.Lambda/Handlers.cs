using Microsoft.Extensions.Logging;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Sinks.OpenSearch;
using Retail.Sinks.S3;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Hosting.Lambda;

/// <summary>
/// DeliverToS3: Retail's own Firehose on Lambda. Each stream's batches go through a <see cref="DeliveryProcessor"/>
/// into the lake with event-time partitions (<c>DeliveryOptions.UseLake(lake, eventTime: true)</c>; the stream name
/// is the delivery stream name in object names), checkpointed per shard in the lake
/// (<see cref="ObjectStoreCheckpointStore"/>, consumer <see cref="LambdaSettings.ConsumerName"/>): a retried or
/// re-delivered batch skips the records at or before the checkpoint, and what it rewrites gets the same keys. The
/// checkpoint is per shard, so the event source mapping must have ParallelizationFactor 1.
/// </summary>
internal sealed class DeliverToS3Target(IObjectStore store, RetailLakeDefinition lake, string consumerName, ILoggerFactory logs, TimeProvider time) : IShardBatchTarget
{
    private readonly Dictionary<string, (IBatchProcessor, ICheckpointStore?, string?)> _streams = new(StringComparer.Ordinal);
    private readonly IRecordDecoder _decoder = new UndecodableDataDecoder(JsonRecordDecoder.Instance);

    public string Name => LambdaSettings.DeliverToS3;

    public (IBatchProcessor Processor, ICheckpointStore? Checkpoints, string? ConsumerName) For(string streamName)
    {
        if (!_streams.TryGetValue(streamName, out var target))
        {
            var options = new DeliveryOptions().UseLake(lake, eventTime: true);
            options.DeliveryStreamName = streamName;
            options.ConsumerName = consumerName;
            var processor = new DeliveryProcessor(store, options, _decoder, time, logs.CreateLogger("DeliverToS3"));
            target = (processor, new ObjectStoreCheckpointStore(store, streamName, lake), consumerName);
            _streams[streamName] = target;
        }
        return target;
    }
}

/// <summary>
/// UpsertToES: each batch through one <see cref="SpeedLayerProcessor"/> into OpenSearch (the workshop's environment
/// contract, <see cref="UpsertHandlerSettings"/>), dead letters into the lake's error prefix. No checkpoint store:
/// document ids derive from the source position, so a retried batch overwrites the same documents.
/// </summary>
internal sealed class UpsertToESTarget(SpeedLayerProcessor processor) : IShardBatchTarget
{
    public string Name => LambdaSettings.UpsertToES;

    public SpeedLayerProcessor Processor { get; } = processor;

    public (IBatchProcessor Processor, ICheckpointStore? Checkpoints, string? ConsumerName) For(string streamName) => (Processor, null, null);
}

/// <summary>Builds the handler <c>_HANDLER</c> names from the environment.</summary>
internal static class LambdaHandlers
{
    /// <summary>The handler of <paramref name="settings"/>; bad settings throw, naming the variable.</summary>
    /// <exception cref="LambdaSettingException">A setting is missing or bad.</exception>
    public static IInvocationHandler Create(LambdaSettings settings, Func<string, string?> env, ILoggerFactory logs, TimeProvider time, IObjectStore? store = null)
    {
        var lake = new RetailLakeDefinition();
        // Credentials come from the AWS SDK's default chain (Lambda sets AWS_ACCESS_KEY_ID, … for the function's role).
        IObjectStore Store() => store ??= S3ObjectStoreFactory.Create(settings.Lake);
        var logger = logs.CreateLogger(settings.Handler);
        return settings.Handler switch
        {
            LambdaSettings.MergeSmallFiles => new MergeSmallFilesHandler(MergeSmallFilesSetup.Create(settings, env, Store, lake, logs, time), logger),
            LambdaSettings.DeliverToS3 => new KinesisBatchHandler(new DeliverToS3Target(Store(), lake, settings.ConsumerName, logs, time), logger),
            LambdaSettings.UpsertToES => new KinesisBatchHandler(CreateUpsert(env, Store(), lake, logs, time), logger),
            _ => throw new LambdaSettingException("_HANDLER", $"_HANDLER '{settings.Handler}' is not a handler of this runtime: use one of {string.Join(", ", LambdaSettings.Handlers)}."),
        };
    }

    internal static UpsertToESTarget CreateUpsert(Func<string, string?> env, IObjectStore deadLetters, RetailLakeDefinition lake, ILoggerFactory logs, TimeProvider time, HttpMessageHandler? transport = null)
    {
        UpsertHandlerSettings upsert;
        try
        {
            upsert = UpsertHandlerSettings.FromEnvironment(env);
        }
        catch (UpsertSettingsException e)
        {
            throw new LambdaSettingException(e.Variable, e.Message);
        }
        var speed = upsert.SpeedLayer.UseLake(lake);
        // One bulk request per flush: an invocation's batch (at most 10,000 records, the event source mapping's
        // largest BatchSize) is stored when BatchInvocation flushes, not on a timer.
        speed.MaxBatchDocuments = Math.Max(speed.MaxBatchDocuments, 10_000);
        speed.MaxBatchLatency = TimeSpan.FromDays(1);
        OpenSearchUpsertIndex index;
        try
        {
            index = OpenSearchClientFactory.CreateIndex(upsert.OpenSearch, credentials: null, transport, time, logs);
        }
        catch (ArgumentException e)
        {
            throw new LambdaSettingException("ES_HOST", $"The OpenSearch settings are not valid: {e.Message}");
        }
        var processor = new SpeedLayerProcessor(index, speed, new UndecodableDataDecoder(JsonRecordDecoder.Instance), time, logs.CreateLogger("UpsertToES"), deadLetters);
        return new UpsertToESTarget(processor);
    }
}
