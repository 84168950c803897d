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

    public string GetString(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return string.Empty;
        if (utf8.Length > MaxCachedLength) return Encoding.UTF8.GetString(utf8);
        uint hash = Hash(utf8);
        int slot = (int)hash & _mask;
        ref Entry e = ref _entries[slot];
        if (_hashes[slot] == hash && e.Bytes is not null && utf8.SequenceEqual(e.Bytes)) return e.Text!;
        string text = Encoding.UTF8.GetString(utf8);
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
