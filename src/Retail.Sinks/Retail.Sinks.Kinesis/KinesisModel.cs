using System.Text.Json;
using System.Text.Json.Serialization;

namespace Retail.Sinks.Kinesis;

// One small request/response type per operation, from the Kinesis (Kinesis_20131202) and Firehose (Firehose_20150804)
// API references; only the members Retail uses. PutRecords and PutRecordBatch requests are written by hand
// (Utf8JsonWriter, base64 straight from the caller's memory): they are the hot path.

internal sealed record CreateStreamRequest(string StreamName, int? ShardCount, StreamModeDetails? StreamModeDetails);

internal sealed record StreamModeDetails(string StreamMode);

internal sealed record StreamNameRequest(string StreamName);

internal sealed record DeleteStreamRequest(string StreamName, bool EnforceConsumerDeletion);

internal sealed record DescribeStreamSummaryResponse(StreamDescriptionSummary StreamDescriptionSummary);

internal sealed record StreamDescriptionSummary(string StreamName, string? StreamARN, string StreamStatus, int? OpenShardCount, int? RetentionPeriodHours, StreamModeDetails? StreamModeDetails);

internal sealed record ListShardsRequest(string? StreamName, string? NextToken, int? MaxResults);

internal sealed record ListShardsResponse(List<ShardModel>? Shards, string? NextToken);

internal sealed record ShardModel(string ShardId, string? ParentShardId, string? AdjacentParentShardId, HashKeyRangeModel HashKeyRange, SequenceNumberRangeModel SequenceNumberRange);

internal sealed record HashKeyRangeModel(string StartingHashKey, string EndingHashKey);

internal sealed record SequenceNumberRangeModel(string StartingSequenceNumber, string? EndingSequenceNumber);

internal sealed record PutRecordsResponse(int FailedRecordCount, List<PutRecordsResultEntryModel> Records);

internal sealed record PutRecordsResultEntryModel(string? SequenceNumber, string? ShardId, string? ErrorCode, string? ErrorMessage);

internal sealed record GetShardIteratorRequest(string StreamName, string ShardId, string ShardIteratorType, string? StartingSequenceNumber,
    [property: JsonConverter(typeof(EpochSecondsConverter))] DateTimeOffset? Timestamp);

internal sealed record GetShardIteratorResponse(string ShardIterator);

internal sealed record GetRecordsRequest(string ShardIterator, int? Limit);

internal sealed record GetRecordsResponse(List<RecordModel>? Records, string? NextShardIterator, long? MillisBehindLatest, List<ChildShardModel>? ChildShards);

internal sealed record RecordModel(string SequenceNumber,
    [property: JsonConverter(typeof(EpochSecondsConverter))] DateTimeOffset? ApproximateArrivalTimestamp,
    byte[] Data, string PartitionKey);

internal sealed record ChildShardModel(string ShardId, List<string>? ParentShards, HashKeyRangeModel? HashKeyRange);

internal sealed record SplitShardRequest(string StreamName, string ShardToSplit, string NewStartingHashKey);

internal sealed record MergeShardsRequest(string StreamName, string ShardToMerge, string AdjacentShardToMerge);

internal sealed record UpdateShardCountRequest(string StreamName, int TargetShardCount, string ScalingType);

internal sealed record UpdateShardCountResponse(int? CurrentShardCount, int? TargetShardCount);

internal sealed record EmptyResponse;

internal sealed record PutRecordBatchResponse(int FailedPutCount, List<PutRecordBatchResponseEntry> RequestResponses);

internal sealed record PutRecordBatchResponseEntry(string? RecordId, string? ErrorCode, string? ErrorMessage);

/// <summary>AWS JSON timestamps: seconds since the epoch as a number (a fraction for milliseconds); ISO-8601 strings are read too.</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000)),
        JsonTokenType.String => reader.GetString() is { } s && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(d * 1000))
            : DateTimeOffset.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new JsonException($"A timestamp is a number of seconds since the epoch, got {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v.ToUnixTimeMilliseconds() / 1000m);
        else writer.WriteNullValue();
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateStreamRequest))]
[JsonSerializable(typeof(StreamNameRequest))]
[JsonSerializable(typeof(DeleteStreamRequest))]
[JsonSerializable(typeof(DescribeStreamSummaryResponse))]
[JsonSerializable(typeof(ListShardsRequest))]
[JsonSerializable(typeof(ListShardsResponse))]
[JsonSerializable(typeof(PutRecordsResponse))]
[JsonSerializable(typeof(GetShardIteratorRequest))]
[JsonSerializable(typeof(GetShardIteratorResponse))]
[JsonSerializable(typeof(GetRecordsRequest))]
[JsonSerializable(typeof(GetRecordsResponse))]
[JsonSerializable(typeof(SplitShardRequest))]
[JsonSerializable(typeof(MergeShardsRequest))]
[JsonSerializable(typeof(UpdateShardCountRequest))]
[JsonSerializable(typeof(UpdateShardCountResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(PutRecordBatchResponse))]
internal sealed partial class KinesisJsonContext : JsonSerializerContext;
