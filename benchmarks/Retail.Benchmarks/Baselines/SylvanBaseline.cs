using System.Globalization;
using System.Data.Common;
using System.Text;
using Sylvan.Data.Csv;

namespace Retail.Benchmarks.Baselines;

/// <summary>
/// Sylvan.Data.Csv's <see cref="CsvDataReader"/> reading every field of every row into a typed
/// <see cref="RetailTransaction"/>: strings, <see cref="int"/>, <see cref="decimal"/> and
/// <see cref="DateTime"/> (parsed with the exact format <c>yyyy-MM-dd HH:mm:ss</c>, Sylvan's fast path).
/// </summary>
internal static class SylvanBaseline
{
    /// <summary>Reads <paramref name="csv"/> (UTF-8, header row); returns the sum of quantities.</summary>
    /// <param name="csv">The bytes.</param>
    /// <param name="onRecord">Called per record (verification only).</param>
    public static long Read(byte[] csv, Action<RetailTransaction>? onRecord = null)
    {
        var options = new CsvDataReaderOptions
        {
            HasHeaders = true,
            Delimiter = ',',
            DateTimeFormat = RetailFields.InvoiceDateFormat,
            Culture = CultureInfo.InvariantCulture,
        };
        using var text = new StreamReader(new MemoryStream(csv, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        using CsvDataReader reader = CsvDataReader.Create(text, options);
        int invoice = Ordinal(reader, "Invoice"), stockCode = Ordinal(reader, "StockCode"), description = Ordinal(reader, "Description"),
            quantity = Ordinal(reader, "Quantity"), invoiceDate = Ordinal(reader, "InvoiceDate"), price = Ordinal(reader, "Price"),
            customerId = Ordinal(reader, RetailFields.CustomerId, "Customer ID"), country = Ordinal(reader, "Country");
        long quantities = 0;
        while (reader.Read())
        {
            var record = new RetailTransaction
            {
                Invoice = reader.GetString(invoice),
                StockCode = reader.GetString(stockCode),
                Description = reader.GetString(description),
                Quantity = reader.GetInt32(quantity),
                InvoiceDate = reader.GetDateTime(invoiceDate),
                Price = reader.GetDecimal(price),
                CustomerId = reader.GetString(customerId),
                Country = reader.GetString(country),
            };
            quantities += record.Quantity;
            onRecord?.Invoke(record);
        }
        return quantities;
    }

    private static int Ordinal(DbDataReader reader, params string[] names)
    {
        for (int i = 0; i < reader.FieldCount; i++)
        {
            foreach (string name in names)
                if (string.Equals(reader.GetName(i), name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        throw new InvalidOperationException($"no column {names[0]}");
    }
}
