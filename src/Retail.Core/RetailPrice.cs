using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Retail;

/// <summary>
/// The lake's <c>price</c>, DECIMAL(18,4) in every table and sink (JSON delivery, Parquet, the speed layer): the one
/// check of whether a price is accepted. Prices are never rounded: a price with more than four decimal places (other
/// than trailing zeros), or with more than <see cref="MaxIntegerDigits"/> (11) integer digits, is refused.
/// </summary>
/// <remarks>
/// Why 11 integer digits, although DECIMAL(18,4) holds 14: an accepted price has at most 15 significant digits, so every
/// JSON reader that parses numbers as doubles — DuckDB's <c>read_json</c> behind the JSON table, JavaScript, most JSON
/// libraries — reads it exactly (a double holds any 15-digit decimal and gives it back digit for digit), and the JSON
/// table equals the Parquet table to the last decimal. With 14 integer digits DuckDB read <c>1234567890123.4567</c> as
/// <c>…4568</c>. The largest accepted price, ±99,999,999,999.9999, is far beyond any retail price.
/// </remarks>
public static class RetailPrice
{
    /// <summary>Digits in all.</summary>
    public const int Precision = 18;

    /// <summary>Decimal places.</summary>
    public const int Scale = 4;

    /// <summary>Integer digits an accepted price has at most (<see cref="Precision"/> − <see cref="Scale"/> would be 14; see the remarks).</summary>
    public const int MaxIntegerDigits = 11;

    /// <summary>Largest magnitude accepted: 99,999,999,999.9999.</summary>
    public const decimal MaxMagnitude = 99_999_999_999.9999m;

    /// <summary>
    /// Why the written number <paramref name="text"/> (digits, an optional sign and point, and in JSON an optional
    /// exponent) cannot be a lake price although a parser would round it into one, or null: a non-zero digit more than
    /// <see cref="Scale"/> places after the point, or more than <see cref="MaxIntegerDigits"/> integer digits. Checked on the text, before a parser rounds it to the 28 or 29 digits a <see cref="decimal"/> holds
    /// (<c>1.00000000000000000000000000001</c> would otherwise become 1, and <c>1e-40</c> 0).
    /// </summary>
    public static string? CheckDigits(ReadOnlySpan<byte> text)
    {
        // 28 characters without an exponent hold at most 28 digits, which every parser keeps: the common case.
        if (text.Length <= 28 && !text.ContainsAny((byte)'e', (byte)'E')) return null;
        int first = -1, last = -1, digits = 0, point = -1, e = text.Length;
        for (int k = 0; k < text.Length; k++)
        {
            byte c = text[k];
            if (c is (byte)'e' or (byte)'E') { e = k; break; }
            if (c == (byte)'.') { point = digits; continue; }
            if (c is < (byte)'0' or > (byte)'9') continue;
            if (c != (byte)'0')
            {
                if (first < 0) first = digits;
                last = digits;
            }
            digits++;
        }
        if (first < 0) return null; // zero
        if (point < 0) point = digits;
        long exponent = 0;
        if (e < text.Length)
        {
            var x = text[(e + 1)..];
            bool negative = x.Length > 0 && x[0] == (byte)'-';
            if (x.Length > 0 && x[0] is (byte)'-' or (byte)'+') x = x[1..];
            foreach (byte c in x) if (c is >= (byte)'0' and <= (byte)'9') exponent = Math.Min(exponent * 10 + (c - '0'), 100_000);
            if (negative) exponent = -exponent;
        }
        long decimals = last + 1 - point - exponent;
        long integerDigits = point - first + exponent;
        // Only where a decimal parser would round (it keeps at most 28 decimal places and 28–29 digits): every
        // other price is parsed exactly and judged by RetailRecordValidation, with its usual reasons.
        if (decimals <= 28 && last - first + 1 <= 28 && integerDigits <= 28) return null;
        if (decimals > Scale)
            return string.Create(CultureInfo.InvariantCulture, $"has more than {Scale} decimal places, which the lake's DECIMAL({Precision},{Scale}) would round");
        if (integerDigits > MaxIntegerDigits)
            return string.Create(CultureInfo.InvariantCulture, $"has more than {MaxIntegerDigits} integer digits, more than the lake accepts in its DECIMAL({Precision},{Scale}) columns");
        return null;
    }

    private const decimal Factor = 10_000m; // 10^Scale

    /// <summary>The largest unscaled price accepted: <see cref="MaxMagnitude"/> × 10^<see cref="Scale"/>.</summary>
    private static readonly long MaxUnscaled = decimal.ToInt64(MaxMagnitude * Factor);

    private static ReadOnlySpan<long> Pow10 => [1, 10, 100, 1_000, 10_000];

    /// <summary>
    /// The fast path of a JSON reader's decimal parse, for the form delivery writes: <paramref name="number"/> is a valid
    /// JSON number (the reader checked it) of at most 18 digits, an optional sign and point and no exponent, and not
    /// zero. Gives the same <see cref="decimal"/> (scale included) that <c>Utf8JsonReader.TryGetDecimal</c> gives;
    /// false for every other number, which the caller parses the general way.
    /// </summary>
    internal static bool TryParsePlain(ReadOnlySpan<byte> number, out decimal value)
    {
        value = 0;
        bool negative = number.Length > 0 && number[0] == (byte)'-';
        ulong mantissa = 0;
        int digits = 0, scale = -1;
        for (int i = negative ? 1 : 0; i < number.Length; i++)
        {
            uint d = (uint)(number[i] - '0');
            if (d <= 9)
            {
                if (++digits > 18) return false;
                mantissa = mantissa * 10 + d;
                if (scale >= 0) scale++;
            }
            else if (number[i] == (byte)'.' && scale < 0) scale = 0;
            else return false;
        }
        if (mantissa == 0 || digits == 0) return false; // zero keeps its sign and scale the general way
        value = new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, negative, (byte)Math.Max(scale, 0));
        return true;
    }

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
        // The common case, from the decimal's own parts: a mantissa within 64 bits and at most Scale decimal places.
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(price, bits);
        int scale = (bits[3] >> 16) & 0xFF;
        if (bits[2] == 0 && scale <= Scale)
        {
            ulong mantissa = (uint)bits[0] | ((ulong)(uint)bits[1] << 32);
            long factor = Pow10[Scale - scale];
            if (mantissa <= (ulong)(MaxUnscaled / factor))
            {
                unscaled = (long)mantissa * factor;
                if (bits[3] < 0) unscaled = -unscaled;
                reason = null;
                return true;
            }
        }
        unscaled = 0;
        string? problem = null;
        decimal scaled = 0;
        if (Math.Abs(price) > MaxMagnitude)
            problem = string.Create(CultureInfo.InvariantCulture, $"does not fit the lake's DECIMAL({Precision},{Scale}) prices (at most {MaxIntegerDigits} integer digits)");
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
