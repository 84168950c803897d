using Retail.Core.Tests.Resilience;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

/// <summary>The producer's retries, through the one pipeline, on a fake clock and seeded jitter.</summary>
public class StreamProducerRetryTests
{
    /// <summary>
    /// A stream double whose puts fail as scripted: per call (1-based), the entries (by their first byte) it refuses,
    /// or an exception it throws. Only puts are used by the producer.
    /// </summary>
    private sealed class ScriptedStream : IRecordStream
    {
        public Dictionary<int, HashSet<byte>> Refuse { get; } = [];
        public Dictionary<int, Exception> Throw { get; } = [];
        public HashSet<byte> AlwaysRefuse { get; } = [];
        public List<byte[]> Calls { get; } = [];
        public List<byte> Stored { get; } = [];

        public string StreamName => "scripted";

        public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default)
        {
            Calls.Add([.. records.Select(r => r.Data.Span[0])]);
            if (Throw.TryGetValue(Calls.Count, out var e)) throw e;
            var refuse = Refuse.GetValueOrDefault(Calls.Count, []);
            var entries = new List<PutRecordsResultEntry>();
            foreach (var r in records)
            {
                byte id = r.Data.Span[0];
                if (refuse.Contains(id) || AlwaysRefuse.Contains(id))
                    entries.Add(new PutRecordsResultEntry(null, null, "ProvisionedThroughputExceededException", $"rate exceeded for {id}"));
                else
                {
                    Stored.Add(id);
                    entries.Add(new PutRecordsResultEntry("shardId-000000000000", Stored.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), null, null));
                }
            }
            return ValueTask.FromResult(new PutRecordsResult(entries.Count(x => !x.Succeeded), entries));
        }

        public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("the producer only puts");

        public ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the producer only puts");
    }

    private static StreamProducerOptions Options(int? maxAttempts = null) => new()
    {
        Retry = new RetryOptions
        {
            MaxAttempts = maxAttempts,
            BaseDelay = TimeSpan.FromMilliseconds(50),
            MaxDelay = TimeSpan.FromSeconds(5),
            MaxTotalDuration = TimeSpan.FromMinutes(5),
            Randomizer = new Random(3).NextDouble,
        },
    };

    private static async Task AddAsync(StreamProducer producer, int count)
    {
        for (byte i = 0; i < count; i++) await producer.AddAsync("k", new[] { i });
    }

    [Fact]
    public async Task FlushAsync_SomeEntriesRefused_OnlyTheRefusedEntriesAreSentAgain()
    {
        var stream = new ScriptedStream { Refuse = { [1] = [1, 3, 4], [2] = [3] } };
        var time = new SelfAdvancingTimeProvider();
        var producer = new StreamProducer(stream, Options(), time);
        await AddAsync(producer, 6);

        await producer.FlushAsync();

        Assert.Equal([[0, 1, 2, 3, 4, 5], [1, 3, 4], [3]], stream.Calls);
        Assert.Equal([0, 2, 5, 1, 4, 3], stream.Stored);
        Assert.Equal(6, producer.RecordsSent);
        Assert.Equal(4, producer.EntriesRetried);
        Assert.Equal(2, time.Delays.Count);
        Assert.All(time.Delays, d => Assert.InRange(d, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task FlushAsync_WholePutThrottled_SameEntriesSentAgain()
    {
        var stream = new ScriptedStream { Throw = { [1] = new StreamThrottledException("slow down"), [2] = new TimeoutException("timed out") } };
        var time = new SelfAdvancingTimeProvider();
        var producer = new StreamProducer(stream, Options(), time);
        await AddAsync(producer, 3);

        await producer.FlushAsync();

        Assert.Equal([[0, 1, 2], [0, 1, 2], [0, 1, 2]], stream.Calls);
        Assert.Equal([0, 1, 2], stream.Stored);
        Assert.Equal(3, producer.RecordsSent);
        Assert.Equal(6, producer.EntriesRetried);
    }

    [Fact]
    public async Task FlushAsync_EntriesRefusedPastTheLimits_ThrowsNamingThemAndTheLastError()
    {
        var stream = new ScriptedStream { AlwaysRefuse = { 2, 4 } };
        var time = new SelfAdvancingTimeProvider();
        var producer = new StreamProducer(stream, Options(maxAttempts: 4), time);
        await AddAsync(producer, 5);

        var e = await Assert.ThrowsAsync<StreamProducerException>(() => producer.FlushAsync().AsTask());

        Assert.Equal(2, e.FailedRecords);
        Assert.Equal(4, stream.Calls.Count);
        Assert.Equal([[0, 1, 2, 3, 4], [2, 4], [2, 4], [2, 4]], stream.Calls);
        Assert.Contains("after 4 attempts", e.Message, StringComparison.Ordinal);
        Assert.Contains("rate exceeded for 4", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, Assert.IsType<RetryExhaustedException>(e.InnerException).Attempts);
        Assert.Equal(3, producer.RecordsSent);
    }

    [Fact]
    public async Task FlushAsync_PutFailsNonTransiently_ThrownAtOnceWithoutRetrying()
    {
        var stream = new ScriptedStream { Throw = { [1] = new UnauthorizedAccessException("AccessDeniedException: not allowed to PutRecords") } };
        var time = new SelfAdvancingTimeProvider();
        var producer = new StreamProducer(stream, Options(), time);
        await AddAsync(producer, 2);

        var e = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => producer.FlushAsync().AsTask());

        Assert.Contains("AccessDenied", e.Message, StringComparison.Ordinal);
        Assert.Single(stream.Calls);
        Assert.Empty(time.Delays);
        Assert.Equal(0, producer.EntriesRetried);
    }

    [Fact]
    public async Task DisposeAsync_AfterACancelledAdd_SendsWhatIsBatchedOnceAndNothingIsLostSilently()
    {
        var stream = new ScriptedStream();
        using var cts = new CancellationTokenSource();
        var producer = new StreamProducer(stream, Options());
        await producer.AddAsync("k", new byte[] { 1 });
        await producer.AddAsync("k", new byte[] { 2 });
        await cts.CancelAsync();
        await producer.AddAsync("k", new byte[] { 3 }, cts.Token); // the caller gave up: the record is batched, not sent

        await producer.DisposeAsync();

        Assert.Equal([1, 2, 3], stream.Stored);
        Assert.Single(stream.Calls);
        Assert.Equal(0, producer.RecordsUnsent);
    }

    [Fact]
    public async Task DisposeAsync_AfterCancellationTheStreamRefusesSome_TriesOnceAndCountsTheUnsentRecords()
    {
        var stream = new ScriptedStream { AlwaysRefuse = { 2 } };
        using var cts = new CancellationTokenSource();
        var producer = new StreamProducer(stream, Options());
        await producer.AddAsync("k", new byte[] { 1 });
        await producer.AddAsync("k", new byte[] { 2 });
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer.FlushAsync(cts.Token).AsTask());

        await producer.DisposeAsync();

        Assert.Equal([1], stream.Stored);
        Assert.Single(stream.Calls); // no retries after the caller cancelled
        Assert.Equal(1, producer.RecordsUnsent);
    }
}
