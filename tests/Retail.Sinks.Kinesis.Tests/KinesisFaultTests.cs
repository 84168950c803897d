using Retail.Core.Tests;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// Faults injected at the HTTP layer (below the signer, so every attempt is signed afresh) against a real Kinesis
/// emulator: failed PutRecords entries, whole calls failing with 5xx, connection resets and timeouts, throttled
/// GetRecords and expired iterators. Nothing is lost and nothing is duplicated.
/// </summary>
public abstract class KinesisFaultTests(KinesisEmulatorFixture fixture)
{
    private static readonly StreamProducerOptions FastRetries = new()
    {
        MaxBatchRecords = 200,
        Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), MaxTotalDuration = TimeSpan.FromMinutes(1) },
    };

    private static Retail.Delivery.DeliveryOptions Delivery(IRecordStream stream) => new()
    {
        DeliveryStreamName = stream.StreamName, PollInterval = TimeSpan.FromMilliseconds(500),
        Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(200), MaxTotalDuration = TimeSpan.FromMinutes(1) },
    };

    [Fact]
    public async Task Produce_TenPercentOfEntriesFailing_EveryRecordStoredOnceAndRetriesCounted()
    {
        var injector = new KinesisFaultInjector(seed: 3) { InnerHandler = new SocketsHttpHandler() };
        injector.FailPutRecordsEntries(0.10);
        var stream = await KinesisTestStreams.CreateAsync(fixture, 2, injector);
        var lines = KinesisPipeline.Lines(3000, seed: 21);

        var producer = await KinesisPipeline.ProduceAsync(stream, lines, FastRetries);

        Assert.Equal(3000, producer.RecordsSent);
        Assert.True(injector.InjectedEntryFailures > 150, $"{injector.InjectedEntryFailures} entries failed");
        Assert.Equal(injector.InjectedEntryFailures, producer.EntriesRetried);
        Assert.Equal(0, producer.RecordsFailed);
        using var clean = KinesisClientFactory.CreateStream(KinesisTestStreams.Options(fixture, stream.StreamName), KinesisTestStreams.Credentials) as IDisposable;
        Assert.Equal(KinesisPipeline.Sorted(lines), await KinesisPipeline.ReadAllAsync((IRecordStream)clean!));
    }

    [Fact]
    public async Task Produce_ServerErrorsResetsAndTimeoutsBeforeTheCallArrives_EveryRecordStoredOnce()
    {
        var injector = new KinesisFaultInjector(seed: 4) { InnerHandler = new SocketsHttpHandler() };
        injector.FailCall = c => c.Operation == "PutRecords" && c.OperationNumber % 5 == 1 ? (c.OperationNumber % 2 == 0 ? 500 : 503) : null;
        injector.ResetConnection = c => c.Operation == "PutRecords" && c.OperationNumber % 5 == 3;
        injector.DelayBeforeForwarding = c => c.Operation == "PutRecords" && c.OperationNumber % 7 == 4 ? TimeSpan.FromSeconds(30) : null;
        // The injected delays (30 s) time out; a real call must not: a timeout after the emulator took the put (it
        // answers slowly on a loaded machine) is a genuine at-least-once duplicate, not what this test is about.
        var stream = await KinesisTestStreams.CreateAsync(fixture, 2, injector, o => o.RequestTimeout = TimeSpan.FromSeconds(5));
        var lines = KinesisPipeline.Lines(2000, seed: 22);

        var producer = await KinesisPipeline.ProduceAsync(stream, lines, FastRetries);

        Assert.Equal(2000, producer.RecordsSent);
        Assert.True(injector.InjectedServerErrors > 0 && injector.InjectedConnectionResets > 0 && injector.InjectedDelays > 0,
            $"{injector.InjectedServerErrors} server errors, {injector.InjectedConnectionResets} resets, {injector.InjectedDelays} delays");
        using var clean = KinesisClientFactory.CreateStream(KinesisTestStreams.Options(fixture, stream.StreamName), KinesisTestStreams.Credentials) as IDisposable;
        Assert.Equal(KinesisPipeline.Sorted(lines), await KinesisPipeline.ReadAllAsync((IRecordStream)clean!));
    }

    /// <summary>
    /// Produces <paramref name="count"/> records, then delivers them, both over <paramref name="injector"/> (whose read faults puts never meet)
    /// in reads of 100 records (so each shard takes many reads and meets the faults many times, not only at its start);
    /// asserts the lake holds every record once and returns the consumer's stats.
    /// </summary>
    private async Task<StreamConsumerStats> DeliverThroughAsync(KinesisFaultInjector injector, int count, ulong seed)
    {
        var stream = await KinesisTestStreams.CreateAsync(fixture, 2, injector);
        var lines = KinesisPipeline.Lines(count, seed);
        await KinesisPipeline.ProduceAsync(stream, lines, FastRetries);
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var options = Delivery(stream);
        options.MaxRecordsPerRead = 100;

        var (delivery, consumer) = await KinesisPipeline.DeliverAsync(stream, store, lines.Count, options);

        Assert.Equal(count, delivery.RecordsDelivered);
        Assert.Equal(KinesisPipeline.Sorted(lines), await KinesisPipeline.LakeLinesAsync(store));
        return consumer;
    }

    [Fact]
    public async Task Deliver_GetRecordsThrottled_ConsumerBacksOffAndDeliversEverythingOnce()
    {
        var injector = new KinesisFaultInjector(seed: 5) { InnerHandler = new SocketsHttpHandler() };
        injector.ThrottleGetRecords = _ => injector.Draw() < 0.5; // seeded: half the reads, at random across both shards

        var consumer = await DeliverThroughAsync(injector, 2000, seed: 23);

        Assert.True(injector.InjectedGetRecordsThrottles > 5, $"{injector.InjectedGetRecordsThrottles} reads throttled");
        Assert.True(consumer.Retries >= injector.InjectedGetRecordsThrottles, $"{consumer.Retries} retries for {injector.InjectedGetRecordsThrottles} throttled reads");
    }

    [Fact]
    public async Task Deliver_IteratorsExpire_RenewedAfterTheLastRecordWithoutGapOrDuplicate()
    {
        var injector = new KinesisFaultInjector(seed: 6) { InnerHandler = new SocketsHttpHandler() };
        injector.ExpireGetRecordsIterator = c => c.OperationNumber % 2 == 0;

        var consumer = await DeliverThroughAsync(injector, 3000, seed: 24);

        Assert.True(injector.InjectedExpiredIterators > 10, $"{injector.InjectedExpiredIterators} iterators expired");
        Assert.Equal(0, consumer.Retries); // renewing an expired iterator is not a failure
    }
}

[Collection(KinesisMockCollection.Name)]
public sealed class KinesisMockFaultTests(KinesisMockFixture fixture) : KinesisFaultTests(fixture);

[Collection(KinesaliteCollection.Name)]
public sealed class KinesaliteFaultTests(KinesaliteFixture fixture) : KinesisFaultTests(fixture);
