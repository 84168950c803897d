using System.Globalization;
using System.Text;

namespace Retail.Hosting.Dashboard;

/// <summary>
/// The hours already compacted into Parquet, as the batch layer's SQL takes them (<see cref="DashboardSql"/>):
/// <see cref="Chunks"/> strings of at most <see cref="ChunkLength"/> characters (Athena's limit for one execution
/// parameter is 1,024) whose concatenation lists <c>|y-m-d|</c> for each day compacted in all its 24 hours and
/// <c>|y-m-d-h|</c> for each other compacted hour (numbers without leading zeros). What does not fit is left out: those
/// hours are still counted once, by the SQL's <c>NOT EXISTS</c>, only without the shortcut.
/// </summary>
internal static class CompactedHoursFilter
{
    public const int Chunks = 8;
    public const int ChunkLength = 1000;

    /// <summary>The most partitions read (more than 11 years of hours).</summary>
    public const int MaxHours = 100_000;

    /// <summary>No hour known compacted.</summary>
    public static string[] None { get; } = [.. Enumerable.Repeat("", Chunks)];

    /// <summary>The chunks for <paramref name="hours"/> (year, month, day, hour of each compacted partition, any order).</summary>
    public static string[] Build(IEnumerable<(int Year, int Month, int Day, int Hour)> hours)
    {
        var keys = new List<string>();
        foreach (var day in hours.Distinct().GroupBy(h => (h.Year, h.Month, h.Day)).OrderBy(g => g.Key))
        {
            string d = string.Create(CultureInfo.InvariantCulture, $"{day.Key.Year}-{day.Key.Month}-{day.Key.Day}");
            if (day.Count() == 24) keys.Add("|" + d + "|");
            else keys.AddRange(day.OrderBy(h => h.Hour).Select(h => string.Create(CultureInfo.InvariantCulture, $"|{d}-{h.Hour}|")));
        }
        var chunks = new string[Chunks];
        var current = new StringBuilder(ChunkLength);
        int chunk = 0;
        foreach (string key in keys)
        {
            if (current.Length + key.Length > ChunkLength)
            {
                chunks[chunk++] = current.ToString();
                current.Clear();
                if (chunk == Chunks) break;
            }
            current.Append(key);
        }
        if (chunk < Chunks) chunks[chunk++] = current.ToString();
        for (; chunk < Chunks; chunk++) chunks[chunk] = "";
        return chunks;
    }
}
