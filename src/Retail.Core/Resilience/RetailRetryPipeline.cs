using System.Globalization;
using Polly;
using Polly.Retry;

namespace Retail;

/// <summary>
/// The one retry owner of Retail: a Polly.Core resilience pipeline built from <see cref="RetryOptions"/> —
/// exponential back-off with jitter (<see cref="DelayBackoffType.Exponential"/>, <c>UseJitter</c>), driven by the
/// injected <see cref="TimeProvider"/>, retrying what <see cref="FailureClassification.IsTransient"/> calls
/// transient, bounded by <see cref="RetryOptions.MaxAttempts"/> and <see cref="RetryOptions.MaxTotalDuration"/>.
/// The producer, delivery, the speed layer and the compactor's store calls all retry through it, so nothing retries
/// in two layers: adapters (S3, Kinesis, …) switch their own SDK's retries off and throw.
/// </summary>
/// <remarks>
/// <para>
/// Two kinds of failure are retried. An exception the classification calls transient; and a result that still
/// holds failures (a put or bulk request that partly failed), as told by the <c>retryableFailure</c> function given
/// to <see cref="ExecuteAsync{TResult}(Func{CancellationToken, ValueTask{TResult}}, Func{TResult, string?}?, Action{RetryAttempt}?, CancellationToken)"/>:
/// the operation keeps its own state and sends only what failed on each attempt, the pipeline does the delays and
/// the attempt accounting.
/// </para>
/// <para>
/// When the limits are reached the pipeline throws <see cref="RetryExhaustedException"/>, naming the attempts, the
/// time and the last failure (the last exception is its inner exception). A failure that is not transient is thrown
/// at once, as it is. Thread-safe: one pipeline serves concurrent operations.
/// </para>
/// </remarks>
public sealed class RetailRetryPipeline
{
    private static readonly ResiliencePropertyKey<State> StateKey = new("Retail.Retry.State");

    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _time;

    /// <summary>Builds the pipeline.</summary>
    /// <param name="options">The limits and delays (copied).</param>
    /// <param name="timeProvider">The clock the delays and the time limit run on (default <see cref="TimeProvider.System"/>).</param>
    /// <exception cref="ArgumentException">The options are not valid; the message names each bad setting and its value.</exception>
    public RetailRetryPipeline(RetryOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        Options = options.Clone();
        _time = timeProvider ?? TimeProvider.System;
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        if (Options.MaxAttempts != 1)
        {
            var retry = new RetryStrategyOptions
            {
                MaxRetryAttempts = Options.MaxAttempts is { } n ? n - 1 : int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.BaseDelay,
                MaxDelay = Options.MaxDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Context, args.Outcome)),
                OnRetry = args =>
                {
                    var state = args.Context.Properties.GetValue(StateKey, null!);
                    state.OnRetry?.Invoke(new RetryAttempt(args.AttemptNumber + 1, args.RetryDelay, _time.GetElapsedTime(state.Started),
                        state.LastFailure ?? "", args.Outcome.Exception));
                    return default;
                },
            };
            if (Options.Randomizer is { } randomizer) retry.Randomizer = randomizer;
            builder.AddRetry(retry);
        }
        _pipeline = builder.Build();
    }

    /// <summary>The limits and delays this pipeline was built with.</summary>
    public RetryOptions Options { get; }

    /// <summary>Runs <paramref name="operation"/>, retrying transient exceptions.</summary>
    /// <param name="operation">The operation; it gets the caller's token.</param>
    /// <param name="onRetry">Called before each delay (to count and log retries); it must not throw.</param>
    /// <param name="cancellationToken">Cancels the operation and the delays; a cancellation is never retried.</param>
    /// <exception cref="RetryExhaustedException">A transient failure outlasted the limits.</exception>
    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, Action<RetryAttempt>? onRetry = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await ExecuteAsync(async ct =>
        {
            await operation(ct).ConfigureAwait(false);
            return true;
        }, null, onRetry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="operation"/>, retrying transient exceptions and results that still hold retryable failures.
    /// </summary>
    /// <typeparam name="TResult">What the operation returns.</typeparam>
    /// <param name="operation">
    /// The operation; it gets the caller's token. To retry only what failed, it keeps its own state: each attempt
    /// sends what is still pending and returns what failed.
    /// </param>
    /// <param name="retryableFailure">
    /// Null when the result needs no other attempt; otherwise a description of what failed in it (the last one is
    /// named when the limits are reached). Must be free of side effects: it may be called more than once per result.
    /// Null: results are never retried.
    /// </param>
    /// <param name="onRetry">Called before each delay (to count and log retries); it must not throw.</param>
    /// <param name="cancellationToken">Cancels the operation and the delays; a cancellation is never retried.</param>
    /// <returns>The first result without retryable failures.</returns>
    /// <exception cref="RetryExhaustedException">A transient failure, or a result with retryable failures, outlasted the limits.</exception>
    public async ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> operation,
        Func<TResult, string?>? retryableFailure = null, Action<RetryAttempt>? onRetry = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var state = new State
        {
            Started = _time.GetTimestamp(),
            OnRetry = onRetry,
            RetryableFailure = retryableFailure is null ? null : r => r is TResult t ? retryableFailure(t) : null,
        };
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        TResult result;
        try
        {
            result = await _pipeline.ExecuteAsync(static (ctx, s) =>
            {
                s.State.Attempts++;
                return s.Operation(ctx.CancellationToken);
            }, context, (State: state, Operation: operation)).ConfigureAwait(false);
        }
        catch (Exception e) when (FailureClassification.IsTransient(e, cancellationToken))
        {
            throw Exhausted(state, Describe(e), e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
        if (retryableFailure?.Invoke(result) is { } failure) throw Exhausted(state, failure, null);
        return result;
    }

    private bool ShouldRetry(ResilienceContext context, Outcome<object> outcome)
    {
        var state = context.Properties.GetValue(StateKey, null!);
        string? failure = outcome.Exception is { } e
            ? (FailureClassification.IsTransient(e, context.CancellationToken) ? Describe(e) : null)
            : state.RetryableFailure?.Invoke(outcome.Result);
        if (failure is null) return false;
        state.LastFailure = failure;
        return _time.GetElapsedTime(state.Started) < Options.MaxTotalDuration;
    }

    private RetryExhaustedException Exhausted(State state, string failure, Exception? inner)
    {
        var elapsed = _time.GetElapsedTime(state.Started);
        string limits = Options.MaxAttempts is { } n
            ? string.Create(CultureInfo.InvariantCulture, $"MaxAttempts {n}, MaxTotalDuration {Options.MaxTotalDuration:c}")
            : string.Create(CultureInfo.InvariantCulture, $"MaxTotalDuration {Options.MaxTotalDuration:c}");
        string message = string.Create(CultureInfo.InvariantCulture,
            $"Gave up after {state.Attempts} attempt{(state.Attempts == 1 ? "" : "s")} in {elapsed:c} (retry limits: {limits}); last error: {failure}");
        return new RetryExhaustedException(message, state.Attempts, elapsed, failure, inner);
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    private sealed class State
    {
        public long Started;
        public int Attempts;
        public string? LastFailure;
        public Func<object?, string?>? RetryableFailure;
        public Action<RetryAttempt>? OnRetry;
    }
}

/// <summary>One retry that <see cref="RetailRetryPipeline"/> is about to make.</summary>
/// <param name="FailedAttempt">The attempt that failed (1 for the first).</param>
/// <param name="Delay">How long the pipeline waits before the next attempt.</param>
/// <param name="Elapsed">Time since the first attempt began.</param>
/// <param name="Failure">What failed (the exception's type and message, or the result's retryable failure).</param>
/// <param name="Exception">The exception, when the attempt threw.</param>
public readonly record struct RetryAttempt(int FailedAttempt, TimeSpan Delay, TimeSpan Elapsed, string Failure, Exception? Exception);

/// <summary>
/// A transient failure outlasted the retry limits (<see cref="RetryOptions.MaxAttempts"/>,
/// <see cref="RetryOptions.MaxTotalDuration"/>). The message names the attempts, the time and the last failure;
/// <see cref="Exception.InnerException"/> is the last exception, when the last attempt threw. Not transient itself,
/// so an outer layer never retries it again.
/// </summary>
public sealed class RetryExhaustedException : Exception, IRetryClassified
{
    /// <summary>Creates the exception.</summary>
    public RetryExhaustedException(string message, int attempts, TimeSpan elapsed, string lastFailure, Exception? inner)
        : base(message, inner)
    {
        Attempts = attempts;
        Elapsed = elapsed;
        LastFailure = lastFailure;
    }

    /// <summary>Attempts made, the first included.</summary>
    public int Attempts { get; }

    /// <summary>Time from the first attempt to giving up.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The last failure, in words.</summary>
    public string LastFailure { get; }

    /// <inheritdoc />
    bool IRetryClassified.IsTransient => false;
}
