using System.Text.Json;
using System.Text.Json.Serialization;

namespace Retail.Hosting.Lambda;

// The event and response shapes, from the Lambda developer guide ("Using Lambda with Kinesis", "Using Lambda with
// EventBridge", "Reporting batch item failures") and the Runtime API's ErrorRequest. Only source-generated JSON: the
// host is published native AOT, so nothing here may need reflection.

/// <summary>A Kinesis event source mapping's event: one batch of records (one shard's, in sequence order).</summary>
internal sealed record KinesisEvent([property: JsonPropertyName("Records")] List<KinesisEventRecord>? Records);

/// <summary>One record of a <see cref="KinesisEvent"/>.</summary>
internal sealed record KinesisEventRecord(
    [property: JsonPropertyName("kinesis")] KinesisRecordData? Kinesis,
    [property: JsonPropertyName("eventSource")] string? EventSource,
    [property: JsonPropertyName("eventVersion")] string? EventVersion,
    [property: JsonPropertyName("eventID")] string? EventId,
    [property: JsonPropertyName("eventName")] string? EventName,
    [property: JsonPropertyName("invokeIdentityArn")] string? InvokeIdentityArn,
    [property: JsonPropertyName("awsRegion")] string? AwsRegion,
    [property: JsonPropertyName("eventSourceARN")] string? EventSourceArn);

/// <summary>
/// The Kinesis part of a record. <see cref="Data"/> stays the base64 text as sent (decoded by the handler, so that one
/// record that is not valid base64 does not make the whole event unreadable); the arrival time is epoch seconds with a
/// fraction (<c>1545084650.987</c>).
/// </summary>
internal sealed record KinesisRecordData(
    [property: JsonPropertyName("kinesisSchemaVersion")] string? KinesisSchemaVersion,
    [property: JsonPropertyName("partitionKey")] string? PartitionKey,
    [property: JsonPropertyName("sequenceNumber")] string? SequenceNumber,
    [property: JsonPropertyName("data")] string? Data,
    [property: JsonPropertyName("approximateArrivalTimestamp")] double? ApproximateArrivalTimestamp);

/// <summary>An EventBridge event (a scheduled rule's, or any source's); <see cref="Detail"/> stays raw JSON.</summary>
internal sealed record EventBridgeEvent(
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("detail-type")] string? DetailType,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("time")] DateTimeOffset? Time,
    [property: JsonPropertyName("region")] string? Region,
    [property: JsonPropertyName("resources")] List<string>? Resources,
    [property: JsonPropertyName("detail")] JsonElement? Detail);

/// <summary>
/// The partial batch response (<c>ReportBatchItemFailures</c>): the sequence numbers not safely handled. Always sent,
/// with an empty list when every record is safe (an empty list checkpoints the whole batch).
/// </summary>
internal sealed record KinesisBatchResponse([property: JsonPropertyName("batchItemFailures")] List<BatchItemFailure> BatchItemFailures);

/// <summary>One failed record: its sequence number.</summary>
internal sealed record BatchItemFailure([property: JsonPropertyName("itemIdentifier")] string ItemIdentifier);

/// <summary>The Runtime API's ErrorRequest, posted to <c>…/invocation/{id}/error</c> and <c>…/init/error</c>.</summary>
internal sealed record LambdaErrorBody(
    [property: JsonPropertyName("errorMessage")] string ErrorMessage,
    [property: JsonPropertyName("errorType")] string ErrorType,
    [property: JsonPropertyName("stackTrace")] List<string> StackTrace);

[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(KinesisEvent))]
[JsonSerializable(typeof(EventBridgeEvent))]
[JsonSerializable(typeof(KinesisBatchResponse))]
[JsonSerializable(typeof(LambdaErrorBody))]
internal sealed partial class LambdaJsonContext : JsonSerializerContext;
