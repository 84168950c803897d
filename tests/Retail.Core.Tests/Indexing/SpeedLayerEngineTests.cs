using Retail.Codecs;
using Retail.Indexing;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Indexing;

public class SpeedLayerEngineTests
{
    /// <summary>An index double: fails every document retryably on its first attempt, and rejects descriptions "REJECT ME".</summary>
    private sealed class FlakyIndex : IUpsertIndex
    {
        public Dictionary<string, RetailTransaction> Docs { get; } = [];
        private readonly HashSet<string> _seen = [];

        private readonly Lock _lock = new();

        // Shards upsert concurrently, as against a real index: the double serializes them itself.
        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            var items = new List<UpsertItemResult>();
            lock (_lock)
            foreach (var d in documents)
            {
                if (d.Record.Description == "REJECT ME") items.Add(new UpsertItemResult(d.Id, "mapper_parsing_exception", false));
                else if (_seen.Add(d.Id)) items.Add(new UpsertItemResult(d.Id, "es_rejected_execution_exception (429)", true));
                else
                {
                    Docs[d.Id] = d.Record;
                    items.Add(new UpsertItemResult(d.Id, null, false));
                }
            }
            return ValueTask.FromResult(new UpsertResult(items));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            lock (_lock) return ValueTask.FromResult((long)Docs.Count);
        }
    }

    [Fact]
    public async Task RunAsync_RetryableItemFailures_EveryRecordIndexedOnceAndRejectionsCounted()
    {
        var stream = new InProcessRecordStream();
        stream.RegisterConsumer("speed-layer");
        var records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 5 }).Generate(5000).ToList();
        records[10] = records[10] with { Description = "REJECT ME" };
        var index = new FlakyIndex();
        var engine = new SpeedLayerEngine(stream, index, stream);
        var run = engine.RunAsync();
        await using (var p = new StreamProducer(stream))
        {
            int i = 0;
            foreach (var r in records) await p.AddAsync($"part-{i++ % 1024:00000}", RetailJson.ToJsonLine(r));
            await p.AddAsync("x", "{broken"u8.ToArray());
        }
        stream.Complete();
        await run;

        Assert.Equal(4999, index.Docs.Count);
        Assert.Equal(4999, engine.Stats.DocumentsUpserted);
        Assert.Equal(1, engine.Stats.DocumentsRejected);
        Assert.Equal(1, engine.Stats.RecordsInvalid);
        Assert.Equal(5001, engine.Stats.RecordsRead);
        Assert.Equal(records.Where(r => r.Description != "REJECT ME").OrderBy(r => r.Invoice + r.StockCode + r.InvoiceDate.Ticks).ToList(),
            index.Docs.Values.OrderBy(r => r.Invoice + r.StockCode + r.InvoiceDate.Ticks).ToList());
    }

    [Fact]
    public void DocumentIds_WorkshopMode_MatchesWorkshopAndCollides()
    {
        var r = new RetailTransaction
        {
            Invoice = "489434", StockCode = "85048", Description = "15CM CHRISTMAS GLASS BALL 20 LIGHTS", Quantity = 12,
            InvoiceDate = new DateTime(2009, 12, 1, 7, 45, 0), Price = 6.95m, CustomerId = "13085.0", Country = "United Kingdom",
        };
        // python3: hashlib.md5('489434:85048:13085.0'.encode('utf-8')).hexdigest()[:8]
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("489434:85048:13085.0"u8.ToArray()))[..8];
        Assert.Equal(expected, DocumentIds.Compute(DocumentIdMode.WorkshopMd5Prefix, r, "s", "shard", "1"));
        Assert.Equal(32, DocumentIds.Compute(DocumentIdMode.SourcePosition, r, "s", "shard", "1").Length);
        Assert.NotEqual(DocumentIds.Compute(DocumentIdMode.SourcePosition, r, "s", "shard", "1"), DocumentIds.Compute(DocumentIdMode.SourcePosition, r, "s", "shard", "2"));
        Assert.Equal(64, DocumentIds.Compute(DocumentIdMode.BusinessKey, r, "s", "shard", "1").Length);

        // 32-bit ids collide among 200k distinct synthetic records (expected ~4.6 collisions); full ids do not.
        var gen = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 9 }).Generate(200_000).ToList();
        int compat = gen.Select((t, i) => DocumentIds.Compute(DocumentIdMode.WorkshopMd5Prefix, t, "s", "shard", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).Distinct().Count();
        int full = gen.Select((t, i) => DocumentIds.Compute(DocumentIdMode.SourcePosition, t, "s", "shard", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).Distinct().Count();
        Assert.Equal(200_000, full);
        Assert.True(compat < 200_000, "expected collisions in the workshop's 32-bit ids");
    }
}
