using Retail.Indexing;

namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// An in-test <see cref="ISpeedLayerView"/> over a list of records (LINQ, following the interface's documented
/// semantics), standing in for the DuckDB index's view until that is merged. <see cref="Fail"/> makes it throw, to
/// test the dashboard's 503. Over a running lake, <c>new ListSpeedLayerView(() =&gt; lake.Records)</c> grows as records
/// stream in.
/// </summary>
public sealed class ListSpeedLayerView(Func<IReadOnlyList<RetailTransaction>> records) : ISpeedLayerView
{
    /// <summary>A view of a fixed list.</summary>
    public ListSpeedLayerView(IReadOnlyList<RetailTransaction> records) : this(() => records) { }

    /// <summary>When set, <see cref="HistogramAsync"/> throws it.</summary>
    public Exception? Fail { get; set; }

    /// <summary>The requests received, in order.</summary>
    public List<SpeedLayerHistogramRequest> Requests { get; } = [];

    public ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default)
    {
        var failures = request.Validate();
        if (failures.Count > 0) throw new ArgumentException(string.Join(" ", failures), nameof(request));
        lock (Requests) Requests.Add(request);
        if (Fail is { } e) throw e;
        var matching = records().Where(r => (request.From is not { } f || r.InvoiceDate >= f) && (request.To is not { } t || r.InvoiceDate < t)
            && (request.Country is null || r.Country == request.Country)).ToList();
        var buckets = matching.GroupBy(r => Start(r.InvoiceDate, request.Interval)).OrderBy(g => g.Key)
            .Select(g => new HistogramBucket(g.Key, g.Count(), g.Sum(r => (long)r.Quantity))).ToList();
        bool truncated = buckets.Count > request.MaxBuckets;
        return ValueTask.FromResult(new SpeedLayerHistogram([.. buckets.Take(request.MaxBuckets)], matching.Count, matching.Sum(r => (long)r.Quantity), truncated));
    }

    public static DateTime Start(DateTime t, HistogramInterval interval) => interval switch
    {
        HistogramInterval.Minute => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0),
        HistogramInterval.Hour => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0),
        HistogramInterval.Day => t.Date,
        HistogramInterval.Week => t.Date.AddDays(-(((int)t.DayOfWeek + 6) % 7)),
        HistogramInterval.Month => new DateTime(t.Year, t.Month, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(interval)),
    };
}
