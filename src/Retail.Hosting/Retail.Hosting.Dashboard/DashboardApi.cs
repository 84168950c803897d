using System.Globalization;
using System.Numerics;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retail.Indexing;
using Retail.Query;

namespace Retail.Hosting.Dashboard;

/// <summary>
/// The dashboard's JSON API: GET handlers over <see cref="IQueryEngine"/> (the batch layer) and
/// <see cref="ISpeedLayerView"/> (the speed layer), both resolved from the application's services at request time.
/// </summary>
/// <remarks>
/// Bad parameters answer 400 <c>{"error","parameter"}</c>; a missing query engine, an engine or view failure 503
/// <c>{"error"}</c> (one line; the exception is logged, never sent). At most <see cref="MaxConcurrentQueries"/> engine
/// calls of one dashboard run at once (the page fires several together; the rest wait): the DuckDB engine is safe for
/// concurrent queries (a connection each), but each query already uses every core.
/// </remarks>
internal sealed class DashboardApi
{
    internal const int MaxConcurrentQueries = 4;
    private const int MaxErrorLength = 400;

    private readonly IServiceProvider _services;
    private readonly RetailDashboardOptions _options;
    private readonly DashboardSql _sql;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(MaxConcurrentQueries, MaxConcurrentQueries);
    private readonly TimeProvider _time;
    private readonly Lock _compactedLock = new();
    private (Task<string[]> Task, long At, IQueryEngine Engine)? _compacted;

    /// <summary>How long the list of compacted hours is reused (the page's calls arrive together).</summary>
    internal static readonly TimeSpan CompactedHoursReuse = TimeSpan.FromSeconds(2);

    public DashboardApi(IServiceProvider services, RetailDashboardOptions options, ILogger logger)
    {
        _services = services;
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _options = options;
        _sql = new DashboardSql(options.JsonTable, options.ParquetTable);
        _logger = logger;
    }

    public Task SummaryAsync(HttpContext context) => RunAsync(context, "summary", ParameterSet.Filters, async (engine, p, ct) =>
    {
        var summary = await engine.QueryAsync(_sql.Summary, await BatchValuesAsync(engine, p, ct).ConfigureAwait(false), 1, ct).ConfigureAwait(false);
        if (summary.Rows.Count != 1 || summary.Rows[0].Length < 4)
            throw new InvalidOperationException("The query engine answered the summary's aggregate without its one row of four columns.");
        var row = summary.Rows[0];
        long records = ToLong(row[0]);
        decimal revenue = ToDecimal(row[1]);
        bool empty = records == 0;
        if (empty && p.HasFilters)
            empty = (await engine.QueryAsync(_sql.AnyRow, await BatchValuesAsync(engine, null, ct).ConfigureAwait(false), 1, ct).ConfigureAwait(false)).Rows.Count == 0;
        return Json(new SummaryResponse(records, FormatDecimal(revenue),
            Math.Round(revenue, 2, MidpointRounding.AwayFromZero).ToString("N2", CultureInfo.InvariantCulture),
            ToLong(row[2]), row[3] is null ? null : FormatDateTime(ToDateTime(row[3])), empty), DashboardJsonContext.Default.SummaryResponse);
    });

    public Task DailyAsync(HttpContext context) => RunAsync(context, "daily", ParameterSet.Filters, async (engine, p, ct) =>
    {
        var (rows, truncated) = await ListAsync(engine, _sql.Daily, await BatchValuesAsync(engine, p, ct).ConfigureAwait(false), _options.MaxRows, ct).ConfigureAwait(false);
        return Json(new DailyResponse(
            [.. rows.Select(r => new DailyRow(FormatDate(ToDateTime(r[0])), ToLong(r[1]), FormatDecimal(ToDecimal(r[2]))))], truncated),
            DashboardJsonContext.Default.DailyResponse);
    });

    public Task MonthlyAsync(HttpContext context) => RunAsync(context, "monthly", ParameterSet.Filters, async (engine, p, ct) =>
    {
        var (rows, truncated) = await ListAsync(engine, _sql.Monthly, await BatchValuesAsync(engine, p, ct).ConfigureAwait(false), _options.MaxRows, ct).ConfigureAwait(false);
        return Json(new MonthlyResponse(
            [.. rows.Select(r => new MonthlyRow(ToDateTime(r[0]).ToString("yyyy-MM", CultureInfo.InvariantCulture), FormatDecimal(ToDecimal(r[1]))))], truncated),
            DashboardJsonContext.Default.MonthlyResponse);
    });

    public Task TopCountriesAsync(HttpContext context) => RunAsync(context, "top-countries", ParameterSet.Filters | ParameterSet.Limit, async (engine, p, ct) =>
    {
        var (rows, _) = await ListAsync(engine, _sql.TopCountries, await BatchValuesAsync(engine, p, ct).ConfigureAwait(false), p.TopLimit, ct).ConfigureAwait(false);
        return Json(new TopCountriesResponse(
            [.. rows.Select(r => new CountryRow(ToText(r[0]), FormatDecimal(ToDecimal(r[1])), ToLong(r[2])))]),
            DashboardJsonContext.Default.TopCountriesResponse);
    });

    public Task TopProductsAsync(HttpContext context) => RunAsync(context, "top-products", ParameterSet.Filters | ParameterSet.Limit, async (engine, p, ct) =>
    {
        var (rows, _) = await ListAsync(engine, _sql.TopProducts, await BatchValuesAsync(engine, p, ct).ConfigureAwait(false), p.TopLimit, ct).ConfigureAwait(false);
        return Json(new TopProductsResponse(
            [.. rows.Select(r => new ProductRow(ToText(r[0]), ToText(r[1]), FormatDecimal(ToDecimal(r[2])), ToLong(r[3])))]),
            DashboardJsonContext.Default.TopProductsResponse);
    });

    public Task CountriesAsync(HttpContext context) => RunAsync(context, "countries", ParameterSet.None, async (engine, p, ct) =>
    {
        var (rows, truncated) = await ListAsync(engine, _sql.Countries, await BatchValuesAsync(engine, null, ct).ConfigureAwait(false), _options.MaxRows, ct).ConfigureAwait(false);
        return Json(new CountriesResponse([.. rows.Select(r => ToText(r[0]))], truncated), DashboardJsonContext.Default.CountriesResponse);
    });

    /// <summary><c>api/live</c>: the speed layer's histogram; <c>available: false</c> without an <see cref="ISpeedLayerView"/>.</summary>
    public async Task LiveAsync(HttpContext context)
    {
        const string endpoint = "live";
        using var activity = Start(endpoint, out long started);
        if (await ParseAsync(context, endpoint, ParameterSet.Filters | ParameterSet.Interval).ConfigureAwait(false) is not { } p)
        {
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.BadRequest, started, activity);
            return;
        }
        var view = _services.GetService<ISpeedLayerView>();
        if (view is null)
        {
            await WriteAsync(context, StatusCodes.Status200OK, new LiveResponse(false, 0, 0, [], false), DashboardJsonContext.Default.LiveResponse).ConfigureAwait(false);
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Ok, started, activity);
            return;
        }
        SpeedLayerHistogram histogram;
        try
        {
            histogram = await view.HistogramAsync(new SpeedLayerHistogramRequest
            {
                Interval = p.HistogramInterval,
                From = p.FromInclusive,
                To = p.ToExclusive,
                Country = p.CountryName,
                MaxBuckets = _options.MaxRows,
            }, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            await FailAsync(context, endpoint, "The speed layer could not be read", e).ConfigureAwait(false);
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Unavailable, started, activity);
            return;
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: whatever the engine threw then (a cancellation, or its own error on being cut short).
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Canceled, started, activity);
            return;
        }
        await WriteAsync(context, StatusCodes.Status200OK, new LiveResponse(true, histogram.Documents, histogram.Quantity,
            [.. histogram.Buckets.Select(b => new LiveBucket(FormatDateTime(b.Start), b.Documents, b.Quantity))], histogram.Truncated),
            DashboardJsonContext.Default.LiveResponse).ConfigureAwait(false);
        RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Ok, started, activity);
    }

    /// <summary>
    /// The positional parameters of a batch-layer statement: the compacted-hours list twice (see <see cref="DashboardSql"/>),
    /// then the filter's, if any.
    /// </summary>
    private async Task<object?[]> BatchValuesAsync(IQueryEngine engine, DashboardParameters? parameters, CancellationToken ct)
    {
        string[] chunks = await CompactedHoursAsync(engine, ct).ConfigureAwait(false);
        return [.. chunks, .. chunks, .. parameters?.FilterValues() ?? []];
    }

    /// <summary>The compacted hours, read at most once per <see cref="CompactedHoursReuse"/> (concurrent calls share one read).</summary>
    private Task<string[]> CompactedHoursAsync(IQueryEngine engine, CancellationToken ct)
    {
        lock (_compactedLock)
        {
            long now = _time.GetTimestamp();
            if (_compacted is { } c && ReferenceEquals(c.Engine, engine) && !c.Task.IsFaulted && !c.Task.IsCanceled
                && _time.GetElapsedTime(c.At, now) < CompactedHoursReuse)
                return c.Task.WaitAsync(ct);
            // Not tied to one request: a call that goes away does not cancel the read the others wait for.
            var task = ReadCompactedHoursAsync(engine);
            _compacted = (task, now, engine);
            return task.WaitAsync(ct);
        }
    }

    private async Task<string[]> ReadCompactedHoursAsync(IQueryEngine engine)
    {
        var result = await engine.QueryAsync(_sql.CompactedHours, null, CompactedHoursFilter.MaxHours).ConfigureAwait(false);
        return CompactedHoursFilter.Build(result.Rows.Where(r => r.Length == 4 && r.All(v => v is not null))
            .Select(r => (ToInt(r[0]), ToInt(r[1]), ToInt(r[2]), ToInt(r[3]))));
    }

    private static int ToInt(object? value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    /// <summary>An answer of a batch-layer endpoint: the JSON it writes.</summary>
    private delegate Task<Func<HttpContext, Task>> BatchHandler(IQueryEngine engine, DashboardParameters parameters, CancellationToken cancellationToken);

    private static Func<HttpContext, Task> Json<T>(T value, JsonTypeInfo<T> type) => context => WriteAsync(context, StatusCodes.Status200OK, value, type);

    private async Task RunAsync(HttpContext context, string endpoint, ParameterSet allowed, BatchHandler handler)
    {
        using var activity = Start(endpoint, out long started);
        if (await ParseAsync(context, endpoint, allowed).ConfigureAwait(false) is not { } parameters)
        {
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.BadRequest, started, activity);
            return;
        }
        var engine = _services.GetService<IQueryEngine>();
        if (engine is null)
        {
            string message = $"No {nameof(IQueryEngine)} service is registered: add a query engine to the application's services (e.g. AddDuckDbQueries) before the dashboard can answer.";
            Log.ServiceMissing(_logger, endpoint, message);
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, new ErrorResponse(message), DashboardJsonContext.Default.ErrorResponse).ConfigureAwait(false);
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Unavailable, started, activity);
            return;
        }
        var ct = context.RequestAborted;
        Func<HttpContext, Task> write;
        try
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                write = await handler(engine, parameters, ct).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await FailAsync(context, endpoint, "The batch layer could not be queried", e).ConfigureAwait(false);
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Unavailable, started, activity);
            return;
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: whatever the engine threw then (a cancellation, or its own error on being cut short).
            RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Canceled, started, activity);
            return;
        }
        await write(context).ConfigureAwait(false);
        RetailDashboardDiagnostics.Record(endpoint, RetailDashboardDiagnostics.Ok, started, activity);
    }

    private static System.Diagnostics.Activity? Start(string endpoint, out long started)
    {
        started = System.Diagnostics.Stopwatch.GetTimestamp();
        var activity = RetailDashboardDiagnostics.ActivitySource.StartActivity("dashboard.api");
        activity?.SetTag("endpoint", endpoint);
        return activity;
    }

    /// <summary>The request's parameters, or null after answering 400 naming the bad one.</summary>
    private async Task<DashboardParameters?> ParseAsync(HttpContext context, string endpoint, ParameterSet allowed)
    {
        try
        {
            return DashboardParameters.Parse(context.Request.Query, allowed, _options.MaxLimit);
        }
        catch (DashboardParameterException e)
        {
            Log.ParameterRefused(_logger, endpoint, e.Parameter, e.Message);
            await WriteAsync(context, StatusCodes.Status400BadRequest, new ErrorResponse(e.Message, e.Parameter), DashboardJsonContext.Default.ErrorResponse).ConfigureAwait(false);
            return null;
        }
    }

    private async Task FailAsync(HttpContext context, string endpoint, string what, Exception e)
    {
        string error = $"{what}: {OneLine(e.Message)}";
        Log.ApiFailed(_logger, e, endpoint, error);
        await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, new ErrorResponse(error), DashboardJsonContext.Default.ErrorResponse).ConfigureAwait(false);
    }

    /// <summary>At most <paramref name="max"/> rows: the engine is asked for one more, which says whether the list was cut.</summary>
    private static async Task<(IReadOnlyList<object?[]> Rows, bool Truncated)> ListAsync(IQueryEngine engine, string sql, object?[]? parameters, int max, CancellationToken ct)
    {
        var result = await engine.QueryAsync(sql, parameters, max + 1, ct).ConfigureAwait(false);
        bool truncated = result.Truncated || result.Rows.Count > max;
        return (truncated ? [.. result.Rows.Take(max)] : result.Rows, truncated);
    }

    private static Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = RetailDashboardEndpointRouteBuilderExtensions.ContentSecurityPolicy;
        return context.Response.WriteAsJsonAsync(value, type, "application/json; charset=utf-8", context.RequestAborted);
    }

    /// <summary>The first line of <paramref name="message"/>, at most <see cref="MaxErrorLength"/> characters.</summary>
    internal static string OneLine(string message)
    {
        string line = message.Split('\n', 2)[0].TrimEnd('\r').Trim();
        return line.Length > MaxErrorLength ? line[..MaxErrorLength] + "…" : line;
    }

    internal static string FormatDecimal(decimal value) => value.ToString("0.0000##########################", CultureInfo.InvariantCulture);

    internal static string FormatDateTime(DateTime value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    internal static string FormatDate(DateTime value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string ToText(object? value) => value switch
    {
        null => "",
        string s => s,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static long ToLong(object? value) => value switch
    {
        null => 0,
        long l => l,
        int i => i,
        BigInteger b => (long)b,
        decimal d => (long)d,
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    private static decimal ToDecimal(object? value) => value switch
    {
        null => 0m,
        decimal d => d,
        long l => l,
        int i => i,
        BigInteger b => (decimal)b,
        _ => throw new InvalidOperationException($"The query engine returned a {value.GetType().Name} where a DECIMAL was expected; the dashboard reports money exactly and does not convert from floating point."),
    };

    private static DateTime ToDateTime(object? value) => value switch
    {
        DateTime t => t,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        DateTimeOffset o => o.DateTime,
        _ => throw new InvalidOperationException($"The query engine returned a {value?.GetType().Name ?? "null"} where a date was expected."),
    };
}
