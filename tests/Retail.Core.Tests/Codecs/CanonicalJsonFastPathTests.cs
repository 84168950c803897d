using System.Text;
using Retail.Codecs;

namespace Retail.Core.Tests.Codecs;

/// <summary>
/// The JSON parser's fast path for delivery's own form gives exactly the general parse's record, and leaves everything
/// else (other spacing, escapes, number forms, bad input) to the general parse.
/// </summary>
public sealed class CanonicalJsonFastPathTests
{
    private static readonly string[] Texts =
    [
        "", "A", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", " leading and trailing ", "£ and é and 🎄", "quote \" inside",
        "back\\slash", "tab\there", "new\nline", "C489449", "POST", "13085.0", "United Kingdom", "Côte d'Ivoire", "<>&'",
    ];

    private static IEnumerable<byte[]> Lines()
    {
        var random = new Random(7);
        decimal[] prices = [2.55m, 0.0001m, -0.0001m, 0m, 18.2500m, 99_999_999_999.9999m, -12345678901.2345m, 1m, 0.5m, 38970m];
        int[] quantities = [0, 1, -1, 6, -12, 80995, int.MaxValue, int.MinValue];
        for (int i = 0; i < 5_000; i++)
        {
            var record = new RetailTransaction
            {
                Invoice = Texts[random.Next(Texts.Length)], StockCode = Texts[random.Next(Texts.Length)],
                Description = Texts[random.Next(Texts.Length)],
                Quantity = random.Next(3) == 0 ? quantities[random.Next(quantities.Length)] : random.Next(-100, 100_000),
                InvoiceDate = new DateTime(2009, 12, 1).AddSeconds(random.Next(0, 80_000_000)),
                Price = random.Next(3) == 0 ? prices[random.Next(prices.Length)] : Math.Round((decimal)random.NextDouble() * 1000, random.Next(0, 5)),
                CustomerId = Texts[random.Next(Texts.Length)], Country = Texts[random.Next(Texts.Length)],
            };
            byte[] line = RetailJson.ToJsonLine(record);
            yield return line.AsSpan().TrimEnd("\r\n"u8).ToArray();
        }
    }

    /// <summary>Lines near delivery's form that are not it, or not valid at all.</summary>
    private static IEnumerable<string> Variants(string line)
    {
        yield return line.Replace(",\"Price\":", ", \"Price\":", StringComparison.Ordinal);
        yield return line + " ";
        yield return line + "\r";
        yield return line[..^1];
        yield return line.Replace("\"Quantity\":", "\"Quantity\":0", StringComparison.Ordinal);
        yield return line.Replace("\"Quantity\":", "\"Quantity\":-", StringComparison.Ordinal);
        yield return line.Replace("\"Price\":", "\"Price\":0", StringComparison.Ordinal);
        yield return line.Replace(",\"Customer_ID\"", "e2,\"Customer_ID\"", StringComparison.Ordinal);
        yield return line.Replace(",\"Customer_ID\"", ".,\"Customer_ID\"", StringComparison.Ordinal);
        yield return line.Replace(",\"Customer_ID\"", "5,\"Customer_ID\"", StringComparison.Ordinal);
        yield return line.Replace(",\"InvoiceDate\"", "1,\"InvoiceDate\"", StringComparison.Ordinal);
        yield return line.Replace(",\"InvoiceDate\"", "99999999999,\"InvoiceDate\"", StringComparison.Ordinal);
        yield return line.Replace(",\"InvoiceDate\"", ".5,\"InvoiceDate\"", StringComparison.Ordinal);
        yield return line.Replace("\"Customer_ID\":\"", "\"Customer_ID\":null,\"x\":\"", StringComparison.Ordinal);
        yield return line.Replace("\"Invoice\":\"", "\"Invoice\":\"\\u0041", StringComparison.Ordinal);
        yield return line.Replace("\"Country\":\"", "\"Country\":\"\t", StringComparison.Ordinal);
        yield return line.Replace("\"Country\":\"", "\"Country\":\"\u0001", StringComparison.Ordinal);
        yield return line.Replace("{\"Invoice\"", "{\"Invoice\":\"dup\",\"Invoice\"", StringComparison.Ordinal);
        yield return line.Replace(" 0", " 9", StringComparison.Ordinal).Replace(":00\"", ":60\"", StringComparison.Ordinal);
        yield return line.Replace("\"}", "\",\"Extra\":1}", StringComparison.Ordinal);
    }

    private static void AssertSame(ReadOnlySpan<byte> line, string shown)
    {
        byte[]? scratch = null;
        bool general = RetailJson.TryParseGeneral(line, ref scratch, out var expected, out _, out string? reason);
        if (!RetailJson.TryParseCanonical(line, out var fast)) return;
        Assert.True(general, $"fast path took a line the general parse refuses ({reason}): {shown}");
        Assert.True(expected.Invoice.SequenceEqual(fast.Invoice), shown);
        Assert.True(expected.StockCode.SequenceEqual(fast.StockCode), shown);
        Assert.True(expected.Description.SequenceEqual(fast.Description), shown);
        Assert.Equal(expected.Quantity, fast.Quantity);
        Assert.Equal(expected.InvoiceDate, fast.InvoiceDate);
        Assert.Equal(decimal.GetBits(expected.Price), decimal.GetBits(fast.Price));
        Assert.True(expected.CustomerId.SequenceEqual(fast.CustomerId), shown);
        Assert.True(expected.Country.SequenceEqual(fast.Country), shown);
    }

    [Fact]
    public void TryParseCanonical_DeliverysLinesAndTheirVariants_SameRecordAsTheGeneralParse()
    {
        int eligible = 0, fast = 0;
        foreach (byte[] line in Lines())
        {
            // Escaped text and zero prices take the general path; every other line delivery writes takes the fast one.
            if (!line.Contains((byte)'\\') && !Encoding.UTF8.GetString(line).Contains("\"Price\":0,", StringComparison.Ordinal)) eligible++;
            if (RetailJson.TryParseCanonical(line, out _)) fast++;
            string text = Encoding.UTF8.GetString(line);
            AssertSame(line, text);
            foreach (string variant in Variants(text)) AssertSame(Encoding.UTF8.GetBytes(variant), variant);
            // Invalid UTF-8 inside a field: never taken by the fast path.
            byte[] broken = (byte[])line.Clone();
            int at = text.IndexOf("\"Country\":\"", StringComparison.Ordinal) + 11;
            if (at > 11 && at < broken.Length - 2)
            {
                broken[at] = 0xC3;
                broken[at + 1] = (byte)'"';
                Assert.False(RetailJson.TryParseCanonical(broken.AsSpan(0, at + 2).ToArray().Concat("}"u8.ToArray()).ToArray(), out _));
            }
        }
        Assert.True(eligible > 500, $"{eligible} lines without escapes");
        Assert.Equal(eligible, fast);
    }

    [Theory]
    [InlineData("""{"Invoice":"489434","StockCode":"85048","Description":"15CM CHRISTMAS GLASS BALL 20 LIGHTS","Quantity":12,"InvoiceDate":"2009-12-01 07:45:00","Price":6.95,"Customer_ID":"13085.0","Country":"United Kingdom"}""", true)]
    [InlineData("""{"Invoice":"489434","StockCode":"85048","Description":"X","Quantity":12,"InvoiceDate":"2009-12-01 07:45:00","Price":6.95,"Customer_ID":13085.0,"Country":"United Kingdom"}""", false)]
    [InlineData("""{"Invoice": "489434", "StockCode": "85048", "Description": "X", "Quantity": 12, "InvoiceDate": "2009-12-01 07:45:00", "Price": 6.95, "Customer_ID": "13085", "Country": "UK"}""", false)]
    [InlineData("""{"Invoice":"489434","StockCode":"85048","Description":"X","Quantity":2147483648,"InvoiceDate":"2009-12-01 07:45:00","Price":6.95,"Customer_ID":"","Country":"UK"}""", false)]
    [InlineData("""{"Invoice":"489434","StockCode":"85048","Description":"X","Quantity":1,"InvoiceDate":"2009-12-01 07:45:00","Price":1234567890123456789,"Customer_ID":"","Country":"UK"}""", false)]
    [InlineData("""{"Invoice":"489434","StockCode":"85048","Description":"X","Quantity":1,"InvoiceDate":"2009-13-01 07:45:00","Price":1.5,"Customer_ID":"","Country":"UK"}""", false)]
    public void TryParseCanonical_Examples(string line, bool taken)
    {
        Assert.Equal(taken, RetailJson.TryParseCanonical(Encoding.UTF8.GetBytes(line), out _));
        AssertSame(Encoding.UTF8.GetBytes(line), line);
        // The public parse gives the same answer either way.
        byte[]? scratch = null;
        Assert.Equal(RetailJson.TryParseGeneral(Encoding.UTF8.GetBytes(line), ref scratch, out _, out _, out string? generalReason),
            RetailJson.TryParse(Encoding.UTF8.GetBytes(line), out _, out string? reason));
        Assert.Equal(generalReason is null, reason is null);
    }
}
