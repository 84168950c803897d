using Retail.Storage;

namespace Retail.Delivery;

/// <summary>Settings of <see cref="DeliveryEngine"/> (a Firehose delivery stream to an object store).</summary>
public sealed class DeliveryOptions
{
    /// <summary>Name used in object names (<c>&lt;prefix&gt;&lt;name&gt;-&lt;version&gt;-&lt;time&gt;-&lt;id&gt;</c>); default <c>retail-trans</c>.</summary>
    public string DeliveryStreamName { get; set; } = "retail-trans";

    /// <summary>The delivery stream version in object names (default 1).</summary>
    public int Version { get; set; } = 1;

    /// <summary>The data prefix template (default: the workshop's arrival-time hourly <c>json-data/year=…/hour=…/</c>).</summary>
    public string Prefix { get; set; } = LakeLayout.WorkshopJsonPrefixTemplate;

    /// <summary>The error-output prefix template (default: the workshop's <c>error-json/year=…/hour=…/!{firehose:error-output-type}/</c>).</summary>
    public string ErrorOutputPrefix { get; set; } = LakeLayout.WorkshopErrorPrefixTemplate;

    /// <summary>Buffer size hint in MiB, 1–128 (default 1, the workshop's): an object is written when its buffer reaches it.</summary>
    public int BufferSizeMiB { get; set; } = 1;

    /// <summary>Buffer interval hint in seconds, 0–900 (default 60, the workshop's): an object is written when its buffer is this old.</summary>
    public int BufferIntervalSeconds { get; set; } = 60;

    /// <summary>Consumer name for checkpoints (default <c>delivery</c>).</summary>
    public string ConsumerName { get; set; } = "delivery";

    /// <summary>
    /// Where a shard without a checkpoint is read from (default <see cref="Streaming.StartPosition.TrimHorizon"/>: every
    /// record the stream holds, so nothing already in it is skipped); <see cref="Streaming.StartPosition.Latest"/> or
    /// <see cref="Streaming.StartPosition.AtTimestamp"/> otherwise. A shard with a checkpoint resumes after it; a child of
    /// a split or merge always starts at its trim horizon.
    /// </summary>
    public Streaming.StartPosition InitialPosition { get; set; } = Streaming.StartPosition.TrimHorizon;

    /// <summary>Most buffers (distinct evaluated prefixes) open at once per shard (default 500, Firehose's active-partition limit); past it the oldest is written early.</summary>
    public int MaxOpenBuffers { get; set; } = 500;

    /// <summary>Records per shard read (default 10,000, as GetRecords).</summary>
    public int MaxRecordsPerRead { get; set; } = 10_000;

    /// <summary>How long a read waits for new records before the engine checks its buffer intervals (default 1 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On cancellation, how long the engine may take to write its open buffers and checkpoint them (default 30 s);
    /// what it cannot write in time is logged and re-read on the next run.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How a failing object write is retried before the engine stops with a <see cref="DeliveryFailedException"/>
    /// (default: 100 ms first delay, 10 s longest, for 5 minutes). Only transient failures are retried (see
    /// <see cref="FailureClassification.IsTransient"/>); nothing is checkpointed past an unwritten object. The engine's
    /// stream reads and checkpoint saves retry with the same settings.
    /// </summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(10),
        MaxTotalDuration = TimeSpan.FromMinutes(5),
    };

    /// <summary>
    /// Points delivery at <paramref name="lake"/>: <see cref="Prefix"/> becomes its arrival-time JSON prefix template
    /// (<see cref="RetailLakeDefinition.JsonPrefixTemplate"/>, or the event-time one when <paramref name="eventTime"/>) and
    /// <see cref="ErrorOutputPrefix"/> its error prefix template.
    /// </summary>
    /// <returns>This instance.</returns>
    public DeliveryOptions UseLake(RetailLakeDefinition lake, bool eventTime = false)
    {
        ArgumentNullException.ThrowIfNull(lake);
        Prefix = eventTime ? lake.EventTimeJsonPrefixTemplate : lake.JsonPrefixTemplate;
        ErrorOutputPrefix = lake.ErrorPrefixTemplate;
        return this;
    }

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    /// <returns>The problems, empty when valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DeliveryStreamName) || DeliveryStreamName.Contains('/', StringComparison.Ordinal))
            errors.Add($"DeliveryOptions.DeliveryStreamName must be a non-empty name without '/', got '{DeliveryStreamName}'.");
        if (Version < 1) errors.Add($"DeliveryOptions.Version must be at least 1, got {Version}.");
        if (BufferSizeMiB is < 1 or > 128) errors.Add($"DeliveryOptions.BufferSizeMiB must be 1 to 128, got {BufferSizeMiB}.");
        if (BufferIntervalSeconds is < 0 or > 900) errors.Add($"DeliveryOptions.BufferIntervalSeconds must be 0 to 900, got {BufferIntervalSeconds}.");
        if (MaxOpenBuffers is < 1 or > 10_000) errors.Add($"DeliveryOptions.MaxOpenBuffers must be 1 to 10000, got {MaxOpenBuffers}.");
        if (string.IsNullOrWhiteSpace(ConsumerName)) errors.Add("DeliveryOptions.ConsumerName must not be empty.");
        if (InitialPosition.Type is not (Streaming.StartPositionType.TrimHorizon or Streaming.StartPositionType.Latest or Streaming.StartPositionType.AtTimestamp))
            errors.Add($"DeliveryOptions.InitialPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, got {InitialPosition}.");
        else if (InitialPosition.Type == Streaming.StartPositionType.AtTimestamp && InitialPosition.Timestamp is null)
            errors.Add("DeliveryOptions.InitialPosition AT_TIMESTAMP needs a timestamp.");
        if (MaxRecordsPerRead is < 1 or > 10_000) errors.Add($"DeliveryOptions.MaxRecordsPerRead must be 1 to 10000, got {MaxRecordsPerRead}.");
        if (PollInterval <= TimeSpan.Zero) errors.Add($"DeliveryOptions.PollInterval must be positive, got {PollInterval}.");
        if (ShutdownTimeout <= TimeSpan.Zero) errors.Add($"DeliveryOptions.ShutdownTimeout must be positive, got {ShutdownTimeout}.");
        if (Retry is null) errors.Add("DeliveryOptions.Retry must be set.");
        else errors.AddRange(Retry.Validate("DeliveryOptions.Retry"));
        try { PrefixTemplate.ParseDataPrefix(Prefix); }
        catch (FormatException e) { errors.Add("DeliveryOptions.Prefix: " + e.Message); }
        try { PrefixTemplate.ParseErrorPrefix(ErrorOutputPrefix); }
        catch (FormatException e) { errors.Add("DeliveryOptions.ErrorOutputPrefix: " + e.Message); }
        return errors;
    }

    /// <summary>The settings of the engine's <see cref="Streaming.StreamConsumer"/>.</summary>
    internal Streaming.StreamConsumerOptions ConsumerOptions() => new()
    {
        ConsumerName = ConsumerName,
        MaxRecordsPerRead = MaxRecordsPerRead,
        PollInterval = PollInterval,
        InitialPosition = InitialPosition,
        ShutdownTimeout = ShutdownTimeout,
        Retry = Retry,
    };

    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors));
    }
}
