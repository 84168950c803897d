using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Snappier;

namespace Retail.Sinks.Parquet.Format;

/// <summary>Parquet physical types this writer uses.</summary>
internal enum ParquetType
{
    Int32 = 1,
    Int64 = 2,
    ByteArray = 6,
}

/// <summary>One column chunk, encoded: its pages (headers included, Snappy-compressed bodies) and what the footer records.</summary>
internal sealed class EncodedChunk(ParquetType type) : IDisposable
{
    public ParquetType Type { get; } = type;
    public PooledBufferWriter Bytes { get; } = new(1 << 16);
    public long NumValues { get; set; }

    /// <summary>Page headers plus uncompressed page bodies.</summary>
    public long UncompressedSize { get; set; }

    /// <summary>Offset of the dictionary page within <see cref="Bytes"/>, or -1.</summary>
    public int DictionaryPageOffset { get; set; } = -1;

    /// <summary>Offset of the first data page within <see cref="Bytes"/>.</summary>
    public int DataPageOffset { get; set; }

    public bool HasDictionary => DictionaryPageOffset >= 0;

    /// <summary>Data pages written (all of one encoding: the dictionary's indices, or plain).</summary>
    public int DataPages { get; set; }

    /// <summary>Statistics in Parquet's plain form (little-endian numbers, raw UTF-8), or null when not kept.</summary>
    public byte[]? Min { get; set; }

    public byte[]? Max { get; set; }

    public void Dispose() => Bytes.Dispose();
}

/// <summary>
/// Encodes one required (never null) column of a row group the way DuckDB and parquet-mr do: a dictionary
/// (<c>PLAIN</c> dictionary page, <c>RLE_DICTIONARY</c> data pages) when at most half the values are distinct,
/// otherwise <c>PLAIN</c>; data page v1, Snappy; min/max statistics. Text is taken as UTF-8 bytes as it is.
/// </summary>
internal static class ColumnChunkEncoder
{
    /// <summary>A plain data page is cut once its body reaches this size.</summary>
    internal const int PageTargetBytes = 1 << 20;

    /// <summary>Dictionary indices per data page, at most.</summary>
    internal const int MaxIndexPageValues = 1 << 17;

    /// <summary>A dictionary larger than this (plain-encoded) is abandoned for plain pages.</summary>
    internal const int MaxDictionaryBytes = 4 << 20;

    /// <summary>
    /// Values looked at first: a column whose first values are nearly all distinct (more than 15 in 16, as ids
    /// are) is written plain without hashing the rest.
    /// </summary>
    private const int SampleValues = 4096;

    private static bool SampleIsDistinct(int distinct) => distinct * 16 > SampleValues * 15;

    /// <summary>Text statistics longer than this are left out (the footer stays small; readers then just don't skip on them).</summary>
    private const int MaxStatisticsBytes = 256;

    private const int EncodingPlain = 0, EncodingRle = 3, EncodingRleDictionary = 8;
    private const int PageData = 0, PageDictionary = 2;

    public static EncodedChunk EncodeText(TextColumn column) => Encode(ParquetType.ByteArray, column.Count, (chunk, indices) =>
    {
        if (TryBuildDictionary(new TextValues(column), indices, out var entries)) WriteTextDictionary(chunk, column, entries, indices.AsSpan(0, column.Count));
        else WriteTextPlain(chunk, column);
    });

    /// <summary>Encodes the first <paramref name="count"/> of <paramref name="values"/> (INT32 for <see cref="int"/>, INT64 for <see cref="long"/>).</summary>
    public static EncodedChunk EncodeNumbers<T>(T[] values, int count) where T : unmanaged, IBinaryInteger<T>
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the Parquet writer needs a little-endian machine");
        return Encode(typeof(T) == typeof(int) ? ParquetType.Int32 : ParquetType.Int64, count,
            (chunk, indices) => WriteNumbers(chunk, values, count, indices));
    }

    /// <summary>A chunk of <paramref name="count"/> values written by <paramref name="write"/> with a scratch array for dictionary indices.</summary>
    private static EncodedChunk Encode(ParquetType type, int count, Action<EncodedChunk, int[]> write)
    {
        var chunk = new EncodedChunk(type) { NumValues = count };
        int[] indices = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
        try
        {
            write(chunk, indices);
            return chunk;
        }
        catch
        {
            chunk.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indices);
        }
    }

    // ------------------------------------------------------------------ text

    private static void WriteTextDictionary(EncodedChunk chunk, TextColumn column, List<int> entries, ReadOnlySpan<int> indices)
    {
        using var body = new PooledBufferWriter(Math.Min(MaxDictionaryBytes, column.ByteLength) + 16);
        ReadOnlySpan<byte> min = column[entries[0]], max = min;
        foreach (int row in entries)
        {
            var value = column[row];
            AppendPlainText(body, value);
            if (value.SequenceCompareTo(min) < 0) min = value;
            if (value.SequenceCompareTo(max) > 0) max = value;
        }
        SetTextStatistics(chunk, min, max);
        chunk.DictionaryPageOffset = chunk.Bytes.Length;
        WritePage(chunk, PageDictionary, body.WrittenSpan, entries.Count, EncodingPlain);
        WriteIndexPages(chunk, indices, entries.Count);
    }

    private static void WriteTextPlain(EncodedChunk chunk, TextColumn column)
    {
        int count = column.Count;
        using var body = new PooledBufferWriter(Math.Min(PageTargetBytes + 4096, column.ByteLength + 4 * count + 16));
        ReadOnlySpan<byte> min = default, max = default;
        chunk.DataPageOffset = chunk.Bytes.Length;
        int pageValues = 0;
        for (int i = 0; i < count; i++)
        {
            var value = column[i];
            if (i == 0)
            {
                min = max = value;
            }
            else
            {
                if (value.SequenceCompareTo(min) < 0) min = value;
                if (value.SequenceCompareTo(max) > 0) max = value;
            }
            AppendPlainText(body, value);
            pageValues++;
            if (body.Length >= PageTargetBytes)
            {
                WritePage(chunk, PageData, body.WrittenSpan, pageValues, EncodingPlain);
                body.Clear();
                pageValues = 0;
            }
        }
        if (pageValues > 0 || count == 0) WritePage(chunk, PageData, body.WrittenSpan, pageValues, EncodingPlain);
        if (count > 0) SetTextStatistics(chunk, min, max);
    }

    private static void AppendPlainText(PooledBufferWriter body, ReadOnlySpan<byte> value)
    {
        var span = body.GetSpan(4 + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span, value.Length);
        value.CopyTo(span[4..]);
        body.Advance(4 + value.Length);
    }

    private static void SetTextStatistics(EncodedChunk chunk, ReadOnlySpan<byte> min, ReadOnlySpan<byte> max)
    {
        if (min.Length > MaxStatisticsBytes || max.Length > MaxStatisticsBytes) return;
        chunk.Min = min.ToArray();
        chunk.Max = max.ToArray();
    }

    /// <summary>Hash of a byte span: 8-byte words, then the tail, then a final mix.</summary>
    internal static uint Hash(ReadOnlySpan<byte> s)
    {
        const ulong K1 = 0x9E3779B97F4A7C15UL, K2 = 0xC2B2AE3D27D4EB4FUL;
        ulong h = (ulong)s.Length * K1;
        int i = 0;
        for (; i + 8 <= s.Length; i += 8)
            h = BitOperations.RotateLeft(h ^ (BinaryPrimitives.ReadUInt64LittleEndian(s[i..]) * K2), 31) * K1;
        if (i < s.Length)
        {
            ulong tail = 0;
            for (int k = s.Length - 1; k >= i; k--) tail = (tail << 8) | s[k];
            h = BitOperations.RotateLeft(h ^ (tail * K2), 31) * K1;
        }
        h ^= h >> 33;
        h *= K2;
        h ^= h >> 29;
        return (uint)h;
    }

    // ------------------------------------------------------------------ numbers

    private static void WriteNumbers<T>(EncodedChunk chunk, T[] array, int count, int[] indices) where T : unmanaged, IBinaryInteger<T>
    {
        ReadOnlySpan<T> values = array.AsSpan(0, count);
        if (values.Length > 0)
        {
            T min = values[0], max = values[0];
            foreach (var v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            chunk.Min = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in min)).ToArray();
            chunk.Max = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in max)).ToArray();
        }
        if (TryBuildDictionary(new NumberValues<T>(array, count), indices, out var entries))
        {
            var dictionary = new T[entries.Count];
            for (int e = 0; e < dictionary.Length; e++) dictionary[e] = values[entries[e]];
            chunk.DictionaryPageOffset = chunk.Bytes.Length;
            WritePage(chunk, PageDictionary, MemoryMarshal.AsBytes(dictionary.AsSpan()), dictionary.Length, EncodingPlain);
            WriteIndexPages(chunk, indices.AsSpan(0, values.Length), dictionary.Length);
            return;
        }
        chunk.DataPageOffset = chunk.Bytes.Length;
        int perPage = PageTargetBytes / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int at = 0;
        do
        {
            var page = values.Slice(at, Math.Min(perPage, values.Length - at));
            WritePage(chunk, PageData, MemoryMarshal.AsBytes(page), page.Length, EncodingPlain);
            at += page.Length;
        }
        while (at < values.Length);
    }

    // ------------------------------------------------------------------ dictionaries

    /// <summary>A column's values as the dictionary builder sees them: by row.</summary>
    private interface IRowValues
    {
        int Count { get; }
        uint Hash(int row);
        bool Equal(int a, int b);

        /// <summary>Bytes the value takes in a plain dictionary page.</summary>
        int PlainSize(int row);
    }

    private readonly struct TextValues(TextColumn column) : IRowValues
    {
        public int Count => column.Count;
        public uint Hash(int row) => ColumnChunkEncoder.Hash(column[row]);
        public bool Equal(int a, int b) => column[a].SequenceEqual(column[b]);
        public int PlainSize(int row) => 4 + column[row].Length;
    }

    private readonly struct NumberValues<T>(T[] values, int count) : IRowValues where T : unmanaged, IBinaryInteger<T>
    {
        public int Count => count;
        public uint Hash(int row) => (uint)((ulong.CreateTruncating(values[row]) * 0x9E3779B97F4A7C15UL) >> 32);
        public bool Equal(int a, int b) => values[a] == values[b];
        public int PlainSize(int row) => System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }

    /// <summary>
    /// Dictionary entries, as the row of each value's first occurrence, and every row's index into them; false
    /// when the column should be plain (more than half its values distinct, a sample that looks like ids, or a
    /// dictionary over <see cref="MaxDictionaryBytes"/>).
    /// </summary>
    private static bool TryBuildDictionary<TValues>(TValues values, int[] indices, out List<int> entries) where TValues : struct, IRowValues
    {
        int count = values.Count;
        entries = [];
        if (count == 0) return false;
        int maxDistinct = Math.Max(1, count / 2);
        int tableSize = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, maxDistinct * 2));
        int[] slots = ArrayPool<int>.Shared.Rent(tableSize);
        uint[] hashes = ArrayPool<uint>.Shared.Rent(maxDistinct);
        try
        {
            Array.Clear(slots, 0, tableSize);
            int mask = tableSize - 1;
            long dictionaryBytes = 0;
            for (int i = 0; i < count; i++)
            {
                if (i == SampleValues && SampleIsDistinct(entries.Count)) return false;
                if (i > 0 && values.Equal(i, i - 1))
                {
                    indices[i] = indices[i - 1];
                    continue;
                }
                uint hash = values.Hash(i);
                int slot = (int)(hash & (uint)mask);
                while (true)
                {
                    int e = slots[slot];
                    if (e == 0)
                    {
                        if (entries.Count == maxDistinct) return false;
                        dictionaryBytes += values.PlainSize(i);
                        if (dictionaryBytes > MaxDictionaryBytes) return false;
                        hashes[entries.Count] = hash;
                        entries.Add(i);
                        slots[slot] = entries.Count;
                        indices[i] = entries.Count - 1;
                        break;
                    }
                    if (hashes[e - 1] == hash && values.Equal(entries[e - 1], i))
                    {
                        indices[i] = e - 1;
                        break;
                    }
                    slot = (slot + 1) & mask;
                }
            }
            return true;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(slots);
            ArrayPool<uint>.Shared.Return(hashes);
        }
    }

    // ------------------------------------------------------------------ pages

    /// <summary>Data pages of dictionary indices: a bit-width byte, then the RLE / bit-packed hybrid.</summary>
    private static void WriteIndexPages(EncodedChunk chunk, ReadOnlySpan<int> indices, int dictionarySize)
    {
        int bitWidth = Math.Max(1, 32 - BitOperations.LeadingZeroCount((uint)(dictionarySize - 1)));
        chunk.DataPageOffset = chunk.Bytes.Length;
        using var body = new PooledBufferWriter(Math.Min(indices.Length, MaxIndexPageValues) * bitWidth / 8 + 64);
        for (int at = 0; at < indices.Length; at += MaxIndexPageValues)
        {
            var page = indices.Slice(at, Math.Min(MaxIndexPageValues, indices.Length - at));
            body.Clear();
            body.GetSpan(1)[0] = (byte)bitWidth;
            body.Advance(1);
            RleHybrid.Encode(page, bitWidth, body);
            WritePage(chunk, PageData, body.WrittenSpan, page.Length, EncodingRleDictionary);
        }
    }

    /// <summary>Appends one page (Thrift page header, then the Snappy-compressed body) to the chunk.</summary>
    private static void WritePage(EncodedChunk chunk, int pageType, ReadOnlySpan<byte> body, int values, int encoding)
    {
        byte[] compressed = ArrayPool<byte>.Shared.Rent(Snappy.GetMaxCompressedLength(body.Length));
        try
        {
            int compressedLength = Snappy.Compress(body, compressed);
            int start = chunk.Bytes.Length;
            var thrift = new ThriftCompactWriter(chunk.Bytes);
            thrift.StructBegin();
            thrift.I32(1, pageType);
            thrift.I32(2, body.Length);
            thrift.I32(3, compressedLength);
            if (pageType == PageDictionary)
            {
                thrift.StructField(7);
                thrift.I32(1, values);
                thrift.I32(2, EncodingPlain);
                thrift.StructEnd();
            }
            else
            {
                thrift.StructField(5);
                thrift.I32(1, values);
                thrift.I32(2, encoding);
                thrift.I32(3, EncodingRle); // definition levels (none: every column is required)
                thrift.I32(4, EncodingRle); // repetition levels (none)
                thrift.StructEnd();
            }
            thrift.StructEnd();
            int header = chunk.Bytes.Length - start;
            chunk.Bytes.Write(compressed.AsSpan(0, compressedLength));
            if (pageType == PageData) chunk.DataPages++;
            chunk.UncompressedSize += header + body.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>Encodings used by the chunk, for its column metadata.</summary>
    public static int[] Encodings(EncodedChunk chunk) => chunk.HasDictionary ? [EncodingPlain, EncodingRleDictionary] : [EncodingPlain];

    /// <summary>The data pages' encoding (every data page of a chunk has the same one).</summary>
    public static int DataPageEncoding(EncodedChunk chunk) => chunk.HasDictionary ? EncodingRleDictionary : EncodingPlain;
}

/// <summary>Parquet's RLE / bit-packing hybrid (without the length prefix), for dictionary indices.</summary>
internal static class RleHybrid
{
    /// <summary>Runs of at least this many equal values are written as RLE runs.</summary>
    private const int MinRleRun = 8;

    public static void Encode(ReadOnlySpan<int> values, int bitWidth, IBufferWriter<byte> output)
    {
        int literalStart = 0;
        int i = 0;
        int n = values.Length;
        while (i < n)
        {
            int v = values[i];
            int run = 1;
            while (i + run < n && values[i + run] == v) run++;
            if (run >= MinRleRun)
            {
                // Bit-packed runs hold whole groups of 8: the run lends the pending literals what they lack.
                int pending = i - literalStart;
                int lend = (8 - pending % 8) % 8;
                if (run - lend >= MinRleRun)
                {
                    if (pending + lend > 0) BitPacked(values.Slice(literalStart, pending + lend), bitWidth, output);
                    Rle(v, run - lend, bitWidth, output);
                    i += run;
                    literalStart = i;
                    continue;
                }
            }
            i += run;
        }
        if (literalStart < n) BitPacked(values[literalStart..], bitWidth, output); // the last group is padded with zeros
    }

    private static void Rle(int value, int count, int bitWidth, IBufferWriter<byte> output)
    {
        Varint.Write(output, (uint)count << 1);
        int bytes = (bitWidth + 7) / 8;
        var span = output.GetSpan(bytes);
        for (int b = 0; b < bytes; b++) span[b] = (byte)(value >> (8 * b));
        output.Advance(bytes);
    }

    private static void BitPacked(ReadOnlySpan<int> values, int bitWidth, IBufferWriter<byte> output)
    {
        int groups = (values.Length + 7) / 8;
        Varint.Write(output, ((uint)groups << 1) | 1);
        int size = groups * bitWidth;
        var span = output.GetSpan(size);
        int at = 0;
        ulong acc = 0;
        int bits = 0;
        for (int k = 0; k < groups * 8; k++)
        {
            ulong v = k < values.Length ? (uint)values[k] : 0;
            acc |= v << bits;
            bits += bitWidth;
            while (bits >= 8)
            {
                span[at++] = (byte)acc;
                acc >>= 8;
                bits -= 8;
            }
        }
        output.Advance(size);
    }

}

/// <summary>Unsigned LEB128 varints, as Thrift's compact protocol and Parquet's RLE run headers write them.</summary>
internal static class Varint
{
    public static void Write(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        output.Advance(n);
    }
}
