using Parquet;
using Parquet.Schema;

namespace Retail.Sinks.Parquet;

/// <summary>
/// The Parquet form of the retail table: the workshop's Athena CTAS columns, lower-case, partition values
/// only in the path. Strings are required UTF-8 (empty stays empty), <c>quantity</c> is INT32,
/// <c>invoicedate</c> is a millisecond timestamp not adjusted to UTC (Parquet.Net 6.1 writes wrong statistics
/// for microseconds), <c>price</c> is DECIMAL(18,4) stored as INT64.
/// </summary>
internal static class RetailParquetFormat
{
    public const int PriceScale = 4;
    public const int PricePrecision = 18;

    /// <summary>Largest price magnitude DECIMAL(18,4) holds: 99,999,999,999,999.9999.</summary>
    public static readonly decimal MaxPrice = 99_999_999_999_999.9999m;

    public static readonly DataField Invoice = new("invoice", typeof(string), isNullable: false);
    public static readonly DataField StockCode = new("stockcode", typeof(string), isNullable: false);
    public static readonly DataField Description = new("description", typeof(string), isNullable: false);
    public static readonly DataField Quantity = new("quantity", typeof(int), isNullable: false);
    public static readonly DateTimeDataField InvoiceDate = new("invoicedate", DateTimeFormat.Timestamp, isAdjustedToUTC: false, unit: DateTimeTimeUnit.Millis, isNullable: false);
    public static readonly DecimalDataField Price = new("price", PricePrecision, PriceScale, forceByteArrayEncoding: false, isNullable: false);
    public static readonly DataField CustomerId = new("customer_id", typeof(string), isNullable: false);
    public static readonly DataField Country = new("country", typeof(string), isNullable: false);

    public static readonly ParquetSchema Schema = new(Invoice, StockCode, Description, Quantity, InvoiceDate, Price, CustomerId, Country);

    /// <summary>
    /// Dictionary encoding is tried on every string column (Parquet.Net encodes numbers plain); a row group's
    /// column gets a dictionary only when at most this share of its values is distinct.
    /// </summary>
    private const double DictionaryThreshold = 0.5;

    /// <summary>Values looked at before trying a full dictionary: a mostly unique column is rejected cheaply.</summary>
    private const int DictionarySampleSize = 4096;

    private static readonly DataField[] DictionaryColumns = [Invoice, StockCode, Description, CustomerId, Country];

    public static ParquetOptions WriterOptions()
    {
        var options = new ParquetOptions
        {
            CompressionMethod = CompressionMethod.Snappy,
            DictionaryEncodingThreshold = DictionaryThreshold,
            DictionaryEncodingSampleSize = DictionarySampleSize,
        };
        foreach (var f in DictionaryColumns) options.ColumnEncodingHints[f.Path.ToString()] = EncodingHint.Dictionary;
        return options;
    }

    /// <summary>Writes one row group: <paramref name="rows"/> as they are, each column passed straight from its array.</summary>
    public static async Task WriteRowGroupAsync(ParquetWriter writer, RowColumns rows, CancellationToken cancellationToken)
    {
        int len = rows.Count;
        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync<ReadOnlyMemory<char>>(Invoice, rows.Invoice.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<ReadOnlyMemory<char>>(StockCode, rows.StockCode.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<ReadOnlyMemory<char>>(Description, rows.Description.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<int>(Quantity, rows.Quantity.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<DateTime>(InvoiceDate, rows.InvoiceDate.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<decimal>(Price, rows.Price.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<ReadOnlyMemory<char>>(CustomerId, rows.CustomerId.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        await rg.WriteAsync<ReadOnlyMemory<char>>(Country, rows.Country.AsMemory(0, len), null, null, cancellationToken).ConfigureAwait(false);
        rg.CompleteValidate();
    }

    /// <summary>Row count of a Parquet file from its footer, and whether its schema is this table's.</summary>
    public static async Task<long> CountRowsAsync(Stream input, CancellationToken cancellationToken)
    {
        var reader = await ParquetReader.CreateAsync(input, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            CheckSchema(reader.Schema);
            long rows = 0;
            for (int i = 0; i < reader.RowGroupCount; i++)
            {
                var rg = reader.OpenRowGroupReader(i);
                foreach (var chunk in rg.RowGroup.Columns)
                {
                    long values = chunk.MetaData?.NumValues ?? -1;
                    if (values != rg.RowCount)
                        throw new InvalidDataException($"row group {i} has {rg.RowCount} rows but a column chunk with {values} values");
                }
                rows += rg.RowCount;
            }
            return rows;
        }
    }

    /// <summary>Reads the first <paramref name="rowCount"/> rows of a file written by this class, one row group at a time.</summary>
    public static async IAsyncEnumerable<RowColumns> ReadAsync(Stream input, long rowCount, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = await ParquetReader.CreateAsync(input, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            CheckSchema(reader.Schema);
            var fields = reader.Schema.GetDataFields();
            long at = 0;
            for (int g = 0; g < reader.RowGroupCount && at < rowCount; g++)
            {
                var rg = reader.OpenRowGroupReader(g);
                int len = checked((int)rg.RowCount);
                var rows = new RowColumns(len);
                var text = new ReadOnlyMemory<char>[len];
                await ReadTextAsync(rg, fields[0], text, rows, rows.Invoice, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[1], text, rows, rows.StockCode, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[2], text, rows, rows.Description, cancellationToken).ConfigureAwait(false);
                await rg.ReadAsync<int>(fields[3], rows.Quantity.AsMemory(0, len), null, cancellationToken).ConfigureAwait(false);
                await rg.ReadAsync<DateTime>(fields[4], rows.InvoiceDate.AsMemory(0, len), null, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < len; i++) rows.InvoiceDate[i] = DateTime.SpecifyKind(rows.InvoiceDate[i], DateTimeKind.Unspecified);
                await rg.ReadAsync<decimal>(fields[5], rows.Price.AsMemory(0, len), null, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[6], text, rows, rows.CustomerId, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[7], text, rows, rows.Country, cancellationToken).ConfigureAwait(false);
                int take = (int)Math.Min(len, rowCount - at);
                rows.SetCount(take);
                at += take;
                yield return rows;
            }
            if (at != rowCount) throw new InvalidDataException($"the file has {at} rows, fewer than the {rowCount} its manifest records");
        }
    }

    private static async Task ReadTextAsync(ParquetRowGroupReader rg, DataField field, ReadOnlyMemory<char>[] buffer, RowColumns rows, ReadOnlyMemory<char>[] column, CancellationToken cancellationToken)
    {
        await rg.ReadRawAsync<ReadOnlyMemory<char>>(field, buffer.AsMemory(), null, null, cancellationToken).ConfigureAwait(false);
        rows.CopyText(buffer, 0, column, 0, buffer.Length);
    }

    private static void CheckSchema(ParquetSchema schema)
    {
        var expected = Schema.GetDataFields();
        var actual = schema.GetDataFields();
        bool same = actual.Length == expected.Length;
        for (int i = 0; same && i < actual.Length; i++)
            same = actual[i].Name == expected[i].Name && actual[i].ClrType == expected[i].ClrType && !actual[i].IsNullable;
        if (!same)
            throw new InvalidDataException($"unexpected Parquet schema ({string.Join(", ", actual.Select(f => f.Name + ":" + f.ClrType.Name))})");
    }
}
