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
        _client = new AwsJsonClient(http, AwsHttp.Endpoint("firehose", options.Region, options.ServiceUrl), "Firehose", Target, logger, AwsServiceException.Factory("Firehose"));
        _owned = ownsClient ? http : null;
    }

    public string StreamName { get; }

    public PutLimits Limits => PutLimits.Firehose;

    public async ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var body = PutBody.Write("PutRecordBatch", "DeliveryStreamName"u8, StreamName, records, Limits);
        var response = await _client.SendAsync("PutRecordBatch", body.WrittenMemory, KinesisJsonContext.Default.PutRecordBatchResponse, cancellationToken).ConfigureAwait(false);
        return PutBody.Results("Firehose", "PutRecordBatch", records.Count, response.RequestResponses, r => ((string?)null, r.RecordId, r.ErrorCode, r.ErrorMessage));
    }

    public void Dispose() => _owned?.Dispose();
}
