namespace Retail.Sinks.Kinesis;

/// <summary>Where and how to reach Kinesis Data Streams (or an emulator) for one stream.</summary>
public sealed class KinesisOptions
{
    /// <summary>The stream's name (1–128 characters of <c>a-zA-Z0-9_.-</c>).</summary>
    public string? StreamName { get; set; }

    /// <summary>The AWS region (default: <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else <c>us-east-1</c>); also the signing region of an endpoint.</summary>
    public string Region { get; set; } = AwsHttp.DefaultRegion();

    /// <summary>
    /// An endpoint instead of the region's (an emulator such as <c>http://127.0.0.1:4567</c>, or a VPC endpoint);
    /// null for <c>https://kinesis.{region}.amazonaws.com</c>.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>
    /// The stream's largest record, data plus partition key (default 1 MiB, Kinesis's default; up to 10 MiB for a
    /// stream whose <c>MaxRecordSizeInKiB</c> was raised). A larger record is refused before it is sent.
    /// </summary>
    public int MaxRecordBytes { get; set; } = Retail.Streaming.StreamLimits.MaxRecordBytes;

    /// <summary>How long one HTTP call may take (default 30 s); a call that takes longer fails as a transient timeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The shortest time between two GetRecords calls on one shard (default 200 ms: Kinesis allows 5 calls a second per
    /// shard, shared by every consumer of the stream).
    /// </summary>
    public TimeSpan MinReadInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a shard reader waits after a read that brought nothing, or was throttled, before reading again (default 1 s, as the API reference advises).</summary>
    public TimeSpan EmptyReadDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Every problem with these options, each naming the setting and its value; empty when valid.</summary>
    public IReadOnlyList<string> Validate(bool requireStreamName = true)
    {
        var errors = new List<string>();
        if (requireStreamName) AwsHttp.ValidateName(errors, "KinesisOptions.StreamName", StreamName, 128);
        AwsHttp.ValidateEndpoint(errors, "KinesisOptions", Region, ServiceUrl);
        if (MaxRecordBytes is < 1024 or > 10 * 1024 * 1024)
            errors.Add($"KinesisOptions.MaxRecordBytes must be 1024 to 10485760 (1 KiB to 10 MiB), got {MaxRecordBytes}.");
        if (RequestTimeout <= TimeSpan.Zero) errors.Add($"KinesisOptions.RequestTimeout must be positive, got {RequestTimeout}.");
        if (MinReadInterval < TimeSpan.Zero) errors.Add($"KinesisOptions.MinReadInterval must not be negative, got {MinReadInterval}.");
        if (EmptyReadDelay < TimeSpan.Zero) errors.Add($"KinesisOptions.EmptyReadDelay must not be negative, got {EmptyReadDelay}.");
        return errors;
    }
}

/// <summary>Where and how to reach Amazon Data Firehose for one delivery stream.</summary>
public sealed class FirehoseOptions
{
    /// <summary>The delivery stream's name (1–64 characters of <c>a-zA-Z0-9_.-</c>).</summary>
    public string? DeliveryStreamName { get; set; }

    /// <summary>The AWS region (default: <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else <c>us-east-1</c>).</summary>
    public string Region { get; set; } = AwsHttp.DefaultRegion();

    /// <summary>An endpoint instead of the region's <c>https://firehose.{region}.amazonaws.com</c> (a VPC endpoint, a test double).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>How long one HTTP call may take (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, each naming the setting and its value; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        AwsHttp.ValidateName(errors, "FirehoseOptions.DeliveryStreamName", DeliveryStreamName, 64);
        AwsHttp.ValidateEndpoint(errors, "FirehoseOptions", Region, ServiceUrl);
        if (RequestTimeout <= TimeSpan.Zero) errors.Add($"FirehoseOptions.RequestTimeout must be positive, got {RequestTimeout}.");
        return errors;
    }
}
