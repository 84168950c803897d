using Retail.Query;

namespace Retail.Core.Tests.Query;

public class QueryResultFormatterTests
{
    private static readonly QueryResult Sample = new(
        ["invoice", "description", "quantity", "invoicedate", "price", "revenue", "customer_id", "ratio"],
        ["VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP", "DECIMAL(18,4)", "DECIMAL(38,4)", "VARCHAR", "DOUBLE"],
        [
            ["489434", " 15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12, new DateTime(2009, 12, 1, 7, 45, 0), 6.9500m, 12345.6700m, "13085.0", 0.1],
            ["C489449", "POPCORN HOLDER , SMALL ", -3, new DateTime(2010, 2, 3, 4, 5, 6), 0.0000m, -10.0000m, "", null],
            ["489436", "£5 \"GIFT\" VOUCHER", 1, new DateTime(2010, 2, 3, 4, 5, 6, 500), 18.2500m, 18.25m, null, 1e21],
        ],
        Truncated: false);

    [Fact]
    public void Format_Csv_Rfc4180WithExactDecimals()
    {
        string expected =
            "invoice,description,quantity,invoicedate,price,revenue,customer_id,ratio\r\n" +
            "489434,\" 15CM CHRISTMAS GLASS BALL 20 LIGHTS\",12,2009-12-01 07:45:00,6.95,12345.67,13085.0,0.1\r\n" +
            "C489449,\"POPCORN HOLDER , SMALL \",-3,2010-02-03 04:05:06,0,-10,\"\",\r\n" +
            "489436,\"£5 \"\"GIFT\"\" VOUCHER\",1,2010-02-03 04:05:06.5,18.25,18.25,,1E+21\r\n";

        Assert.Equal(expected, QueryResultFormatter.Format(Sample, QueryOutputFormat.Csv));
    }

    [Fact]
    public void Format_Json_ArrayOfObjects()
    {
        string expected =
            "[\n" +
            "{\"invoice\":\"489434\",\"description\":\" 15CM CHRISTMAS GLASS BALL 20 LIGHTS\",\"quantity\":12,\"invoicedate\":\"2009-12-01 07:45:00\",\"price\":6.95,\"revenue\":12345.67,\"customer_id\":\"13085.0\",\"ratio\":0.1},\n" +
            "{\"invoice\":\"C489449\",\"description\":\"POPCORN HOLDER , SMALL \",\"quantity\":-3,\"invoicedate\":\"2010-02-03 04:05:06\",\"price\":0,\"revenue\":-10,\"customer_id\":\"\",\"ratio\":null},\n" +
            "{\"invoice\":\"489436\",\"description\":\"£5 \\\"GIFT\\\" VOUCHER\",\"quantity\":1,\"invoicedate\":\"2010-02-03 04:05:06.5\",\"price\":18.25,\"revenue\":18.25,\"customer_id\":null,\"ratio\":1E+21}\n" +
            "]\n";

        Assert.Equal(expected, QueryResultFormatter.Format(Sample, QueryOutputFormat.Json));
    }

    [Fact]
    public void Format_Table_AlignedPlainText()
    {
        string expected =
            "invoice | description                          | quantity | invoicedate           | price |  revenue | customer_id | ratio\n" +
            "--------+--------------------------------------+----------+-----------------------+-------+----------+-------------+------\n" +
            "489434  |  15CM CHRISTMAS GLASS BALL 20 LIGHTS |       12 | 2009-12-01 07:45:00   |  6.95 | 12345.67 | 13085.0     |   0.1\n" +
            "C489449 | POPCORN HOLDER , SMALL               |       -3 | 2010-02-03 04:05:06   |     0 |      -10 |             |  NULL\n" +
            "489436  | £5 \"GIFT\" VOUCHER                    |        1 | 2010-02-03 04:05:06.5 | 18.25 |    18.25 | NULL        | 1E+21\n" +
            "(3 rows)\n";

        Assert.Equal(expected, QueryResultFormatter.Format(Sample, QueryOutputFormat.Table));
    }

    [Fact]
    public void Format_EmptyAndTruncatedResults_Marked()
    {
        var empty = new QueryResult(["n"], ["BIGINT"], [], false);
        var truncated = new QueryResult(["n"], ["BIGINT"], [[1L]], true);

        Assert.Equal("n\n-\n(0 rows)\n", QueryResultFormatter.Format(empty, QueryOutputFormat.Table));
        Assert.Equal("n\r\n", QueryResultFormatter.Format(empty, QueryOutputFormat.Csv));
        Assert.Equal("[]\n", QueryResultFormatter.Format(empty, QueryOutputFormat.Json));
        Assert.Equal("n\n-\n1\n(1 row, truncated)\n", QueryResultFormatter.Format(truncated, QueryOutputFormat.Table));
    }

    [Fact]
    public void FormatValue_OtherTypes_InvariantText()
    {
        Assert.Null(QueryResultFormatter.FormatValue(null));
        Assert.Equal("true", QueryResultFormatter.FormatValue(true));
        Assert.Equal("2010-12-01", QueryResultFormatter.FormatValue(new DateOnly(2010, 12, 1)));
        Assert.Equal("170141183460469231731687303715884105727", QueryResultFormatter.FormatValue(System.Numerics.BigInteger.Parse("170141183460469231731687303715884105727", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("[1,2,null]", QueryResultFormatter.FormatValue(new List<int?> { 1, 2, null }));
        Assert.Equal("{\"k\":\"£\",\"n\":1.5}", QueryResultFormatter.FormatValue(new Dictionary<string, object?> { ["k"] = "£", ["n"] = 1.50m }));
        Assert.Equal("AQI=", QueryResultFormatter.FormatValue(new byte[] { 1, 2 }));
    }
}
