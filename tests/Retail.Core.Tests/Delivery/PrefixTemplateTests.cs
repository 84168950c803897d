using Retail.Delivery;
using Retail.Storage;

namespace Retail.Core.Tests.Delivery;

public class PrefixTemplateTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 11, 28, 4, 5, 6, TimeSpan.Zero);

    private static readonly RetailTransaction Record = new()
    {
        Invoice = "C489449", StockCode = "22087", Description = "X", Quantity = -12,
        InvoiceDate = new DateTime(2009, 12, 1, 7, 45, 0), Price = 2.95m, CustomerId = "", Country = "United Kingdom",
    };

    [Fact]
    public void Evaluate_WorkshopPrefix_UsesArrivalHourInUtc()
    {
        var t = PrefixTemplate.ParseDataPrefix(LakeLayout.WorkshopJsonPrefixTemplate);
        Assert.Equal("json-data/year=2026/month=11/day=28/hour=04/", t.Evaluate(Arrival.ToOffset(TimeSpan.FromHours(9)), Record, null, 1));
    }

    [Fact]
    public void Evaluate_EventTimePrefix_UsesInvoiceDate()
    {
        var t = PrefixTemplate.ParseDataPrefix(LakeLayout.EventTimeJsonPrefixTemplate);
        Assert.Equal("json-data/year=2009/month=12/day=01/hour=07/", t.Evaluate(Arrival, Record, null, 1));
    }

    [Theory]
    [InlineData(null, "2026/11/28/04/")]
    [InlineData("", "2026/11/28/04/")]
    [InlineData("myprefix/", "myprefix/2026/11/28/04/")]
    [InlineData("a/!{timestamp:yyyy-MM-dd'T'HH}/", "a/2026-11-28T04/")]
    [InlineData("country=!{partitionKeyFromQuery:Country}/", "country=United Kingdom/")]
    [InlineData("c=!{partitionKeyFromQuery:Customer_ID}/", "c=__HIVE_DEFAULT_PARTITION__/")]
    public void Evaluate_FirehoseDefaults_AppendTimestampWhenMissing(string? template, string expected)
    {
        Assert.Equal(expected, PrefixTemplate.ParseDataPrefix(template).Evaluate(Arrival, Record, null, 1));
    }

    [Fact]
    public void Evaluate_RandomString_ElevenCharsDeterministicPerSeedAndFreshPerInstance()
    {
        var t = PrefixTemplate.ParseDataPrefix("r=!{firehose:random-string}/s=!{firehose:random-string}/!{timestamp:yyyy}/");
        string a = t.Evaluate(Arrival, Record, null, 42);
        Assert.Equal(a, t.Evaluate(Arrival, Record, null, 42));
        Assert.NotEqual(a, t.Evaluate(Arrival, Record, null, 43));
        var m = System.Text.RegularExpressions.Regex.Match(a, "^r=([A-Za-z0-9]{11})/s=([A-Za-z0-9]{11})/2026/$");
        Assert.True(m.Success, a);
        Assert.NotEqual(m.Groups[1].Value, m.Groups[2].Value);
    }

    [Fact]
    public void Evaluate_ErrorPrefix_PutsOutputType()
    {
        var t = PrefixTemplate.ParseErrorPrefix(LakeLayout.WorkshopErrorPrefixTemplate);
        Assert.Equal("error-json/year=2026/month=11/day=28/hour=04/processing-failed/", t.Evaluate(Arrival, null, "processing-failed", 1));
    }

    [Theory]
    [InlineData("a/!{timestamp:yyyy", "!{timestamp:yyyy", "not closed")]
    [InlineData("a/!{nope:x}/", "!{nope:x}", "unknown namespace")]
    [InlineData("a/!{timestamp:yyyyQQ}/", "!{timestamp:yyyyQQ}", "QQ")]
    [InlineData("a/!{firehose:error-output-type}/", "!{firehose:error-output-type}", "only be used in the error output prefix")]
    [InlineData("a/!{partitionKeyFromQuery:colour}/", "!{partitionKeyFromQuery:colour}", "unknown key 'colour'")]
    [InlineData("a/!{timestamp}/", "!{timestamp}", "namespace:value")]
    [InlineData("a/!{timestamp:}/", "!{timestamp:}", "empty timestamp pattern")]
    public void ParseDataPrefix_InvalidExpression_MessagePointsAtIt(string template, string expression, string why)
    {
        var ex = Assert.Throws<FormatException>(() => PrefixTemplate.ParseDataPrefix(template));
        Assert.Contains(expression, ex.Message);
        Assert.Contains(why, ex.Message);
        Assert.Contains("position 2", ex.Message);
    }

    [Theory]
    [InlineData("../escape/")]
    [InlineData("/absolute/")]
    [InlineData("a\\b/")]
    public void ParseDataPrefix_UnsafeLiteral_Rejected(string template)
    {
        Assert.Throws<FormatException>(() => PrefixTemplate.ParseDataPrefix(template));
    }

    [Fact]
    public void ParseErrorPrefix_ExpressionsWithoutOutputType_Rejected()
    {
        var ex = Assert.Throws<FormatException>(() => PrefixTemplate.ParseErrorPrefix("err/!{timestamp:yyyy}/"));
        Assert.Contains("error-output-type", ex.Message);
    }

    [Fact]
    public void PartitionValue_SlashesAndDots_CannotEscapeTheSegment()
    {
        var r = Record with { Country = "../../etc" };
        var t = PrefixTemplate.ParseDataPrefix("c=!{partitionKeyFromQuery:Country}/");
        string p = t.Evaluate(Arrival, r, null, 1);
        Assert.Equal("c=..%2F..%2Fetc/", p);
        Assert.True(ObjectKeys.IsValid(p + "x", out _));
        Assert.Equal("c=%2E%2E/", t.Evaluate(Arrival, r with { Country = ".." }, null, 1));
    }
}
