using System.Net;
using System.Text;
using Amazon.Runtime;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Retail.Codecs;
using Retail.Delivery;
using Retail.Sinks.Kinesis;
using Retail.Streaming;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// The Kinesis producer's client side — encode each record as a JSON line, batch 500 a call within Kinesis's limits,
/// write the PutRecords body (base64) and sign it with SigV4 — against an HTTP handler that answers at once, beside
/// the bare JSON-lines encoder (the baseline: what producing costs before any stream). And the consumer's decode
/// path: GetRecords responses (10,000 records each, base64) parsed into stream records and decoded into
/// transactions, beside decoding the same lines straight from memory. 1,000,000 records.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[Config(typeof(Config))]
public class KinesisBenchmarks
{
    private const int Records = CodecBenchmarks.Records;
    private RetailTransaction[] _records = [];
    private byte[][] _lines = [];
    private byte[][] _getRecordsResponses = [];
    private string[] _keys = [];

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RecordsPerSecondColumn());
    }

    /// <summary>Answers every PutRecords at once with one success per record in the request, as Kinesis would.</summary>
    private sealed class InstantKinesis : HttpMessageHandler
    {
        private static readonly byte[] Entry = """{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"}"""u8.ToArray();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!request.Headers.Contains("Authorization")) throw new InvalidOperationException("unsigned request");
            int count = body.AsSpan().Count("\"PartitionKey\""u8);
            using var response = new MemoryStream(count * (Entry.Length + 1) + 40);
            response.Write("""{"FailedRecordCount":0,"Records":["""u8);
            for (int i = 0; i < count; i++)
            {
                if (i > 0) response.WriteByte((byte)',');
                response.Write(Entry);
            }
            response.Write("]}"u8);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(response.ToArray()) };
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(Records).ToArray();
        _lines = _records.Select(RetailJson.ToJsonLine).ToArray();
        var random = new Random(7);
        _keys = Enumerable.Range(0, 1024).Select(_ => StreamProducer.WorkshopPartitionKey(random)).ToArray();
        var responses = new List<byte[]>();
        for (int i = 0; i < _lines.Length; i += 10_000)
        {
            var sb = new StringBuilder("{\"MillisBehindLatest\":0,\"NextShardIterator\":\"AAAA\",\"Records\":[");
            for (int j = i; j < Math.Min(i + 10_000, _lines.Length); j++)
            {
                if (j > i) sb.Append(',');
                sb.Append("{\"SequenceNumber\":\"4959033827149025660855969253836157109592157598913").Append(j.ToString("0000000", System.Globalization.CultureInfo.InvariantCulture))
                  .Append("\",\"ApproximateArrivalTimestamp\":1.733e9,\"Data\":\"").Append(Convert.ToBase64String(_lines[j]))
                  .Append("\",\"PartitionKey\":\"").Append(_keys[j % _keys.Length]).Append("\"}");
            }
            responses.Add(Encoding.UTF8.GetBytes(sb.Append("]}").ToString()));
        }
        _getRecordsResponses = [.. responses];
    }

    /// <summary>Baseline: encode every record as a JSON line.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Produce")]
    public long EncodeJsonLines()
    {
        long bytes = 0;
        foreach (var r in _records) bytes += RetailJson.ToJsonLine(r).Length;
        return bytes;
    }

    /// <summary>Encode, batch, write PutRecords bodies and sign them (SigV4), against an instant HTTP handler.</summary>
    [Benchmark]
    [BenchmarkCategory("Produce")]
    public long ProduceToKinesisClient()
    {
        using var stream = (IDisposable)KinesisClientFactory.CreateStream(
            new KinesisOptions { StreamName = "retail-trans", Region = "us-east-1", ServiceUrl = "http://127.0.0.1:1" },
            new BasicAWSCredentials("AKIDBENCHMARK", "benchmark-secret"), new InstantKinesis());
        var producer = new StreamProducer((IRecordStream)stream, new StreamProducerOptions { MaxInFlightPuts = 4 });
        for (int i = 0; i < _records.Length; i++)
            producer.AddAsync(_keys[i & 1023], RetailJson.ToJsonLine(_records[i])).AsTask().GetAwaiter().GetResult();
        producer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (producer.RecordsSent != Records) throw new InvalidOperationException($"sent {producer.RecordsSent}");
        return producer.RecordsSent;
    }

    /// <summary>Baseline: decode the JSON lines straight from memory.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Consume")]
    public long DecodeLines()
    {
        long n = 0;
        foreach (var line in _lines)
            if (JsonRecordDecoder.Instance.TryDecode(line, out _, out _)) n++;
        return n;
    }

    /// <summary>Parse GetRecords responses (base64 data) into stream records, then decode each record.</summary>
    [Benchmark]
    [BenchmarkCategory("Consume")]
    public long DecodeGetRecordsResponses()
    {
        long n = 0;
        foreach (var body in _getRecordsResponses)
        {
            var response = System.Text.Json.JsonSerializer.Deserialize(body, KinesisJsonContext.Default.GetRecordsResponse)!;
            foreach (var r in response.Records!)
            {
                var record = new StreamRecord("shardId-000000000000", r.SequenceNumber, r.PartitionKey, r.ApproximateArrivalTimestamp ?? default, r.Data);
                if (JsonRecordDecoder.Instance.TryDecode(record.Data.Span, out _, out _)) n++;
            }
        }
        if (n != Records) throw new InvalidOperationException($"decoded {n}");
        return n;
    }
}
