namespace Retail.Hosting.Dashboard.Tests;

/// <summary>
/// One lake for the API tests: synthetic records over five days in two months and two years, plus the real data's
/// quirks (a cancellation with a negative quantity, a 4-decimal price, a zero price, an empty customer id, quotes and
/// non-ASCII in a description); every hour of 2010-12-01 and 2010-12-09 and the even hours of 2010-12-02 compacted
/// into Parquet, the rest JSON only. A server maps the dashboard over it at <c>/retail</c>.
/// </summary>
public sealed class DashboardLakeFixture : IAsyncLifetime
{
    public TestLake Lake { get; private set; } = null!;

    public DashboardTestServer Server { get; private set; } = null!;

    /// <summary>The hours compacted into Parquet.</summary>
    public IReadOnlyList<DateTime> Compacted { get; private set; } = [];

    /// <summary>The hours left JSON only.</summary>
    public IReadOnlyList<DateTime> JsonOnly { get; private set; } = [];

    public IReadOnlyList<RetailTransaction> Records => Lake.Records;

    public static IReadOnlyList<RetailTransaction> Quirks { get; } =
    [
        new() { Invoice = "C489449", StockCode = "22087", Description = "PAPER BUNTING WHITE LACE", Quantity = -12, InvoiceDate = new(2010, 12, 1, 10, 24, 0), Price = 2.95m, CustomerId = "16321", Country = "Australia" },
        new() { Invoice = "489434", StockCode = "85048", Description = "15CM CHRISTMAS GLASS BALL 20 LIGHTS", Quantity = 3, InvoiceDate = new(2010, 12, 2, 7, 45, 0), Price = 1234.5678m, CustomerId = "", Country = "United Kingdom" },
        new() { Invoice = "489435", StockCode = "POST", Description = "POSTAGE", Quantity = 1, InvoiceDate = new(2010, 12, 2, 9, 5, 17), Price = 0m, CustomerId = "12682.0", Country = "France" },
        new() { Invoice = "489436", StockCode = "21523", Description = " DOORMAT \"FANCY\" FONT, HOME SWEET HOME £ ", Quantity = 10, InvoiceDate = new(2010, 12, 9, 19, 59, 59), Price = 6.7500m, CustomerId = "13085", Country = "European Community" },
        new() { Invoice = "489437", StockCode = "BANK CHARGES", Description = "Bank Charges", Quantity = 1, InvoiceDate = new(2011, 1, 4, 0, 0, 0), Price = 15.0001m, CustomerId = "", Country = "RSA" },
    ];

    public static bool IsCompacted(DateTime hour) => hour.Month == 12 && (hour.Day is 1 or 9 || (hour.Day == 2 && hour.Hour % 2 == 0));

    public async Task InitializeAsync()
    {
        Lake = await TestLake.CreateAsync(TestLake.Synthetic(300).Concat(Quirks));
        Compacted = await Lake.CompactAsync(IsCompacted);
        JsonOnly = [.. (await Lake.HoursAsync()).Except(Compacted)];
        Server = await DashboardTestServer.StartAsync(Lake.Query, new ListSpeedLayerView(Lake.Records));
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (Lake is not null) await Lake.DisposeAsync();
    }
}
