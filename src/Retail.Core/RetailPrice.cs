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
    public static bool TryGetUnscaled(decimal price, out long unscaled, [NotNullWhen(false)] out string? reason) =>
        TryGetUnscaled(price, out unscaled, out reason, includeName: true);

    /// <summary>As the public overload; without <paramref name="includeName"/> the reason does not start with "Price 1.23456"
    /// (<see cref="RetailRecordValidation"/> names the field and value itself).</summary>
    internal static bool TryGetUnscaled(decimal price, out long unscaled, [NotNullWhen(false)] out string? reason, bool includeName)
    {
        unscaled = 0;
        string? problem = null;
        decimal scaled = 0;
        if (Math.Abs(price) > MaxMagnitude)
            problem = string.Create(CultureInfo.InvariantCulture, $"does not fit DECIMAL({Precision},{Scale}) (at most {Precision - Scale} integer digits)");
        else
        {
            scaled = price * Factor;
            if (scaled != decimal.Truncate(scaled))
                problem = string.Create(CultureInfo.InvariantCulture,
                    $"has more than {Scale} decimal places, which the lake's DECIMAL({Precision},{Scale}) columns would round");
        }
        if (problem is not null)
        {
            reason = includeName ? string.Create(CultureInfo.InvariantCulture, $"{RetailFields.Price} {price} {problem}") : problem;
            return false;
        }
        unscaled = decimal.ToInt64(scaled);
        reason = null;
        return true;
    }

    /// <summary>Whether <paramref name="price"/> fits; <paramref name="reason"/> says why not.</summary>
    public static bool Fits(decimal price, [NotNullWhen(false)] out string? reason) => TryGetUnscaled(price, out _, out reason);
}
