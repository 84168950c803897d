using System.Buffers;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Retail.Codecs;
using Retail.Indexing;
using Retail.Sinks.OpenSearch;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// The OpenSearch sink's <c>_bulk</c> body: 100,000 synthetic documents (seed 7) written as NDJSON — an
/// <c>index</c> action line and a source line each, InvoiceDate ISO-8601 — by Retail's writer (Utf8JsonWriter into a
/// pooled buffer, no reflection) beside System.Text.Json's reflection serializer with its default options on a POCO
/// document and an anonymous action object (<b>baseline</b>), written through a Utf8JsonWriter with Retail's relaxed
/// escaping so both produce the same bytes (checked in the set-up on every document).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
[Config(typeof(Config))]
public class BulkBodyBenchmarks
{
    /// <summary>Documents per operation.</summary>
    public const int Documents = 100_000;

    private const string Index = "retail";

    /// <summary>Bytes of one operation's body, for the MB/s column (computed where the column is, in the host process).</summary>
    private static readonly Lazy<long> BodyBytes = new(() =>
    {
        var docs = Generate();
        using var body = new BulkBody(BulkAction.Index, isoDates: true, capacity: Documents * 330);
        foreach (var d in docs) body.Add(Index, d);
        return body.Length;
    });

    private IndexDocument[] _docs = [];

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Records/s", "Documents per second: 100,000 / Mean", () => Documents));
            AddColumn(new ThroughputColumn("MB/s", "Body megabytes (10^6 bytes) per second", () => BodyBytes.Value / 1e6));
        }
    }

    /// <summary>The source document as a plain class, for the reflection serializer.</summary>
    private sealed class BulkDocument
    {
        public required string Invoice { get; init; }
        public required string StockCode { get; init; }
        public required string Description { get; init; }
        public required int Quantity { get; init; }
        public required DateTime InvoiceDate { get; init; }
        public required decimal Price { get; init; }
        public required string Customer_ID { get; init; }
        public required string Country { get; init; }
    }

    [GlobalSetup]
    public void Setup()
    {
        _docs = Generate();
        using var ours = new BulkBody(BulkAction.Index, isoDates: true, capacity: Documents * 330);
        foreach (var d in _docs) ours.Add(Index, d);
        var baseline = new ArrayBufferWriter<byte>(Documents * 330);
        WriteBaseline(_docs, baseline);
        var a = ours.Slice(0, ours.Count).Span;
        var b = baseline.WrittenSpan;
        int at = a.CommonPrefixLength(b);
        if (at != a.Length || at != b.Length)
            throw new InvalidOperationException($"The baseline's body differs from Retail's at byte {at} of {a.Length}.");
    }

    private static IndexDocument[] Generate() =>
        [.. new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(Documents)
            .Select((r, i) => new IndexDocument("shardId-000000000000:49590338271490256608559692538" + i.ToString("D20", CultureInfo.InvariantCulture), r))];

    [Benchmark]
    public int Retail_BulkBody()
    {
        using var body = new BulkBody(BulkAction.Index, isoDates: true, capacity: Documents * 330);
        foreach (var d in _docs) body.Add(Index, d);
        return body.Length;
    }

    [Benchmark(Baseline = true)]
    public int SystemTextJson_Reflection()
    {
        var buffer = new ArrayBufferWriter<byte>(Documents * 330);
        WriteBaseline(_docs, buffer);
        return buffer.WrittenCount;
    }

    private static void WriteBaseline(IndexDocument[] docs, ArrayBufferWriter<byte> buffer)
    {
        using var json = new Utf8JsonWriter(buffer, RetailJson.WriterOptions);
        foreach (var d in docs)
        {
            json.Reset(buffer);
            JsonSerializer.Serialize(json, new { index = new { _index = Index, _id = d.Id } });
            json.Flush();
            NewLine(buffer);
            var r = d.Record;
            json.Reset(buffer);
            JsonSerializer.Serialize(json, new BulkDocument
            {
                Invoice = r.Invoice, StockCode = r.StockCode, Description = r.Description, Quantity = r.Quantity,
                InvoiceDate = r.InvoiceDate, Price = r.Price, Customer_ID = r.CustomerId, Country = r.Country,
            });
            json.Flush();
            NewLine(buffer);
        }

        static void NewLine(ArrayBufferWriter<byte> buffer)
        {
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
        }
    }

    /// <summary>A per-second column: <c>perOperation()</c> divided by the mean time of one operation.</summary>
    private sealed class ThroughputColumn(string name, string legend, Func<double> perOperation) : IColumn
    {
        public string Id => nameof(BulkBodyBenchmarks) + "." + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null || stats.Mean <= 0) return "NA";
            return (perOperation() / (stats.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture);
        }

        public override string ToString() => ColumnName;
    }
}
