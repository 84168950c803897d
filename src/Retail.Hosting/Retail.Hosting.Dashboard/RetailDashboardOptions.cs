using System.Globalization;
using System.Text.RegularExpressions;
using Retail.Storage;

namespace Retail.Hosting.Dashboard;

/// <summary>Settings of a dashboard mapped by <see cref="RetailDashboardEndpointRouteBuilderExtensions.MapRetailDashboard"/>.</summary>
public sealed partial class RetailDashboardOptions
{
    internal const int MaxRowsLimit = 10_000;
    internal const int MaxTitleLength = 200;
    internal static readonly TimeSpan MinLiveRefresh = TimeSpan.FromMilliseconds(200);
    internal static readonly TimeSpan MaxLiveRefresh = TimeSpan.FromMinutes(1);

    /// <summary>The page's title and heading (HTML-encoded where it is shown). Default <c>Retail</c>; 1 to 200 characters.</summary>
    public string Title { get; set; } = "Retail";

    /// <summary>How often the page polls the speed layer (<c>api/live</c>): 0.2 seconds to 1 minute. Default 2 seconds.</summary>
    public TimeSpan LiveRefresh { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most rows any list of the API returns (daily points, months, countries, histogram buckets): 1 to 10,000.
    /// Default 1,000. A list cut at this bound says so (<c>"truncated": true</c>).
    /// </summary>
    public int MaxRows { get; set; } = 1000;

    /// <summary>The largest <c>limit</c> the top lists (<c>api/top-countries</c>, <c>api/top-products</c>) accept: 1 to <see cref="MaxRows"/>. Default 50.</summary>
    public int MaxLimit { get; set; } = 50;

    /// <summary>
    /// The query engine's table of delivered JSON lines. Default <see cref="RetailLakeDefinition.DefaultJsonTableName"/>
    /// (<c>retail_trans_json</c>). An SQL identifier, optionally qualified (<c>db.table</c>).
    /// </summary>
    public string JsonTable { get; set; } = RetailLakeDefinition.DefaultJsonTableName;

    /// <summary>
    /// The query engine's table of compacted Parquet. Default <see cref="RetailLakeDefinition.DefaultParquetTableName"/>
    /// (<c>ctas_retail_trans_parquet</c>). An SQL identifier, optionally qualified (<c>db.table</c>).
    /// </summary>
    public string ParquetTable { get; set; } = RetailLakeDefinition.DefaultParquetTableName;

    /// <summary>Checks every setting; returns one message per problem, each naming the property and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        const string prefix = nameof(RetailDashboardOptions);
        var inv = CultureInfo.InvariantCulture;
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(Title) || Title.Length > MaxTitleLength)
            failures.Add($"{prefix}.{nameof(Title)} must be 1 to {MaxTitleLength} characters and not blank (got {(Title is null ? "null" : $"'{Title}', {Title.Length} characters")}).");
        if (LiveRefresh < MinLiveRefresh || LiveRefresh > MaxLiveRefresh)
            failures.Add($"{prefix}.{nameof(LiveRefresh)} must be from {MinLiveRefresh.TotalSeconds.ToString(inv)} s to {MaxLiveRefresh.TotalSeconds.ToString(inv)} s (got {LiveRefresh.ToString("c", inv)}).");
        if (MaxRows is < 1 or > MaxRowsLimit)
            failures.Add($"{prefix}.{nameof(MaxRows)} must be 1 to {MaxRowsLimit.ToString("N0", inv)} (got {MaxRows.ToString(inv)}).");
        if (MaxLimit < 1 || MaxLimit > Math.Clamp(MaxRows, 1, MaxRowsLimit))
            failures.Add($"{prefix}.{nameof(MaxLimit)} must be 1 to {nameof(MaxRows)} ({MaxRows.ToString(inv)}) (got {MaxLimit.ToString(inv)}).");
        foreach (var (name, value) in new[] { (nameof(JsonTable), JsonTable), (nameof(ParquetTable), ParquetTable) })
        {
            if (value is null || !TableName().IsMatch(value))
                failures.Add($"{prefix}.{name} must be an SQL table name (letters, digits and '_', not starting with a digit, optionally 'schema.table', at most 255 characters) (got {(value is null ? "null" : $"'{value}'")}).");
        }
        if (JsonTable is not null && string.Equals(JsonTable, ParquetTable, StringComparison.OrdinalIgnoreCase))
            failures.Add($"{prefix}.{nameof(JsonTable)} and {nameof(ParquetTable)} must name two tables (both are '{JsonTable}').");
        return failures;
    }

    [GeneratedRegex(@"^(?=.{1,255}$)[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TableName();

    internal RetailDashboardOptions Clone() => (RetailDashboardOptions)MemberwiseClone();
}
