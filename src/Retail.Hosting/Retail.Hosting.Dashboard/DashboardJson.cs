using System.Text.Json.Serialization;

namespace Retail.Hosting.Dashboard;

// The API's answers (camelCase; decimals as exact strings; dates ISO 8601 without zone). Source-generated JSON:
// no reflection, trim- and AOT-safe.

internal sealed record SummaryResponse(long Records, string Revenue, string RevenueText, long Quantity, string? LastInvoiceDate, bool Empty);

internal sealed record DailyRow(string Date, long Quantity, string Price);

internal sealed record DailyResponse(IReadOnlyList<DailyRow> Rows, bool Truncated);

internal sealed record MonthlyRow(string Month, string Revenue);

internal sealed record MonthlyResponse(IReadOnlyList<MonthlyRow> Rows, bool Truncated);

internal sealed record CountryRow(string Country, string Revenue, long Quantity);

internal sealed record TopCountriesResponse(IReadOnlyList<CountryRow> Rows);

internal sealed record ProductRow(string StockCode, string Description, string Revenue, long Quantity);

internal sealed record TopProductsResponse(IReadOnlyList<ProductRow> Rows);

internal sealed record CountriesResponse(IReadOnlyList<string> Countries, bool Truncated);

internal sealed record LiveBucket(string Start, long Documents, long Quantity);

internal sealed record LiveResponse(bool Available, long Documents, long Quantity, IReadOnlyList<LiveBucket> Buckets, bool Truncated);

internal sealed record ErrorResponse(string Error, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Parameter = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SummaryResponse))]
[JsonSerializable(typeof(DailyResponse))]
[JsonSerializable(typeof(MonthlyResponse))]
[JsonSerializable(typeof(TopCountriesResponse))]
[JsonSerializable(typeof(TopProductsResponse))]
[JsonSerializable(typeof(CountriesResponse))]
[JsonSerializable(typeof(LiveResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
