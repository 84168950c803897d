using System.Text;
using Retail.Codecs;

namespace Retail.Sinks.Parquet.Tests;

public sealed class ColumnDigestsTests
{
    private static RetailRows Rows(params (string Description, int Quantity)[] values)
    {
        var rows = new RetailRows(values.Length);
        foreach (var (description, quantity) in values)
        {
            string line = $"{{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"{description}\",\"Quantity\":{quantity}," +
                "\"InvoiceDate\":\"2010-12-01 08:26:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}";
            using var reader = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(line)));
            Assert.True(reader.TryReadUtf8(out var r));
            rows.Add(r, 15_000);
        }
        return rows;
    }

    private static ColumnDigests Digest(RetailRows rows)
    {
        var d = new ColumnDigests();
        d.Add(rows, 0, rows.Count);
        return d;
    }

    [Fact]
    public void FirstDifference_SameRowsInBatchesOrWhole_None()
    {
        var rows = Rows(("a", 1), ("b", 2), ("c", 3));
        var inBatches = new ColumnDigests();
        inBatches.Add(rows, 0, 1);
        inBatches.Add(rows, 1, 2);
        Assert.Null(Digest(rows).FirstDifference(inBatches));
        Assert.Equal(Digest(rows), inBatches);
    }

    [Fact]
    public void FirstDifference_OneValueChangedOrRowsSwapped_NamesTheColumn()
    {
        var rows = Rows(("a", 1), ("b", 2));
        Assert.Equal("description", Digest(rows).FirstDifference(Digest(Rows(("a", 1), ("c", 2)))));
        Assert.Equal("description", Digest(rows).FirstDifference(Digest(Rows(("ab", 1), ("", 2)))));
        Assert.Equal("quantity", Digest(rows).FirstDifference(Digest(Rows(("a", 2), ("b", 2)))));
        Assert.Equal("description", Digest(rows).FirstDifference(Digest(Rows(("b", 1), ("a", 2)))));
    }
}
