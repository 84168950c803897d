using System.Text.Json;
using Retail.Streaming;

namespace Retail.Delivery;

/// <summary>
/// Writes one record of a Firehose error output (one JSON object per line): <c>attemptsMade, arrivalTimestamp,
/// errorCode, errorMessage, attemptEndingTimestamp</c>, for an OpenSearch failure also <c>esDocumentId, esIndexName,
/// esTypeName</c> (Firehose's <c>AmazonOpenSearchService-failed</c> format), then <c>rawData</c> (base64) and Retail's
/// <c>sourceShardId, sourceSequenceNumber</c>, which say where in the stream the record was.
/// </summary>
internal static class FirehoseErrorRecord
{
    /// <summary>The OpenSearch fields of <c>AmazonOpenSearchService-failed</c> records.</summary>
    internal readonly record struct OpenSearchTarget(string DocumentId, string? IndexName, string? TypeName);

    public static void Write(Utf8JsonWriter json, StreamRecord record, int attemptsMade, string errorCode, string errorMessage,
        DateTimeOffset attemptEnded, OpenSearchTarget? target = null)
    {
        json.WriteStartObject();
        json.WriteNumber("attemptsMade", attemptsMade);
        json.WriteNumber("arrivalTimestamp", record.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds());
        json.WriteString("errorCode", errorCode);
        json.WriteString("errorMessage", errorMessage);
        json.WriteNumber("attemptEndingTimestamp", attemptEnded.ToUnixTimeMilliseconds());
        if (target is { } t)
        {
            json.WriteString("esDocumentId", t.DocumentId);
            json.WriteString("esIndexName", t.IndexName ?? "");
            json.WriteString("esTypeName", t.TypeName ?? "");
        }
        json.WriteBase64String("rawData", record.Data.Span);
        json.WriteString("sourceShardId", record.ShardId);
        json.WriteString("sourceSequenceNumber", record.SequenceNumber);
        json.WriteEndObject();
    }
}
