using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Retail.Indexing;

namespace Retail.Hosting.Dashboard;

/// <summary>A query parameter the API refused: the 400 answer's message and the parameter's name.</summary>
internal sealed class DashboardParameterException(string parameter, string message) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>Which query parameters an endpoint takes.</summary>
[Flags]
internal enum ParameterSet
{
    None = 0,
    /// <summary><c>from</c>, <c>to</c>, <c>country</c>.</summary>
    Filters = 1,
    /// <summary><c>limit</c>.</summary>
    Limit = 2,
    /// <summary><c>interval</c>.</summary>
    Interval = 4,
}

/// <summary>
/// The API's query parameters, checked: every value is parsed into a typed value here (dates, an integer, an
/// interval, a country of a fixed alphabet) and goes to the engine only as a positional parameter. Anything else — an
/// unknown parameter, a parameter given twice, a value out of its form — is refused naming the parameter.
/// </summary>
internal sealed record DashboardParameters
{
    public const string From = "from";
    public const string To = "to";
    public const string Country = "country";
    public const string Limit = "limit";
    public const string Interval = "interval";

    public const int MaxCountryLength = 64;
    public const int DefaultLimit = 10;

    /// <summary>The first day counted (its start), or null.</summary>
    public DateOnly? FromDay { get; init; }

    /// <summary>The last day counted (through its end), or null.</summary>
    public DateOnly? ToDay { get; init; }

    public string? CountryName { get; init; }

    public int TopLimit { get; init; } = DefaultLimit;

    public HistogramInterval HistogramInterval { get; init; } = HistogramInterval.Day;

    public bool HasFilters => FromDay is not null || ToDay is not null || CountryName is not null;

    /// <summary>The start of <see cref="FromDay"/>, or null.</summary>
    public DateTime? FromInclusive => FromDay?.ToDateTime(TimeOnly.MinValue);

    /// <summary>The start of the day after <see cref="ToDay"/>, or null (also for 9999-12-31, which has no next day: no upper bound is then needed).</summary>
    public DateTime? ToExclusive => ToDay is { } t && t < DateOnly.MaxValue ? t.AddDays(1).ToDateTime(TimeOnly.MinValue) : null;

    /// <summary>The positional parameters of <see cref="DashboardSql"/>'s filter: from, from, to, to, country, country.</summary>
    public object?[] FilterValues() => [FromInclusive, FromInclusive, ToExclusive, ToExclusive, CountryName, CountryName];

    /// <summary>Parses <paramref name="query"/> for an endpoint that takes <paramref name="allowed"/>.</summary>
    /// <exception cref="DashboardParameterException">A parameter is unknown, given twice, or not in its form.</exception>
    public static DashboardParameters Parse(IQueryCollection query, ParameterSet allowed, int maxLimit)
    {
        foreach (var (name, values) in query)
        {
            if (!Allowed(name, allowed))
                throw new DashboardParameterException(Show(name, 64),
                    $"Unknown parameter '{Show(name, 64)}': this endpoint takes {Describe(allowed)}.");
            if (values.Count != 1)
                throw new DashboardParameterException(name.ToLowerInvariant(),
                    $"Parameter '{name.ToLowerInvariant()}' was given {values.Count.ToString(CultureInfo.InvariantCulture)} times; give it once.");
        }

        var result = new DashboardParameters();
        if (Value(query, From) is { } from) result = result with { FromDay = ParseDay(From, from) };
        if (Value(query, To) is { } to) result = result with { ToDay = ParseDay(To, to) };
        if (result.FromDay is { } f && result.ToDay is { } t && t < f)
            throw new DashboardParameterException(To,
                $"Parameter 'to' ({t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}) must not be before 'from' ({f.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}).");
        if (Value(query, Country) is { } country) result = result with { CountryName = ParseCountry(country) };
        if (Value(query, Limit) is { } limit) result = result with { TopLimit = ParseLimit(limit, maxLimit) };
        if (Value(query, Interval) is { } interval) result = result with { HistogramInterval = ParseInterval(interval) };
        return result;
    }

    private static bool Allowed(string name, ParameterSet allowed) => name.ToLowerInvariant() switch
    {
        From or To or Country => allowed.HasFlag(ParameterSet.Filters),
        Limit => allowed.HasFlag(ParameterSet.Limit),
        Interval => allowed.HasFlag(ParameterSet.Interval),
        _ => false,
    };

    private static string Describe(ParameterSet allowed)
    {
        var names = new List<string>();
        if (allowed.HasFlag(ParameterSet.Filters)) names.AddRange([From, To, Country]);
        if (allowed.HasFlag(ParameterSet.Limit)) names.Add(Limit);
        if (allowed.HasFlag(ParameterSet.Interval)) names.Add(Interval);
        return names.Count == 0 ? "no parameters" : "only " + string.Join(", ", names);
    }

    private static string? Value(IQueryCollection query, string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;

    private static DateOnly ParseDay(string name, string value)
    {
        if (value.Length == 10 && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return day;
        throw new DashboardParameterException(name, $"Parameter '{name}' must be a date in the form yyyy-MM-dd (got '{Show(value, 40)}').");
    }

    private static string ParseCountry(string value)
    {
        bool ok = value.Length is >= 1 and <= MaxCountryLength && !value.Contains("--", StringComparison.Ordinal);
        bool hasLetterOrDigit = false;
        foreach (char c in value)
        {
            if (char.IsLetterOrDigit(c)) hasLetterOrDigit = true;
            else if (c is not (' ' or '.' or ',' or '&' or '(' or ')' or '-')) ok = false;
        }
        if (ok && hasLetterOrDigit) return value;
        throw new DashboardParameterException(Country,
            $"Parameter 'country' must be a country name of 1 to {MaxCountryLength} letters, digits, spaces and . , & ( ) - (without '--') (got '{Show(value, 40)}'{(value.Length > MaxCountryLength ? $", {value.Length.ToString(CultureInfo.InvariantCulture)} characters" : "")}).");
    }

    private static int ParseLimit(string value, int maxLimit)
    {
        if (value.Length is >= 1 and <= 5 && value.All(char.IsAsciiDigit)
            && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int limit) && limit >= 1 && limit <= maxLimit)
            return limit;
        throw new DashboardParameterException(Limit, $"Parameter 'limit' must be an integer from 1 to {maxLimit.ToString(CultureInfo.InvariantCulture)} (got '{Show(value, 40)}').");
    }

    private static HistogramInterval ParseInterval(string value) => value switch
    {
        "minute" => HistogramInterval.Minute,
        "hour" => HistogramInterval.Hour,
        "day" => HistogramInterval.Day,
        "week" => HistogramInterval.Week,
        "month" => HistogramInterval.Month,
        _ => throw new DashboardParameterException(Interval, $"Parameter 'interval' must be one of minute, hour, day, week, month (got '{Show(value, 40)}')."),
    };

    /// <summary>A request value as it may be shown in a message: at most <paramref name="max"/> characters, control characters escaped.</summary>
    internal static string Show(string value, int max)
    {
        var sb = new StringBuilder(Math.Min(value.Length, max) + 8);
        foreach (char c in value.Length > max ? value.AsSpan(0, max) : value.AsSpan())
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        if (value.Length > max) sb.Append('…');
        return sb.ToString();
    }
}
