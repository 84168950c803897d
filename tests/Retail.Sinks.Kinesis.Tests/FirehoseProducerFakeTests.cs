using System.Text;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>The producer on Firehose PutRecordBatch, against the strict loopback fake of Firehose (no emulator exists).</summary>
public sealed class FirehoseProducerFakeTests
{
    private const string Stream = "retail-delivery";

    private static IRecordPutTarget Target(FirehoseLoopbackFake fake) =>
        KinesisClientFactory.CreateFirehose(new FirehoseOptions { DeliveryStreamName = Stream, ServiceUrl = fake.ServiceUrl }, KinesisTestStreams.Credentials);

    private static readonly StreamProducerOptions FastRetries = new()
    {
        Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(50), MaxTotalDuration = TimeSpan.FromMinutes(1) },
    };

    [Fact]
    public async Task Produce_FakeFailsTenPercentOfEntries_EveryRecordDeliveredOnceAndRetriesCounted()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync(Stream);
        var random = new Random(9);
        fake.FailEntry = _ => { lock (random) return random.NextDouble() < 0.1; }; // calls arrive concurrently
        var lines = KinesisPipeline.Lines(2000, seed: 31);

        var producer = await KinesisPipeline.ProduceAsync(Target(fake), lines, FastRetries);

        Assert.Equal(2000, producer.RecordsSent);
        Assert.True(producer.EntriesRetried > 100, $"{producer.EntriesRetried} retried");
        Assert.Equal(KinesisPipeline.Sorted(lines), [.. fake.Records(Stream).Select(b => Encoding.UTF8.GetString(b)).Order(StringComparer.Ordinal)]);
    }

    [Fact]
    public async Task Produce_FakeFailsWholeCalls_ResentAndNothingDuplicated()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync(Stream);
        fake.FailCall = n => n % 3 == 1 ? 503 : null;
        var lines = KinesisPipeline.Lines(1200, seed: 32);

        var producer = await KinesisPipeline.ProduceAsync(Target(fake), lines, FastRetries);

        Assert.Equal(1200, producer.RecordsSent);
        Assert.Equal(KinesisPipeline.Sorted(lines), [.. fake.Records(Stream).Select(b => Encoding.UTF8.GetString(b)).Order(StringComparer.Ordinal)]);
    }

    [Fact]
    public async Task Produce_LargeRecords_BatchesWithin4MiBAnd500Records()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync(Stream);
        var big = new byte[1000 * 1024];
        await using (var producer = new StreamProducer(Target(fake)))
        {
            for (int i = 0; i < 9; i++) await producer.AddAsync("", big);
            for (int i = 0; i < 501; i++) await producer.AddAsync("", "{}\n"u8.ToArray());
        }
        Assert.Equal(510, fake.Records(Stream).Count); // the fake refuses any call over 4 MiB or 500 records
        Assert.True(fake.Calls >= 4, $"{fake.Calls} calls");
    }

    [Fact]
    public async Task Produce_RecordOver1000KiB_RejectedBeforeSendingNamingTheSize()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync(Stream);
        await using var producer = new StreamProducer(Target(fake));
        var e = await Assert.ThrowsAsync<RecordTooLargeException>(async () => await producer.AddAsync("", new byte[1000 * 1024 + 1]));
        Assert.Contains("1024000", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, fake.Calls);
    }

    [Fact]
    public async Task Produce_UnknownDeliveryStream_FailsWithTheServiceErrorNotRetried()
    {
        await using var fake = await FirehoseLoopbackFake.StartAsync("other");
        var producer = new StreamProducer(Target(fake), FastRetries);
        await producer.AddAsync("", "{}\n"u8.ToArray());
        var e = await Assert.ThrowsAsync<AwsServiceException>(async () => await producer.FlushAsync());
        Assert.Equal("ResourceNotFoundException", e.ErrorCode);
        Assert.False(e.IsTransient);
        Assert.Equal(1, fake.Calls);
    }
}
