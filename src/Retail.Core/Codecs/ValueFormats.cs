using System.Buffers.Text;
using System.Globalization;

namespace Retail.Codecs;

/// <summary>Parsing and formatting of the record's scalar values, on UTF-8 bytes and on text.</summary>
internal static class ValueFormats
{
    /// <summary>Length of <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public const int IsoDateLength = 19;

    /// <summary>
    /// Parses the two date styles of the Online Retail data sets: <c>2009-12-01 07:45:00</c> (also
    /// with a <c>T</c> separator, or without seconds) and <c>12/1/2010 08:26</c> (month/day/year, the
    /// time with or without seconds).
    /// </summary>
    public static bool TryParseDate(ReadOnlySpan<byte> s, out DateTime value)
    {
        value = default;
        if (s.Length >= 16 && s[4] == (byte)'-')
        {
            // yyyy-MM-dd[ T]HH:mm[:ss]
            if (s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':') return false;
            if (!Digits(s, 0, 4, out int y) || !Digits(s, 5, 2, out int mo) || !Digits(s, 8, 2, out int d)
                || !Digits(s, 11, 2, out int h) || !Digits(s, 14, 2, out int mi)) return false;
            int sec = 0;
            if (s.Length == 19)
            {
                if (s[16] != ':' || !Digits(s, 17, 2, out sec)) return false;
            }
            else if (s.Length != 16) return false;
            return TryMake(y, mo, d, h, mi, sec, out value);
        }

        // M/d/yyyy H:mm[:ss]
        int i = 0;
        if (!Number(s, ref i, 1, 2, out int month) || !Expect(s, ref i, (byte)'/')
            || !Number(s, ref i, 1, 2, out int day) || !Expect(s, ref i, (byte)'/')
            || !Number(s, ref i, 4, 4, out int year) || !Expect(s, ref i, (byte)' ')
            || !Number(s, ref i, 1, 2, out int hour) || !Expect(s, ref i, (byte)':')
            || !Number(s, ref i, 2, 2, out int minute)) return false;
        int second = 0;
        if (i < s.Length && (!Expect(s, ref i, (byte)':') || !Number(s, ref i, 2, 2, out second))) return false;
        return i == s.Length && TryMake(year, month, day, hour, minute, second, out value);
    }

    /// <summary>Text overload of <see cref="TryParseDate(ReadOnlySpan{byte}, out DateTime)"/>.</summary>
    public static bool TryParseDate(ReadOnlySpan<char> s, out DateTime value)
    {
        Span<byte> buf = stackalloc byte[32];
        value = default;
        if (s.Length > buf.Length) return false;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] > 127) return false;
            buf[i] = (byte)s[i];
        }
        return TryParseDate(buf[..s.Length], out value);
    }

    /// <summary>Writes <c>yyyy-MM-dd HH:mm:ss</c> into <paramref name="dest"/> (19 bytes).</summary>
    public static void FormatDate(DateTime v, Span<byte> dest)
    {
        Write4(dest, 0, v.Year); dest[4] = (byte)'-';
        Write2(dest, 5, v.Month); dest[7] = (byte)'-';
        Write2(dest, 8, v.Day); dest[10] = (byte)' ';
        Write2(dest, 11, v.Hour); dest[13] = (byte)':';
        Write2(dest, 14, v.Minute); dest[16] = (byte)':';
        Write2(dest, 17, v.Second);
    }

    /// <summary>Formats <c>yyyy-MM-dd HH:mm:ss</c> as text.</summary>
    public static string FormatDate(DateTime v) => v.ToString(RetailFields.InvoiceDateFormat, CultureInfo.InvariantCulture);

    /// <summary>Parses an integer quantity: optional sign, digits only.</summary>
    public static bool TryParseQuantity(ReadOnlySpan<byte> s, out int value) =>
        Utf8Parser.TryParse(s, out value, out int used) && used == s.Length && s.Length > 0;

    /// <summary>Parses a decimal price: optional sign, digits, optional fraction; no exponent, no thousands separators.</summary>
    public static bool TryParsePrice(ReadOnlySpan<byte> s, out decimal value)
    {
        value = default;
        if (s.Length == 0) return false;
        int i = s[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        bool digits = false, dot = false;
        ulong mantissa = 0;
        int count = 0, scale = 0;
        for (; i < s.Length; i++)
        {
            byte c = s[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                digits = true;
                mantissa = mantissa * 10 + (uint)(c - '0');
                count++;
                if (dot) scale++;
            }
            else if (c == '.' && !dot) dot = true;
            else return false;
        }
        if (!digits) return false;
        // Up to 18 digits fit a ulong exactly: build the decimal directly, with the same value and
        // scale (trailing zeros kept) as Utf8Parser. Negative zero and longer inputs take Utf8Parser.
        if (count <= 18 && (mantissa != 0 || s[0] != '-'))
        {
            value = new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, s[0] == '-', (byte)scale);
            return true;
        }
        return Utf8Parser.TryParse(s, out value, out int used) && used == s.Length;
    }

    /// <summary>Text overload of <see cref="TryParsePrice(ReadOnlySpan{byte}, out decimal)"/>.</summary>
    public static bool TryParsePrice(ReadOnlySpan<char> s, out decimal value) =>
        decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
        && s.Length > 0 && !s.Contains(' ');

    /// <summary>Text overload of <see cref="TryParseQuantity(ReadOnlySpan{byte}, out int)"/>.</summary>
    public static bool TryParseQuantity(ReadOnlySpan<char> s, out int value) =>
        int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool TryMake(int y, int mo, int d, int h, int mi, int s, out DateTime value)
    {
        value = default;
        if (y < 1 || mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return false;
        value = new DateTime(y, mo, d, h, mi, s, DateTimeKind.Unspecified);
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            int c = s[i] - '0';
            if ((uint)c > 9) return false;
            value = value * 10 + c;
        }
        return true;
    }

    private static bool Number(ReadOnlySpan<byte> s, ref int i, int min, int max, out int value)
    {
        value = 0;
        int start = i;
        while (i < s.Length && i - start < max && (uint)(s[i] - '0') <= 9) value = value * 10 + (s[i++] - '0');
        return i - start >= min;
    }

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, byte c)
    {
        if (i < s.Length && s[i] == c) { i++; return true; }
        return false;
    }

    private static void Write2(Span<byte> d, int at, int v) { d[at] = (byte)('0' + v / 10); d[at + 1] = (byte)('0' + v % 10); }

    private static void Write4(Span<byte> d, int at, int v)
    {
        Write2(d, at, v / 100);
        Write2(d, at + 2, v % 100);
    }
}
