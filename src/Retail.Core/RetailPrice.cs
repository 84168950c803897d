using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Retail;

/// <summary>
/// The lake's <c>price</c> column, DECIMAL(18,4), in every table and sink (JSON delivery, Parquet, the speed
/// layer): the one check of whether a price fits it. Prices are never rounded: a price with more than four
/// decimal places (other than trailing zeros), or with more than 14 integer digits, does not fit.
/// </summary>
public static class RetailPrice
{
    /// <summary>Digits in all.</summary>
    public const int Precision = 18;

    /// <summary>Decimal places.</summary>
    public const int Scale = 4;

    /// <summary>Largest magnitude the column holds: 99,999,999,999,999.9999.</summary>
    public const decimal MaxMagnitude = 99_999_999_999_999.9999m;

    private const decimal Factor = 10_000m; // 10^Scale

    /// <summary>
    /// The price as a whole number of 1/10,000ths (the column's stored form); false, with the reason (which names
    /// the price), when it does not fit.
    /// </summary>
    public static bool TryGetUnscaled(decimal price, out long unscaled, [NotNullWhen(false)] out string? reason)
    {
        unscaled = 0;
        decimal scaled = price * Factor;
        if (scaled != decimal.Truncate(scaled))
        {
            reason = string.Create(CultureInfo.InvariantCulture,
                $"{RetailFields.Price} {price} has more than {Scale} decimal places, which the lake's DECIMAL({Precision},{Scale}) columns would round");
            return false;
        }
        if (Math.Abs(price) > MaxMagnitude)
        {
            reason = string.Create(CultureInfo.InvariantCulture,
                $"{RetailFields.Price} {price} does not fit DECIMAL({Precision},{Scale}) (at most 14 integer digits)");
            return false;
        }
        unscaled = decimal.ToInt64(scaled);
        reason = null;
        return true;
    }

    /// <summary>Whether <paramref name="price"/> fits; <paramref name="reason"/> says why not.</summary>
    public static bool Fits(decimal price, [NotNullWhen(false)] out string? reason) => TryGetUnscaled(price, out _, out reason);
}
