using System.Numerics;
using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>A stream's state, as DescribeStreamSummary gives it.</summary>
/// <param name="StreamName">The stream.</param>
/// <param name="StreamArn">Its ARN.</param>
/// <param name="Status"><c>CREATING</c>, <c>ACTIVE</c>, <c>UPDATING</c> or <c>DELETING</c>.</param>
/// <param name="OpenShardCount">Open shards.</param>
/// <param name="RetentionPeriodHours">How long records are kept.</param>
/// <param name="StreamMode"><c>PROVISIONED</c> or <c>ON_DEMAND</c>, when the service says.</param>
public sealed record KinesisStreamSummary(string StreamName, string? StreamArn, string Status, int OpenShardCount, int RetentionPeriodHours, string? StreamMode);

/// <summary>
/// Creates, describes, reshards and deletes Kinesis streams (for emulators, tests and operations: <c>retail stream</c>).
/// Every change waits until the stream is <c>ACTIVE</c> again, polling DescribeStreamSummary; a change the service refuses as
/// invalid (shards not adjacent, a closed shard, an unknown stream) throws <see cref="ArgumentException"/> with its message.
/// Not retried: the caller decides.
/// </summary>
public sealed class KinesisStreamManager : IDisposable
{
    private readonly AwsJsonClient _client;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    internal KinesisStreamManager(HttpClient http, KinesisOptions options, TimeProvider time, ILogger logger)
    {
        _http = http;
        _time = time;
        _client = new AwsJsonClient(http, AwsHttp.Endpoint("kinesis", options.Region, options.ServiceUrl), "Kinesis", KinesisRecordStream.Target, logger, AwsServiceException.Factory("Kinesis"));
    }

    /// <summary>How long a change may take to become ACTIVE before <see cref="TimeoutException"/> (default 5 minutes).</summary>
    public TimeSpan ActiveTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Creates a provisioned stream of <paramref name="shardCount"/> shards (or on-demand when null) and waits until it is ACTIVE.</summary>
    /// <exception cref="AwsServiceException"><c>ResourceInUseException</c> when the stream exists; <c>LimitExceededException</c> over the account's shard limit.</exception>
    public async Task<KinesisStreamSummary> CreateStreamAsync(string streamName, int? shardCount, CancellationToken cancellationToken = default)
    {
        var errors = new List<string>();
        AwsHttp.ValidateName(errors, "stream name", streamName, 128);
        if (shardCount is < 1) errors.Add($"A shard count is at least 1, got {shardCount}.");
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(streamName));
        await _client.SendAsync("CreateStream", new CreateStreamRequest(streamName, shardCount, shardCount is null ? new StreamModeDetails("ON_DEMAND") : null),
            KinesisJsonContext.Default.CreateStreamRequest, KinesisJsonContext.Default.EmptyResponse, cancellationToken).ConfigureAwait(false);
        return await WaitUntilActiveAsync(streamName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stream's state.</summary>
    public async Task<KinesisStreamSummary> DescribeAsync(string streamName, CancellationToken cancellationToken = default)
    {
        var r = await _client.SendAsync("DescribeStreamSummary", new StreamNameRequest(streamName),
            KinesisJsonContext.Default.StreamNameRequest, KinesisJsonContext.Default.DescribeStreamSummaryResponse, cancellationToken).ConfigureAwait(false);
        var s = r.StreamDescriptionSummary;
        return new KinesisStreamSummary(s.StreamName, s.StreamARN, s.StreamStatus, s.OpenShardCount ?? 0, s.RetentionPeriodHours ?? 24, s.StreamModeDetails?.StreamMode);
    }

    /// <summary>Every shard with its lineage (ListShards, paged).</summary>
    public async Task<IReadOnlyList<ShardDescription>> ListShardsAsync(string streamName, CancellationToken cancellationToken = default) =>
        await KinesisRecordStream.ListAsync(_client, streamName, cancellationToken).ConfigureAwait(false);

    /// <summary>Polls DescribeStreamSummary (every 100 ms, then up to every second) until the stream is ACTIVE.</summary>
    /// <exception cref="TimeoutException">Not ACTIVE within <see cref="ActiveTimeout"/>.</exception>
    public async Task<KinesisStreamSummary> WaitUntilActiveAsync(string streamName, CancellationToken cancellationToken = default)
    {
        long began = _time.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var summary = await DescribeAsync(streamName, cancellationToken).ConfigureAwait(false);
            if (summary.Status == "ACTIVE") return summary;
            if (_time.GetElapsedTime(began) > ActiveTimeout)
                throw new TimeoutException($"Kinesis stream '{streamName}' is still {summary.Status} after {ActiveTimeout.TotalSeconds:0} s.");
            await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromMilliseconds(Math.Min(1000, poll.TotalMilliseconds * 2));
        }
    }

    /// <summary>Splits an open shard at <paramref name="newStartingHashKey"/> (default: the middle of its range) and waits until the stream is ACTIVE.</summary>
    public async Task SplitShardAsync(string streamName, string shardId, BigInteger? newStartingHashKey = null, CancellationToken cancellationToken = default)
    {
        if (newStartingHashKey is null)
        {
            var shard = (await ListShardsAsync(streamName, cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.ShardId == shardId)
                ?? throw new ArgumentException($"Stream '{streamName}' has no shard '{shardId}'.", nameof(shardId));
            if (!shard.IsOpen) throw new ArgumentException($"Shard '{shardId}' of stream '{streamName}' is closed; only open shards can be split.", nameof(shardId));
            var range = shard.HashKeyRange;
            newStartingHashKey = range.StartingHashKey + (range.EndingHashKey - range.StartingHashKey + 1) / 2;
        }
        try
        {
            await _client.SendAsync("SplitShard", new SplitShardRequest(streamName, shardId, KinesisRecordStream.Format(newStartingHashKey.Value)),
            KinesisJsonContext.Default.SplitShardRequest, KinesisJsonContext.Default.EmptyResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (e.ErrorCode is "InvalidArgumentException" or "ResourceNotFoundException")
        {
            throw new ArgumentException($"SplitShard on stream '{streamName}' was refused: {e.ServiceMessage}", nameof(streamName), e);
        }
        await WaitUntilActiveAsync(streamName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges two adjacent open shards and waits until the stream is ACTIVE.</summary>
    public async Task MergeShardsAsync(string streamName, string shardToMerge, string adjacentShardToMerge, CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.SendAsync("MergeShards", new MergeShardsRequest(streamName, shardToMerge, adjacentShardToMerge),
            KinesisJsonContext.Default.MergeShardsRequest, KinesisJsonContext.Default.EmptyResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (e.ErrorCode is "InvalidArgumentException" or "ResourceNotFoundException")
        {
            throw new ArgumentException($"MergeShards on stream '{streamName}' was refused: {e.ServiceMessage}", nameof(streamName), e);
        }
        await WaitUntilActiveAsync(streamName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the number of open shards (UpdateShardCount, uniform scaling) and waits until the stream is ACTIVE.</summary>
    public async Task UpdateShardCountAsync(string streamName, int targetShardCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetShardCount, 1);
        try
        {
            await _client.SendAsync("UpdateShardCount", new UpdateShardCountRequest(streamName, targetShardCount, "UNIFORM_SCALING"),
            KinesisJsonContext.Default.UpdateShardCountRequest, KinesisJsonContext.Default.UpdateShardCountResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (e.ErrorCode is "InvalidArgumentException" or "ResourceNotFoundException")
        {
            throw new ArgumentException($"UpdateShardCount on stream '{streamName}' was refused: {e.ServiceMessage}", nameof(streamName), e);
        }
        await WaitUntilActiveAsync(streamName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the stream (and its consumers).</summary>
    public async Task DeleteStreamAsync(string streamName, CancellationToken cancellationToken = default) =>
        await _client.SendAsync("DeleteStream", new DeleteStreamRequest(streamName, true),
            KinesisJsonContext.Default.DeleteStreamRequest, KinesisJsonContext.Default.EmptyResponse, cancellationToken).ConfigureAwait(false);

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose() => _http.Dispose();
}
