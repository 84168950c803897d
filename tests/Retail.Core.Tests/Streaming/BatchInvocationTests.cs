using System.Text;
using System.Text.Json;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Core.Tests.Streaming;

/// <summary>One shard batch per invocation, as a Lambda handler runs the processors: the speed layer's dead letters and the delivery's checkpointed retries.</summary>
public sealed class BatchInvocationTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalFolderObjectStore _lake;
    private static readonly DateTimeOffset Arrival = new(2026, 12, 2, 10, 15, 0, TimeSpan.Zero);

    public BatchInvocationTests() => _lake = new LocalFolderObjectStore(_dir.Path);

    public void Dispose() => _dir.Dispose();

    /// <summary>An index double: rejects descriptions "REJECT ME" for good, answers each other document 429 once, then stores it.</summary>
    private sealed class Index : IUpsertIndex
    {
        private readonly HashSet<string> _throttled = [];
        public Dictionary<string, RetailTransaction> Docs { get; } = [];
        public int Calls { get; private set; }
        public bool Down { get; set; }
        public string? AlwaysThrottled { get; set; }

        public ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
        {
            Calls++;
            var items = new List<UpsertItemResult>();
            foreach (var d in documents)
            {
                if (d.Record.Invoice == AlwaysThrottled) items.Add(new UpsertItemResult(d.Id, "es_rejected_execution_exception", true) { ErrorType = "es_rejected_execution_exception" });
                else if (Down) items.Add(new UpsertItemResult(d.Id, "http 503", true) { ErrorType = "http_503" });
                else if (d.Record.Description == "REJECT ME") items.Add(new UpsertItemResult(d.Id, "mapper_parsing_exception: failed to parse field [Quantity]", false) { ErrorType = "mapper_parsing_exception", IndexName = "retail" });
                else if (_throttled.Add(d.Id)) items.Add(new UpsertItemResult(d.Id, "es_rejected_execution_exception", true) { ErrorType = "es_rejected_execution_exception" });
                else
                {
                    Docs[d.Id] = d.Record;
                    items.Add(new UpsertItemResult(d.Id, null, false));
                }
            }
            return ValueTask.FromResult(new UpsertResult(items));
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult((long)Docs.Count);
    }

    private static List<StreamRecord> Records(IEnumerable<byte[]> data, int firstSequence = 1) =>
        data.Select((d, i) => new StreamRecord("shardId-000000000000", (firstSequence + i).ToString("D20", System.Globalization.CultureInfo.InvariantCulture), "p", Arrival, d)).ToList();

    private static SpeedLayerOptions FastRetry() => new()
    {
        MaxBatchLatency = TimeSpan.FromHours(1),
        Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2), MaxTotalDuration = TimeSpan.FromSeconds(30) },
    };

    private async Task<List<(string Key, JsonElement Line)>> DeadLettersAsync()
    {
        var lines = new List<(string, JsonElement)>();
        await foreach (var o in _lake.ListAsync("error-json/"))
        {
            foreach (var line in Encoding.UTF8.GetString(await _lake.GetBytesAsync(o.Key)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                lines.Add((o.Key, JsonDocument.Parse(line).RootElement.Clone()));
        }
        return lines;
    }

    [Fact]
    public async Task RunAsync_SpeedLayerWithThrottlingRejectionAndBadJson_AllSafeAndDeadLettersHoldReasonAndRawData()
    {
        var txs = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 3 }).Generate(200).ToList();
        txs[17] = txs[17] with { Description = "REJECT ME" };
        var data = txs.Select(t => RetailJson.ToJsonLine(t)).ToList();
        data.Insert(50, "{\"Invoice\": \"1\""u8.ToArray());          // not JSON
        data.Insert(60, "{\"Invoice\":\"1\",\"StockCode\":\"2\"}"u8.ToArray()); // JSON without the other fields
        var records = Records(data);
        var index = new Index();
        var processor = new SpeedLayerProcessor(index, FastRetry(), deadLetters: _lake);

        var result = await BatchInvocation.RunAsync(processor, "retail-trans", "shardId-000000000000", records);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Empty(result.FailedSequenceNumbers);
        Assert.Equal(199, index.Docs.Count);
        Assert.Equal(3, processor.Stats.DocumentsDeadLettered);
        var dead = await DeadLettersAsync();
        Assert.Equal(3, dead.Count);
        Assert.All(dead, d => Assert.Contains("/AmazonOpenSearchService-failed/", d.Key, StringComparison.Ordinal));
        Assert.All(dead, d => Assert.StartsWith("error-json/year=2026/month=12/day=02/hour=10/", d.Key, StringComparison.Ordinal));
        var rejected = dead.Single(d => d.Line.GetProperty("errorCode").GetString() == "mapper_parsing_exception").Line;
        Assert.Equal(data[17], rejected.GetProperty("rawData").GetBytesFromBase64());
        Assert.Equal("retail", rejected.GetProperty("esIndexName").GetString());
        Assert.Equal(DocumentIds.Compute(DocumentIdMode.SourcePosition, txs[17], "retail-trans", "shardId-000000000000", records[17].SequenceNumber), rejected.GetProperty("esDocumentId").GetString());
        Assert.Contains("failed to parse field [Quantity]", rejected.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        var invalid = dead.Where(d => d.Line.GetProperty("errorCode").GetString() == SpeedLayerProcessor.InvalidRecordErrorCode).Select(d => d.Line).ToList();
        Assert.Equal(2, invalid.Count);
        Assert.Contains(invalid, l => l.GetProperty("rawData").GetBytesFromBase64().AsSpan().SequenceEqual(data[50]));
        Assert.Contains(invalid, l => l.GetProperty("errorMessage").GetString()!.Contains("missing field", StringComparison.Ordinal)
            && l.GetProperty("sourceSequenceNumber").GetString() == records[60].SequenceNumber);

        // The same event again (a Lambda retry): the same documents and the same dead-letter object, nothing twice.
        var again = await BatchInvocation.RunAsync(new SpeedLayerProcessor(index, FastRetry(), deadLetters: _lake), "retail-trans", "shardId-000000000000", records);
        Assert.True(again.Succeeded);
        Assert.Equal(199, index.Docs.Count);
        Assert.Equal(3, (await DeadLettersAsync()).Count);
    }

    [Fact]
    public async Task RunAsync_IndexDownUntilTheDeadline_ReportsEveryUnstoredRecordAndThrowsNothing()
    {
        var data = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 4 }).Generate(20).Select(t => RetailJson.ToJsonLine(t)).ToList();
        var records = Records(data, firstSequence: 100);
        var index = new Index { Down = true };
        using var deadline = new CancellationTokenSource();
        var options = FastRetry();
        options.Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1), MaxTotalDuration = TimeSpan.FromMinutes(5) };
        var processor = new SpeedLayerProcessor(index, options, deadLetters: _lake);
        var run = BatchInvocation.RunAsync(processor, "retail-trans", "shardId-000000000000", records, cancellationToken: deadline.Token);
        while (index.Calls < 3 && !run.IsCompleted) await Task.Yield();
        await deadline.CancelAsync();
        var result = await run;

        Assert.False(result.Succeeded);
        Assert.IsAssignableFrom<OperationCanceledException>(result.Failure);
        Assert.Equal(records.Select(r => r.SequenceNumber), result.FailedSequenceNumbers);
        Assert.Empty(index.Docs);
    }

    [Fact]
    public async Task RunAsync_OneDocumentThrottledUntilTheDeadline_ReportsExactlyThatRecord()
    {
        var txs = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 8 }).Generate(50).ToList();
        var records = Records(txs.Select(t => RetailJson.ToJsonLine(t)));
        var index = new Index { AlwaysThrottled = txs[23].Invoice };
        var options = FastRetry();
        options.Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1), MaxTotalDuration = TimeSpan.FromMinutes(5) };
        using var deadline = new CancellationTokenSource();
        var run = BatchInvocation.RunAsync(new SpeedLayerProcessor(index, options, deadLetters: _lake), "retail-trans", "shardId-000000000000", records, cancellationToken: deadline.Token);
        while (index.Calls < 4 && !run.IsCompleted) await Task.Yield();
        await deadline.CancelAsync();
        var result = await run;

        Assert.False(result.Succeeded);
        Assert.Equal(txs.Count(t => t.Invoice != txs[23].Invoice), index.Docs.Count);
        Assert.Equal(records.Where((r, i) => txs[i].Invoice == txs[23].Invoice).Select(r => r.SequenceNumber), result.FailedSequenceNumbers);
    }

    /// <summary>A lake whose error prefix cannot be written (permission denied): every other key is stored.</summary>
    private sealed class NoErrorOutput(IObjectStore inner) : IObjectStore
    {
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
            key.StartsWith("error-json/", StringComparison.Ordinal) ? throw new UnauthorizedAccessException($"Access to '{key}' is denied.") : inner.PutAsync(key, data, cancellationToken);
        public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, cancellationToken);
        public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);
        public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);
        public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) => inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    [Fact]
    public async Task RunAsync_DeadLettersCannotBeWritten_ReportsExactlyTheInvalidAndRejectedRecords()
    {
        var txs = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 13 }).Generate(40).ToList();
        txs[7] = txs[7] with { Description = "REJECT ME" };
        var data = txs.Select(t => RetailJson.ToJsonLine(t)).ToList();
        data[30] = "not json"u8.ToArray();
        var records = Records(data);
        var index = new Index();

        var result = await BatchInvocation.RunAsync(new SpeedLayerProcessor(index, FastRetry(), deadLetters: new NoErrorOutput(_lake)), "retail-trans", "shardId-000000000000", records);

        Assert.False(result.Succeeded);
        Assert.Contains("dead letters", result.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal([records[7].SequenceNumber, records[30].SequenceNumber], result.FailedSequenceNumbers);
        Assert.Equal(38, index.Docs.Count);
    }

    [Fact]
    public async Task RunAsync_DeliveryWithCheckpoints_SameEventTwiceAndOverlappingRetry_EveryRecordDeliveredExactlyOnce()
    {
        var txs = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 6 }).Generate(30).ToList();
        var records = Records(txs.Select(t => RetailJson.ToJsonLine(t)));
        var lake = new RetailLakeDefinition();
        var checkpoints = new ObjectStoreCheckpointStore(_lake, "retail-trans", lake);
        DeliveryProcessor Processor() => new(_lake, new DeliveryOptions { DeliveryStreamName = "retail-trans" }.UseLake(lake, eventTime: true));

        var first = await BatchInvocation.RunAsync(Processor(), "retail-trans", "shardId-000000000000", records[..20], checkpoints, "delivery-lambda");
        var twice = await BatchInvocation.RunAsync(Processor(), "retail-trans", "shardId-000000000000", records[..20], checkpoints, "delivery-lambda");
        var overlap = await BatchInvocation.RunAsync(Processor(), "retail-trans", "shardId-000000000000", records[10..], checkpoints, "delivery-lambda");

        Assert.True(first.Succeeded && twice.Succeeded && overlap.Succeeded);
        Assert.Equal(20, twice.RecordsSkipped);
        Assert.Equal(10, overlap.RecordsSkipped);
        var lines = new List<string>();
        await foreach (var o in _lake.ListAsync("json-data/"))
            lines.AddRange(Encoding.UTF8.GetString(await _lake.GetBytesAsync(o.Key)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(txs.Select(t => Encoding.UTF8.GetString(RetailJson.ToJsonLine(t)).TrimEnd('\n')).Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        Assert.Equal(records[^1].SequenceNumber, (await checkpoints.LoadAsync("delivery-lambda", "shardId-000000000000"))!.SequenceNumber);
    }

    [Fact]
    public async Task RunAsync_RecordOfAnotherShard_IsRefused()
    {
        var records = Records([RetailJson.ToJsonLine(new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 1 }).Generate(1).Single())]);
        await Assert.ThrowsAsync<ArgumentException>(() => BatchInvocation.RunAsync(new SpeedLayerProcessor(new Index()), "s", "shardId-000000000001", records));
    }
}
