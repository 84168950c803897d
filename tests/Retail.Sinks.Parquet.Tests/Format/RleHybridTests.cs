using Retail.Sinks.Parquet.Format;

namespace Retail.Sinks.Parquet.Tests.Format;

/// <summary>The RLE / bit-packing hybrid, checked by a decoder written here from the Parquet format spec.</summary>
public sealed class RleHybridTests
{
    public static TheoryData<int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int bitWidth in new[] { 1, 2, 3, 7, 8, 9, 13, 17, 24, 31 })
            foreach (int length in new[] { 1, 7, 8, 9, 63, 1000, 4099 })
                data.Add(bitWidth, length, bitWidth * 31 + length);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_RunsAndLiterals_DecodesToTheSameValues(int bitWidth, int length, int seed)
    {
        var rng = new Random(seed);
        int max = bitWidth == 31 ? int.MaxValue : (1 << bitWidth) - 1;
        var values = new int[length];
        int i = 0;
        while (i < length)
        {
            // Literal stretches and runs of every length, so runs must lend values to pending literals.
            int v = rng.Next(0, max) + (rng.Next(2) == 0 ? 1 : 0);
            int run = rng.Next(4) == 0 ? rng.Next(1, 40) : 1;
            for (int k = 0; k < run && i < length; k++) values[i++] = Math.Min(v, max);
        }
        using var output = new PooledBufferWriter();
        RleHybrid.Encode(values, bitWidth, output);

        Assert.Equal(values, Decode(output.WrittenSpan.ToArray(), bitWidth, length));
    }

    [Fact]
    public void Encode_LongRun_IsOneRleRunNotBitPacked()
    {
        var values = Enumerable.Repeat(5, 100_000).ToArray();
        using var output = new PooledBufferWriter();
        RleHybrid.Encode(values, 3, output);

        // Header varint (100000 << 1) takes 3 bytes, the value 1 byte.
        Assert.Equal(4, output.Length);
        Assert.Equal(values, Decode(output.WrittenSpan.ToArray(), 3, values.Length));
    }

    /// <summary>Decodes <paramref name="count"/> values: runs of <c>header</c> varints, LSB bit order for bit-packed groups.</summary>
    private static int[] Decode(byte[] data, int bitWidth, int count)
    {
        var result = new List<int>(count);
        int pos = 0;
        while (result.Count < count)
        {
            uint header = 0;
            int shift = 0;
            byte b;
            do
            {
                b = data[pos++];
                header |= (uint)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            if ((header & 1) == 0)
            {
                int runLength = (int)(header >> 1);
                int value = 0;
                for (int k = 0; k < (bitWidth + 7) / 8; k++) value |= data[pos++] << (8 * k);
                for (int k = 0; k < runLength; k++) result.Add(value);
            }
            else
            {
                int values = (int)(header >> 1) * 8;
                long bitPos = (long)pos * 8;
                for (int k = 0; k < values; k++)
                {
                    long v = 0;
                    for (int bit = 0; bit < bitWidth; bit++)
                    {
                        long at = bitPos + (long)k * bitWidth + bit;
                        if ((data[at / 8] & (1 << (int)(at % 8))) != 0) v |= 1L << bit;
                    }
                    result.Add((int)v);
                }
                pos += (int)(header >> 1) * bitWidth;
            }
        }
        Assert.Equal(data.Length, pos); // nothing after the last run
        for (int k = count; k < result.Count; k++) Assert.Equal(0, result[k]); // padding of the last group
        return result.Take(count).ToArray();
    }
}
