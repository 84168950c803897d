using System.Text;

namespace Retail.Codecs;

/// <summary>
/// One record as read from JSON, its text fields as UTF-8 bytes (unescaped and checked to be valid UTF-8), for
/// writers of UTF-8 formats (Parquet, search documents) that should not make a string per field.
/// The spans point into the reader's buffers: they are valid until the reader reads again.
/// </summary>
public readonly ref struct RetailRecordUtf8
{
    internal RetailRecordUtf8(ReadOnlySpan<byte> invoice, ReadOnlySpan<byte> stockCode, ReadOnlySpan<byte> description, int quantity,
        DateTime invoiceDate, decimal price, ReadOnlySpan<byte> customerId, ReadOnlySpan<byte> country)
    {
        Invoice = invoice;
        StockCode = stockCode;
        Description = description;
        Quantity = quantity;
        InvoiceDate = invoiceDate;
        Price = price;
        CustomerId = customerId;
        Country = country;
    }

    /// <summary><c>Invoice</c> as UTF-8.</summary>
    public ReadOnlySpan<byte> Invoice { get; }

    /// <summary><c>StockCode</c> as UTF-8.</summary>
    public ReadOnlySpan<byte> StockCode { get; }

    /// <summary><c>Description</c> as UTF-8.</summary>
    public ReadOnlySpan<byte> Description { get; }

    /// <summary><c>Quantity</c>.</summary>
    public int Quantity { get; }

    /// <summary><c>InvoiceDate</c> (<see cref="DateTimeKind.Unspecified"/>, whole seconds).</summary>
    public DateTime InvoiceDate { get; }

    /// <summary><c>Price</c>, exactly as written (never rounded).</summary>
    public decimal Price { get; }

    /// <summary><c>Customer_ID</c> as UTF-8 (the digits, when the JSON had a number).</summary>
    public ReadOnlySpan<byte> CustomerId { get; }

    /// <summary><c>Country</c> as UTF-8.</summary>
    public ReadOnlySpan<byte> Country { get; }

    /// <summary>The record as a <see cref="RetailTransaction"/> (allocates its strings).</summary>
    public RetailTransaction ToTransaction() => ToTransaction(null);

    internal RetailTransaction ToTransaction(Utf8StringCache? cache) => new()
    {
        Invoice = Text(Invoice, cache),
        StockCode = Text(StockCode, cache),
        Description = Text(Description, cache),
        Quantity = Quantity,
        InvoiceDate = InvoiceDate,
        Price = Price,
        CustomerId = Text(CustomerId, cache),
        Country = Text(Country, cache),
    };

    private static string Text(ReadOnlySpan<byte> utf8, Utf8StringCache? cache) =>
        cache is null ? Encoding.UTF8.GetString(utf8) : cache.GetString(utf8);
}
