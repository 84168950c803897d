using System.Buffers;
using System.Text.Json;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>
/// The body of a Kinesis PutRecords or Firehose PutRecordBatch call, written straight from the records' memory
/// (base64 by the writer) after the target's limits are checked, so nothing oversized ever leaves the client.
/// </summary>
internal static class PutBody
{
    public static ArrayBufferWriter<byte> Write(string operation, ReadOnlySpan<byte> nameProperty, string streamName, IReadOnlyList<PutRecordsEntry> records, PutLimits limits)
    {
        if (records.Count == 0 || records.Count > limits.MaxRecordsPerPut)
            throw new ArgumentException($"A {operation} call takes 1 to {limits.MaxRecordsPerPut} records, got {records.Count}.", nameof(records));
        long total = 0, estimate = 64 + streamName.Length;
        for (int i = 0; i < records.Count; i++)
        {
            total += limits.Validate(records[i]);
            estimate += (records[i].Data.Length + 2) / 3 * 4 + 16 + (limits.CountsPartitionKey ? records[i].PartitionKey.Length * 6 + 20 : 0);
        }
        if (total > limits.MaxBytesPerPut)
            throw new ArgumentException($"A {operation} call carries at most {limits.MaxBytesPerPut} bytes{(limits.CountsPartitionKey ? " (data plus partition keys)" : "")}, got {total}.", nameof(records));
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(estimate, int.MaxValue / 2));
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartObject();
        writer.WriteString(nameProperty, streamName);
        writer.WriteStartArray("Records"u8);
        for (int i = 0; i < records.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteBase64String("Data"u8, records[i].Data.Span);
            if (limits.CountsPartitionKey) writer.WriteString("PartitionKey"u8, records[i].PartitionKey);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        return buffer;
    }

    /// <summary>The per-entry results in request order; an entry without an id (or with an error code) failed.</summary>
    public static PutRecordsResult Results<T>(string service, string operation, int sent, List<T> entries, Func<T, (string? ShardId, string? Id, string? ErrorCode, string? ErrorMessage)> read)
    {
        if (entries.Count != sent)
            throw new InvalidDataException($"{service} {operation} answered {entries.Count} results for {sent} records.");
        var results = new PutRecordsResultEntry[sent];
        int failed = 0;
        for (int i = 0; i < sent; i++)
        {
            var (shard, id, code, message) = read(entries[i]);
            if (code is null && id is not null) results[i] = new PutRecordsResultEntry(shard, id, null, null);
            else
            {
                results[i] = new PutRecordsResultEntry(null, null, code ?? "InternalFailure", message ?? "no sequence number or record id returned");
                failed++;
            }
        }
        return new PutRecordsResult(failed, results);
    }
}
