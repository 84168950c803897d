using System.Buffers.Binary;
using System.Text;

namespace Retail.Codecs;

/// <summary>
/// A small, bounded, direct-mapped cache from UTF-8 bytes to strings. Retail data repeats the same
/// countries, stock codes, descriptions and invoice numbers many times, so decoding through this
/// cache turns most per-field string allocations into a lookup. Not thread-safe: one per reader.
/// </summary>
internal sealed class Utf8StringCache
{
    private const int MaxCachedLength = 64;
    private readonly Entry[] _entries;
    private readonly int _mask;

    private struct Entry
    {
        public byte[]? Bytes;
        public string? Text;
    }

    public Utf8StringCache(int capacityPowerOfTwo = 4096)
    {
        if (capacityPowerOfTwo <= 0 || (capacityPowerOfTwo & (capacityPowerOfTwo - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacityPowerOfTwo), capacityPowerOfTwo, "Capacity must be a positive power of two.");
        _entries = new Entry[capacityPowerOfTwo];
        _mask = capacityPowerOfTwo - 1;
    }

    public string GetString(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return string.Empty;
        if (utf8.Length > MaxCachedLength) return Encoding.UTF8.GetString(utf8);
        int slot = (int)Hash(utf8) & _mask;
        ref Entry e = ref _entries[slot];
        if (e.Bytes is not null && utf8.SequenceEqual(e.Bytes)) return e.Text!;
        string text = Encoding.UTF8.GetString(utf8);
        e.Bytes = utf8.ToArray();
        e.Text = text;
        return text;
    }

    private static uint Hash(ReadOnlySpan<byte> s)
    {
        ulong h = (ulong)s.Length * 0x9E3779B97F4A7C15UL;
        while (s.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(s)) * 0x100000001B3UL;
            h ^= h >> 29;
            s = s[8..];
        }
        foreach (byte b in s) h = (h ^ b) * 0x100000001B3UL;
        h ^= h >> 32;
        return (uint)h;
    }
}
