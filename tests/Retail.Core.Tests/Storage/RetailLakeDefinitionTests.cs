using Retail.Delivery;
using Retail.Storage;

namespace Retail.Core.Tests.Storage;

public class RetailLakeDefinitionTests
{
    [Fact]
    public void Defaults_AreTheWorkshopsLayoutAndDeliverysDefaults()
    {
        var lake = new RetailLakeDefinition();

        Assert.Empty(lake.Validate());
        Assert.Equal(("retail_trans_json", "ctas_retail_trans_parquet"), (lake.JsonTableName, lake.ParquetTableName));
        Assert.Equal(("json-data/", "error-json/", "parquet-retail-trans/", "_retail/"), (lake.JsonPrefix, lake.ErrorPrefix, lake.ParquetPrefix, lake.ControlPrefix));
        Assert.Equal(LakeLayout.WorkshopJsonPrefixTemplate, lake.JsonPrefixTemplate);
        Assert.Equal(LakeLayout.EventTimeJsonPrefixTemplate, lake.EventTimeJsonPrefixTemplate);
        Assert.Equal(LakeLayout.WorkshopErrorPrefixTemplate, lake.ErrorPrefixTemplate);
        var delivery = new DeliveryOptions();
        var fromLake = new DeliveryOptions().UseLake(lake);
        Assert.Equal((delivery.Prefix, delivery.ErrorOutputPrefix), (fromLake.Prefix, fromLake.ErrorOutputPrefix));
        Assert.Equal(LakeLayout.EventTimeJsonPrefixTemplate, new DeliveryOptions().UseLake(lake, eventTime: true).Prefix);
    }

    [Fact]
    public void Columns_TheRecordsFieldsWithTheFilesTypesThenThePartitions()
    {
        Assert.Equal(
            ["invoice VARCHAR Invoice", "stockcode VARCHAR StockCode", "description VARCHAR Description", "quantity INTEGER Quantity",
             "invoicedate TIMESTAMP InvoiceDate", "price DECIMAL(18,4) Price", "customer_id VARCHAR Customer_ID", "country VARCHAR Country"],
            RetailLakeDefinition.Columns.Select(c => $"{c.Name} {c.SqlType} {c.JsonField}"));
        Assert.Equal(RetailFields.All, RetailLakeDefinition.Columns.Select(c => c.JsonField));
        Assert.Equal(["year", "month", "day", "hour"], RetailLakeDefinition.PartitionColumns.Select(c => c.Name));
        Assert.All(RetailLakeDefinition.PartitionColumns, c => Assert.Equal(("INTEGER", null), (c.SqlType, c.JsonField)));
    }

    [Fact]
    public void CustomPrefixes_ReachDeliveryTemplatesWhichStayValid()
    {
        var lake = new RetailLakeDefinition { JsonPrefix = "raw/sales/", ErrorPrefix = "raw/failed/" };

        var delivery = new DeliveryOptions().UseLake(lake);

        Assert.Equal("raw/sales/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/", delivery.Prefix);
        Assert.Equal("raw/failed/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/", delivery.ErrorOutputPrefix);
        Assert.Empty(delivery.Validate());
        Assert.Equal("_retail/compaction/", lake.CompactionManifestPrefix);
    }

    [Theory]
    [InlineData(nameof(RetailLakeDefinition.JsonTableName), "1table", "must be a SQL identifier")]
    [InlineData(nameof(RetailLakeDefinition.ParquetTableName), "a-b", "must be a SQL identifier")]
    [InlineData(nameof(RetailLakeDefinition.ParquetTableName), "RETAIL_TRANS_JSON", "must differ")]
    [InlineData(nameof(RetailLakeDefinition.JsonPrefix), "json-data", "ending with '/'")]
    [InlineData(nameof(RetailLakeDefinition.JsonPrefix), "", "ending with '/'")]
    [InlineData(nameof(RetailLakeDefinition.ErrorPrefix), "/abs/", "not a valid key prefix")]
    [InlineData(nameof(RetailLakeDefinition.ParquetPrefix), "p/!{timestamp:yyyy}/", "without '!{' expressions")]
    [InlineData(nameof(RetailLakeDefinition.ControlPrefix), "c/year=2024/month=01/day=01/hour=00/", "must not contain an hourly partition")]
    [InlineData(nameof(RetailLakeDefinition.ControlPrefix), "json-data/_retail/", "must not contain one another")]
    public void Validate_BadSetting_MessageNamesSettingAndValue(string setting, string value, string words)
    {
        var lake = new RetailLakeDefinition();
        typeof(RetailLakeDefinition).GetProperty(setting)!.SetValue(lake, value);

        var error = Assert.Single(lake.Validate());

        Assert.Contains(words, error, StringComparison.Ordinal);
        Assert.Contains(setting, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<ArgumentException>(() => lake.ThrowIfInvalid());
        Assert.Contains(error, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clone_IsIndependent()
    {
        var lake = new RetailLakeDefinition();
        var copy = lake.Clone();
        lake.JsonPrefix = "other/";
        Assert.Equal("json-data/", copy.JsonPrefix);
    }
}
