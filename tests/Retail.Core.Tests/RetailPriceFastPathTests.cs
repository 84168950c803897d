using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Retail.Core.Tests;

/// <summary>The fast paths of price parsing give exactly what the general paths give, on every kind of number.</summary>
public sealed class RetailPriceFastPathTests
{
    private static IEnumerable<string> Numbers()
    {
        string[] fixedCases =
        [
            "0", "-0", "0.0", "-0.0", "0.0000", "1", "-1", "2.55", "2.50", "2.5000", "0.0001", "-0.0001", "18.25000000",
            "99999999999.9999", "-99999999999.9999", "100000000000", "999999999999999999", "9999999999999999999",
            "123456789012345678", "1234567890123456789", "0.123456789012345678", "0.1234567890123456789", "1e2", "1.5E-2",
            "-12.3e+4", "79228162514264337593543950335", "1.00005", "12345678901.23456",
        ];
        foreach (var n in fixedCases) yield return n;
        var random = new Random(20261203);
        for (int i = 0; i < 20_000; i++)
        {
            int integer = random.Next(1, 20), decimals = random.Next(0, 8);
            var sb = new StringBuilder();
            if (random.Next(4) == 0) sb.Append('-');
            sb.Append((char)('1' + random.Next(9)));
            for (int k = 1; k < integer; k++) sb.Append((char)('0' + random.Next(10)));
            if (random.Next(10) == 0) { sb.Clear(); sb.Append(random.Next(2) == 0 ? "0" : "-0"); }
            if (decimals > 0)
            {
                sb.Append('.');
                for (int k = 0; k < decimals; k++) sb.Append((char)('0' + random.Next(10)));
            }
            yield return sb.ToString();
        }
    }

    [Fact]
    public void TryParsePlain_EveryNumberItTakes_SameDecimalAsUtf8JsonReader()
    {
        int taken = 0;
        foreach (string text in Numbers())
        {
            byte[] utf8 = Encoding.ASCII.GetBytes(text);
            var reader = new Utf8JsonReader(utf8);
            Assert.True(reader.Read());
            bool general = reader.TryGetDecimal(out decimal expected);
            if (!RetailPrice.TryParsePlain(reader.ValueSpan, out decimal fast)) continue;
            taken++;
            Assert.True(general, text);
            Assert.Equal(decimal.GetBits(expected), decimal.GetBits(fast)); // value and scale
        }
        Assert.True(taken > 15_000, $"the fast path took {taken} numbers");
    }

    /// <summary>The rule itself, in decimal arithmetic: at most 4 decimal places and at most 11 integer digits.</summary>
    private static bool Reference(decimal price, out long unscaled)
    {
        unscaled = 0;
        if (Math.Abs(price) > RetailPrice.MaxMagnitude) return false;
        decimal scaled = price * 10_000m;
        if (scaled != decimal.Truncate(scaled)) return false;
        unscaled = decimal.ToInt64(scaled);
        return true;
    }

    [Fact]
    public void TryGetUnscaled_EveryDecimal_SameAnswerAsTheRule()
    {
        foreach (string text in Numbers())
        {
            if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal price)) continue;
            bool expected = Reference(price, out long expectedUnscaled);
            bool fits = RetailPrice.TryGetUnscaled(price, out long unscaled, out string? reason);
            Assert.True(expected == fits, $"{text}: {reason}");
            if (fits) Assert.Equal(expectedUnscaled, unscaled);
            else Assert.Contains("Price ", reason, StringComparison.Ordinal);
        }
        foreach (decimal price in new[] { decimal.MaxValue, decimal.MinValue, -0.0000m, 1.0000000000000000000000000001m, 99_999_999_999.99990m, 99_999_999_999.99991m })
        {
            bool expected = Reference(price, out long expectedUnscaled);
            Assert.Equal(expected, RetailPrice.TryGetUnscaled(price, out long unscaled, out _));
            if (expected) Assert.Equal(expectedUnscaled, unscaled);
        }
    }
}
