using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

public class BulkFormatTests
{
    [Fact]
    public async Task UpsertAsync_ThreeDocuments_OnOpenSearchFake_BodyMatchesGoldenNdjson()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var result = await index.UpsertAsync(TestRecords.Three());

        Assert.Equal(0, result.FailedCount);
        var bulk = Assert.Single(fake.Requests, r => r.PathAndQuery.StartsWith("/_bulk", StringComparison.Ordinal));
        Assert.Equal("/_bulk", bulk.PathAndQuery);
        Assert.Equal("application/x-ndjson", bulk.Headers["Content-Type"]);
        Assert.Equal(await File.ReadAllBytesAsync(TestRecords.GoldenPath("bulk-index.ndjson")), bulk.Body);
    }

    [Fact]
    public async Task UpsertAsync_UpdateActionWorkshopDates_OnOpenSearchFake_BodyMatchesGoldenNdjson()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Action = BulkAction.Update;
            o.IsoDates = false;
        }));
        var result = await index.UpsertAsync([new IndexDocument("doc-1", TestRecords.Glass)]);

        Assert.Equal(0, result.FailedCount);
        var bulk = Assert.Single(fake.Requests, r => r.PathAndQuery.StartsWith("/_bulk", StringComparison.Ordinal));
        Assert.Equal(await File.ReadAllBytesAsync(TestRecords.GoldenPath("bulk-update-workshop-dates.ndjson")), bulk.Body);
    }

    [Fact]
    public void BulkBody_EveryLine_EndsInNewlineAndIsOneJsonObject()
    {
        using var body = new BulkBody(BulkAction.Create, isoDates: true);
        foreach (var d in TestRecords.Synthetic(100)) body.Add("retail", d);
        byte[] bytes = body.Slice(0, body.Count).ToArray();

        Assert.Equal((byte)'\n', bytes[^1]);
        string[] lines = Encoding.UTF8.GetString(bytes).Split('\n');
        Assert.Equal(201, lines.Length); // 200 lines and the empty string after the last \n
        Assert.Equal("", lines[^1]);
        for (int i = 0; i < 200; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            if (i % 2 == 0) Assert.True(doc.RootElement.TryGetProperty("create", out _));
        }
    }

    [Fact]
    public void BulkBody_Slices_AreTheDocumentsLinesExactly()
    {
        using var body = new BulkBody(BulkAction.Index, isoDates: true);
        var docs = TestRecords.Synthetic(10);
        foreach (var d in docs) body.Add("retail", d);
        int total = 0;
        for (int i = 0; i < docs.Count; i++) total += body.Bytes(i, i + 1);
        Assert.Equal(body.Length, total);
        string third = Encoding.UTF8.GetString(body.Slice(2, 3).Span);
        Assert.StartsWith("{\"index\":{\"_index\":\"retail\",\"_id\":\"d-000002\"}}\n{", third, StringComparison.Ordinal);
        Assert.EndsWith("}\n", third, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_PricesAndText_OnOpenSearchFake_StoredExactly()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var docs = TestRecords.Synthetic(300).Concat(TestRecords.Three()).ToList();
        Assert.Equal(0, (await index.UpsertAsync(docs)).FailedCount);

        var stored = fake.Documents("retail");
        Assert.Equal(docs.Count, stored.Count);
        foreach (var d in docs) Assert.Equal(d.Record, TestRecords.FromSource(stored[d.Id]));
        // Price keeps its written scale (0.0, 1.2345), never a binary float's digits.
        Assert.Equal("0.0", stored["doc-3"]["Price"]!.ToJsonString());
        Assert.Equal("1.2345", stored["doc-2"]["Price"]!.ToJsonString());
        Assert.Equal("2009-12-01T07:45:00", (string)stored["doc-1"]["InvoiceDate"]!);
    }

    [Fact]
    public async Task UpsertAsync_IsoDatesOff_OnOpenSearchFake_WritesWorkshopDateFormat()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.IsoDates = false));
        await index.UpsertAsync(TestRecords.Three());
        Assert.Equal("2009-12-01 07:45:00", (string)fake.Documents("retail")["doc-1"]["InvoiceDate"]!);
    }

    [Fact]
    public void IndexTemplate_Rotating_MatchesGoldenJson()
    {
        byte[] json = IndexTemplate.Json("retail", IndexRotation.Day);
        Assert.Equal(File.ReadAllBytes(TestRecords.GoldenPath("index-template-rotating.json")), json);
    }

    [Fact]
    public void IndexTemplate_NotRotating_PatternIsTheIndexOnly()
    {
        var node = JsonNode.Parse(IndexTemplate.Json("sales", IndexRotation.None))!;
        Assert.Equal("[\"sales\"]", node["index_patterns"]!.ToJsonString());
        var props = node["template"]!["mappings"]!["properties"]!;
        Assert.Equal("date", (string)props["InvoiceDate"]!["type"]!);
        Assert.Equal("yyyy-MM-dd HH:mm:ss||strict_date_optional_time||epoch_millis", (string)props["InvoiceDate"]!["format"]!);
        Assert.Equal("integer", (string)props["Quantity"]!["type"]!);
        Assert.Equal("scaled_float", (string)props["Price"]!["type"]!);
        Assert.Equal(10000, (int)props["Price"]!["scaling_factor"]!);
        Assert.Equal("text", (string)props["Description"]!["fields"]!["text"]!["type"]!);
        foreach (var k in new[] { "Invoice", "StockCode", "Customer_ID", "Country", "Description" })
            Assert.Equal("keyword", (string)props[k]!["type"]!);
    }
}
