using System.Globalization;
using Retail.Codecs;

namespace Retail;

/// <summary>Reads a record's field by its workshop name, as text (as it would appear in JSON, unquoted).</summary>
public static class RetailFieldAccess
{
    /// <summary>True if <paramref name="field"/> is one of the eight field names (exact spelling).</summary>
    public static bool IsField(string field) => RetailFields.All.Contains(field, StringComparer.Ordinal);

    /// <summary>The text of <paramref name="field"/>: strings as they are, Quantity and Price invariant, InvoiceDate <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    /// <exception cref="ArgumentException">Not a field name.</exception>
    public static string GetText(RetailTransaction record, string field)
    {
        ArgumentNullException.ThrowIfNull(record);
        return field switch
        {
            RetailFields.Invoice => record.Invoice,
            RetailFields.StockCode => record.StockCode,
            RetailFields.Description => record.Description,
            RetailFields.Quantity => record.Quantity.ToString(CultureInfo.InvariantCulture),
            RetailFields.InvoiceDate => ValueFormats.FormatDate(record.InvoiceDate),
            RetailFields.Price => record.Price.ToString(CultureInfo.InvariantCulture),
            RetailFields.CustomerId => record.CustomerId,
            RetailFields.Country => record.Country,
            _ => throw new ArgumentException($"'{field}' is not a field of RetailTransaction; fields are {string.Join(", ", RetailFields.All)}.", nameof(field)),
        };
    }
}
