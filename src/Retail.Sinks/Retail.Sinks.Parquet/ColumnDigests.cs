using Retail.Sinks.Parquet.Format;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Order-sensitive 64-bit digests of each column's values: computed over the rows handed to a part's writer and
/// again over the rows Parquet.Net decodes from the file, so that a value changed by encoding is caught before the
/// part is published (<see cref="ParquetCompactorOptions.VerifyValues"/>).
/// </summary>
internal sealed class ColumnDigests : IEquatable<ColumnDigests>
{
    private const ulong K = 0x9E3779B97F4A7C15UL;
    private readonly ulong[] _digests = new ulong[RetailParquetFormat.Columns.Count];

    public long Rows { get; private set; }

    public void Add(RetailRows rows, int start, int count)
    {
        Text(0, rows.Invoice, start, count);
        Text(1, rows.StockCode, start, count);
        Text(2, rows.Description, start, count);
        Numbers(3, rows.Quantity.AsSpan(start, count));
        Numbers(4, rows.InvoiceDate.AsSpan(start, count));
        Numbers(5, rows.Price.AsSpan(start, count));
        Text(6, rows.CustomerId, start, count);
        Text(7, rows.Country, start, count);
        Rows += count;
    }

    private void Text(int column, TextColumn values, int start, int count)
    {
        ulong d = _digests[column];
        for (int i = start; i < start + count; i++)
        {
            var v = values[i];
            d = (d + ColumnChunkEncoder.Hash(v) + ((ulong)v.Length << 32)) * K;
        }
        _digests[column] = d;
    }

    private void Numbers<T>(int column, ReadOnlySpan<T> values) where T : System.Numerics.IBinaryInteger<T>
    {
        ulong d = _digests[column];
        foreach (var v in values) d = (d + ulong.CreateTruncating(v)) * K;
        _digests[column] = d;
    }

    /// <summary>The first column whose digest differs, or null.</summary>
    public string? FirstDifference(ColumnDigests other)
    {
        for (int i = 0; i < _digests.Length; i++)
            if (_digests[i] != other._digests[i]) return RetailParquetFormat.Columns[i].Name;
        return null;
    }

    public bool Equals(ColumnDigests? other) => other is not null && Rows == other.Rows && FirstDifference(other) is null;

    public override bool Equals(object? obj) => Equals(obj as ColumnDigests);

    public override int GetHashCode() => HashCode.Combine(Rows, _digests[0], _digests[7]);
}
