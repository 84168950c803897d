namespace Retail.Sinks.Athena.Tests;

public sealed class SkeletonTests
{
    [Fact]
    public void AthenaOptions_Defaults_AreTheWorkshops()
    {
        var o = new AthenaOptions();
        Assert.Equal("mydatabase", o.Database);
        Assert.Equal("primary", o.WorkGroup);
    }
}
