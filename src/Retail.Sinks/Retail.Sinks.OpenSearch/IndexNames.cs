using System.Globalization;
using System.Text;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// Index names: OpenSearch's rules, and rotation with Amazon Data Firehose's naming (<c>-yyyy-MM-dd-HH</c>,
/// <c>-yyyy-MM-dd</c>, <c>-yyyy-wWW</c>, <c>-yyyy-MM</c>).
/// </summary>
internal static class IndexNames
{
    private const string Forbidden = "\\/*?\"<>| ,#:";

    /// <summary>Why <paramref name="index"/> cannot be an OpenSearch index name, or null.</summary>
    public static string? Check(string? index)
    {
        if (string.IsNullOrEmpty(index)) return "must be set";
        if (index is "." or "..") return "must not be '.' or '..'";
        if (index[0] is '_' or '-' or '+') return "must not start with '_', '-' or '+'";
        // Leave room for the longest rotation suffix (-yyyy-MM-dd-HH, 14 bytes) under OpenSearch's 255-byte limit.
        if (Encoding.UTF8.GetByteCount(index) > 240) return "must be at most 240 bytes";
        foreach (char c in index)
        {
            if (char.IsUpper(c)) return "must be lowercase";
            if (Forbidden.Contains(c, StringComparison.Ordinal) || char.IsControl(c)) return $"must not contain '{c}' (nor any of \\ / * ? \" < > | , # : or a space)";
        }
        return null;
    }

    /// <summary>The index a document with time <paramref name="time"/> goes to.</summary>
    public static string For(string index, IndexRotation rotation, DateTime time) => rotation switch
    {
        IndexRotation.None => index,
        IndexRotation.Hour => string.Create(CultureInfo.InvariantCulture, $"{index}-{time:yyyy'-'MM'-'dd'-'HH}"),
        IndexRotation.Day => string.Create(CultureInfo.InvariantCulture, $"{index}-{time:yyyy'-'MM'-'dd}"),
        IndexRotation.Week => WeekName(index, time),
        IndexRotation.Month => string.Create(CultureInfo.InvariantCulture, $"{index}-{time:yyyy'-'MM}"),
        _ => throw new ArgumentOutOfRangeException(nameof(rotation), rotation, null),
    };

    /// <summary>
    /// Firehose's week: weeks start on Sunday and week 1 is the first full week of the year (its documented example,
    /// 2016-02-25 → <c>2016-w08</c>); the days before the year's first Sunday belong to the previous year's last week.
    /// </summary>
    private static string WeekName(string index, DateTime time)
    {
        var (year, week) = Week(time.Date);
        return string.Create(CultureInfo.InvariantCulture, $"{index}-{year:D4}-w{week:D2}");
    }

    internal static (int Year, int Week) Week(DateTime date)
    {
        var firstSunday = FirstSunday(date.Year);
        if (date < firstSunday) firstSunday = FirstSunday(date.Year - 1);
        return (firstSunday.Year, (date - firstSunday).Days / 7 + 1);
    }

    private static DateTime FirstSunday(int year)
    {
        var jan1 = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        return jan1.AddDays((7 - (int)jan1.DayOfWeek) % 7);
    }

    /// <summary>The pattern that matches every index of <paramref name="index"/> under <paramref name="rotation"/>.</summary>
    public static string Pattern(string index, IndexRotation rotation) => rotation == IndexRotation.None ? index : index + "-*";
}
