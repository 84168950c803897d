using System.Globalization;
using Parquet;
using Parquet.Schema;
using Retail.Sinks.Parquet.Format;

namespace Retail.Sinks.Parquet;

/// <summary>
/// The Parquet form of the retail table: the workshop's Athena CTAS columns, lower-case, partition values
/// only in the path. Strings are required UTF-8 (empty stays empty), <c>quantity</c> is INT32,
/// <c>invoicedate</c> is a millisecond timestamp not adjusted to UTC, <c>price</c> is DECIMAL(18,4) stored as INT64.
/// Files are written by this sink's own encoder (<see cref="Format.ColumnChunkEncoder"/>: UTF-8 straight from the
/// JSON, dictionaries for numbers as well as text, statistics and column orders) and read back with Parquet.Net,
/// an independent reader, before they are published.
/// </summary>
internal static class RetailParquetFormat
{
    public const int PriceScale = RetailPrice.Scale;
    public const int PricePrecision = RetailPrice.Precision;

    public static readonly DataField Invoice = new("invoice", typeof(string), isNullable: false);
    public static readonly DataField StockCode = new("stockcode", typeof(string), isNullable: false);
    public static readonly DataField Description = new("description", typeof(string), isNullable: false);
    public static readonly DataField Quantity = new("quantity", typeof(int), isNullable: false);
    public static readonly DateTimeDataField InvoiceDate = new("invoicedate", DateTimeFormat.Timestamp, isAdjustedToUTC: false, unit: DateTimeTimeUnit.Millis, isNullable: false);
    public static readonly DecimalDataField Price = new("price", PricePrecision, PriceScale, forceByteArrayEncoding: false, isNullable: false);
    public static readonly DataField CustomerId = new("customer_id", typeof(string), isNullable: false);
    public static readonly DataField Country = new("country", typeof(string), isNullable: false);

    public static readonly ParquetSchema Schema = new(Invoice, StockCode, Description, Quantity, InvoiceDate, Price, CustomerId, Country);

    /// <summary>The columns as this sink's writer writes them (<see cref="Format.ParquetFooter"/>).</summary>
    public static readonly IReadOnlyList<ParquetColumn> Columns =
    [
        new("invoice", ParquetType.ByteArray, ParquetColumnKind.Text),
        new("stockcode", ParquetType.ByteArray, ParquetColumnKind.Text),
        new("description", ParquetType.ByteArray, ParquetColumnKind.Text),
        new("quantity", ParquetType.Int32, ParquetColumnKind.Int32),
        new("invoicedate", ParquetType.Int64, ParquetColumnKind.TimestampMillis),
        new("price", ParquetType.Int64, ParquetColumnKind.Decimal, PricePrecision, PriceScale),
        new("customer_id", ParquetType.ByteArray, ParquetColumnKind.Text),
        new("country", ParquetType.ByteArray, ParquetColumnKind.Text),
    ];

    /// <summary>The footer's <c>created_by</c>.</summary>
    public static readonly string CreatedBy = "Retail.Sinks.Parquet version " +
        (typeof(RetailParquetFormat).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

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

    /// <summary>Reads the first <paramref name="rowCount"/> rows of a file written by this sink, one row group at a time (with Parquet.Net).</summary>
    public static async IAsyncEnumerable<RetailRows> ReadAsync(Stream input, long rowCount, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
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
                int take = (int)Math.Min(len, rowCount - at);
                var rows = new RetailRows(len);
                var text = new ReadOnlyMemory<char>[len];
                await ReadTextAsync(rg, fields[0], text, rows.Invoice, take, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[1], text, rows.StockCode, take, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[2], text, rows.Description, take, cancellationToken).ConfigureAwait(false);
                await rg.ReadAsync<int>(fields[3], rows.Quantity.AsMemory(0, len), null, cancellationToken).ConfigureAwait(false);
                var dates = new DateTime[len];
                await rg.ReadAsync<DateTime>(fields[4], dates.AsMemory(), null, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < len; i++) rows.InvoiceDate[i] = RetailRows.ToMillis(dates[i]);
                var prices = new decimal[len];
                await rg.ReadAsync<decimal>(fields[5], prices.AsMemory(), null, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < len; i++)
                {
                    if (!RetailPrice.TryGetUnscaled(prices[i], out rows.Price[i], out string? reason)) throw new InvalidDataException(reason);
                }
                await ReadTextAsync(rg, fields[6], text, rows.CustomerId, take, cancellationToken).ConfigureAwait(false);
                await ReadTextAsync(rg, fields[7], text, rows.Country, take, cancellationToken).ConfigureAwait(false);
                rows.SetCount(take);
                at += take;
                yield return rows;
            }
            if (at != rowCount) throw new InvalidDataException($"the file has {at} rows, fewer than the {rowCount} its manifest records");
        }
    }

    private static async Task ReadTextAsync(ParquetRowGroupReader rg, DataField field, ReadOnlyMemory<char>[] buffer, TextColumn column, int take, CancellationToken cancellationToken)
    {
        await rg.ReadRawAsync<ReadOnlyMemory<char>>(field, buffer.AsMemory(), null, null, cancellationToken).ConfigureAwait(false);
        byte[] utf8 = [];
        for (int i = 0; i < take; i++)
        {
            var chars = buffer[i].Span;
            int max = System.Text.Encoding.UTF8.GetMaxByteCount(chars.Length);
            if (utf8.Length < max) utf8 = new byte[Math.Max(max, 256)];
            column.Add(utf8.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(chars, utf8)));
        }
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
