namespace Retail;

/// <summary>
/// One line of a retail invoice: the record that flows through every stage of the pipeline.
/// Field names on the wire are the workshop's: <c>Invoice, StockCode, Description, Quantity,
/// InvoiceDate, Price, Customer_ID, Country</c>.
/// </summary>
/// <remarks>
/// Values are kept exactly as the source wrote them: text is never trimmed, <see cref="Price"/> is a
/// <see cref="decimal"/> (6.95 stays 6.95 and sums are exact), and <see cref="CustomerId"/> is text
/// because the data set writes it as <c>13085.0</c> and sometimes leaves it empty.
/// </remarks>
public sealed record RetailTransaction
{
    /// <summary>Invoice number; a leading <c>C</c> marks a cancellation (e.g. <c>C489449</c>).</summary>
    public required string Invoice { get; init; }

    /// <summary>Product code, e.g. <c>85123A</c>, <c>POST</c> or <c>BANK CHARGES</c>.</summary>
    public required string StockCode { get; init; }

    /// <summary>Product description, byte-for-byte as written (leading and trailing spaces kept).</summary>
    public required string Description { get; init; }

    /// <summary>Units sold; negative for cancellations and returns.</summary>
    public required int Quantity { get; init; }

    /// <summary>
    /// When the invoice was issued, as a wall-clock time with no zone (the data set is UK local time).
    /// Whole seconds; <see cref="DateTime.Kind"/> is <see cref="DateTimeKind.Unspecified"/>.
    /// </summary>
    public required DateTime InvoiceDate { get; init; }

    /// <summary>Unit price, with decimal semantics.</summary>
    public required decimal Price { get; init; }

    /// <summary>Customer number as text; may be empty and may look like <c>13085.0</c>.</summary>
    public required string CustomerId { get; init; }

    /// <summary>Country of the customer.</summary>
    public required string Country { get; init; }
}
