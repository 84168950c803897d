using System.Globalization;
using System.Text;
using System.Text.Json;
using Retail.Codecs;
using Retail.Synthetic;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>One record of a test Kinesis event: its sequence number and its data (base64-encoded unless raw).</summary>
internal sealed record TestRecord(string SequenceNumber, byte[] Data, string? RawData = null);

/// <summary>Kinesis events in the shape an event source mapping sends (the developer guide's sample).</summary>
internal static class TestEvents
{
    public const string Region = "us-east-1";

    /// <summary>A Kinesis-looking sequence number (56 digits) for record <paramref name="n"/>.</summary>
    public static string Sequence(int n) => "49590338271490256608559692538361571095921575989136" + n.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary><paramref name="count"/> synthetic sales as JSON (distinct, seeded).</summary>
    public static IReadOnlyList<byte[]> Sales(int count, ulong seed = 7) =>
        [.. new SyntheticTransactionGenerator(new SyntheticOptions { Seed = seed }).Generate(count).Select(RetailJson.ToJsonLine)];

    /// <summary>Records numbered from <paramref name="first"/> holding <paramref name="data"/>.</summary>
    public static IReadOnlyList<TestRecord> Records(IReadOnlyList<byte[]> data, int first = 1) =>
        [.. data.Select((d, i) => new TestRecord(Sequence(first + i), d))];

    public static string Kinesis(string stream, string shard, IEnumerable<TestRecord> records)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("Records");
            foreach (var r in records)
            {
                w.WriteStartObject();
                w.WriteStartObject("kinesis");
                w.WriteString("kinesisSchemaVersion", "1.0");
                w.WriteString("partitionKey", "part-00001");
                w.WriteString("sequenceNumber", r.SequenceNumber);
                w.WriteString("data", r.RawData ?? Convert.ToBase64String(r.Data));
                w.WriteNumber("approximateArrivalTimestamp", 1545084650.987);
                w.WriteEndObject();
                w.WriteString("eventSource", "aws:kinesis");
                w.WriteString("eventVersion", "1.0");
                w.WriteString("eventID", $"{shard}:{r.SequenceNumber}");
                w.WriteString("eventName", "aws:kinesis:record");
                w.WriteString("invokeIdentityArn", "arn:aws:iam::123456789012:role/lambda-role");
                w.WriteString("awsRegion", Region);
                w.WriteString("eventSourceARN", $"arn:aws:kinesis:{Region}:123456789012:stream/{stream}");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The itemIdentifiers of a partial batch response (throws unless it has exactly that shape).</summary>
    public static IReadOnlyList<string> BatchItemFailures(string responseJson)
    {
        using var doc = JsonDocument.Parse(responseJson);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["batchItemFailures"], root.EnumerateObject().Select(p => p.Name));
        return [.. root.GetProperty("batchItemFailures").EnumerateArray().Select(f =>
        {
            Assert.Equal(["itemIdentifier"], f.EnumerateObject().Select(p => p.Name));
            return f.GetProperty("itemIdentifier").GetString()!;
        })];
    }
}
