using Xunit;

namespace Retail.Sinks.Athena.Tests.Compaction;

public sealed class AthenaCompactorOptionsTests
{
    [Theory]
    [InlineData("OLD_TABLE_NAME", "retail-json")]
    [InlineData("OUTPUT_PREFIX", "bucket/parquet")]
    [InlineData("COLUMN_NAMES", "invoice,price,colour")]
    [InlineData("DRY_RUN", "maybe")]
    public void FromEnvironment_BadValue_ErrorNamesVariableAndValue(string variable, string value)
    {
        var ex = Assert.Throws<AthenaCompactorSettingsException>(() => AthenaCompactorOptions.FromEnvironment(v => v == variable ? value : null));
        Assert.Equal(variable, ex.Variable);
        Assert.Contains(variable, ex.Message);
        Assert.Contains(value, ex.Message);
    }

    [Fact]
    public void FromEnvironment_WorkshopValues_PrefixesWithOrWithoutSlashAreOneFolder()
    {
        var env = new Dictionary<string, string>
        {
            ["OLD_DATABASE"] = "mydatabase", ["OLD_TABLE_NAME"] = "retail_trans_json", ["NEW_DATABASE"] = "mydatabase",
            ["NEW_TABLE_NAME"] = "ctas_retail_trans_parquet", ["WORK_GROUP"] = "primary",
            ["OLD_TABLE_LOCATION_PREFIX"] = "s3://my-bucket/json-data", ["OUTPUT_PREFIX"] = "s3://my-bucket/parquet-retail-trans/",
            ["STAGING_OUTPUT_PREFIX"] = "s3://my-bucket/tmp", ["COLUMN_NAMES"] = "invoice,stockcode,description,quantity,invoicedate,price,customer_id,country",
        };
        var o = AthenaCompactorOptions.FromEnvironment(v => env.GetValueOrDefault(v));
        Assert.Equal("s3://my-bucket/json-data/", o.OldTableLocationPrefix);
        Assert.Equal("s3://my-bucket/parquet-retail-trans/", o.OutputPrefix);
        Assert.Equal(8, o.ColumnNames.Count);
        Assert.False(o.DryRun);
    }

    [Fact]
    public void UseLake_BucketAndPrefix_DerivesBothPrefixes()
    {
        var o = new AthenaCompactorOptions().UseLake("s3://my-bucket/lake");
        Assert.Equal("s3://my-bucket/lake/json-data/", o.OldTableLocationPrefix);
        Assert.Equal("s3://my-bucket/lake/parquet-retail-trans/", o.OutputPrefix);
    }

    [Fact]
    public async Task CompactHours_RealRunWithoutOutputPrefix_ErrorNamesVariable()
    {
        var catalog = new Fakes.FakeAthenaCatalog();
        await using var fake = await Fakes.AthenaLoopbackFake.StartAsync(catalog.ExecuteAsync);
        var compactor = AthenaCtasCompactor.Create(new AthenaCompactorOptions { OldTableLocationPrefix = "s3://b/json-data/" }, AthenaCtasCompactorTests.Athena(fake));
        var ex = await Assert.ThrowsAsync<AthenaCompactorSettingsException>(async () => await compactor.CompactHoursAsync([DateTime.UtcNow]));
        Assert.Equal("OUTPUT_PREFIX", ex.Variable);
        Assert.Empty(catalog.Statements);
    }
}
