using System.Net;
using Retail.Codecs;
using Retail.Core.Tests.Resilience;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Delivery;

/// <summary>Delivery's and the speed layer's retries through the one pipeline, and observers that throw.</summary>
public class DeliveryRetryTests
{
    /// <summary>A deadlock guard only (real time): the runs below finish in well under a second when they work.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static List<RetailTransaction> Synthetic(int n) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 5 }).Generate(n).ToList();

    private static RetryOptions Retry(int? maxAttempts = null) => new()
    {
        MaxAttempts = maxAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(10),
        MaxTotalDuration = TimeSpan.FromMinutes(5),
        Randomizer = new Random(1).NextDouble,
    };

    /// <summary>A store whose puts fail with 503 while <see cref="FailPuts"/> says so (all of them when negative).</summary>
    private sealed class SlowDownStore(IObjectStore inner) : IObjectStore
    {
        public int FailPuts;
        public int Puts;
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Puts);
            if (FailPuts != 0)
            {
                if (FailPuts > 0) FailPuts--;
                throw new HttpRequestException("503 SlowDown: Please reduce your request rate.", null, HttpStatusCode.ServiceUnavailable);
            }
            return inner.PutAsync(key, data, cancellationToken);
        }
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
            inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    private static async Task<InProcessRecordStream> StreamWithAsync(TimeProvider time, int records, string consumer)
    {
        var stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 1 }, time);
        stream.RegisterConsumer(consumer);
        await using (var producer = new StreamProducer(stream))
            foreach (var r in Synthetic(records)) await producer.AddAsync("k", RetailJson.ToJsonLine(r));
        stream.Complete();
        return stream;
    }

    [Fact]
    public async Task RunAsync_StoreThrottlesThreePuts_RetriesThemAndDeliversEverything()
    {
        using var dir = new TempDir();
        var time = new SelfAdvancingTimeProvider();
        var stream = await StreamWithAsync(time, 10, "delivery");
        var store = new SlowDownStore(new LocalFolderObjectStore(dir.Path)) { FailPuts = 3 };
        var engine = new DeliveryEngine(stream, store, stream, new DeliveryOptions { BufferIntervalSeconds = 0, Retry = Retry() }, timeProvider: time);

        await engine.RunAsync().WaitAsync(Guard);

        Assert.Equal(3, engine.Stats.WriteRetries);
        Assert.Equal(4, store.Puts);
        Assert.Equal(10, engine.Stats.RecordsDelivered);
        Assert.Equal(1, engine.Stats.ObjectsWritten);
        Assert.NotNull(await stream.LoadAsync("delivery", "shardId-000000000000"));
    }

    [Fact]
    public async Task RunAsync_StoreThrottlesEveryPut_StopsAfterMaxAttemptsNamingTheErrorAndCheckpointsNothing()
    {
        using var dir = new TempDir();
        var time = new SelfAdvancingTimeProvider();
        var stream = await StreamWithAsync(time, 10, "delivery");
        var store = new SlowDownStore(new LocalFolderObjectStore(dir.Path)) { FailPuts = -1 };
        var engine = new DeliveryEngine(stream, store, stream, new DeliveryOptions { BufferIntervalSeconds = 0, Retry = Retry(maxAttempts: 6) }, timeProvider: time);

        var e = await Assert.ThrowsAsync<DeliveryFailedException>(() => engine.RunAsync().WaitAsync(Guard));

        Assert.Equal(6, store.Puts);
        Assert.Equal(5, engine.Stats.WriteRetries);
        Assert.Contains("json-data/", e.Message, StringComparison.Ordinal);
        Assert.Contains("503 SlowDown", e.Message, StringComparison.Ordinal);
        Assert.Contains("Gave up after 6 attempts", e.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(Assert.IsType<RetryExhaustedException>(e.InnerException).InnerException);
        Assert.Null(await stream.LoadAsync("delivery", "shardId-000000000000"));
        Assert.Equal(10, stream.BufferedRecords);
    }

    [Fact]
    public async Task RunAsync_ObjectWrittenHandlerThrows_WorkerGoesOnAndTheErrorIsCounted()
    {
        using var dir = new TempDir();
        var time = new SelfAdvancingTimeProvider();
        var stream = await StreamWithAsync(time, 30, "delivery");
        var engine = new DeliveryEngine(stream, new LocalFolderObjectStore(dir.Path), stream,
            new DeliveryOptions { BufferIntervalSeconds = 0, MaxRecordsPerRead = 10 }, timeProvider: time);
        var seen = new List<DeliveredObject>();
        engine.ObjectWritten += _ => throw new InvalidOperationException("observer bug");
        engine.ObjectWritten += seen.Add;

        await engine.RunAsync().WaitAsync(Guard);

        Assert.Equal(30, engine.Stats.RecordsDelivered);
        Assert.Equal(3, engine.Stats.ObjectsWritten);
        Assert.Equal(3, engine.Stats.ObserverErrors);
        Assert.Equal(3, seen.Count); // the handler after the throwing one still ran
        Assert.Equal(30, seen.Sum(o => o.Records));
    }

    /// <summary>An index that fails documents retryably as scripted: per call (1-based), how many of the first documents fail.</summary>
    private sealed class ThrottlingIndex : IUpsertIndex
    {
        public Dictionary<int, int> FailFirst { get; } = [];
        public bool AlwaysFail { get; init; }
        public List<int> CallSizes { get; } = [];
        public HashSet<string> Stored { get; } = [];

        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            CallSizes.Add(documents.Count);
            int fail = AlwaysFail ? documents.Count : FailFirst.GetValueOrDefault(CallSizes.Count);
            var items = new List<UpsertItemResult>();
            for (int i = 0; i < documents.Count; i++)
            {
                if (i < fail) items.Add(new UpsertItemResult(documents[i].Id, "es_rejected_execution_exception (429)", Retryable: true));
                else
                {
                    Assert.True(Stored.Add(documents[i].Id), "a stored document was sent again");
                    items.Add(new UpsertItemResult(documents[i].Id, null, false));
                }
            }
            return ValueTask.FromResult(new UpsertResult(items));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult((long)Stored.Count);
    }

    [Fact]
    public async Task SpeedLayer_DocumentsThrottled_OnlyThoseAreSentAgain()
    {
        var time = new SelfAdvancingTimeProvider();
        var stream = await StreamWithAsync(time, 10, "speed-layer");
        var index = new ThrottlingIndex { FailFirst = { [1] = 4, [2] = 1 } };
        var engine = new SpeedLayerEngine(stream, index, stream, new SpeedLayerOptions { MaxBatchLatency = TimeSpan.Zero, Retry = Retry() }, timeProvider: time);

        await engine.RunAsync().WaitAsync(Guard);

        Assert.Equal([10, 4, 1], index.CallSizes);
        Assert.Equal(10, index.Stored.Count);
        Assert.Equal(10, engine.Stats.DocumentsUpserted);
        Assert.Equal(5, engine.Stats.DocumentsRetried);
    }

    [Fact]
    public async Task SpeedLayer_DocumentsThrottledPastTheLimits_StopsNamingTheErrorWithoutCheckpointing()
    {
        var time = new SelfAdvancingTimeProvider();
        var stream = await StreamWithAsync(time, 5, "speed-layer");
        var index = new ThrottlingIndex { AlwaysFail = true };
        var engine = new SpeedLayerEngine(stream, index, stream, new SpeedLayerOptions { MaxBatchLatency = TimeSpan.Zero, Retry = Retry(maxAttempts: 3) }, timeProvider: time);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.RunAsync().WaitAsync(Guard));

        Assert.Equal([5, 5, 5], index.CallSizes);
        Assert.Contains("5 documents still failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("es_rejected_execution_exception (429)", e.Message, StringComparison.Ordinal);
        Assert.IsType<RetryExhaustedException>(e.InnerException);
        Assert.Null(await stream.LoadAsync("speed-layer", "shardId-000000000000"));
    }
}
