using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Retail.Codecs;
using Retail.Sinks.Kinesis;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// Round trips through the Kinesis emulators the tests use (tests/setup.sh installs them): 20,000 records produced
/// into a fresh 4-shard stream with Retail's client, then read back from every shard. Reported on their own, not as a
/// ratio: the emulator is the bottleneck here (kinesalite writes LevelDB, kinesis-mock is Scala.js), not the client.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class EmulatorRoundTripBenchmarks
{
    private const int Records = 20_000;
    private static readonly BasicAWSCredentials Credentials = new("AKIDBENCHMARK", "benchmark-secret");
    private Process? _emulator;
    private string _url = "";
    private byte[][] _lines = [];

    [Params("kinesalite", "kinesis-mock")]
    public string Emulator { get; set; } = "kinesalite";

    [GlobalSetup]
    public void Setup()
    {
        _lines = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(Records).Select(RetailJson.ToJsonLine).ToArray();
        string emulators = FindEmulators();
        ProcessStartInfo start;
        if (Emulator == "kinesalite")
        {
            start = new ProcessStartInfo("node", [Path.Combine(emulators, "kinesalite-launch.js")]) { RedirectStandardInput = true, RedirectStandardOutput = true };
        }
        else
        {
            int port = FreePort();
            start = new ProcessStartInfo("node", ["main.js"]) { WorkingDirectory = Path.Combine(emulators, "node_modules", "kinesis-local"), RedirectStandardOutput = true };
            start.Environment["KINESIS_MOCK_PLAIN_PORT"] = port.ToString(CultureInfo.InvariantCulture);
            start.Environment["KINESIS_MOCK_TLS_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture);
            start.Environment["LOG_LEVEL"] = "WARN";
            start.Environment["SHOULD_PERSIST_DATA"] = "false";
            _url = $"http://127.0.0.1:{port}";
        }
        _emulator = Process.Start(start)!;
        if (Emulator == "kinesalite")
        {
            string line = _emulator.StandardOutput.ReadLine() ?? throw new InvalidOperationException("kinesalite did not start");
            _url = "http://127.0.0.1:" + line[(line.LastIndexOf(':') + 1)..];
        }
        using var manager = Manager();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                manager.DescribeAsync("none").GetAwaiter().GetResult();
            }
            catch (AwsServiceException)
            {
                break; // it answers (ResourceNotFound): ready
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(50); // not yet listening
            }
        }
    }

    private KinesisStreamManager Manager() => KinesisClientFactory.CreateManager(new KinesisOptions { ServiceUrl = _url }, Credentials);

    [GlobalCleanup]
    public void Cleanup()
    {
        _emulator?.Kill(entireProcessTree: true);
        _emulator?.Dispose();
    }

    /// <summary>Produce 20,000 records into a fresh 4-shard stream and read every one back.</summary>
    [Benchmark]
    public long ProduceAndReadBack()
    {
        string name = "bench-" + Guid.NewGuid().ToString("N")[..10];
        using (var manager = Manager()) manager.CreateStreamAsync(name, 4).GetAwaiter().GetResult();
        var stream = KinesisClientFactory.CreateStream(new KinesisOptions { ServiceUrl = _url, StreamName = name }, Credentials);
        var producer = new StreamProducer(stream);
        var random = new Random(7);
        foreach (var line in _lines) producer.AddAsync(StreamProducer.WorkshopPartitionKey(random), line).AsTask().GetAwaiter().GetResult();
        producer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        long read = 0;
        foreach (var shard in stream.ListShardsAsync().AsTask().GetAwaiter().GetResult())
        {
            var reader = stream.OpenShardReaderAsync(shard.ShardId, StartPosition.TrimHorizon).AsTask().GetAwaiter().GetResult();
            while (true)
            {
                var r = reader.ReadAsync(10_000, TimeSpan.Zero).AsTask().GetAwaiter().GetResult();
                read += r.Records.Count;
                if (r.Records.Count == 0) break;
            }
        }
        ((IDisposable)stream).Dispose();
        if (read != Records) throw new InvalidOperationException($"read back {read} of {Records}");
        return read;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string FindEmulators()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "emulators");
            if (File.Exists(Path.Combine(candidate, "kinesalite-launch.js")) && Directory.Exists(Path.Combine(candidate, "node_modules")))
                return candidate;
        }
        throw new InvalidOperationException("The Kinesis emulators are not installed: run tests/setup.sh first.");
    }
}
