using System.Buffers;
using System.Text.Json;
using Retail.Codecs;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// The NDJSON body of <c>_bulk</c> requests, written with <see cref="Utf8JsonWriter"/> into one pooled buffer (no
/// reflection, AOT-safe): per document an action line (<c>{"index":{"_index":…,"_id":…}}</c>) and a source line, each
/// ending in <c>\n</c>. The offsets of every document are kept, so a request is a slice of the buffer and a 413 splits
/// it without writing anything again.
/// </summary>
internal sealed class BulkBody : IDisposable
{
    internal static readonly JsonEncodedText IndexAction = JsonEncodedText.Encode("index");
    internal static readonly JsonEncodedText CreateAction = JsonEncodedText.Encode("create");
    internal static readonly JsonEncodedText UpdateAction = JsonEncodedText.Encode("update");
    private static readonly JsonEncodedText IndexName = JsonEncodedText.Encode("_index");
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("_id");
    private static readonly JsonEncodedText DocName = JsonEncodedText.Encode("doc");
    private static readonly JsonEncodedText DocAsUpsertName = JsonEncodedText.Encode("doc_as_upsert");
    private static readonly JsonEncodedText Invoice = JsonEncodedText.Encode(RetailFields.Invoice);
    private static readonly JsonEncodedText StockCode = JsonEncodedText.Encode(RetailFields.StockCode);
    private static readonly JsonEncodedText Description = JsonEncodedText.Encode(RetailFields.Description);
    private static readonly JsonEncodedText Quantity = JsonEncodedText.Encode(RetailFields.Quantity);
    private static readonly JsonEncodedText InvoiceDate = JsonEncodedText.Encode(RetailFields.InvoiceDate);
    private static readonly JsonEncodedText Price = JsonEncodedText.Encode(RetailFields.Price);
    private static readonly JsonEncodedText CustomerId = JsonEncodedText.Encode(RetailFields.CustomerId);
    private static readonly JsonEncodedText Country = JsonEncodedText.Encode(RetailFields.Country);

    private readonly PooledBuffer _buffer;
    private readonly Utf8JsonWriter _writer;
    private readonly JsonEncodedText _action;
    private readonly bool _update;
    private readonly bool _isoDates;
    private int[] _starts; // _starts[i] = offset of document i; _starts[Count] = end of the body
    private string? _lastIndex;
    private JsonEncodedText _lastIndexEncoded;

    public BulkBody(BulkAction action, bool isoDates, int capacity = 64 * 1024)
    {
        _buffer = new PooledBuffer(capacity);
        _writer = new Utf8JsonWriter(_buffer, RetailJson.WriterOptions);
        _action = action switch { BulkAction.Create => CreateAction, BulkAction.Update => UpdateAction, _ => IndexAction };
        _update = action == BulkAction.Update;
        _isoDates = isoDates;
        _starts = ArrayPool<int>.Shared.Rent(256);
        _starts[0] = 0;
    }

    /// <summary>Documents in the body.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes of the whole body.</summary>
    public int Length => _buffer.WrittenCount;

    /// <summary>Appends one document (its action line and its source line); returns its size in bytes.</summary>
    public int Add(string index, in IndexDocument document)
    {
        int start = _buffer.WrittenCount;
        var w = _writer;
        w.Reset(_buffer);
        w.WriteStartObject();
        w.WriteStartObject(_action);
        if (!ReferenceEquals(index, _lastIndex))
        {
            _lastIndex = index;
            _lastIndexEncoded = JsonEncodedText.Encode(index, RetailJson.WriterOptions.Encoder);
        }
        w.WriteString(IndexName, _lastIndexEncoded);
        w.WriteString(IdName, document.Id);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        _buffer.WriteByte((byte)'\n');
        w.Reset(_buffer);
        if (_update)
        {
            w.WriteStartObject();
            w.WritePropertyName(DocName);
            WriteSource(w, document.Record, _isoDates);
            w.WriteBoolean(DocAsUpsertName, true);
            w.WriteEndObject();
        }
        else
        {
            WriteSource(w, document.Record, _isoDates);
        }
        w.Flush();
        _buffer.WriteByte((byte)'\n');
        if (Count + 2 > _starts.Length)
        {
            var bigger = ArrayPool<int>.Shared.Rent(_starts.Length * 2);
            _starts.AsSpan(0, Count + 1).CopyTo(bigger);
            ArrayPool<int>.Shared.Return(_starts);
            _starts = bigger;
        }
        Count++;
        _starts[Count] = _buffer.WrittenCount;
        return _buffer.WrittenCount - start;
    }

    /// <summary>Takes the last document out again (one too large to send).</summary>
    public void RemoveLast()
    {
        if (Count == 0) throw new InvalidOperationException("The body is empty.");
        Count--;
        _buffer.Truncate(_starts[Count]);
    }

    /// <summary>Bytes of documents <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    public int Bytes(int from, int to) => _starts[to] - _starts[from];

    /// <summary>The body of documents <paramref name="from"/> to <paramref name="to"/>: a slice of the buffer.</summary>
    public ReadOnlyMemory<byte> Slice(int from, int to) => _buffer.WrittenMemory[_starts[from].._starts[to]];

    /// <summary>Empties the body, keeping its buffers.</summary>
    public void Clear()
    {
        _buffer.Truncate(0);
        Count = 0;
    }

    /// <summary>Writes one document's source: the workshop's field names, Price exactly as the decimal holds it.</summary>
    public static void WriteSource(Utf8JsonWriter w, RetailTransaction r, bool isoDates)
    {
        w.WriteStartObject();
        w.WriteString(Invoice, r.Invoice);
        w.WriteString(StockCode, r.StockCode);
        w.WriteString(Description, r.Description);
        w.WriteNumber(Quantity, r.Quantity);
        Span<byte> date = stackalloc byte[19];
        FormatDate(r.InvoiceDate, isoDates ? (byte)'T' : (byte)' ', date);
        w.WriteString(InvoiceDate, date);
        w.WriteNumber(Price, r.Price);
        w.WriteString(CustomerId, r.CustomerId);
        w.WriteString(Country, r.Country);
        w.WriteEndObject();
    }

    /// <summary><c>yyyy-MM-dd?HH:mm:ss</c> with <paramref name="separator"/> between date and time.</summary>
    internal static void FormatDate(DateTime d, byte separator, Span<byte> into)
    {
        Four(into, d.Year);
        into[4] = (byte)'-';
        Two(into[5..], d.Month);
        into[7] = (byte)'-';
        Two(into[8..], d.Day);
        into[10] = separator;
        Two(into[11..], d.Hour);
        into[13] = (byte)':';
        Two(into[14..], d.Minute);
        into[16] = (byte)':';
        Two(into[17..], d.Second);

        static void Two(Span<byte> s, int v)
        {
            s[0] = (byte)('0' + v / 10);
            s[1] = (byte)('0' + v % 10);
        }

        static void Four(Span<byte> s, int v)
        {
            s[0] = (byte)('0' + v / 1000);
            s[1] = (byte)('0' + v / 100 % 10);
            s[2] = (byte)('0' + v / 10 % 10);
            s[3] = (byte)('0' + v % 10);
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
        if (_starts.Length > 0) ArrayPool<int>.Shared.Return(_starts);
        _starts = [];
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over arrays from <see cref="ArrayPool{T}.Shared"/>.</summary>
    internal sealed class PooledBuffer(int capacity) : IBufferWriter<byte>, IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(capacity);

        public int WrittenCount { get; private set; }

        public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, WrittenCount);

        public void Advance(int count) => WrittenCount += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _array.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _array.AsSpan(WrittenCount);
        }

        public void WriteByte(byte b)
        {
            Ensure(1);
            _array[WrittenCount++] = b;
        }

        public void Truncate(int length) => WrittenCount = length;

        private void Ensure(int sizeHint)
        {
            if (sizeHint < 1) sizeHint = 256;
            if (_array.Length - WrittenCount >= sizeHint) return;
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, WrittenCount + sizeHint));
            _array.AsSpan(0, WrittenCount).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = bigger;
        }

        public void Dispose()
        {
            if (_array.Length == 0) return;
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }
}
