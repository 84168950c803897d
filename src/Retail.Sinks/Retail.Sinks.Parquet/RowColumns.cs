namespace Retail.Sinks.Parquet;

/// <summary>
/// Rows held column by column, the shape Parquet is written in. Text is copied into this instance's own
/// character blocks, so the strings the JSON reader allocated die young (in gen 0) instead of being promoted
/// while they wait to be written; an instance is reused (<see cref="Clear"/>) batch after batch.
/// </summary>
internal sealed class RowColumns
{
    public ReadOnlyMemory<char>[] Invoice;
    public ReadOnlyMemory<char>[] StockCode;
    public ReadOnlyMemory<char>[] Description;
    public int[] Quantity;
    public DateTime[] InvoiceDate;
    public decimal[] Price;
    public ReadOnlyMemory<char>[] CustomerId;
    public ReadOnlyMemory<char>[] Country;

    private readonly CharArena _text = new();

    // The last string copied per column: repeated values (cached by the reader) are copied once per run.
    private string? _lastCountry, _lastCustomer;
    private ReadOnlyMemory<char> _lastCountryText, _lastCustomerText;

    public RowColumns(int capacity)
    {
        capacity = Math.Max(capacity, 16);
        Invoice = new ReadOnlyMemory<char>[capacity];
        StockCode = new ReadOnlyMemory<char>[capacity];
        Description = new ReadOnlyMemory<char>[capacity];
        Quantity = new int[capacity];
        InvoiceDate = new DateTime[capacity];
        Price = new decimal[capacity];
        CustomerId = new ReadOnlyMemory<char>[capacity];
        Country = new ReadOnlyMemory<char>[capacity];
    }

    public int Count { get; private set; }

    public int Capacity => Invoice.Length;

    public void Add(RetailTransaction r)
    {
        int i = Count;
        if (i == Invoice.Length) Grow(i + 1);
        Invoice[i] = _text.Copy(r.Invoice);
        StockCode[i] = _text.Copy(r.StockCode);
        Description[i] = _text.Copy(r.Description);
        Quantity[i] = r.Quantity;
        InvoiceDate[i] = r.InvoiceDate;
        Price[i] = r.Price;
        if (!ReferenceEquals(r.CustomerId, _lastCustomer))
        {
            _lastCustomer = r.CustomerId;
            _lastCustomerText = _text.Copy(r.CustomerId);
        }
        CustomerId[i] = _lastCustomerText;
        if (!ReferenceEquals(r.Country, _lastCountry))
        {
            _lastCountry = r.Country;
            _lastCountryText = _text.Copy(r.Country);
        }
        Country[i] = _lastCountryText;
        Count = i + 1;
    }

    /// <summary>Appends rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> of <paramref name="source"/> (text copied).</summary>
    public void AddRange(RowColumns source, int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return;
        int at = Count;
        if (at + count > Invoice.Length) Grow(at + count);
        CopyText(source.Invoice, start, Invoice, at, count);
        CopyText(source.StockCode, start, StockCode, at, count);
        CopyText(source.Description, start, Description, at, count);
        Array.Copy(source.Quantity, start, Quantity, at, count);
        Array.Copy(source.InvoiceDate, start, InvoiceDate, at, count);
        Array.Copy(source.Price, start, Price, at, count);
        CopyText(source.CustomerId, start, CustomerId, at, count);
        CopyText(source.Country, start, Country, at, count);
        Count = at + count;
    }

    /// <summary>
    /// Appends rows of <paramref name="source"/> without copying their text: the rows point into
    /// <paramref name="source"/>'s character blocks, which must not be cleared while these rows are in use.
    /// </summary>
    public void AddRangeShared(RowColumns source, int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int at = Count;
        if (at + count > Invoice.Length) Grow(at + count);
        Array.Copy(source.Invoice, start, Invoice, at, count);
        Array.Copy(source.StockCode, start, StockCode, at, count);
        Array.Copy(source.Description, start, Description, at, count);
        Array.Copy(source.Quantity, start, Quantity, at, count);
        Array.Copy(source.InvoiceDate, start, InvoiceDate, at, count);
        Array.Copy(source.Price, start, Price, at, count);
        Array.Copy(source.CustomerId, start, CustomerId, at, count);
        Array.Copy(source.Country, start, Country, at, count);
        Count = at + count;
    }

    /// <summary>Rows of this batch handed to a writer and not written yet (the batch is reused once this is back to 0).</summary>
    public int RowsInFlight { get; set; }

    /// <summary>Copies a text column (values that repeat the previous one share its copy).</summary>
    public void CopyText(ReadOnlyMemory<char>[] source, int start, ReadOnlyMemory<char>[] target, int at, int count)
    {
        ReadOnlyMemory<char> previous = default, previousCopy = default;
        for (int i = 0; i < count; i++)
        {
            var value = source[start + i];
            if (i > 0 && value.Span.SequenceEqual(previous.Span))
            {
                target[at + i] = previousCopy;
                continue;
            }
            previous = value;
            previousCopy = _text.Copy(value.Span);
            target[at + i] = previousCopy;
        }
    }

    /// <summary>Marks <paramref name="count"/> rows as filled after they were written straight into the arrays.</summary>
    public void SetCount(int count)
    {
        if (count < 0 || count > Capacity) throw new ArgumentOutOfRangeException(nameof(count));
        Count = count;
    }

    public void EnsureCapacity(int capacity)
    {
        if (capacity > Invoice.Length) Grow(capacity);
    }

    private void Grow(int min)
    {
        int size = (int)Math.Min(Array.MaxLength, Math.Max((long)Invoice.Length * 2, min));
        Array.Resize(ref Invoice, size);
        Array.Resize(ref StockCode, size);
        Array.Resize(ref Description, size);
        Array.Resize(ref Quantity, size);
        Array.Resize(ref InvoiceDate, size);
        Array.Resize(ref Price, size);
        Array.Resize(ref CustomerId, size);
        Array.Resize(ref Country, size);
    }

    /// <summary>Forgets the rows; keeps the arrays and character blocks for the next batch.</summary>
    public void Clear()
    {
        // Drop the references (text shared from other batches must not be kept alive by this one).
        Array.Clear(Invoice, 0, Count);
        Array.Clear(StockCode, 0, Count);
        Array.Clear(Description, 0, Count);
        Array.Clear(CustomerId, 0, Count);
        Array.Clear(Country, 0, Count);
        Count = 0;
        RowsInFlight = 0;
        _text.Reset();
        _lastCountry = _lastCustomer = null;
        _lastCountryText = _lastCustomerText = default;
    }

    /// <summary>Characters in reusable blocks; a copy is a slice of a block.</summary>
    private sealed class CharArena
    {
        private const int BlockChars = 1 << 17; // 256 KiB
        private readonly List<char[]> _blocks = [];
        private int _block = -1;
        private int _used = BlockChars;

        public ReadOnlyMemory<char> Copy(string s) => s.Length == 0 ? ReadOnlyMemory<char>.Empty : Copy(s.AsSpan());

        public ReadOnlyMemory<char> Copy(ReadOnlySpan<char> s)
        {
            if (s.IsEmpty) return ReadOnlyMemory<char>.Empty;
            if (s.Length > BlockChars / 4) return s.ToArray();
            if (_used + s.Length > BlockChars)
            {
                _block++;
                if (_block == _blocks.Count) _blocks.Add(new char[BlockChars]);
                _used = 0;
            }
            char[] block = _blocks[_block];
            s.CopyTo(block.AsSpan(_used));
            var copy = new ReadOnlyMemory<char>(block, _used, s.Length);
            _used += s.Length;
            return copy;
        }

        public void Reset()
        {
            _block = -1;
            _used = BlockChars;
        }
    }
}
