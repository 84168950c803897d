using System.Text;
using System.Text.Json;
using Retail.Delivery;

namespace Retail.Hosting.Lambda.Tests;

public sealed class KinesisBatchesTests
{
    private static KinesisEvent Parse(string json) => JsonSerializer.Deserialize(json, LambdaJsonContext.Default.KinesisEvent)!;

    [Fact]
    public void Group_TwoShardsInterleaved_GroupsByShardKeepingEveryRecord()
    {
        var a = TestEvents.Kinesis("retail-trans", "shardId-000000000000", TestEvents.Records([[1], [2]], first: 1));
        var b = TestEvents.Kinesis("retail-trans", "shardId-000000000001", TestEvents.Records([[3]], first: 1));
        using var da = JsonDocument.Parse(a);
        using var db = JsonDocument.Parse(b);
        var records = da.RootElement.GetProperty("Records").EnumerateArray().Select(e => e.GetRawText()).ToList();
        records.Insert(1, db.RootElement.GetProperty("Records")[0].GetRawText());
        var groups = KinesisBatches.Group(Parse($"{{\"Records\":[{string.Join(",", records)}]}}"));

        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], groups.Select(g => g.ShardId));
        Assert.All(groups, g => Assert.Equal("retail-trans", g.StreamName));
        Assert.Equal([TestEvents.Sequence(1), TestEvents.Sequence(2)], groups[0].Records.Select(r => r.SequenceNumber));
        Assert.Equal([(byte)1, (byte)2], groups[0].Records.Select(r => r.Data.Span[0]));
        Assert.All(groups[0].Records, r => Assert.Equal("shardId-000000000000", r.ShardId));
        Assert.Equal([(byte)3], groups[1].Records.Select(r => r.Data.Span[0]));
    }

    [Fact]
    public void Group_DataNotBase64_KeepsTheRecordMarkedSoTheDecoderRejectsItWithTheReason()
    {
        var json = TestEvents.Kinesis("s", "shardId-000000000000", [new TestRecord(TestEvents.Sequence(1), [], RawData: "{\"Invoice\":\"1\"}"), new TestRecord(TestEvents.Sequence(2), "{}"u8.ToArray())]);
        var shard = Assert.Single(KinesisBatches.Group(Parse(json)));
        Assert.Equal(2, shard.Records.Count);
        Assert.Equal(1, shard.UndecodableRecords);
        var bad = shard.Records[0].Data.ToArray();
        Assert.True(UndecodableData.IsMarked(bad));
        Assert.EndsWith("{\"Invoice\":\"1\"}", Encoding.UTF8.GetString(bad), StringComparison.Ordinal);

        var decoder = new UndecodableDataDecoder(JsonRecordDecoder.Instance);
        Assert.False(decoder.TryDecode(bad, out _, out string? error));
        Assert.Equal(UndecodableData.Reason, error);
        Assert.False(UndecodableData.IsMarked(shard.Records[1].Data.Span));
    }

    [Theory]
    [InlineData("""{"Records":[{"kinesis":{"sequenceNumber":"12a","data":"","approximateArrivalTimestamp":1},"eventID":"shardId-1:12","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}]}""", "Records[0] has kinesis.sequenceNumber '12a'")]
    [InlineData("""{"Records":[{"kinesis":{"sequenceNumber":"12","data":"","approximateArrivalTimestamp":1},"eventID":"12","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}]}""", "Records[0] has eventID '12'")]
    [InlineData("""{"Records":[{"kinesis":{"sequenceNumber":"12","data":"","approximateArrivalTimestamp":1},"eventID":"shardId-1:12","eventSourceARN":"arn:aws:sqs:us-east-1:1:q"}]}""", "eventSourceARN 'arn:aws:sqs:us-east-1:1:q'")]
    [InlineData("""{"Records":[{"kinesis":{"sequenceNumber":"12","approximateArrivalTimestamp":1},"eventID":"shardId-1:12","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}]}""", "has no kinesis.data")]
    [InlineData("""{"Records":[{"kinesis":{"sequenceNumber":"12","data":""},"eventID":"shardId-1:12","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}]}""", "approximateArrivalTimestamp")]
    [InlineData("""{"Records":[{"eventSource":"aws:sqs"}]}""", "eventSource 'aws:sqs'")]
    [InlineData("""{"detail-type":"Scheduled Event"}""", "no \"Records\" array")]
    public void Group_RecordThatCannotBeNamed_ThrowsNamingIt(string json, string expected)
    {
        var e = Assert.Throws<InvalidKinesisEventException>(() => KinesisBatches.Group(Parse(json)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Group_RepeatedSequenceNumber_Throws()
    {
        var json = TestEvents.Kinesis("s", "shardId-000000000000", [new TestRecord(TestEvents.Sequence(1), [1]), new TestRecord(TestEvents.Sequence(1), [2])]);
        var e = Assert.Throws<InvalidKinesisEventException>(() => KinesisBatches.Group(Parse(json)));
        Assert.Contains("Records[1] repeats", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/retail-trans", "retail-trans")]
    [InlineData("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/retail-trans", "retail-trans")]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/retail-trans/consumer/c1:1574000000", "retail-trans")]
    public void StreamOf_KinesisArn_IsTheStreamName(string arn, string expected) => Assert.Equal(expected, KinesisBatches.StreamOf(arn, 0));

    [Theory]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/../x")]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/")]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:table/x")]
    public void StreamOf_NotAStreamName_Throws(string arn) => Assert.Throws<InvalidKinesisEventException>(() => KinesisBatches.StreamOf(arn, 3));
}
