using System.Net;
using System.Net.Sockets;
using Retail.Storage;

namespace Retail.Core.Tests.Resilience;

public class RetailRetryPipelineTests
{
    private static RetryOptions Options(int? maxAttempts = null, int seed = 7) => new()
    {
        MaxAttempts = maxAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
        MaxTotalDuration = TimeSpan.FromMinutes(1),
        Randomizer = new Random(seed).NextDouble,
    };

    private static HttpRequestException Status(HttpStatusCode status, string text = "") => new(text, null, status);

    [Fact]
    public async Task ExecuteAsync_TransientThenSuccess_RetriesUntilSuccessCountingEveryAttempt()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(), time);
        int calls = 0;
        var retries = new List<RetryAttempt>();

        int result = await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            return calls < 4 ? throw Status(HttpStatusCode.ServiceUnavailable, $"SlowDown #{calls}") : ValueTask.FromResult(42);
        }, onRetry: retries.Add);

        Assert.Equal(42, result);
        Assert.Equal(4, calls);
        Assert.Equal([1, 2, 3], retries.Select(r => r.FailedAttempt));
        Assert.Equal(["HttpRequestException: SlowDown #1", "HttpRequestException: SlowDown #2", "HttpRequestException: SlowDown #3"], retries.Select(r => r.Failure));
        Assert.All(retries, r => Assert.IsType<HttpRequestException>(r.Exception));
        // The clock waited each announced delay (timers run at millisecond resolution).
        Assert.Equal(retries.Select(r => (long)r.Delay.TotalMilliseconds), time.Delays.Select(d => (long)d.TotalMilliseconds));
    }

    [Fact]
    public async Task ExecuteAsync_ConstantRandomizer_DelaysGrowUpToMaxDelay()
    {
        var time = new SelfAdvancingTimeProvider();
        var options = Options(maxAttempts: 12);
        options.Randomizer = () => 0.5;
        var pipeline = new RetailRetryPipeline(options, time);

        await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ => throw new TimeoutException()).AsTask());

        var delays = time.Delays;
        Assert.Equal(11, delays.Count);
        for (int i = 1; i < delays.Count; i++) Assert.True(delays[i] >= delays[i - 1], $"delay {i} ({delays[i]}) < delay {i - 1} ({delays[i - 1]})");
        Assert.True(delays[0] < TimeSpan.FromMilliseconds(200), $"first delay {delays[0]}");
        Assert.True(delays[3] > delays[0] * 4, $"delays do not grow exponentially: {string.Join(", ", delays)}");
        Assert.Equal(options.MaxDelay, delays[^1]);
    }

    [Fact]
    public async Task ExecuteAsync_SeededRandomizer_JitteredDelaysWithinBoundsAndReproducible()
    {
        async Task<IReadOnlyList<TimeSpan>> RunAsync(int seed)
        {
            var time = new SelfAdvancingTimeProvider();
            var pipeline = new RetailRetryPipeline(Options(maxAttempts: 20, seed: seed), time);
            await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ => throw new SocketException((int)SocketError.ConnectionReset)).AsTask());
            return time.Delays;
        }

        var first = await RunAsync(11);
        Assert.Equal(19, first.Count);
        Assert.All(first, d => Assert.InRange(d, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(2)));
        Assert.Equal(first, await RunAsync(11));
        Assert.NotEqual(first, await RunAsync(12));
        // Jitter: not all the capped delays are equal, yet the later ones are larger on the whole.
        Assert.True(first.Take(3).Sum(d => d.TotalMilliseconds) < first.TakeLast(3).Sum(d => d.TotalMilliseconds));
    }

    [Fact]
    public async Task ExecuteAsync_AlwaysTransient_GivesUpAfterMaxAttemptsWithLastError()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(maxAttempts: 5), time);
        int calls = 0;

        var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw Status(HttpStatusCode.InternalServerError, $"InternalError #{calls}");
        }).AsTask());

        Assert.Equal(5, calls);
        Assert.Equal(5, e.Attempts);
        Assert.Equal(4, time.Delays.Count);
        Assert.Equal("InternalError #5", Assert.IsType<HttpRequestException>(e.InnerException).Message);
        Assert.Equal("HttpRequestException: InternalError #5", e.LastFailure);
        Assert.Contains("Gave up after 5 attempts", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts 5", e.Message, StringComparison.Ordinal);
        Assert.Contains("InternalError #5", e.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromTicks(time.Delays.Sum(d => d.Ticks)), e.Elapsed);
    }

    [Fact]
    public async Task ExecuteAsync_AlwaysTransient_GivesUpOnceMaxTotalDurationHasPassed()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(), time);
        int calls = 0;

        var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new TimeoutException($"timed out #{calls}");
        }).AsTask());

        var delays = time.Delays;
        Assert.Equal(calls, e.Attempts);
        Assert.Equal(calls - 1, delays.Count);
        // Retried while less than a minute had passed; the first failure after it is thrown.
        Assert.True(TimeSpan.FromTicks(delays.SkipLast(1).Sum(d => d.Ticks)) < TimeSpan.FromMinutes(1));
        Assert.True(e.Elapsed >= TimeSpan.FromMinutes(1));
        Assert.Equal($"timed out #{calls}", e.InnerException!.Message);
        Assert.Contains("MaxTotalDuration 00:01:00", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<Exception> NotTransient() =>
    [
        new ArgumentException("bad key"),
        new FormatException("bad json"),
        new UnauthorizedAccessException("denied"),
        new ObjectNotFoundException("json-data/x"),
        Status(HttpStatusCode.NotFound),
        Status(HttpStatusCode.Forbidden),
        Status(HttpStatusCode.Unauthorized),
        Status(HttpStatusCode.BadRequest),
        new IOException("No space left on device", 28),
        new InvalidOperationException("a bug"),
    ];

    [Theory]
    [MemberData(nameof(NotTransient))]
    public async Task ExecuteAsync_NotTransient_ThrownAtOnceAsIs(Exception failure)
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(), time);
        int calls = 0;

        var e = await Assert.ThrowsAnyAsync<Exception>(() => pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw failure;
        }).AsTask());

        Assert.Same(failure, e);
        Assert.Equal(1, calls);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_NotRetried()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(), time);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.ExecuteAsync(ct =>
        {
            calls++;
            cts.Cancel();
            ct.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, cancellationToken: cts.Token).AsTask());

        Assert.Equal(1, calls);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task ExecuteAsync_PartialResults_OnlyTheFailedItemsAreSentAgain()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(), time);
        // The service refuses these items on the attempt given (1-based).
        var refusals = new Dictionary<int, HashSet<string>> { [1] = ["b", "d", "e"], [2] = ["d"] };
        var sent = new List<string[]>();
        IReadOnlyList<string> pending = ["a", "b", "c", "d", "e"];
        var stored = new List<string>();

        await pipeline.ExecuteAsync(_ =>
        {
            sent.Add([.. pending]);
            var refused = refusals.GetValueOrDefault(sent.Count, []);
            stored.AddRange(pending.Where(i => !refused.Contains(i)));
            pending = [.. pending.Where(refused.Contains)];
            return ValueTask.FromResult(pending.Count);
        }, failed => failed == 0 ? null : $"{failed} refused");

        Assert.Equal([["a", "b", "c", "d", "e"], ["b", "d", "e"], ["d"]], sent);
        Assert.Equal(["a", "c", "b", "e", "d"], stored);
        Assert.Equal(2, time.Delays.Count);
    }

    [Fact]
    public async Task ExecuteAsync_PartialFailuresOutlastTheLimits_ThrowsNamingTheLastFailure()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(maxAttempts: 3), time);
        int calls = 0;

        var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ => ValueTask.FromResult(++calls),
            attempt => $"2 items throttled on attempt {attempt}").AsTask());

        Assert.Equal(3, calls);
        Assert.Equal(3, e.Attempts);
        Assert.Null(e.InnerException);
        Assert.Equal("2 items throttled on attempt 3", e.LastFailure);
    }

    [Fact]
    public async Task ExecuteAsync_OneAttempt_NeverRetriesAndStillSaysItGaveUp()
    {
        var time = new SelfAdvancingTimeProvider();
        var pipeline = new RetailRetryPipeline(Options(maxAttempts: 1), time);
        int calls = 0;

        var e = await Assert.ThrowsAsync<RetryExhaustedException>(() => pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new TimeoutException();
        }).AsTask());

        Assert.Equal(1, calls);
        Assert.Equal(1, e.Attempts);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public void RetryOptions_Invalid_EveryMessageNamesTheSettingAndValue()
    {
        var options = new RetryOptions { MaxAttempts = 0, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.FromHours(2), MaxTotalDuration = TimeSpan.FromSeconds(-1) };

        var errors = options.Validate("DeliveryOptions.Retry");

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("DeliveryOptions.Retry.MaxAttempts", StringComparison.Ordinal) && e.Contains("got 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DeliveryOptions.Retry.BaseDelay", StringComparison.Ordinal) && e.Contains("00:00:00", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DeliveryOptions.Retry.MaxDelay", StringComparison.Ordinal) && e.Contains("02:00:00", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DeliveryOptions.Retry.MaxTotalDuration", StringComparison.Ordinal) && e.Contains("-00:00:01", StringComparison.Ordinal));
        Assert.Empty(new RetryOptions().Validate());
        var thrown = Assert.Throws<ArgumentException>(() => new RetailRetryPipeline(new RetryOptions { MaxDelay = TimeSpan.FromMilliseconds(1) }));
        Assert.Contains("RetryOptions.MaxDelay", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineOptions_InvalidRetry_NamedInTheirValidation()
    {
        Assert.Contains(new Retail.Delivery.DeliveryOptions { Retry = new RetryOptions { MaxAttempts = 0 } }.Validate(),
            e => e.StartsWith("DeliveryOptions.Retry.MaxAttempts", StringComparison.Ordinal));
        Assert.Contains(new Retail.Indexing.SpeedLayerOptions { Retry = new RetryOptions { BaseDelay = TimeSpan.Zero } }.Validate(),
            e => e.StartsWith("SpeedLayerOptions.Retry.BaseDelay", StringComparison.Ordinal));
        var producer = Assert.Throws<ArgumentException>(() => new Retail.Streaming.StreamProducer(new Retail.Streaming.InProcessRecordStream(),
            new Retail.Streaming.StreamProducerOptions { Retry = new RetryOptions { MaxTotalDuration = TimeSpan.Zero } }));
        Assert.Contains("StreamProducerOptions.Retry.MaxTotalDuration", producer.Message, StringComparison.Ordinal);
    }
}
