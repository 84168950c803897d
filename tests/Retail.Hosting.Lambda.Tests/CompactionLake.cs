using System.Text;
using Parquet;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// Real Online Retail II rows (shared/data's dev sample) as JSON-lines objects in a lake: two consecutive hours of
/// InvoiceDate, the first (<see cref="Target"/>) being the hour before <see cref="EventTime"/>, the second
/// (<see cref="Other"/>) the event's own, still open hour.
/// </summary>
internal sealed class CompactionLake
{
    private CompactionLake(DateTime target, IReadOnlyList<string> targetLines, IReadOnlyList<string> otherLines)
    {
        Target = target;
        TargetLines = targetLines;
        OtherLines = otherLines;
    }

    /// <summary>The hour MergeSmallFiles compacts.</summary>
    public DateTime Target { get; }

    /// <summary>The hour after it: the scheduled event's own hour.</summary>
    public DateTime Other => Target.AddHours(1);

    /// <summary>The scheduled event's time: five minutes past the hour after <see cref="Target"/> (the rule <c>cron(5 * * * ? *)</c>).</summary>
    public DateTimeOffset EventTime => new DateTimeOffset(DateTime.SpecifyKind(Other, DateTimeKind.Utc)).AddMinutes(5);

    public IReadOnlyList<string> TargetLines { get; }

    public IReadOnlyList<string> OtherLines { get; }

    public static string JsonKey(DateTime hour, int n) => LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour) + $"retail-trans-1-{hour:yyyy-MM-dd-HH}-{n:D2}-0000-aaaa";

    public static string ParquetPrefix(DateTime hour) => LakeLayout.ParquetPrefix + LakeLayout.HourPartition(hour);

    /// <summary>Writes the two hours' rows into <paramref name="store"/>, each hour split into objects of at most 40 rows.</summary>
    public static async Task<CompactionLake> WriteAsync(IObjectStore store)
    {
        using var reader = OnlineRetailReader.Open(SharedData.Path(SharedData.DevSample));
        var byHour = reader.ReadAll().GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0))
            .ToDictionary(g => g.Key, g => g.Select(r => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r)).TrimEnd('\n')).ToList());
        var target = byHour.Keys.Order().First(h => byHour.ContainsKey(h.AddHours(1)) && byHour[h].Count > 40);
        foreach (var hour in new[] { target, target.AddHours(1) })
        {
            var lines = byHour[hour];
            for (int i = 0, n = 0; i < lines.Count; i += 40, n++)
                await store.PutAsync(JsonKey(hour, n), Encoding.UTF8.GetBytes(string.Join('\n', lines.Skip(i).Take(40)) + "\n"));
        }
        return new CompactionLake(target, byHour[target], byHour[target.AddHours(1)]);
    }

    /// <summary>A scheduled event as EventBridge sends it (the developer guide's sample).</summary>
    public static string ScheduledEvent(DateTimeOffset time) =>
        "{\"version\":\"0\",\"id\":\"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa\",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"account\":\"123456789012\",\"time\":\""
        + time.UtcDateTime.ToString("yyyy-MM-dd'T'HH':'mm':'ss'Z'", System.Globalization.CultureInfo.InvariantCulture)
        + "\",\"region\":\"us-east-1\",\"resources\":[\"arn:aws:events:us-east-1:123456789012:rule/MergeSmallFiles\"],\"detail\":{}}";

    /// <summary>A row as JSON with its price's trailing zeros removed (DECIMAL(18,4) reads back 2.5500 for 2.55) and its time without a kind.</summary>
    public static string Canonical(RetailTransaction row) =>
        Encoding.UTF8.GetString(RetailJson.ToJsonLine(row with { Price = row.Price / 1.000000000000000000000000000000000m, InvoiceDate = DateTime.SpecifyKind(row.InvoiceDate, DateTimeKind.Unspecified) })).TrimEnd('\n');

    /// <summary><see cref="Canonical(RetailTransaction)"/> of the lake's JSON lines.</summary>
    public static List<string> Canonical(IEnumerable<string> jsonLines) => [.. jsonLines.Select(l => Canonical(RetailJson.Parse(Encoding.UTF8.GetBytes(l))))];

    /// <summary>Every row (<see cref="Canonical(RetailTransaction)"/>) of the Parquet objects under <paramref name="prefix"/>, read with Parquet.Net, as the lake's JSON lines.</summary>
    public static async Task<List<string>> ParquetRowsAsJsonAsync(IObjectStore store, string prefix)
    {
        var rows = new List<string>();
        foreach (string key in (await Lake.KeysAsync(store, prefix)).Where(k => k.EndsWith(".parquet", StringComparison.Ordinal)))
        {
            using var file = new MemoryStream(await store.GetBytesAsync(key));
            await using var reader = await ParquetReader.CreateAsync(file);
            var fields = reader.Schema.GetDataFields();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                var rg = reader.OpenRowGroupReader(g);
                int n = checked((int)rg.RowCount);
                var text = new string[8][];
                foreach (int c in new[] { 0, 1, 2, 6, 7 })
                {
                    var buffer = new ReadOnlyMemory<char>[n];
                    await rg.ReadRawAsync<ReadOnlyMemory<char>>(fields[c], buffer.AsMemory(), null, null);
                    text[c] = [.. buffer.Select(m => m.ToString())];
                }
                var quantity = new int[n];
                await rg.ReadAsync<int>(fields[3], quantity.AsMemory(), null);
                var dates = new DateTime[n];
                await rg.ReadAsync<DateTime>(fields[4], dates.AsMemory(), null);
                var prices = new decimal[n];
                await rg.ReadAsync<decimal>(fields[5], prices.AsMemory(), null);
                for (int i = 0; i < n; i++)
                {
                    var row = new RetailTransaction
                    {
                        Invoice = text[0][i], StockCode = text[1][i], Description = text[2][i], Quantity = quantity[i],
                        InvoiceDate = dates[i], Price = prices[i], CustomerId = text[6][i], Country = text[7][i],
                    };
                    rows.Add(Canonical(row));
                }
            }
        }
        return rows;
    }
}
