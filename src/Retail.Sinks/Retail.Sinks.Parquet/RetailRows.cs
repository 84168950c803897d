using Retail.Codecs;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Rows held column by column in the form Parquet stores them: text as UTF-8 bytes (no strings),
/// <c>invoicedate</c> as milliseconds since 1970-01-01, <c>price</c> as an integer of 1/10,000ths.
/// Reused batch after batch (<see cref="Clear"/>).
/// </summary>
internal sealed class RetailRows
{
    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    public readonly TextColumn Invoice = new();
    public readonly TextColumn StockCode = new();
    public readonly TextColumn Description = new();
    public readonly TextColumn CustomerId = new();
    public readonly TextColumn Country = new();
    public int[] Quantity;
    public long[] InvoiceDate;
    public long[] Price;

    public RetailRows(int capacity)
    {
        capacity = Math.Max(capacity, 16);
        Quantity = new int[capacity];
        InvoiceDate = new long[capacity];
        Price = new long[capacity];
    }

    public int Count { get; private set; }

    /// <summary>Appends a record; its price must already be known to fit (<see cref="RetailPrice.TryGetUnscaled"/>).</summary>
    public void Add(in RetailRecordUtf8 r, long unscaledPrice)
    {
        int i = Count;
        if (i == Quantity.Length) Grow(i + 1);
        Invoice.Add(r.Invoice);
        StockCode.Add(r.StockCode);
        Description.Add(r.Description);
        Quantity[i] = r.Quantity;
        InvoiceDate[i] = ToMillis(r.InvoiceDate);
        Price[i] = unscaledPrice;
        CustomerId.Add(r.CustomerId);
        Country.Add(r.Country);
        Count = i + 1;
    }

    /// <summary>Appends rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> of <paramref name="source"/> (copied).</summary>
    public void AddRange(RetailRows source, int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return;
        int at = Count;
        if (at + count > Quantity.Length) Grow(at + count);
        Invoice.AddRange(source.Invoice, start, count);
        StockCode.AddRange(source.StockCode, start, count);
        Description.AddRange(source.Description, start, count);
        Array.Copy(source.Quantity, start, Quantity, at, count);
        Array.Copy(source.InvoiceDate, start, InvoiceDate, at, count);
        Array.Copy(source.Price, start, Price, at, count);
        CustomerId.AddRange(source.CustomerId, start, count);
        Country.AddRange(source.Country, start, count);
        Count = at + count;
    }

    /// <summary>Marks <paramref name="count"/> rows as filled after the numeric arrays and text columns were filled directly.</summary>
    public void SetCount(int count)
    {
        if (count < 0 || count > Quantity.Length) throw new ArgumentOutOfRangeException(nameof(count));
        Count = count;
    }

    public void EnsureCapacity(int capacity)
    {
        if (capacity > Quantity.Length) Grow(capacity);
    }

    /// <summary>Forgets the rows; keeps every buffer for the next batch.</summary>
    public void Clear()
    {
        Count = 0;
        Invoice.Clear();
        StockCode.Clear();
        Description.Clear();
        CustomerId.Clear();
        Country.Clear();
    }

    public static long ToMillis(DateTime t) => (t.Ticks - EpochTicks) / TimeSpan.TicksPerMillisecond;

    public static DateTime FromMillis(long ms) => new(EpochTicks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Unspecified);

    private void Grow(int min)
    {
        int size = (int)Math.Min(Array.MaxLength, Math.Max((long)Quantity.Length * 2, min));
        Array.Resize(ref Quantity, size);
        Array.Resize(ref InvoiceDate, size);
        Array.Resize(ref Price, size);
    }
}

/// <summary>A column of UTF-8 values: their bytes end to end and where each one starts.</summary>
internal sealed class TextColumn
{
    private byte[] _bytes = new byte[1 << 16];
    private int[] _starts = new int[1 << 10]; // _starts[i] .. _starts[i + 1] is value i

    public int Count { get; private set; }

    /// <summary>Bytes of all values.</summary>
    public int ByteLength => _starts[Count];

    public ReadOnlySpan<byte> this[int index] => _bytes.AsSpan(_starts[index], _starts[index + 1] - _starts[index]);

    /// <summary>All values' bytes, end to end.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _starts[Count]);

    /// <summary>Start offsets into <see cref="Bytes"/>, one per value and one past the end.</summary>
    public ReadOnlySpan<int> Starts => _starts.AsSpan(0, Count + 1);

    public void Add(ReadOnlySpan<byte> value)
    {
        int end = _starts[Count];
        if ((long)end + value.Length > _bytes.Length) GrowBytes((long)end + value.Length);
        value.CopyTo(_bytes.AsSpan(end));
        if (Count + 2 > _starts.Length) Array.Resize(ref _starts, _starts.Length * 2);
        _starts[++Count] = end + value.Length;
    }

    public void AddRange(TextColumn source, int start, int count)
    {
        int from = source._starts[start], to = source._starts[start + count];
        int end = _starts[Count];
        if ((long)end + (to - from) > _bytes.Length) GrowBytes((long)end + (to - from));
        source._bytes.AsSpan(from, to - from).CopyTo(_bytes.AsSpan(end));
        if (Count + count + 1 > _starts.Length) Array.Resize(ref _starts, Math.Max(_starts.Length * 2, Count + count + 1));
        int shift = end - from;
        for (int i = 1; i <= count; i++) _starts[Count + i] = source._starts[start + i] + shift;
        Count += count;
    }

    public void Clear() => Count = 0; // _starts[0] stays 0

    private void GrowBytes(long min)
    {
        if (min > Array.MaxLength)
            throw new InvalidOperationException($"a text column of one row group needs more than {Array.MaxLength} bytes; use a smaller RowGroupSize");
        long size = Math.Min(Math.Max((long)_bytes.Length * 2, min), Array.MaxLength);
        Array.Resize(ref _bytes, (int)size);
    }
}
