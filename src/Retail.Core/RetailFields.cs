namespace Retail;

/// <summary>The workshop's field names, as they appear in JSON lines, CSV headers and SQL tables.</summary>
public static class RetailFields
{
    /// <summary><c>Invoice</c></summary>
    public const string Invoice = "Invoice";
    /// <summary><c>StockCode</c></summary>
    public const string StockCode = "StockCode";
    /// <summary><c>Description</c></summary>
    public const string Description = "Description";
    /// <summary><c>Quantity</c></summary>
    public const string Quantity = "Quantity";
    /// <summary><c>InvoiceDate</c></summary>
    public const string InvoiceDate = "InvoiceDate";
    /// <summary><c>Price</c></summary>
    public const string Price = "Price";
    /// <summary><c>Customer_ID</c> (the Online Retail II CSV header spells it <c>Customer ID</c>).</summary>
    public const string CustomerId = "Customer_ID";
    /// <summary><c>Country</c></summary>
    public const string Country = "Country";

    /// <summary>All eight names in the workshop's column order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Invoice, StockCode, Description, Quantity, InvoiceDate, Price, CustomerId, Country];

    /// <summary>The wire format of <see cref="RetailTransaction.InvoiceDate"/>: <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public const string InvoiceDateFormat = "yyyy-MM-dd HH:mm:ss";
}
