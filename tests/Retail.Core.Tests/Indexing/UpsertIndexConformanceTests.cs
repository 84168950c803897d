using Retail.Indexing;
using Retail.Synthetic;

namespace Retail.Core.Tests.Indexing;

/// <summary>
/// The <see cref="IUpsertIndex"/> contract, run against every implementation: the DuckDB index in
/// Retail.Sinks.DuckDb.Tests and the OpenSearch index on its loopback fake in Retail.Sinks.OpenSearch.Tests (this file is
/// linked into both projects). Each test gets a fresh, empty index from <see cref="CreateIndexAsync"/>; the derived
/// class disposes what it created.
/// </summary>
public abstract class UpsertIndexConformanceTests
{
    /// <summary>A new, empty index.</summary>
    protected abstract Task<IUpsertIndex> CreateIndexAsync();

    private static List<RetailTransaction> Records(int count, ulong seed) =>
        [.. new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(count)];

    private static List<IndexDocument> Documents(IEnumerable<RetailTransaction> records, string prefix) =>
        [.. records.Select((r, i) => new IndexDocument($"{prefix}-{i:D5}", r))];

    [Fact]
    public async Task CountAsync_NewIndex_Zero()
    {
        var index = await CreateIndexAsync();
        Assert.Equal(0, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_NewIds_EveryDocumentStoredAndCounted()
    {
        var index = await CreateIndexAsync();
        var docs = Documents(Records(500, 1), "a");
        var result = await index.UpsertAsync(docs);
        Assert.Equal(0, result.FailedCount);
        Assert.All(result.Items, i => Assert.True(i.Succeeded, i.Error));
        await index.FlushAsync();
        Assert.Equal(500, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_SameIdAgain_ReplacesWithoutDuplicating()
    {
        var index = await CreateIndexAsync();
        var first = Records(100, 2);
        var second = Records(100, 3);
        Assert.Equal(0, (await index.UpsertAsync(Documents(first, "same"))).FailedCount);
        Assert.Equal(0, (await index.UpsertAsync(Documents(second, "same"))).FailedCount);
        await index.FlushAsync();
        Assert.Equal(100, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_NewAndExistingIdsMixed_CountsDistinctIds()
    {
        var index = await CreateIndexAsync();
        var records = Records(300, 4);
        Assert.Equal(0, (await index.UpsertAsync(Documents(records.Take(200), "m"))).FailedCount);
        // ids m-00100 … m-00299: 100 replace existing ones, 100 are new.
        var next = records.Skip(100).Select((r, i) => new IndexDocument($"m-{i + 100:D5}", r)).ToList();
        Assert.Equal(0, (await index.UpsertAsync(next)).FailedCount);
        await index.FlushAsync();
        Assert.Equal(300, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_Results_OnePerDocumentInRequestOrder()
    {
        var index = await CreateIndexAsync();
        var docs = Documents(Records(257, 5), "o");
        var shuffled = docs.OrderBy(d => d.Id.GetHashCode(StringComparison.Ordinal) ^ 0x5bd1e995).ToList();
        var result = await index.UpsertAsync(shuffled);
        Assert.Equal(shuffled.Select(d => d.Id), result.Items.Select(i => i.Id));
        Assert.Equal(0, result.FailedCount);
    }

    [Fact]
    public async Task UpsertAsync_NoDocuments_NoItemsAndNothingStored()
    {
        var index = await CreateIndexAsync();
        var result = await index.UpsertAsync([]);
        Assert.Empty(result.Items);
        Assert.Equal(0, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_ConcurrentCallers_EveryDocumentStoredOnce()
    {
        var index = await CreateIndexAsync();
        var records = Records(800, 6);
        var batches = Enumerable.Range(0, 4).Select(b => Documents(records.Skip(b * 200).Take(200), "c" + b)).ToList();
        var results = await Task.WhenAll(batches.Select(b => index.UpsertAsync(b).AsTask()));
        Assert.All(results, r => Assert.Equal(0, r.FailedCount));
        await index.FlushAsync();
        Assert.Equal(800, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_RealDataQuirks_Stored()
    {
        var index = await CreateIndexAsync();
        var quirky = new[]
        {
            new RetailTransaction
            {
                Invoice = "C489449", StockCode = "22087", Description = " PAPER BUNTING \"VINTAGE\", PAISLEY ", Quantity = -12,
                InvoiceDate = new DateTime(2009, 12, 1, 10, 33, 0), Price = 2.95m, CustomerId = "", Country = "Australia",
            },
            new RetailTransaction
            {
                Invoice = "489597", StockCode = "BANK CHARGES", Description = "£ Bank Charges", Quantity = 1,
                InvoiceDate = new DateTime(2010, 12, 1, 8, 26, 0), Price = 0.0m, CustomerId = "13085.0", Country = "United Kingdom",
            },
        };
        var result = await index.UpsertAsync(Documents(quirky, "q"));
        Assert.Equal(0, result.FailedCount);
        await index.FlushAsync();
        Assert.Equal(2, await index.CountAsync());
    }
}
