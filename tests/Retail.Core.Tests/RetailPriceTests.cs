using System.Globalization;

namespace Retail.Core.Tests;

public sealed class RetailPriceTests
{
    [Theory]
    [InlineData("1.00005", false, "decimal places")]
    [InlineData("1.00010", true, null)]
    [InlineData("-0.0001", true, null)]
    [InlineData("0", true, null)]
    [InlineData("99999999999.9999", true, null)]
    [InlineData("-99999999999.9999", true, null)]
    [InlineData("100000000000", false, "(at most 11 integer digits)")]
    [InlineData("99999999999999.9999", false, "(at most 11 integer digits)")]
    [InlineData("1234567890123.4567", false, "(at most 11 integer digits)")]
    public void TryGetUnscaled_NeverRounds(string price, bool fits, string? why)
    {
        decimal value = decimal.Parse(price, CultureInfo.InvariantCulture);
        Assert.Equal(fits, RetailPrice.TryGetUnscaled(value, out long unscaled, out string? reason));
        if (fits)
        {
            Assert.Equal(value, unscaled / 10_000m);
        }
        else
        {
            Assert.Contains("Price " + value.ToString(CultureInfo.InvariantCulture), reason, StringComparison.Ordinal);
            Assert.Contains(why!, reason, StringComparison.Ordinal);
        }
    }
}
