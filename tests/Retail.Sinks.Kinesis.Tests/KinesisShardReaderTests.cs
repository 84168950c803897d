using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Retail.Streaming;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// The shard reader's pacing and renewal on a scripted Kinesis (an HTTP handler answering from the API reference's
/// shapes) and a fake clock: at most 5 GetRecords calls a second per shard, a second's pause after an empty or
/// throttled read, and an expired iterator renewed after the last record returned.
/// </summary>
public sealed class KinesisShardReaderTests
{
    private sealed class ScriptedKinesis(FakeTimeProvider time, Func<int, string, (HttpStatusCode, string)> getRecords) : HttpMessageHandler
    {
        public List<(string Operation, DateTimeOffset At, string Body)> Calls { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string op = request.Headers.GetValues("X-Amz-Target").Single().Split('.')[1];
            string body = await request.Content!.ReadAsStringAsync(cancellationToken);
            int n;
            lock (Calls)
            {
                Calls.Add((op, time.GetUtcNow(), body));
                n = Calls.Count(c => c.Operation == op);
            }
            var (status, json) = op switch
            {
                "GetShardIterator" => (HttpStatusCode.OK, $$"""{"ShardIterator":"iterator-{{n}}"}"""),
                "GetRecords" => getRecords(n, body),
                _ => (HttpStatusCode.BadRequest, """{"__type":"UnknownOperationException"}"""),
            };
            return new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/x-amz-json-1.1") };
        }
    }

    private static string Records(int from, int count, string next = "next") =>
        "{\"MillisBehindLatest\":0,\"NextShardIterator\":\"" + next + "\",\"Records\":[" +
        string.Join(",", Enumerable.Range(from, count).Select(i => $$"""{"SequenceNumber":"{{100 + i}}","ApproximateArrivalTimestamp":1700000000.5,"Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}","PartitionKey":"k"}""")) + "]}";

    private static async Task<T> RunOnFakeClockAsync<T>(FakeTimeProvider time, Task<T> task)
    {
        // Let the fake clock move only while the reader waits on it.
        while (!task.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            await Task.Yield();
        }
        return await task;
    }

    private static (IRecordStream Stream, ScriptedKinesis Kinesis, FakeTimeProvider Time) Create(Func<int, string, (HttpStatusCode, string)> getRecords)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
        var kinesis = new ScriptedKinesis(time, getRecords);
        var stream = KinesisClientFactory.CreateStream(new KinesisOptions { StreamName = "s", ServiceUrl = "http://127.0.0.1:9" }, KinesisTestStreams.Credentials, kinesis, time);
        return (stream, kinesis, time);
    }

    [Fact]
    public async Task ReadAsync_EmptyThenRecords_NoTwoCallsWithin200MsAndASecondAfterEachEmptyRead()
    {
        var (stream, kinesis, time) = Create((n, _) => (HttpStatusCode.OK, n switch { <= 3 => Records(0, 0), 4 => Records(0, 2), 5 => Records(2, 1), _ => Records(0, 0) }));
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);

        var first = await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.FromSeconds(2.5)).AsTask());
        Assert.Empty(first.Records);
        var second = await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.FromSeconds(10)).AsTask());
        Assert.Equal(["0", "1"], second.Records.Select(r => Encoding.UTF8.GetString(r.Data.Span)));
        var third = await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.FromSeconds(10)).AsTask());
        Assert.Equal(["2"], third.Records.Select(r => Encoding.UTF8.GetString(r.Data.Span)));

        var reads = kinesis.Calls.Where(c => c.Operation == "GetRecords").Select(c => c.At).ToList();
        Assert.Equal(5, reads.Count);
        var gaps = reads.Zip(reads.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps.Take(3), g => Assert.True(g >= TimeSpan.FromSeconds(1), $"{g} after an empty read"));
        Assert.True(gaps[3] >= TimeSpan.FromMilliseconds(200), $"{gaps[3]} between two reads");
        // Each call continues from the iterator the previous one returned.
        Assert.Contains("\"ShardIterator\":\"next\"", kinesis.Calls.Last(c => c.Operation == "GetRecords").Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_Throttled_ThrowsTransientKeepsTheIteratorAndWaitsASecondBeforeTheNextCall()
    {
        var (stream, kinesis, time) = Create((n, _) => n == 1
            ? (HttpStatusCode.BadRequest, """{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000"}""")
            : (HttpStatusCode.OK, Records(0, 1)));
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);

        var e = await Assert.ThrowsAsync<AwsServiceException>(() => RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.Zero).AsTask()));
        Assert.Equal("ProvisionedThroughputExceededException", e.ErrorCode);
        Assert.True(FailureClassification.IsTransient(e));
        var read = await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.Zero).AsTask());
        Assert.Single(read.Records);

        var reads = kinesis.Calls.Where(c => c.Operation == "GetRecords").ToList();
        Assert.True(reads[1].At - reads[0].At >= TimeSpan.FromSeconds(1));
        Assert.All(reads, r => Assert.Contains("iterator-1", r.Body, StringComparison.Ordinal)); // the throttled call's iterator is reused
    }

    [Fact]
    public async Task ReadAsync_IteratorExpired_RenewedAfterTheLastRecordReturned()
    {
        var (stream, kinesis, time) = Create((n, _) => n switch
        {
            1 => (HttpStatusCode.OK, Records(0, 3)),
            2 => (HttpStatusCode.BadRequest, """{"__type":"ExpiredIteratorException","message":"Iterator expired."}"""),
            _ => (HttpStatusCode.OK, Records(3, 1)),
        });
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);
        Assert.Equal(3, (await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.Zero).AsTask())).Records.Count);
        var after = await RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.FromSeconds(5)).AsTask());
        Assert.Equal(["3"], after.Records.Select(r => Encoding.UTF8.GetString(r.Data.Span)));

        var renewal = kinesis.Calls.Where(c => c.Operation == "GetShardIterator").ToList();
        Assert.Equal(2, renewal.Count);
        Assert.Contains("\"ShardIteratorType\":\"TRIM_HORIZON\"", renewal[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"ShardIteratorType\":\"AFTER_SEQUENCE_NUMBER\"", renewal[1].Body, StringComparison.Ordinal);
        Assert.Contains("\"StartingSequenceNumber\":\"102\"", renewal[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ClosedShardWithoutChildShards_ChildrenFoundThroughListShards()
    {
        var (stream, kinesis, time) = Create((_, _) => (HttpStatusCode.OK, """{"MillisBehindLatest":0,"Records":[]}"""));
        await using var reader = await stream.OpenShardReaderAsync("shardId-000000000000", StartPosition.TrimHorizon);
        // ListShards is not scripted: the error names it, which shows the reader asked.
        var e = await Assert.ThrowsAsync<AwsServiceException>(() => RunOnFakeClockAsync(time, reader.ReadAsync(100, TimeSpan.Zero).AsTask()));
        Assert.Equal("ListShards", e.Operation);
    }

    [Theory]
    [InlineData("ProvisionedThroughputExceededException", 400, true)]
    [InlineData("LimitExceededException", 400, true)]
    [InlineData("KMSThrottlingException", 400, true)]
    [InlineData("InternalFailure", 500, true)]
    [InlineData("ServiceUnavailable", 503, true)]
    [InlineData("ResourceNotFoundException", 400, false)]
    [InlineData("ResourceInUseException", 400, false)]
    [InlineData("InvalidArgumentException", 400, false)]
    [InlineData("KMSAccessDeniedException", 400, false)]
    [InlineData("KMSDisabledException", 400, false)]
    [InlineData("AccessDeniedException", 400, false)]
    [InlineData("ExpiredIteratorException", 400, false)]
    public void AwsServiceException_ErrorCode_ClassifiedForTheRetryPipeline(string code, int status, bool transient)
    {
        var e = new AwsServiceException("Kinesis", "GetRecords", code, "m", status, "req-1");
        Assert.Equal(transient, FailureClassification.IsTransient(e));
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
        Assert.Contains("req-1", e.Message, StringComparison.Ordinal);
    }
}
