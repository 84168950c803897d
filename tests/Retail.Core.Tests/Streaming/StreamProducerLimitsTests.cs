using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

/// <summary>The producer batches within its target's limits (Kinesis's or Firehose's) and bounds the puts in flight.</summary>
public sealed class StreamProducerLimitsTests
{
    /// <summary>Records every call; optionally holds calls until released, to count how many are in flight.</summary>
    private sealed class RecordingTarget(PutLimits limits) : IRecordPutTarget
    {
        private int _inFlight;
        public List<IReadOnlyList<PutRecordsEntry>> Calls { get; } = [];
        public int MaxInFlight { get; private set; }
        public TaskCompletionSource? Gate { get; set; }
        public string StreamName => "recording";
        public PutLimits Limits => limits;

        public async ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
        {
            int now = Interlocked.Increment(ref _inFlight);
            lock (Calls)
            {
                MaxInFlight = Math.Max(MaxInFlight, now);
                Calls.Add([.. records]);
            }
            try
            {
                if (Gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
                long total = records.Sum(r => (long)limits.SizeOf(r));
                Assert.True(records.Count <= limits.MaxRecordsPerPut && total <= limits.MaxBytesPerPut, $"a call of {records.Count} records, {total} bytes");
                return new PutRecordsResult(0, [.. records.Select((_, i) => new PutRecordsResultEntry("shardId-000000000000", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), null, null))]);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    [Fact]
    public async Task AddAsync_501Records_GoInTwoCalls()
    {
        var target = new RecordingTarget(PutLimits.Kinesis);
        await using (var producer = new StreamProducer(target))
            for (int i = 0; i < 501; i++) await producer.AddAsync("k", new byte[10]);
        Assert.Equal([500, 1], target.Calls.Select(c => c.Count));
    }

    [Fact]
    public async Task AddAsync_MoreThan5MiB_SplitIntoCallsWithinTheLimit()
    {
        var target = new RecordingTarget(PutLimits.Kinesis);
        var data = new byte[900 * 1024];
        await using (var producer = new StreamProducer(target))
            for (int i = 0; i < 12; i++) await producer.AddAsync("key-" + i, data);
        Assert.Equal(12, target.Calls.Sum(c => c.Count));
        Assert.True(target.Calls.Count >= 3, $"{target.Calls.Count} calls");
        Assert.All(target.Calls, c => Assert.True(c.Sum(e => e.Data.Length + e.PartitionKey.Length) <= StreamLimits.MaxBytesPerPut));
    }

    [Fact]
    public async Task AddAsync_OneByteOverAMiB_RejectedBeforeSendingAndNamesTheRecord()
    {
        var target = new RecordingTarget(PutLimits.Kinesis);
        await using var producer = new StreamProducer(target);
        var data = System.Text.Encoding.UTF8.GetBytes("{\"Invoice\":\"489434\"" + new string(' ', StreamLimits.MaxRecordBytes - 20) + "}");
        Assert.Equal(StreamLimits.MaxRecordBytes + 1, data.Length + 1);
        var e = await Assert.ThrowsAsync<RecordTooLargeException>(async () => await producer.AddAsync("k", data));
        Assert.Equal(StreamLimits.MaxRecordBytes + 1, e.Size);
        Assert.Contains("489434", e.Message, StringComparison.Ordinal);
        Assert.Contains("1048576", e.Message, StringComparison.Ordinal);
        await producer.AddAsync("k", data.AsMemory(1)); // exactly 1 MiB with its key: accepted
        await producer.FlushAsync();
        Assert.Single(target.Calls);
    }

    [Fact]
    public async Task AddAsync_RaisedRecordLimit_TakesA2MiBRecord()
    {
        var target = new RecordingTarget(PutLimits.KinesisWithMaxRecordBytes(10 * 1024 * 1024));
        await using (var producer = new StreamProducer(target))
            await producer.AddAsync("k", new byte[2 * 1024 * 1024]);
        Assert.Single(target.Calls);
    }

    [Fact]
    public async Task AddAsync_FirehoseLimits_4MiBCallsAnd1000KiBRecords()
    {
        var target = new RecordingTarget(PutLimits.Firehose);
        await using (var producer = new StreamProducer(target))
        {
            await Assert.ThrowsAsync<RecordTooLargeException>(async () => await producer.AddAsync("", new byte[1000 * 1024 + 1]));
            for (int i = 0; i < 9; i++) await producer.AddAsync("", new byte[1000 * 1024]);
        }
        Assert.Equal(9, target.Calls.Sum(c => c.Count));
        Assert.All(target.Calls, c => Assert.True(c.Sum(e => e.Data.Length) <= 4 * 1024 * 1024 && c.Count <= 4));
    }

    [Fact]
    public async Task AddAsync_SlowTarget_NoMoreThanMaxInFlightPutsAtOnce()
    {
        var target = new RecordingTarget(PutLimits.Kinesis) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var producer = new StreamProducer(target, new StreamProducerOptions { MaxBatchRecords = 10, MaxInFlightPuts = 3 });
        var adding = Task.Run(async () =>
        {
            for (int i = 0; i < 100; i++) await producer.AddAsync("k" + i, new byte[8]);
        });
        // The fourth full batch must wait for a put to finish: adding stalls with three calls in flight.
        while (true)
        {
            lock (target.Calls) if (target.Calls.Count == 3) break;
            Assert.False(adding.IsCompleted, "all records were added while three puts were held");
            await Task.Yield();
        }
        Assert.False(adding.IsCompleted);
        target.Gate.SetResult();
        await adding;
        await producer.DisposeAsync();
        Assert.Equal(3, target.MaxInFlight);
        Assert.Equal(100, producer.RecordsSent);
        Assert.Equal(100, target.Calls.Sum(c => c.Count));
    }
}
