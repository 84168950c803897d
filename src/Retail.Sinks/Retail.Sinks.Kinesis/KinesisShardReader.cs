using Microsoft.Extensions.Logging;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis;

/// <summary>
/// One shard over GetRecords: keeps its shard iterator between reads; stays within Kinesis's 5 calls a second per
/// shard (<see cref="KinesisOptions.MinReadInterval"/>) and waits <see cref="KinesisOptions.EmptyReadDelay"/> after an
/// empty or throttled read; on <c>ExpiredIteratorException</c> opens a new iterator right after the last record it
/// returned (or at its start position when it returned none), so nothing is skipped or read twice; at a closed shard's
/// end reports the children (from <c>ChildShards</c>, or from ListShards where a service does not send them).
/// A throttled or failed call throws a transient <see cref="AwsServiceException"/> with the iterator kept, so the
/// caller's retry reads on from the same place.
/// </summary>
internal sealed partial class KinesisShardReader(KinesisRecordStream stream, string shardId, StartPosition start, KinesisOptions options, TimeProvider time, ILogger logger) : IShardReader
{
    private const int MaxRecordsPerCall = 10_000;
    private string? _iterator;
    private string? _lastSequenceNumber;
    private long _lastCall = long.MinValue;
    private bool _waitLonger;
    private long _behind;
    private ShardReadResult? _end;

    public string ShardId => shardId;

    public async Task OpenAsync(CancellationToken ct) => _iterator = await stream.GetShardIteratorAsync(shardId, start, ct).ConfigureAwait(false);

    public async ValueTask<ShardReadResult> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        if (_end is not null) return _end with { Records = [] };
        long began = time.GetTimestamp();
        bool called = false;
        while (true)
        {
            // Pace: never two calls on this shard within MinReadInterval, and a longer pause after an empty or
            // throttled read. Within this ReadAsync, give up once the next call would start after maxWait.
            var pause = (_waitLonger ? options.EmptyReadDelay : options.MinReadInterval) - (_lastCall == long.MinValue ? TimeSpan.MaxValue : time.GetElapsedTime(_lastCall));
            if (called && (pause > TimeSpan.Zero ? pause : TimeSpan.Zero) + time.GetElapsedTime(began) > maxWait)
                return new ShardReadResult([], false) { MillisBehindLatest = _behind };
            if (pause > TimeSpan.Zero) await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);

            _iterator ??= await RenewAsync(cancellationToken).ConfigureAwait(false);
            GetRecordsResponse response;
            try
            {
                _lastCall = time.GetTimestamp();
                called = true;
                response = await stream.GetRecordsAsync(_iterator, Math.Min(maxRecords, MaxRecordsPerCall), cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException e) when (e.ErrorCode == "ExpiredIteratorException")
            {
                LogExpired(logger, stream.StreamName, shardId, _lastSequenceNumber);
                _iterator = null;
                _waitLonger = false;
                continue;
            }
            catch (AwsServiceException e) when (e.IsTransient)
            {
                _waitLonger = true; // throttled: the caller's retry backs off, and this reader waits the longer pause too
                throw;
            }

            var records = new List<StreamRecord>(response.Records?.Count ?? 0);
            foreach (var r in response.Records ?? [])
                records.Add(new StreamRecord(shardId, r.SequenceNumber, r.PartitionKey, r.ApproximateArrivalTimestamp ?? time.GetUtcNow(), r.Data ?? []));
            if (records.Count > 0) _lastSequenceNumber = records[^1].SequenceNumber;
            _behind = response.MillisBehindLatest ?? 0;
            _waitLonger = records.Count == 0;
            if (response.NextShardIterator is null)
            {
                // The shard is closed and read to its end: no iterator, and its children.
                var children = response.ChildShards is { Count: > 0 } c ? c.Select(x => x.ShardId).ToList() : await ChildrenFromListingAsync(cancellationToken).ConfigureAwait(false);
                _end = new ShardReadResult([], true) { ChildShardIds = children, MillisBehindLatest = 0 };
                _iterator = null;
                return _end with { Records = records };
            }
            _iterator = response.NextShardIterator;
            if (records.Count > 0) return new ShardReadResult(records, false) { MillisBehindLatest = _behind };
        }
    }

    private async Task<string> RenewAsync(CancellationToken ct)
    {
        var at = _lastSequenceNumber is { } last ? StartPosition.AfterSequenceNumber(last) : start;
        return await stream.GetShardIteratorAsync(shardId, at, ct).ConfigureAwait(false);
    }

    private async Task<List<string>> ChildrenFromListingAsync(CancellationToken ct)
    {
        var shards = await stream.ListShardsAsync(ct).ConfigureAwait(false);
        return [.. shards.Where(s => s.ParentShardId == shardId || s.AdjacentParentShardId == shardId).Select(s => s.ShardId)];
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Kinesis stream {Stream} shard {ShardId}: the shard iterator expired; opening a new one after {SequenceNumber}")]
    private static partial void LogExpired(ILogger logger, string stream, string shardId, string? sequenceNumber);
}
