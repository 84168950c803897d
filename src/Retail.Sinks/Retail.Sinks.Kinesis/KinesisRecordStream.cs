using System.Globalization;
using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>
/// Retail's stream contract on Kinesis Data Streams: ListShards (paged), PutRecords with per-entry results (the limits
/// checked before sending), and shard readers over GetShardIterator / GetRecords. No retries here: the producer and the
/// consumer retry through Retail's pipeline, on the transient errors <see cref="AwsServiceException"/> names.
/// </summary>
internal sealed class KinesisRecordStream : IRecordStream, IDisposable
{
    internal const string Target = "Kinesis_20131202";
    private readonly AwsJsonClient _client;
    private readonly HttpClient? _owned;
    private readonly KinesisOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public KinesisRecordStream(HttpClient http, bool ownsClient, KinesisOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        StreamName = options.StreamName!;
        Limits = options.MaxRecordBytes == StreamLimits.MaxRecordBytes ? PutLimits.Kinesis : PutLimits.KinesisWithMaxRecordBytes(options.MaxRecordBytes);
        _client = new AwsJsonClient(http, AwsHttp.Endpoint("kinesis", options.Region, options.ServiceUrl), "Kinesis", Target, logger, AwsServiceException.Factory("Kinesis"));
        _owned = ownsClient ? http : null;
    }

    public string StreamName { get; }

    public PutLimits Limits { get; }

    public async ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) =>
        await ListAsync(_client, StreamName, cancellationToken).ConfigureAwait(false);

    internal static async Task<List<ShardDescription>> ListAsync(AwsJsonClient client, string streamName, CancellationToken ct)
    {
        var shards = new List<ShardDescription>();
        string? next = null;
        do
        {
            // A NextToken may not be sent with the stream name (and expires after 300 s: a slow listing starts over).
            var request = next is null ? new ListShardsRequest(streamName, null, 1000) : new ListShardsRequest(null, next, 1000);
            ListShardsResponse page;
            try
            {
                page = await client.SendAsync("ListShards", request, KinesisJsonContext.Default.ListShardsRequest, KinesisJsonContext.Default.ListShardsResponse, ct).ConfigureAwait(false);
            }
            catch (AwsServiceException e) when (next is not null && e.ErrorCode == "ExpiredNextTokenException")
            {
                shards.Clear();
                next = null;
                continue;
            }
            foreach (var s in page.Shards ?? [])
            {
                shards.Add(new ShardDescription(s.ShardId, s.ParentShardId, s.AdjacentParentShardId,
                    HashKeyRange.Parse(s.HashKeyRange.StartingHashKey, s.HashKeyRange.EndingHashKey),
                    new SequenceNumberRange(s.SequenceNumberRange.StartingSequenceNumber, s.SequenceNumberRange.EndingSequenceNumber)));
            }
            next = page.NextToken;
        }
        while (next is not null);
        shards.Sort((a, b) => string.CompareOrdinal(a.ShardId, b.ShardId));
        return shards;
    }

    public async ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var body = PutBody.Write("PutRecords", "StreamName"u8, StreamName, records, Limits);
        var response = await _client.SendAsync("PutRecords", body.WrittenMemory, KinesisJsonContext.Default.PutRecordsResponse, cancellationToken).ConfigureAwait(false);
        return PutBody.Results("Kinesis", "PutRecords", records.Count, response.Records, r => (r.ShardId, r.SequenceNumber, r.ErrorCode, r.ErrorMessage));
    }

    public async ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        var reader = new KinesisShardReader(this, shardId, start, _options, _time, _logger);
        await reader.OpenAsync(cancellationToken).ConfigureAwait(false);
        return reader;
    }

    internal async Task<string> GetShardIteratorAsync(string shardId, StartPosition start, CancellationToken ct)
    {
        var type = start.Type switch
        {
            StartPositionType.TrimHorizon => "TRIM_HORIZON",
            StartPositionType.Latest => "LATEST",
            StartPositionType.AtSequenceNumber => "AT_SEQUENCE_NUMBER",
            StartPositionType.AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
            StartPositionType.AtTimestamp => "AT_TIMESTAMP",
            _ => throw new ArgumentOutOfRangeException(nameof(start), start.Type, "Unknown start position."),
        };
        try
        {
            var response = await _client.SendAsync("GetShardIterator",
                new GetShardIteratorRequest(StreamName, shardId, type, start.SequenceNumber, start.Type == StartPositionType.AtTimestamp ? start.Timestamp : null),
                KinesisJsonContext.Default.GetShardIteratorRequest, KinesisJsonContext.Default.GetShardIteratorResponse, ct).ConfigureAwait(false);
            return response.ShardIterator;
        }
        catch (AwsServiceException e) when (e.ErrorCode is "ResourceNotFoundException" or "InvalidArgumentException")
        {
            throw new ArgumentException($"Stream '{StreamName}' cannot open shard '{shardId}' at {start}: {e.ServiceMessage}", nameof(shardId), e);
        }
    }

    internal Task<GetRecordsResponse> GetRecordsAsync(string iterator, int limit, CancellationToken ct) =>
        _client.SendAsync("GetRecords", new GetRecordsRequest(iterator, limit), KinesisJsonContext.Default.GetRecordsRequest, KinesisJsonContext.Default.GetRecordsResponse, ct);

    public void Dispose() => _owned?.Dispose();

    internal static string Format(System.Numerics.BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
