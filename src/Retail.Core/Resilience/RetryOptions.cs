using System.Globalization;

namespace Retail;

/// <summary>
/// How a Retail component retries transient failures (see <see cref="RetailRetryPipeline"/>): exponential back-off
/// with jitter from <see cref="BaseDelay"/> up to <see cref="MaxDelay"/>, for at most <see cref="MaxAttempts"/>
/// attempts and no longer than <see cref="MaxTotalDuration"/>. Every retry is bounded: when the limits are reached
/// the last error is thrown (a <see cref="RetryExhaustedException"/>), never swallowed.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Longest accepted <see cref="BaseDelay"/> and <see cref="MaxDelay"/>.</summary>
    public static readonly TimeSpan MaxDelayLimit = TimeSpan.FromHours(1);

    /// <summary>Longest accepted <see cref="MaxTotalDuration"/>.</summary>
    public static readonly TimeSpan MaxTotalDurationLimit = TimeSpan.FromDays(1);

    /// <summary>
    /// Most attempts in all, the first included (default null: as many as <see cref="MaxTotalDuration"/> allows;
    /// 1: never retry).
    /// </summary>
    public int? MaxAttempts { get; set; }

    /// <summary>The median first delay (default 100 ms); the delays grow exponentially from it, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest single delay (default 10 s).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after the first attempt a failure is still retried (default 5 minutes). A failure after it is
    /// thrown; so an operation ends at most about this plus <see cref="MaxDelay"/> plus one attempt after it began.
    /// </summary>
    public TimeSpan MaxTotalDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The jitter's source of numbers in [0, 1) (default null: a shared, thread-safe random source). Tests set a
    /// seeded one so that the delays are known.
    /// </summary>
    public Func<double>? Randomizer { get; set; }

    /// <summary>Checks every setting; one message per problem, each naming the setting and its value.</summary>
    /// <param name="settingName">How the messages name these options, e.g. <c>DeliveryOptions.Retry</c>.</param>
    /// <returns>The problems, empty when valid.</returns>
    public IReadOnlyList<string> Validate(string settingName = nameof(RetryOptions))
    {
        var errors = new List<string>();
        if (MaxAttempts is < 1)
            errors.Add(Invariant($"{settingName}.{nameof(MaxAttempts)} must be null (limited by {nameof(MaxTotalDuration)} only) or at least 1, got {MaxAttempts}."));
        if (BaseDelay <= TimeSpan.Zero || BaseDelay > MaxDelayLimit)
            errors.Add(Invariant($"{settingName}.{nameof(BaseDelay)} must be positive and at most {MaxDelayLimit:c}, got {BaseDelay:c}."));
        if (MaxDelay < BaseDelay || MaxDelay > MaxDelayLimit)
            errors.Add(Invariant($"{settingName}.{nameof(MaxDelay)} must be at least {nameof(BaseDelay)} ({BaseDelay:c}) and at most {MaxDelayLimit:c}, got {MaxDelay:c}."));
        if (MaxTotalDuration <= TimeSpan.Zero || MaxTotalDuration > MaxTotalDurationLimit)
            errors.Add(Invariant($"{settingName}.{nameof(MaxTotalDuration)} must be positive and at most {MaxTotalDurationLimit:c}, got {MaxTotalDuration:c}."));
        return errors;
    }

    /// <summary>A copy (the randomizer is shared).</summary>
    public RetryOptions Clone() => (RetryOptions)MemberwiseClone();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
