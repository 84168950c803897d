using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Retail.Core.Tests;
using Retail.Indexing;
using Retail.Synthetic;
using Xunit.Abstractions;

namespace Retail.Sinks.DuckDb.Tests;

public class DuckDbUpsertIndexTests(ITestOutputHelper output)
{
    private const string Stream = "retail-trans";
    private const string Shard = "shardId-000000000000";
    private const int BatchSize = 10_000;

    private static IEnumerable<IndexDocument> Documents(DocumentIdMode mode, long count, ulong seed = 7) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(count)
            .Select((r, i) => new IndexDocument(DocumentIds.Compute(mode, r, Stream, Shard, i.ToString(CultureInfo.InvariantCulture)), r));

    private static async Task<(int Failed, TimeSpan Elapsed)> UpsertAllAsync(DuckDbUpsertIndex index, IEnumerable<IndexDocument> documents)
    {
        int failed = 0;
        var elapsed = TimeSpan.Zero;
        foreach (var batch in documents.Chunk(BatchSize))
        {
            long started = Stopwatch.GetTimestamp();
            var result = await index.UpsertAsync(batch);
            elapsed += Stopwatch.GetElapsedTime(started);
            failed += result.FailedCount;
            Assert.Equal(batch.Length, result.Items.Count);
        }
        return (failed, elapsed);
    }

    [Fact]
    public async Task UpsertAsync_MillionRecordsWithSourcePositionIds_MillionDocuments()
    {
        using var dir = new TempDir();
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });

        var (failed, elapsed) = await UpsertAllAsync(index, Documents(DocumentIdMode.SourcePosition, 1_000_000));

        output.WriteLine($"1,000,000 documents upserted in batches of {BatchSize:N0} in {elapsed.TotalSeconds:F1} s ({1_000_000 / elapsed.TotalSeconds:N0} docs/s)");
        Assert.Equal(0, failed);
        Assert.Equal(1_000_000, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_MillionRecordsWithWorkshopMd5PrefixIds_CollisionsLoseDocuments()
    {
        using var dir = new TempDir();
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { DatabasePath = Path.Combine(dir.Path, "workshop.duckdb") });
        var keysById = new Dictionary<string, List<string>>(1_000_000, StringComparer.Ordinal);
        var documents = Documents(DocumentIdMode.WorkshopMd5Prefix, 1_000_000).Select(d =>
        {
            string key = DocumentIds.BusinessKey(d.Record);
            if (!keysById.TryGetValue(d.Id, out var keys)) keysById[d.Id] = keys = [];
            if (!keys.Contains(key)) keys.Add(key);
            return d;
        });

        var (failed, elapsed) = await UpsertAllAsync(index, documents);

        long count = await index.CountAsync();
        var collisions = keysById.Where(kv => kv.Value.Count > 1).ToList();
        output.WriteLine($"WorkshopMd5Prefix: 1,000,000 records -> {count:N0} documents in {elapsed.TotalSeconds:F1} s; " +
                         $"{collisions.Count} ids shared by different business keys (Invoice:StockCode:Customer_ID), e.g.:");
        foreach (var (id, keys) in collisions.Take(5)) output.WriteLine($"  md5[:8] {id} <- {string.Join("  and  ", keys)}");
        Assert.Equal(0, failed);
        Assert.Equal(keysById.Count, count);
        Assert.True(count < 1_000_000);
        Assert.NotEmpty(collisions);
    }

    [Fact]
    public async Task UpsertAsync_SameBatchTwice_CountUnchangedAndContentReplaced()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var batch = Documents(DocumentIdMode.SourcePosition, 10_000).ToList();
        await index.UpsertAsync(batch);
        var changed = batch.Select(d => d with { Record = d.Record with { Quantity = d.Record.Quantity + 100, Description = d.Record.Description + " (v2)" } }).ToList();

        var again = await index.UpsertAsync(batch);
        long afterSame = await index.CountAsync();
        var replaced = await index.UpsertAsync(changed);
        long afterChanged = await index.CountAsync();

        Assert.Equal(0, again.FailedCount);
        Assert.Equal(0, replaced.FailedCount);
        Assert.Equal(10_000, afterSame);
        Assert.Equal(10_000, afterChanged);
        var row = (await index.QueryAsync("SELECT quantity, description, count(*) OVER () FROM retail WHERE doc_id = ?", [batch[42].Id])).Rows.Single();
        Assert.Equal(batch[42].Record.Quantity + 100, row[0]);
        Assert.Equal(batch[42].Record.Description + " (v2)", row[1]);
        var sum = await index.QueryAsync("SELECT sum(quantity) FROM retail");
        Assert.Equal(changed.Sum(d => (long)d.Record.Quantity), (long)(System.Numerics.BigInteger)sum.Rows.Single()[0]!);
    }

    [Fact]
    public async Task UpsertAsync_RecordFields_StoredExactly()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var record = new RetailTransaction
        {
            Invoice = "C489449", StockCode = "BANK CHARGES", Description = "  £ POUND, \"QUOTED\"  ", Quantity = -12,
            InvoiceDate = new DateTime(2009, 12, 1, 7, 45, 0), Price = 0.0m, CustomerId = "", Country = "United Kingdom",
        };

        await index.UpsertAsync([new IndexDocument("id-1", record)]);
        var result = await index.QueryAsync("SELECT * FROM retail");

        Assert.Equal(["doc_id", "invoice", "stockcode", "description", "quantity", "invoicedate", "price", "customer_id", "country", "doc_key"], result.Columns);
        Assert.Equal(["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP", "DECIMAL(38,4)", "VARCHAR", "VARCHAR", "UUID"], result.ColumnTypes);
        Assert.Equal<object?>(["id-1", "C489449", "BANK CHARGES", "  £ POUND, \"QUOTED\"  ", -12, new DateTime(2009, 12, 1, 7, 45, 0), 0m, "", "United Kingdom",
            new Guid(System.Security.Cryptography.MD5.HashData("id-1"u8))], result.Rows.Single());
    }

    [Fact]
    public async Task UpsertAsync_DuplicateIdsInOneBatch_LastWins()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var records = Documents(DocumentIdMode.SourcePosition, 3).Select(d => d.Record).ToList();

        var result = await index.UpsertAsync([new("a", records[0]), new("b", records[1]), new("a", records[2])]);

        Assert.Equal(0, result.FailedCount);
        Assert.Equal(["a", "b", "a"], result.Items.Select(i => i.Id));
        Assert.Equal(2, await index.CountAsync());
        Assert.Equal(records[2].Invoice, (await index.QueryAsync("SELECT invoice FROM retail WHERE doc_id = 'a'")).Rows.Single()[0]);
    }

    [Fact]
    public async Task UpsertAsync_UnstorableDocuments_RejectedOneByOneNotRetryable()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var good = Documents(DocumentIdMode.SourcePosition, 2).ToList();
        var r = good[0].Record;
        IndexDocument[] batch =
        [
            good[0],
            new("", r),
            new("nul-description", r with { Description = "A\0B" }),
            new("five-decimals", r with { Price = 1.23456m }),
            new("too-large", r with { Price = 100_000_000_000_000m }),
            new("lone-surrogate", r with { Country = "\uD800" }),
            new("null-record", null!),
            good[1],
        ];

        var result = await index.UpsertAsync(batch);

        Assert.Equal([true, false, false, false, false, false, false, true], result.Items.Select(i => i.Succeeded));
        Assert.All(result.Items.Where(i => !i.Succeeded), i => Assert.False(i.Retryable));
        Assert.Contains("Description", result.Items[2].Error, StringComparison.Ordinal);
        Assert.Contains("1.23456", result.Items[3].Error, StringComparison.Ordinal);
        Assert.Equal(2, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_BatchLevelFailure_EveryItemFailedRetryableAndNothingWritten()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "constrained.duckdb");
        using (var connection = new DuckDBConnection("Data Source=" + path))
        {
            // An existing table with a constraint DuckDB checks per statement, not per row.
            connection.Open();
            TestLake.Execute(connection, "CREATE TABLE retail (doc_id VARCHAR NOT NULL, invoice VARCHAR NOT NULL, stockcode VARCHAR NOT NULL, " +
                "description VARCHAR NOT NULL, quantity INTEGER NOT NULL CHECK (quantity < 100), invoicedate TIMESTAMP NOT NULL, price DECIMAL(18,4) NOT NULL, " +
                "customer_id VARCHAR NOT NULL, country VARCHAR NOT NULL, doc_key UUID PRIMARY KEY)");
        }
        await using var index = new DuckDbUpsertIndex(path);
        var docs = Documents(DocumentIdMode.SourcePosition, 100).ToList();
        docs[50] = docs[50] with { Record = docs[50].Record with { Quantity = 1000 } };

        var result = await index.UpsertAsync(docs);

        Assert.Equal(100, result.FailedCount);
        Assert.All(result.Items, i => Assert.True(i.Retryable));
        Assert.Contains("CHECK", result.Items[0].Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await index.CountAsync());
        // The index still works afterwards.
        docs[50] = docs[50] with { Record = docs[50].Record with { Quantity = 1 } };
        Assert.Equal(0, (await index.UpsertAsync(docs)).FailedCount);
        Assert.Equal(100, await index.CountAsync());
    }

    [Fact]
    public void Constructor_TableWithOtherColumns_FailsNamingTheColumnsAndTheFix()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "old.duckdb");
        using (var connection = new DuckDBConnection("Data Source=" + path))
        {
            connection.Open();
            TestLake.Execute(connection, "CREATE TABLE retail (doc_id VARCHAR PRIMARY KEY, invoice VARCHAR NOT NULL)");
        }

        var e = Assert.Throws<InvalidOperationException>(() => new DuckDbUpsertIndex(path));
        Assert.Contains("(doc_id, invoice)", e.Message, StringComparison.Ordinal);
        Assert.Contains("doc_key", e.Message, StringComparison.Ordinal);
        Assert.Contains("TableName", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_KibanaChart_SumOfQuantityByInvoiceDate()
    {
        await using var index = new DuckDbUpsertIndex(DuckDbUpsertIndex.InMemory);
        var docs = Documents(DocumentIdMode.SourcePosition, 5_000).ToList();
        await index.UpsertAsync(docs);

        var result = await index.QueryAsync("SELECT invoicedate, sum(quantity) FROM retail GROUP BY 1 ORDER BY 1", maxRows: 100_000);

        var expected = docs.GroupBy(d => d.Record.InvoiceDate).OrderBy(g => g.Key).Select(g => (g.Key, (decimal)g.Sum(d => (long)d.Record.Quantity))).ToList();
        Assert.Equal(expected, result.Rows.Select(r => ((DateTime)r[0]!, (decimal)(System.Numerics.BigInteger)r[1]!)).ToList());
    }

    [Fact]
    public async Task Constructor_LakePathOnly_DatabaseUnderRetailFolderAndOutsideTheTables()
    {
        using var dir = new TempDir();
        var records = TestLake.ReadSample();
        TestLake.WriteJson(dir.Path, records);
        await using (var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path }))
        {
            Assert.Equal(Path.Combine(dir.Path, "_retail", "speed-layer.duckdb"), index.DatabasePath);
            await index.UpsertAsync(Documents(DocumentIdMode.SourcePosition, 10).ToList());
        }
        Assert.True(File.Exists(Path.Combine(dir.Path, "_retail", "speed-layer.duckdb")));

        using var engine = new DuckDbQueryEngine(dir.Path);
        Assert.Equal((long)records.Count, (await engine.QueryAsync("SELECT count(*) FROM retail_trans_json")).Rows.Single()[0]);

        // Reopening keeps the documents.
        await using var reopened = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });
        Assert.Equal(10, await reopened.CountAsync());
    }

    [Fact]
    public async Task QueryAsync_IndexSettings_NoExtensionsNetworkOrOtherFilesAndLocked()
    {
        using var dir = new TempDir();
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });

        var row = (await index.QueryAsync("SELECT current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions'), " +
            "current_setting('enable_external_access'), current_setting('lock_configuration')")).Rows.Single();

        Assert.Equal<object?>([false, false, false, true], row);
        await Assert.ThrowsAnyAsync<Exception>(async () => await index.QueryAsync("SET autoinstall_known_extensions = true"));
        await Assert.ThrowsAnyAsync<Exception>(async () => await index.QueryAsync("SELECT * FROM read_csv('/etc/passwd')"));
        string outside = Path.Combine(dir.Path, "written-by-sql.csv").Replace('\\', '/');
        await Assert.ThrowsAnyAsync<Exception>(async () => await index.QueryAsync($"COPY (SELECT 1) TO '{outside}'"));
        Assert.False(File.Exists(outside));

        // The index itself still writes and reopens (it checkpoints on close); SQL may not checkpoint it.
        var docs = Documents(DocumentIdMode.SourcePosition, 10).ToList();
        Assert.Equal(0, (await index.UpsertAsync(docs)).FailedCount);
        var checkpoint = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await index.QueryAsync("CHECKPOINT"));
        Assert.Contains("read-only", checkpoint.Message, StringComparison.Ordinal);
        await index.DisposeAsync();
        await using var reopened = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });
        Assert.Equal(10, await reopened.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_ExtremePricesAndQuantities_StoredExactlyAndSumsExact()
    {
        using var dir = new TempDir();
        const decimal max = RetailPrice.MaxMagnitude;
        var template = Documents(DocumentIdMode.SourcePosition, 1).Single().Record;
        (int Quantity, decimal Price)[] values =
            [(int.MaxValue, max), (int.MinValue, -max), (int.MaxValue, max), (int.MinValue, max), (1, 12345678901.2345m), (-1, 9007199254.7409m), (5, 0.0001m)];
        var docs = values.Select((v, i) => new IndexDocument($"d{i}", template with { Quantity = v.Quantity, Price = v.Price })).ToList();
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { LakePath = dir.Path });

        Assert.Equal(0, (await index.UpsertAsync(docs)).FailedCount);
        var prices = await index.QueryAsync("SELECT price, CAST(price AS VARCHAR) FROM retail ORDER BY doc_id");
        var sums = (await index.QueryAsync("SELECT sum(quantity*price), sum(price*quantity), sum(price), max(quantity*price) FROM retail")).Rows.Single();

        Assert.Equal("DECIMAL(38,4)", prices.ColumnTypes[0]);
        Assert.Equal(values.Select(v => (object?)v.Price), prices.Rows.Select(r => r[0]));
        Assert.Equal(values.Select(v => v.Price.ToString("0.0000", CultureInfo.InvariantCulture)), prices.Rows.Select(r => (string)r[1]!));
        decimal revenue = values.Sum(v => v.Quantity * v.Price);
        Assert.Equal<object?>([revenue, revenue, values.Sum(v => v.Price), values.Max(v => v.Quantity * v.Price)], sums);
    }

    [Fact]
    public async Task Constructor_IndexStoringDecimal38Price_NarrowedInPlaceValuesKeptQueriesStillWide()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "v1.duckdb");
        var doc = Documents(DocumentIdMode.SourcePosition, 1).Single();
        using (var connection = new DuckDBConnection("Data Source=" + path))
        {
            // An index made by a development build that stored price as DECIMAL(38,4), holding the largest price.
            connection.Open();
            TestLake.Execute(connection, "CREATE TABLE retail (doc_id VARCHAR NOT NULL, invoice VARCHAR NOT NULL, stockcode VARCHAR NOT NULL, " +
                "description VARCHAR NOT NULL, quantity INTEGER NOT NULL, invoicedate TIMESTAMP NOT NULL, price DECIMAL(38,4) NOT NULL, " +
                "customer_id VARCHAR NOT NULL, country VARCHAR NOT NULL, doc_key UUID PRIMARY KEY);" +
                "INSERT INTO retail VALUES ('old', 'i', 's', 'd', 2147483647, TIMESTAMP '2010-01-01 00:00:00', 99999999999999.9999, '', 'c', uuid())");
        }

        await using var index = new DuckDbUpsertIndex(path);
        Assert.Equal(0, (await index.UpsertAsync([doc])).FailedCount);
        var result = await index.QueryAsync("SELECT typeof(price), sum(quantity*price) FROM retail WHERE doc_id = 'old' GROUP BY 1");

        var stored = await index.QueryAsync("SELECT typeof(price) FROM v1.main.retail LIMIT 1");

        Assert.Equal<object?>(["DECIMAL(38,4)", 2147483647m * 99_999_999_999_999.9999m], result.Rows.Single());
        Assert.Equal<object?>("DECIMAL(18,4)", stored.Rows.Single()[0]);
        Assert.Equal(2, await index.CountAsync());
    }

    public static TheoryData<string> IndexWrites => new()
    {
        "DELETE FROM retail", "UPDATE retail SET price = 0", "INSERT INTO retail SELECT * FROM retail", "INSERT OR REPLACE INTO retail SELECT * FROM retail",
        "DROP TABLE retail", "ALTER TABLE retail DROP COLUMN country", "TRUNCATE retail", "CREATE TABLE x AS SELECT 1 AS a", "CHECKPOINT", "VACUUM",
        "COPY retail TO '{dir}/copy.csv'", "EXPORT DATABASE '{dir}/export'", "ATTACH '{dir}/other.duckdb' AS other", "SET checkpoint_threshold = '1KB'",
        "SELECT * FROM checkpoint()", "SELECT * FROM force_checkpoint()", "EXPLAIN ANALYZE DELETE FROM retail", "SELECT 1; DELETE FROM retail",
    };

    [Theory]
    [MemberData(nameof(IndexWrites))]
    public async Task QueryAsync_StatementThatWritesOrChangesState_RefusedAndIndexUnchanged(string statement)
    {
        using var dir = new TempDir();
        var options = new DuckDbIndexOptions { LakePath = dir.Path };
        await using var index = new DuckDbUpsertIndex(options);
        Assert.Equal(0, (await index.UpsertAsync(Documents(DocumentIdMode.SourcePosition, 100).ToList())).FailedCount);
        string folder = Path.GetDirectoryName(index.DatabasePath)!;
        string sql = statement.Replace("{dir}", folder.Replace('\\', '/'), StringComparison.Ordinal);
        var rows = (await index.QueryAsync("SELECT * FROM retail ORDER BY doc_id")).Rows;
        var before = TestLake.Snapshot(folder);

        var e = await Assert.ThrowsAsync<DuckDbQueryException>(async () => await index.QueryAsync(sql));

        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, TestLake.Snapshot(folder));
        Assert.Equal(rows, (await index.QueryAsync("SELECT * FROM retail ORDER BY doc_id")).Rows);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowNamingTheSettingAndValue()
    {
        var table = Assert.Throws<ArgumentException>(() => new DuckDbUpsertIndex(new DuckDbIndexOptions { DatabasePath = DuckDbUpsertIndex.InMemory, TableName = "retail-index" }));
        Assert.Contains("DuckDbIndexOptions.TableName", table.Message, StringComparison.Ordinal);
        Assert.Contains("'retail-index'", table.Message, StringComparison.Ordinal);

        var sizes = Assert.Throws<ArgumentException>(() => new DuckDbUpsertIndex(new DuckDbIndexOptions { DatabasePath = DuckDbUpsertIndex.InMemory, CheckpointThreshold = "big", Threads = -1 }));
        Assert.Contains("DuckDbIndexOptions.CheckpointThreshold must be a size such as '128MB' (got 'big')", sizes.Message, StringComparison.Ordinal);
        Assert.Contains("DuckDbIndexOptions.Threads", sizes.Message, StringComparison.Ordinal);

        var path = Assert.Throws<ArgumentException>(() => new DuckDbUpsertIndex(new DuckDbIndexOptions()));
        Assert.Contains("DuckDbIndexOptions.DatabasePath is required", path.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_CustomTableName_Used()
    {
        await using var index = new DuckDbUpsertIndex(new DuckDbIndexOptions { DatabasePath = DuckDbUpsertIndex.InMemory, TableName = "trans" });

        await index.UpsertAsync(Documents(DocumentIdMode.SourcePosition, 3).ToList());

        Assert.Equal(3L, (await index.QueryAsync("SELECT count(*) FROM trans")).Rows.Single()[0]);
        Assert.Equal("trans", index.TableName);
    }
}
