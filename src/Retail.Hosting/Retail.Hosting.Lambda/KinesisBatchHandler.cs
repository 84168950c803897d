using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Hosting.Lambda;

/// <summary>What one invocation does with its event.</summary>
internal interface IInvocationHandler
{
    /// <summary>Handles the event; <paramref name="cancellationToken"/> fires a margin before the deadline.</summary>
    /// <returns>The response payload (JSON).</returns>
    Task<byte[]> HandleAsync(LambdaInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>Where a Kinesis handler's shard batches go: a processor per stream, with its checkpoints.</summary>
internal interface IShardBatchTarget
{
    /// <summary>The handler's name, for logs.</summary>
    string Name { get; }

    /// <summary>The processor of <paramref name="streamName"/>'s batches, its checkpoint store (or null) and consumer name.</summary>
    (IBatchProcessor Processor, ICheckpointStore? Checkpoints, string? ConsumerName) For(string streamName);
}

/// <summary>
/// A Kinesis batch through a processor, the way an event source mapping with <c>ReportBatchItemFailures</c> needs
/// it: the event's records, grouped by shard, run through <see cref="BatchInvocation.RunAsync"/> (which flushes before
/// it returns and stops at the deadline token), and the response lists exactly the sequence numbers not safely
/// stored — an empty list when all are.
/// </summary>
internal sealed partial class KinesisBatchHandler(IShardBatchTarget target, ILogger logger) : IInvocationHandler
{
    public async Task<byte[]> HandleAsync(LambdaInvocation invocation, CancellationToken cancellationToken)
    {
        KinesisEvent? kinesisEvent;
        try
        {
            kinesisEvent = JsonSerializer.Deserialize(invocation.Payload, LambdaJsonContext.Default.KinesisEvent);
        }
        catch (JsonException e)
        {
            throw new InvalidKinesisEventException($"The event is not a Kinesis event: {e.Message}");
        }
        var failures = new List<BatchItemFailure>();
        foreach (var shard in KinesisBatches.Group(kinesisEvent))
        {
            if (shard.UndecodableRecords > 0) LogUndecodable(logger, shard.StreamName, shard.ShardId, shard.UndecodableRecords);
            var (processor, checkpoints, consumer) = target.For(shard.StreamName);
            var result = await BatchInvocation.RunAsync(processor, shard.StreamName, shard.ShardId, shard.Records, checkpoints, consumer, cancellationToken).ConfigureAwait(false);
            foreach (string seq in result.FailedSequenceNumbers) failures.Add(new BatchItemFailure(seq));
            if (result.Failure is { } failure)
                LogBatchFailed(logger, target.Name, shard.StreamName, shard.ShardId, shard.Records.Count, result.FailedSequenceNumbers.Count, result.FailedSequenceNumbers.Count > 0 ? result.FailedSequenceNumbers[0] : "-", failure);
            LogBatch(logger, target.Name, shard.StreamName, shard.ShardId, shard.Records.Count, result.RecordsSkipped, result.FailedSequenceNumbers.Count);
        }
        return JsonSerializer.SerializeToUtf8Bytes(new KinesisBatchResponse(failures), LambdaJsonContext.Default.KinesisBatchResponse);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Handler} {Stream}/{ShardId}: {Records} records, {Skipped} skipped (at or before the checkpoint), {Failed} reported as batchItemFailures")]
    private static partial void LogBatch(ILogger logger, string handler, string stream, string shardId, int records, int skipped, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Handler} {Stream}/{ShardId}: the batch of {Records} records stopped; {Failed} records from {First} on are reported as failures and Lambda retries them")]
    private static partial void LogBatchFailed(ILogger logger, string handler, string stream, string shardId, int records, int failed, string first, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Stream}/{ShardId}: {Count} records have kinesis.data that is not valid base64; they go to the error output with the data as received")]
    private static partial void LogUndecodable(ILogger logger, string stream, string shardId, int count);
}
