using System.Globalization;
using System.Security.Cryptography;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Query;
using Retail.Sinks.DuckDb;
using Retail.Sinks.Parquet;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// A real data lake in a fresh temp folder, written by the real pipeline: records are produced into the in-process
/// stream and, at the same time, delivered by <see cref="DeliveryEngine"/> into a <see cref="LocalFolderObjectStore"/>
/// (JSON lines under <c>json-data/year=/month=/day=/hour=</c>, partitioned by invoice time) and upserted by
/// <see cref="SpeedLayerEngine"/> into the DuckDB speed-layer index (<c>_retail/speed-layer.duckdb</c>). Hours are
/// compacted into Parquet by the real compactor when asked (<see cref="CompactAsync"/>); <see cref="Query"/> is the
/// DuckDB query engine over the folder.
/// </summary>
/// <remarks>
/// <para>The pipeline keeps running while the lake lives: <see cref="AddAsync"/> streams more records and returns once
/// every one of them is in the lake and in the index (a browser test can stream while the page is open).</para>
/// <para>Use: <c>await using var lake = await TestLake.CreateAsync(TestLake.Synthetic(500));</c> then
/// <c>await lake.CompactAsync(h =&gt; h.Day != 1)</c>, and serve <see cref="Query"/> (and <see cref="SpeedLayerView"/>) with
/// <see cref="DashboardTestServer"/>. Dispose ends the pipeline, closes the engines and deletes the folder.</para>
/// </remarks>
public sealed class TestLake : IAsyncDisposable
{
    /// <summary>The days <see cref="Synthetic"/> spreads records over by default: two months, two years, five days.</summary>
    public static readonly DateOnly[] DefaultDays =
    [
        new(2010, 11, 29), new(2010, 12, 1), new(2010, 12, 2), new(2010, 12, 9), new(2011, 1, 4),
    ];

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(2);

    private readonly InProcessRecordStream _stream;
    private readonly SignallingCheckpoints _checkpoints;
    private readonly DeliveryEngine _delivery;
    private readonly SpeedLayerEngine _speed;
    private readonly Task _deliveryRun, _speedRun;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<RetailTransaction> _records = [];
    private readonly SemaphoreSlim _adding = new(1, 1);
    private readonly Random _keys = new(7);
    private bool _disposed;

    private TestLake(string root)
    {
        Root = root;
        Store = new LocalFolderObjectStore(root);
        _stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2 });
        var delivery = new DeliveryOptions
        {
            Prefix = LakeLayout.EventTimeJsonPrefixTemplate, // hours are invoice hours: Synthetic's days are the lake's days
            BufferIntervalSeconds = 0, // an object per read: records are in the lake as soon as they are read
            PollInterval = TimeSpan.FromMilliseconds(100),
        };
        var speed = new SpeedLayerOptions { MaxBatchLatency = TimeSpan.FromMilliseconds(20), PollInterval = TimeSpan.FromMilliseconds(100) };
        _stream.RegisterConsumer(delivery.ConsumerName);
        _stream.RegisterConsumer(speed.ConsumerName);
        Index = DuckDbFactory.CreateUpsertIndex(new DuckDbIndexOptions { LakePath = root });
        Query = DuckDbFactory.CreateQueryEngine(new DuckDbQueryOptions { LakePath = root });
        _checkpoints = new SignallingCheckpoints(_stream);
        _delivery = new DeliveryEngine(_stream, Store, _checkpoints, delivery);
        _speed = new SpeedLayerEngine(_stream, Index, _checkpoints, speed, deadLetters: Store);
        _deliveryRun = _delivery.RunAsync(_stop.Token);
        _speedRun = _speed.RunAsync(_stop.Token);
    }

    /// <summary>The lake's root folder (a fresh folder under the temp path).</summary>
    public string Root { get; }

    /// <summary>The lake as an object store (the one delivery writes and the compactor reads).</summary>
    public LocalFolderObjectStore Store { get; }

    /// <summary>The DuckDB query engine over the lake (<c>retail_trans_json</c>, <c>ctas_retail_trans_parquet</c>). Owned by the lake.</summary>
    public IQueryEngine Query { get; }

    /// <summary>The DuckDB speed-layer index the pipeline upserts into. Owned by the lake.</summary>
    public IUpsertIndex Index { get; }

    /// <summary>The speed layer read back, when the DuckDB index implements <see cref="ISpeedLayerView"/> (null before it does).</summary>
    public ISpeedLayerView? SpeedLayerView => Index as ISpeedLayerView;

    /// <summary>Every record streamed so far, in order: the expected content of the batch layer and of the speed layer.</summary>
    public IReadOnlyList<RetailTransaction> Records
    {
        get { lock (_records) return [.. _records]; }
    }

    /// <summary>Delivery's counters (records read, delivered, objects written).</summary>
    public DeliveryStats DeliveryStats => _delivery.Stats;

    /// <summary>The speed layer's counters (records read, documents upserted).</summary>
    public SpeedLayerStats SpeedLayerStats => _speed.Stats;

    /// <summary>A lake in a fresh temp folder with <paramref name="records"/> (if any) streamed in, delivered and indexed.</summary>
    public static async Task<TestLake> CreateAsync(IEnumerable<RetailTransaction>? records = null, CancellationToken cancellationToken = default)
    {
        string root = Path.Combine(Path.GetTempPath(), "retail-dashboard-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var lake = new TestLake(root);
        try
        {
            if (records is not null) await lake.AddAsync(records, cancellationToken);
            return lake;
        }
        catch
        {
            await lake.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="perDay"/> synthetic records (<see cref="SyntheticTransactionGenerator"/>) on each of
    /// <paramref name="days"/> (default <see cref="DefaultDays"/>), invoice times between midnight and 20:00; deterministic
    /// for a seed (day i uses seed <paramref name="seed"/> + i).
    /// </summary>
    public static IReadOnlyList<RetailTransaction> Synthetic(int perDay, ulong seed = 7, params DateOnly[] days)
    {
        if (days.Length == 0) days = DefaultDays;
        var records = new List<RetailTransaction>(perDay * days.Length);
        for (int i = 0; i < days.Length; i++)
        {
            var clock = days[i].ToDateTime(new TimeOnly(20, 0));
            records.AddRange(new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed + (ulong)i, Clock = clock }).Generate(perDay));
        }
        return records;
    }

    /// <summary>
    /// Streams <paramref name="records"/> into the running pipeline and returns once each is delivered to the lake and
    /// upserted into the speed layer.
    /// </summary>
    public async Task AddAsync(IEnumerable<RetailTransaction> records, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _adding.WaitAsync(cancellationToken);
        try
        {
            await using (var producer = new StreamProducer(_stream))
            {
                foreach (var record in records)
                {
                    await producer.AddAsync(StreamProducer.WorkshopPartitionKey(_keys), RetailJson.ToJsonLine(record), cancellationToken);
                    lock (_records) _records.Add(record);
                }
                await producer.FlushAsync(cancellationToken);
            }
            long expected;
            lock (_records) expected = _records.Count;
            await SettleAsync(expected, cancellationToken);
        }
        finally
        {
            _adding.Release();
        }
    }

    /// <summary>
    /// Waits until delivery and the speed layer have handled <paramref name="expected"/> records in all: the condition is
    /// checked again each time an engine saves a checkpoint (it does so after its counters count the batch), never on a timer.
    /// </summary>
    private async Task SettleAsync(long expected, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SettleTimeout); // a bound on a hang, not an expected time
        while (true)
        {
            var saved = _checkpoints.NextSave; // taken before the check, so a save during it is not missed
            if (_deliveryRun.IsFaulted) await _deliveryRun;
            if (_speedRun.IsFaulted) await _speedRun;
            var d = _delivery.Stats;
            var s = _speed.Stats;
            if (d.RecordsDelivered + d.RecordsFailed >= expected && s.DocumentsUpserted + s.RecordsInvalid + s.DocumentsRejected >= expected) return;
            try
            {
                await Task.WhenAny(saved, _deliveryRun, _speedRun).WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The pipeline did not settle within {SettleTimeout}: {expected} records produced, delivery delivered {d.RecordsDelivered} (failed {d.RecordsFailed}), speed layer upserted {s.DocumentsUpserted}.");
            }
        }
    }

    /// <summary>The stream as the engines' checkpoint store, completing <see cref="NextSave"/> on every save.</summary>
    private sealed class SignallingCheckpoints(InProcessRecordStream stream) : ICheckpointStore
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes at the next checkpoint saved after it was read.</summary>
        public Task NextSave => Volatile.Read(ref _next).Task;

        public ValueTask<Checkpoint?> LoadAsync(string consumer, string shardId, CancellationToken cancellationToken = default) =>
            stream.LoadAsync(consumer, shardId, cancellationToken);

        public async ValueTask SaveAsync(string consumer, string shardId, Checkpoint checkpoint, CancellationToken cancellationToken = default)
        {
            await stream.SaveAsync(consumer, shardId, checkpoint, cancellationToken);
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        public ValueTask<ConsumerOwner?> LoadOwnerAsync(string consumer, CancellationToken cancellationToken = default) =>
            stream.LoadOwnerAsync(consumer, cancellationToken);

        public ValueTask SaveOwnerAsync(string consumer, ConsumerOwner owner, CancellationToken cancellationToken = default) =>
            stream.SaveOwnerAsync(consumer, owner, cancellationToken);
    }

    /// <summary>The hours (partitions) of the JSON table, oldest first.</summary>
    public async Task<IReadOnlyList<DateTime>> HoursAsync(CancellationToken cancellationToken = default)
    {
        var hours = new SortedSet<DateTime>();
        await foreach (var o in Store.ListAsync(LakeLayout.JsonPrefix, cancellationToken))
            if (LakeLayout.TryParseHourPartition(o.Key) is { } hour) hours.Add(hour);
        return [.. hours];
    }

    /// <summary>
    /// Compacts into Parquet, with the real compactor, every hour of the lake (<paramref name="hours"/> null) or the
    /// hours for which <paramref name="hours"/> is true; the others stay JSON only.
    /// </summary>
    /// <returns>The hours compacted.</returns>
    /// <exception cref="InvalidOperationException">An hour failed to compact.</exception>
    public async Task<IReadOnlyList<DateTime>> CompactAsync(Func<DateTime, bool>? hours = null, CancellationToken cancellationToken = default)
    {
        var compactor = ParquetCompactorFactory.Create(Store);
        var done = new List<DateTime>();
        foreach (var hour in await HoursAsync(cancellationToken))
        {
            if (hours is not null && !hours(hour)) continue;
            var result = await compactor.CompactHourAsync(hour, cancellationToken);
            if (result.Outcome == HourCompactionOutcome.Failed)
                throw new InvalidOperationException($"Compacting {hour:yyyy-MM-dd HH}:00 failed: {result.Error}");
            done.Add(hour);
        }
        return done;
    }

    /// <summary>The SHA-256 of every file under the lake, by path relative to <see cref="Root"/> ('/'-separated).</summary>
    public IReadOnlyDictionary<string, string> HashFiles()
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            hashes[Path.GetRelativePath(Root, file).Replace('\\', '/')] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return hashes;
    }

    /// <summary>Ends the pipeline (what is buffered is written), closes the engines and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _stream.Complete();
        try
        {
            // The stream is complete: both engines write what they hold and end.
            await Task.WhenAll(_deliveryRun, _speedRun).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync();
            try { await Task.WhenAll(_deliveryRun, _speedRun); }
            catch (OperationCanceledException) { }
        }
        await _delivery.DisposeAsync();
        await _speed.DisposeAsync();
        if (Query is IAsyncDisposable q) await q.DisposeAsync();
        if (Index is IAsyncDisposable i) await i.DisposeAsync();
        _stop.Dispose();
        _adding.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>The invoice day of a record, as the API's <c>yyyy-MM-dd</c>.</summary>
    public static string Day(RetailTransaction record) => record.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
