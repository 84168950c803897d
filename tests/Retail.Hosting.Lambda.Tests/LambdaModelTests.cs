using System.Text;
using System.Text.Json;

namespace Retail.Hosting.Lambda.Tests;

public sealed class LambdaModelTests
{
    // The developer guide's sample Kinesis event ("Using AWS Lambda with Amazon Kinesis").
    private const string GuideSample = """
        {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898",
        "data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0",
        "eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record",
        "invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}
        """;

    [Fact]
    public void KinesisEvent_GuideSample_DeserializesEveryField()
    {
        var e = JsonSerializer.Deserialize(GuideSample, LambdaJsonContext.Default.KinesisEvent)!;
        var r = Assert.Single(e.Records!);
        Assert.Equal("1.0", r.Kinesis!.KinesisSchemaVersion);
        Assert.Equal("1", r.Kinesis.PartitionKey);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", r.Kinesis.SequenceNumber);
        Assert.Equal("SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", r.Kinesis.Data);
        Assert.Equal(1545084650.987, r.Kinesis.ApproximateArrivalTimestamp);
        Assert.Equal("aws:kinesis", r.EventSource);
        Assert.Equal("1.0", r.EventVersion);
        Assert.Equal("shardId-000000000006:49590338271490256608559692538361571095921575989136588898", r.EventId);
        Assert.Equal("aws:kinesis:record", r.EventName);
        Assert.Equal("arn:aws:iam::123456789012:role/lambda-role", r.InvokeIdentityArn);
        Assert.Equal("us-east-2", r.AwsRegion);
        Assert.Equal("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", r.EventSourceArn);

        var shard = Assert.Single(KinesisBatches.Group(e));
        Assert.Equal("lambda-stream", shard.StreamName);
        Assert.Equal("shardId-000000000006", shard.ShardId);
        var record = Assert.Single(shard.Records);
        Assert.Equal("Hello, this is a test.", Encoding.UTF8.GetString(record.Data.Span));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1545084650987), record.ApproximateArrivalTimestamp);
        Assert.Equal("1", record.PartitionKey);
    }

    [Fact]
    public void EventBridgeEvent_ScheduledEvent_DeserializesWithRawDetail()
    {
        const string json = """
            {"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
            "time":"2019-10-08T16:53:06Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/MergeSmallFiles"],"detail":{"hour":"2019-10-08T15"}}
            """;
        var e = JsonSerializer.Deserialize(json, LambdaJsonContext.Default.EventBridgeEvent)!;
        Assert.Equal("0", e.Version);
        Assert.Equal("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", e.Id);
        Assert.Equal("Scheduled Event", e.DetailType);
        Assert.Equal("aws.events", e.Source);
        Assert.Equal("123456789012", e.Account);
        Assert.Equal(new DateTimeOffset(2019, 10, 8, 16, 53, 6, TimeSpan.Zero), e.Time);
        Assert.Equal("us-east-1", e.Region);
        Assert.Equal(["arn:aws:events:us-east-1:123456789012:rule/MergeSmallFiles"], e.Resources!);
        Assert.Equal("2019-10-08T15", e.Detail!.Value.GetProperty("hour").GetString());
    }

    [Fact]
    public void KinesisBatchResponse_NoFailures_IsAnEmptyList()
    {
        string json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new KinesisBatchResponse([]), LambdaJsonContext.Default.KinesisBatchResponse));
        Assert.Equal("""{"batchItemFailures":[]}""", json);
    }

    [Fact]
    public void KinesisBatchResponse_Failures_UseItemIdentifier()
    {
        string json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new KinesisBatchResponse([new("42"), new("43")]), LambdaJsonContext.Default.KinesisBatchResponse));
        Assert.Equal("""{"batchItemFailures":[{"itemIdentifier":"42"},{"itemIdentifier":"43"}]}""", json);
    }

    [Fact]
    public void ErrorBody_Exception_HasMessageTypeAndStackTraceLines()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("outer", new IOException("inner"));
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }
        var body = LambdaRuntimeClient.ErrorBody("Retail.InvalidOperationException", thrown.Message, thrown);
        string json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(body, LambdaJsonContext.Default.LambdaErrorBody));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("outer", doc.RootElement.GetProperty("errorMessage").GetString());
        Assert.Equal("Retail.InvalidOperationException", doc.RootElement.GetProperty("errorType").GetString());
        var trace = doc.RootElement.GetProperty("stackTrace").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(trace, l => l.Contains(nameof(ErrorBody_Exception_HasMessageTypeAndStackTraceLines), StringComparison.Ordinal));
        Assert.Contains("--- caused by IOException: inner", trace);
    }
}
