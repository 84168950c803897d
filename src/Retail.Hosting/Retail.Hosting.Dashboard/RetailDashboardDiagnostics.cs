using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Retail.Hosting.Dashboard;

/// <summary>Names of this package's <see cref="Meter"/> and <see cref="ActivitySource"/> (both <c>Retail.Hosting.Dashboard</c>).</summary>
/// <remarks>
/// Instruments: <c>retail.dashboard.api.requests</c> (counter, tags <c>endpoint</c> = <c>summary|daily|monthly|top-countries|top-products|countries|live</c>
/// and <c>outcome</c> = <c>ok|bad_request|unavailable|canceled</c>), <c>retail.dashboard.api.duration</c> (histogram, s, tag
/// <c>endpoint</c>). Activity: <c>dashboard.api</c> (tag <c>endpoint</c>), one per API call.
/// </remarks>
public static class RetailDashboardDiagnostics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Retail.Hosting.Dashboard";

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "Retail.Hosting.Dashboard";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
    internal static readonly Meter Meter = new(MeterName);
    internal static readonly Counter<long> Requests = Meter.CreateCounter<long>("retail.dashboard.api.requests", description: "API calls answered, by endpoint and outcome.");
    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("retail.dashboard.api.duration", unit: "s", description: "Time to answer an API call.");

    internal const string Ok = "ok";
    internal const string BadRequest = "bad_request";
    internal const string Unavailable = "unavailable";
    internal const string Canceled = "canceled";

    internal static void Record(string endpoint, string outcome, long startedTimestamp, Activity? activity)
    {
        var endpointTag = new KeyValuePair<string, object?>("endpoint", endpoint);
        Requests.Add(1, endpointTag, new KeyValuePair<string, object?>("outcome", outcome));
        Duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, endpointTag);
        if (activity is not null)
        {
            activity.SetTag("outcome", outcome);
            if (outcome != Ok) activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
    }
}
