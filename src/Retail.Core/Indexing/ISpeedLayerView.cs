namespace Retail.Indexing;

/// <summary>
/// Reads the speed layer back: the workshop's Kibana chart, a date histogram of <c>sum(Quantity)</c> over
/// <c>InvoiceDate</c>, with the number of documents and their total quantity. Implementations: the embedded DuckDB
/// index (Retail.Sinks.DuckDb) and OpenSearch (a <c>date_histogram</c> aggregation, Retail.Sinks.OpenSearch). The
/// dashboard (Retail.Hosting.Dashboard) draws its live view from it.
/// </summary>
public interface ISpeedLayerView
{
    /// <summary>
    /// Documents whose invoice date is in <see cref="SpeedLayerHistogramRequest.From"/> (inclusive) to
    /// <see cref="SpeedLayerHistogramRequest.To"/> (exclusive) and, when given, whose country equals
    /// <see cref="SpeedLayerHistogramRequest.Country"/>, counted and summed per <see cref="SpeedLayerHistogramRequest.Interval"/>
    /// (buckets start at the interval's calendar boundary in UTC; empty buckets are left out), oldest first.
    /// </summary>
    /// <exception cref="ArgumentException">The request is invalid (<see cref="SpeedLayerHistogramRequest.Validate"/>).</exception>
    ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default);
}

/// <summary>A bucket width of a <see cref="ISpeedLayerView"/> histogram (a calendar interval, in UTC).</summary>
public enum HistogramInterval
{
    /// <summary>One minute.</summary>
    Minute,
    /// <summary>One hour.</summary>
    Hour,
    /// <summary>One day.</summary>
    Day,
    /// <summary>One week, starting on Monday (ISO 8601, as OpenSearch's <c>calendar_interval: week</c>).</summary>
    Week,
    /// <summary>One calendar month.</summary>
    Month,
}

/// <summary>What <see cref="ISpeedLayerView.HistogramAsync"/> counts.</summary>
public sealed record SpeedLayerHistogramRequest
{
    /// <summary>The most buckets a histogram may ask for.</summary>
    public const int MaxBucketsLimit = 10_000;

    /// <summary>The bucket width. Default: a day.</summary>
    public HistogramInterval Interval { get; init; } = HistogramInterval.Day;

    /// <summary>The first invoice date counted (inclusive), or null for no lower bound. Read as UTC (the lake's invoice dates carry no zone).</summary>
    public DateTime? From { get; init; }

    /// <summary>The invoice date where counting stops (exclusive), or null for no upper bound.</summary>
    public DateTime? To { get; init; }

    /// <summary>Only documents of this country (exact match), or null for every country.</summary>
    public string? Country { get; init; }

    /// <summary>The most buckets returned (the oldest ones); <see cref="SpeedLayerHistogram.Truncated"/> says when there were more. Default 1,000.</summary>
    public int MaxBuckets { get; init; } = 1_000;

    /// <summary>Every problem with the request, each naming the property; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(Interval)) failures.Add($"Interval must be one of {string.Join(", ", Enum.GetNames<HistogramInterval>())}, got {(int)Interval}.");
        if (From is { } f && To is { } t && t < f) failures.Add($"To ({t:O}) must not be before From ({f:O}).");
        if (MaxBuckets is < 1 or > MaxBucketsLimit) failures.Add($"MaxBuckets must be 1 to {MaxBucketsLimit}, got {MaxBuckets}.");
        if (Country is { Length: 0 or > 256 }) failures.Add($"Country must be 1 to 256 characters when given, got {Country.Length}.");
        return failures;
    }
}

/// <summary>A speed-layer histogram.</summary>
/// <param name="Buckets">Non-empty buckets, oldest first, at most <see cref="SpeedLayerHistogramRequest.MaxBuckets"/>.</param>
/// <param name="Documents">Documents matching the request (all of them, also those in buckets left out by truncation).</param>
/// <param name="Quantity">Their total quantity.</param>
/// <param name="Truncated">True when more buckets existed than were returned.</param>
public sealed record SpeedLayerHistogram(IReadOnlyList<HistogramBucket> Buckets, long Documents, long Quantity, bool Truncated);

/// <summary>One bucket of a <see cref="SpeedLayerHistogram"/>.</summary>
/// <param name="Start">The bucket's start (UTC, at the interval's boundary).</param>
/// <param name="Documents">Documents in it.</param>
/// <param name="Quantity">Their total quantity.</param>
public readonly record struct HistogramBucket(DateTime Start, long Documents, long Quantity);
