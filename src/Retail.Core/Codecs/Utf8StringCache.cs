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
    private readonly uint[] _hashes; // hash of the entry in each slot, checked before its bytes
    private readonly uint[] _candidates; // hash of the last value that missed in each slot
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
        _hashes = new uint[capacityPowerOfTwo];
        _candidates = new uint[capacityPowerOfTwo];
        _mask = capacityPowerOfTwo - 1;
    }

    /// <summary>The string of <paramref name="utf8"/>; <paramref name="ascii"/> promises that every byte is below 0x80 (decoded faster, same result).</summary>
    public string GetString(ReadOnlySpan<byte> utf8, bool ascii = false)
    {
        if (utf8.IsEmpty) return string.Empty;
        if (utf8.Length > MaxCachedLength) return Decode(utf8, ascii);
        uint hash = Hash(utf8);
        int slot = (int)hash & _mask;
        ref Entry e = ref _entries[slot];
        if (_hashes[slot] == hash && e.Bytes is not null && utf8.SequenceEqual(e.Bytes)) return e.Text!;
        string text = Decode(utf8, ascii);
        // Admit a value on its second miss in a row in its slot: values seen once (invoice numbers,
        // ids) then cost no copy and do not evict values that repeat.
        if (_candidates[slot] != hash)
        {
            _candidates[slot] = hash;
            return text;
        }
        e.Bytes = utf8.ToArray();
        e.Text = text;
        _hashes[slot] = hash;
        return text;
    }

    private static string Decode(ReadOnlySpan<byte> utf8, bool ascii) =>
        ascii ? Encoding.Latin1.GetString(utf8) : Encoding.UTF8.GetString(utf8);

    /// <summary>Hash of a non-empty span: whole 8-byte words and overlapping tail reads, no per-byte loop.</summary>
    private static uint Hash(ReadOnlySpan<byte> s)
    {
        int n = s.Length;
        ulong h = (ulong)n;
        if (n > 8)
        {
            for (int i = 0; n - i > 8; i += 8) h = Mix(h ^ BinaryPrimitives.ReadUInt64LittleEndian(s[i..]), 0xA0761D6478BD642FUL);
            h ^= BinaryPrimitives.ReadUInt64LittleEndian(s[(n - 8)..]);
        }
        else if (n >= 4)
        {
            h ^= BinaryPrimitives.ReadUInt32LittleEndian(s) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(s[(n - 4)..]) << 32);
        }
        else
        {
            h ^= s[0] | ((ulong)s[n >> 1] << 8) | ((ulong)s[n - 1] << 16);
        }
        return (uint)Mix(h, 0x9E3779B97F4A7C15UL);
    }

    /// <summary>Full 64×64→128-bit multiply, folded: every input bit reaches the low bits.</summary>
    private static ulong Mix(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }
}
