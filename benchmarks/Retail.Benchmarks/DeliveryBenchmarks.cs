using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// The delivery engine (stream → decode → per-prefix buffers → JSON-lines objects in the local
/// store, with checkpoints) over 1,000,000 records already in the in-process stream, beside the
/// floor a pipeline cannot beat: the same records decoded and written as JSON lines to one file.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[Config(typeof(Config))]
public class DeliveryBenchmarks
{
    private const int Records = 1_000_000;
    private byte[][] _lines = [];
    private string _root = "";
    private InProcessRecordStream? _stream;

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RecordsPerSecondColumn());
    }

    [GlobalSetup]
    public void Setup()
    {
        _lines = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(Records).Select(RetailJson.ToJsonLine).ToArray();
    }

    [IterationSetup]
    public void FillStream()
    {
        _root = Path.Combine(Path.GetTempPath(), "retail-bench-delivery-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        _stream = new InProcessRecordStream(new InProcessStreamOptions { ShardCount = 2, MaxRecordsPerShard = Records, MaxBytesPerShard = 1L << 30 });
        _stream.RegisterConsumer("delivery");
        var random = new Random(7);
        for (int i = 0; i < _lines.Length; i += StreamLimits.MaxRecordsPerPut)
        {
            var batch = _lines.Skip(i).Take(StreamLimits.MaxRecordsPerPut).Select(l => new PutRecordsEntry(StreamProducer.WorkshopPartitionKey(random), l)).ToList();
            var result = _stream.PutRecordsAsync(batch).AsTask().GetAwaiter().GetResult();
            if (result.FailedRecordCount > 0) throw new InvalidOperationException("stream refused records");
        }
        _stream.Complete();
    }

    [IterationCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    /// <summary>Baseline: decode every record and write it as a JSON line to a single file.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Delivery")]
    public long DecodeAndWriteOneFile()
    {
        using var file = File.Create(Path.Combine(_root, "all.json"));
        using var writer = new JsonLinesWriter(file);
        foreach (var line in _lines)
        {
            if (!JsonRecordDecoder.Instance.TryDecode(line, out var r, out var error)) throw new InvalidOperationException(error);
            writer.Write(r);
        }
        return writer.RecordCount;
    }

    /// <summary>The delivery engine with the workshop's settings (1 MiB / 60 s, arrival-time hourly prefixes).</summary>
    [Benchmark]
    [BenchmarkCategory("Delivery")]
    public long DeliveryEngineToLocalStore()
    {
        var engine = new DeliveryEngine(_stream!, new LocalFolderObjectStore(_root), _stream!);
        engine.RunAsync().GetAwaiter().GetResult();
        if (engine.Stats.RecordsDelivered != Records) throw new InvalidOperationException($"delivered {engine.Stats.RecordsDelivered}");
        return engine.Stats.RecordsDelivered;
    }
}
