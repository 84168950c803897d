using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>
/// A Firehose delivery stream as a put target (<c>Firehose_20150804.PutRecordBatch</c>): at most 500 records, 4 MiB a
/// call and 1,000 KiB a record, checked before sending; per-entry results (<c>RequestResponses</c>) so the producer
/// resends only the failed entries. Firehose adds no delimiters: the caller's data is sent as it is.
/// </summary>
internal sealed class FirehoseDeliveryStream : IRecordPutTarget, IDisposable
{
    internal const string Target = "Firehose_20150804";
    private readonly AwsJsonClient _client;
    private readonly HttpClient? _owned;

    public FirehoseDeliveryStream(HttpClient http, bool ownsClient, FirehoseOptions options, ILogger logger)
    {
        StreamName = options.DeliveryStreamName!;
        _client = new AwsJsonClient(http, AwsHttp.Endpoint("firehose", options.Region, options.ServiceUrl), "Firehose", Target, logger);
        _owned = ownsClient ? http : null;
    }

    public string StreamName { get; }

    public PutLimits Limits => PutLimits.Firehose;

    public async ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var body = Encode(StreamName, records);
        var response = await _client.SendAsync("PutRecordBatch", body.WrittenMemory, KinesisJsonContext.Default.PutRecordBatchResponse, cancellationToken).ConfigureAwait(false);
        if (response.RequestResponses.Count != records.Count)
            throw new InvalidDataException($"Firehose PutRecordBatch answered {response.RequestResponses.Count} results for {records.Count} records.");
        var results = new PutRecordsResultEntry[records.Count];
        for (int i = 0; i < results.Length; i++)
        {
            var r = response.RequestResponses[i];
            results[i] = r.ErrorCode is null && r.RecordId is not null
                ? new PutRecordsResultEntry(null, r.RecordId, null, null)
                : new PutRecordsResultEntry(null, null, r.ErrorCode ?? "ServiceUnavailableException", r.ErrorMessage ?? "no record id returned");
        }
        return new PutRecordsResult(results.Count(r => !r.Succeeded), results);
    }

    internal static ArrayBufferWriter<byte> Encode(string streamName, IReadOnlyList<PutRecordsEntry> records)
    {
        var limits = PutLimits.Firehose;
        if (records.Count == 0 || records.Count > limits.MaxRecordsPerPut)
            throw new ArgumentException($"A PutRecordBatch call takes 1 to {limits.MaxRecordsPerPut} records, got {records.Count}.", nameof(records));
        long total = 0, estimate = 64 + streamName.Length;
        foreach (var r in records)
        {
            limits.Validate(r);
            total += r.Data.Length;
            estimate += (r.Data.Length + 2) / 3 * 4 + 16;
        }
        if (total > limits.MaxBytesPerPut)
            throw new ArgumentException($"A PutRecordBatch call carries at most {limits.MaxBytesPerPut} bytes, got {total}.", nameof(records));
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(estimate, int.MaxValue / 2));
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartObject();
        writer.WriteString("DeliveryStreamName"u8, streamName);
        writer.WriteStartArray("Records"u8);
        foreach (var r in records)
        {
            writer.WriteStartObject();
            writer.WriteBase64String("Data"u8, r.Data.Span);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        return buffer;
    }

    public void Dispose() => _owned?.Dispose();
}
