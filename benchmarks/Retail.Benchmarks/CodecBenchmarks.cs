using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using Perfolizer.Metrology;
using Retail.Benchmarks.Baselines;
using Retail.Codecs;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// Retail's codecs beside their baselines, 1,000,000 synthetic records per operation (seed 7):
/// JSON lines encode (vs System.Text.Json reflection and Newtonsoft.Json), JSON lines decode (vs
/// System.Text.Json reflection) and CSV read (vs Sylvan.Data.Csv). Every baseline is checked in
/// the set-up to produce the same bytes or the same typed records as Retail's codec.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[MinColumn, MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
[Config(typeof(Config))]
public class CodecBenchmarks
{
    /// <summary>Records per operation.</summary>
    public const int Records = 1_000_000;

    private const int VerifiedRecords = 100_000;
    private const string Encode = "JsonEncode";
    private const string Decode = "JsonDecode";
    private const string Csv = "CsvRead";

    private RetailTransaction[] _records = [];
    private byte[] _json = [];
    private byte[] _csv = [];

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new RecordsPerSecondColumn());
            SummaryStyle = SummaryStyle.Default.WithSizeUnit(SizeUnit.MB);
        }
    }

    private static RetailTransaction[] Generate(int count) =>
        new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(count).ToArray();

    // ---------------------------------------------------------------- JSON lines encode

    [GlobalSetup(Targets = [nameof(Encode_Retail_JsonLinesWriter), nameof(Encode_SystemTextJson_Reflection), nameof(Encode_NewtonsoftJson)])]
    public void SetupEncode()
    {
        _records = Generate(Records);
        var sample = _records[..VerifiedRecords];
        byte[] ours = ToBytes(s => WriteOurs(sample, s));
        Verify.SameBytes(ours, ToBytes(s => SystemTextJsonBaseline.WriteLines(sample, s)), "System.Text.Json encode");
        Verify.SameBytes(ours, ToBytes(s => NewtonsoftBaseline.WriteLines(sample, s)), "Newtonsoft.Json encode");
    }

    [Benchmark, BenchmarkCategory(Encode)]
    public long Encode_Retail_JsonLinesWriter() => WriteOurs(_records, Stream.Null);

    [Benchmark(Baseline = true), BenchmarkCategory(Encode)]
    public long Encode_SystemTextJson_Reflection()
    {
        SystemTextJsonBaseline.WriteLines(_records, Stream.Null);
        return _records.Length;
    }

    [Benchmark, BenchmarkCategory(Encode)]
    public long Encode_NewtonsoftJson()
    {
        NewtonsoftBaseline.WriteLines(_records, Stream.Null);
        return _records.Length;
    }

    private static long WriteOurs(RetailTransaction[] records, Stream output)
    {
        using var writer = new JsonLinesWriter(output, leaveOpen: true);
        for (int i = 0; i < records.Length; i++) writer.Write(records[i]);
        writer.Flush();
        return writer.RecordCount;
    }

    // ---------------------------------------------------------------- JSON lines decode

    [GlobalSetup(Targets = [nameof(Decode_Retail_JsonLinesReader), nameof(Decode_SystemTextJson_Reflection)])]
    public void SetupDecode()
    {
        var records = Generate(Records);
        _json = ToBytes(s => WriteOurs(records, s));
        var sample = records[..VerifiedRecords];
        byte[] sampleJson = ToBytes(s => WriteOurs(sample, s));
        Verify.SameRecords(sample, ReadOurs(sampleJson), "Retail JsonLinesReader");
        var viaStj = new List<RetailTransaction>();
        SystemTextJsonBaseline.ReadLines(sampleJson, viaStj.Add);
        Verify.SameRecords(sample, viaStj, "System.Text.Json decode");
    }

    [Benchmark, BenchmarkCategory(Decode)]
    public long Decode_Retail_JsonLinesReader()
    {
        long quantities = 0;
        using var reader = new JsonLinesReader(new MemoryStream(_json, writable: false));
        while (reader.TryRead(out var record)) quantities += record.Quantity;
        return quantities;
    }

    [Benchmark(Baseline = true), BenchmarkCategory(Decode)]
    public long Decode_SystemTextJson_Reflection() => SystemTextJsonBaseline.ReadLines(_json);

    private static List<RetailTransaction> ReadOurs(byte[] json)
    {
        using var reader = new JsonLinesReader(new MemoryStream(json, writable: false));
        return reader.ReadAll().ToList();
    }

    // ---------------------------------------------------------------- CSV read

    [GlobalSetup(Targets = [nameof(CsvRead_Retail_OnlineRetailReader), nameof(CsvRead_Sylvan)])]
    public void SetupCsv()
    {
        var records = Generate(Records);
        _csv = ToBytes(s => WriteCsv(records, s));
        var sample = records[..VerifiedRecords];
        byte[] sampleCsv = ToBytes(s => WriteCsv(sample, s));
        using (var reader = new OnlineRetailReader(new MemoryStream(sampleCsv, writable: false)))
            Verify.SameRecords(sample, reader.ReadAll().ToList(), "Retail OnlineRetailReader");
        var viaSylvan = new List<RetailTransaction>();
        SylvanBaseline.Read(sampleCsv, viaSylvan.Add);
        Verify.SameRecords(sample, viaSylvan, "Sylvan.Data.Csv");
    }

    [Benchmark, BenchmarkCategory(Csv)]
    public long CsvRead_Retail_OnlineRetailReader()
    {
        long quantities = 0;
        using var reader = new OnlineRetailReader(new MemoryStream(_csv, writable: false));
        while (reader.TryRead(out var record)) quantities += record.Quantity;
        return quantities;
    }

    [Benchmark(Baseline = true), BenchmarkCategory(Csv)]
    public long CsvRead_Sylvan() => SylvanBaseline.Read(_csv);

    private static void WriteCsv(RetailTransaction[] records, Stream output)
    {
        using var writer = new RetailDelimitedWriter(output, DelimitedFormat.Csv, writeHeader: true, leaveOpen: true);
        foreach (var r in records) writer.Write(r);
        writer.Flush();
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] ToBytes(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static class Verify
    {
        public static void SameBytes(byte[] expected, byte[] actual, string what)
        {
            int at = expected.AsSpan().CommonPrefixLength(actual);
            if (at == expected.Length && at == actual.Length) return;
            throw new InvalidOperationException(
                $"{what}: output differs from Retail's at byte {at}: expected \"{Around(expected, at)}\", got \"{Around(actual, at)}\".");
        }

        public static void SameRecords(IReadOnlyList<RetailTransaction> expected, IReadOnlyList<RetailTransaction> actual, string what)
        {
            if (expected.Count != actual.Count)
                throw new InvalidOperationException($"{what}: {actual.Count} records, expected {expected.Count}.");
            for (int i = 0; i < expected.Count; i++)
            {
                RetailTransaction e = expected[i], a = actual[i];
                if (e != a || Text(e.Price) != Text(a.Price) || e.InvoiceDate.Kind != a.InvoiceDate.Kind)
                    throw new InvalidOperationException($"{what}: record {i} is {a}, expected {e}.");
            }
        }

        private static string Text(decimal d) => d.ToString(CultureInfo.InvariantCulture);

        private static string Around(byte[] b, int at)
        {
            int start = Math.Max(0, at - 40);
            return System.Text.Encoding.UTF8.GetString(b, start, Math.Min(b.Length, at + 40) - start);
        }
    }
}
