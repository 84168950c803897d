namespace Retail.Sinks.OpenSearch.Tests;

public class IndexRotationTests
{
    // Firehose's documented example: index "myindex", time 2016-02-25T13:00:00Z.
    [Theory]
    [InlineData(IndexRotation.None, "myindex")]
    [InlineData(IndexRotation.Hour, "myindex-2016-02-25-13")]
    [InlineData(IndexRotation.Day, "myindex-2016-02-25")]
    [InlineData(IndexRotation.Week, "myindex-2016-w08")]
    [InlineData(IndexRotation.Month, "myindex-2016-02")]
    public void For_FirehoseDocumentedExample_SameNames(IndexRotation rotation, string expected)
    {
        Assert.Equal(expected, IndexNames.For("myindex", rotation, new DateTime(2016, 2, 25, 13, 0, 0)));
    }

    [Theory]
    [InlineData(2016, 1, 3, 2016, 1)]   // the first Sunday of 2016 starts week 1
    [InlineData(2016, 1, 9, 2016, 1)]   // its Saturday
    [InlineData(2016, 1, 10, 2016, 2)]
    [InlineData(2016, 1, 2, 2015, 52)]  // before the first Sunday: the previous year's last week (2015's first Sunday was Jan 4)
    [InlineData(2017, 1, 1, 2017, 1)]   // a year that starts on a Sunday
    [InlineData(2020, 8, 12, 2020, 32)]
    public void Week_SundayWeeksFromTheFirstSunday(int y, int m, int d, int year, int week)
    {
        Assert.Equal((year, week), IndexNames.Week(new DateTime(y, m, d)));
    }

    [Fact]
    public void For_HourBoundary_EventTimeDecides()
    {
        Assert.Equal("retail-2009-12-01-07", IndexNames.For("retail", IndexRotation.Hour, new DateTime(2009, 12, 1, 7, 59, 59)));
        Assert.Equal("retail-2009-12-01-08", IndexNames.For("retail", IndexRotation.Hour, new DateTime(2009, 12, 1, 8, 0, 0)));
    }

    [Fact]
    public void IndexFor_Rotating_NamesFromInvoiceDate()
    {
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions
        {
            Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None, Rotation = IndexRotation.Month,
        });
        Assert.Equal("retail-2009-12", index.IndexFor(TestRecords.Glass));
    }

    [Theory]
    [InlineData("Retail", "lowercase")]
    [InlineData("_retail", "must not start")]
    [InlineData("re tail", "must not contain")]
    [InlineData("re*tail", "must not contain")]
    [InlineData("..", "'.' or '..'")]
    [InlineData("", "must be set")]
    public void Check_BadIndexNames_Refused(string name, string why)
    {
        Assert.Contains(why, IndexNames.Check(name), StringComparison.Ordinal);
    }
}
