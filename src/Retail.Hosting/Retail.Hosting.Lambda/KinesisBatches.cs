using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Retail.Delivery;
using Retail.Streaming;

namespace Retail.Hosting.Lambda;

/// <summary>One shard's records of a Kinesis event, as the processors see them.</summary>
/// <param name="StreamName">The stream, from the records' eventSourceARN.</param>
/// <param name="ShardId">The shard, from the records' eventID (before ':').</param>
/// <param name="Records">The records, in the event's order (BatchInvocation processes them in sequence order).</param>
/// <param name="UndecodableRecords">How many of them had data that is not valid base64 (see <see cref="UndecodableData"/>).</param>
internal sealed record ShardRecords(string StreamName, string ShardId, IReadOnlyList<StreamRecord> Records, int UndecodableRecords);

/// <summary>A Kinesis event that cannot be taken apart into records (not a Kinesis event, a record without a sequence number, …).</summary>
internal sealed class InvalidKinesisEventException(string message) : Exception(message);

/// <summary>Maps a Kinesis event to <see cref="StreamRecord"/>s grouped by stream and shard.</summary>
internal static class KinesisBatches
{
    /// <summary>
    /// Groups the event's records by (stream, shard), keeping their order. A record whose data is not valid base64
    /// is kept, its bytes marked by <see cref="UndecodableData"/>: the processor's decoder reports it (the error
    /// output / dead letters), so it is counted and stored, never dropped and never retried forever.
    /// </summary>
    /// <exception cref="InvalidKinesisEventException">
    /// The event has no Records, or a record lacks what identifies it (sequence number, eventID shard, eventSourceARN
    /// stream): such a record could not even be named in a partial batch response, so the whole invocation fails
    /// (Lambda retries it). The message names the record by its position.
    /// </exception>
    public static IReadOnlyList<ShardRecords> Group(KinesisEvent? kinesisEvent)
    {
        if (kinesisEvent?.Records is not { } records)
            throw new InvalidKinesisEventException("The event is not a Kinesis event: it has no \"Records\" array.");
        var groups = new List<(string Stream, string Shard, List<StreamRecord> Records, int Undecodable)>();
        var seen = new HashSet<(string, string)>();
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i] ?? throw new InvalidKinesisEventException($"Records[{i}] is null.");
            if (r.EventSource is { } source && source != "aws:kinesis")
                throw new InvalidKinesisEventException($"Records[{i}] has eventSource '{source}', not aws:kinesis.");
            var k = r.Kinesis ?? throw new InvalidKinesisEventException($"Records[{i}] has no \"kinesis\" object.");
            string seq = k.SequenceNumber ?? "";
            if (seq.Length == 0 || seq.AsSpan().ContainsAnyExceptInRange('0', '9'))
                throw new InvalidKinesisEventException($"Records[{i}] has kinesis.sequenceNumber '{k.SequenceNumber}', not a string of decimal digits.");
            string shard = ShardOf(r.EventId, i);
            string stream = StreamOf(r.EventSourceArn, i);
            if (k.Data is null) throw new InvalidKinesisEventException($"Records[{i}] (sequence number {seq}) has no kinesis.data.");
            var arrival = k.ApproximateArrivalTimestamp is { } secs && double.IsFinite(secs) && secs >= 0
                ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(secs * 1000, MidpointRounding.AwayFromZero))
                : throw new InvalidKinesisEventException($"Records[{i}] (sequence number {seq}) has no valid kinesis.approximateArrivalTimestamp.");
            bool decoded = TryDecodeBase64(k.Data, out byte[] data);
            if (!decoded) data = UndecodableData.Mark(k.Data);

            int g = groups.FindIndex(x => x.Stream == stream && x.Shard == shard);
            if (g < 0)
            {
                groups.Add((stream, shard, [], 0));
                g = groups.Count - 1;
            }
            var group = groups[g];
            if (!seen.Add((shard, seq)))
                throw new InvalidKinesisEventException($"Records[{i}] repeats shard {shard}'s sequence number {seq}.");
            group.Records.Add(new StreamRecord(shard, seq, k.PartitionKey ?? "", arrival, data));
            if (!decoded) groups[g] = group with { Undecodable = group.Undecodable + 1 };
        }
        return [.. groups.Select(g => new ShardRecords(g.Stream, g.Shard, g.Records, g.Undecodable))];
    }

    /// <summary>The shard id of an eventID <c>shardId-000000000006:4959…</c>.</summary>
    internal static string ShardOf(string? eventId, int index)
    {
        int colon = eventId?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (eventId is null || colon <= 0)
            throw new InvalidKinesisEventException($"Records[{index}] has eventID '{eventId}', not '<shard id>:<sequence number>'.");
        string shard = eventId[..colon];
        if (shard.Contains('/', StringComparison.Ordinal) || shard.Contains("..", StringComparison.Ordinal))
            throw new InvalidKinesisEventException($"Records[{index}] has eventID '{eventId}', whose shard id is not a shard id.");
        return shard;
    }

    /// <summary>The stream name of an eventSourceARN <c>arn:aws:kinesis:REGION:ACCOUNT:stream/NAME</c>.</summary>
    internal static string StreamOf(string? arn, int index)
    {
        string[] parts = arn?.Split(':', 6) ?? [];
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !parts[5].StartsWith("stream/", StringComparison.Ordinal))
            throw new InvalidKinesisEventException($"Records[{index}] has eventSourceARN '{arn}', not arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.");
        string name = parts[5]["stream/".Length..];
        // A consumer ARN (enhanced fan-out) is stream/NAME/consumer/…: the stream is the segment after stream/.
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) name = name[..slash];
        if (name.Length == 0 || name.Length > 128 || name is "." or ".." || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
            throw new InvalidKinesisEventException($"Records[{index}] has eventSourceARN '{arn}', whose stream name is not a Kinesis stream name.");
        return name;
    }

    private static bool TryDecodeBase64(string text, out byte[] data)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        data = new byte[Base64.GetMaxDecodedFromUtf8Length(utf8.Length)];
        var status = Base64.DecodeFromUtf8(utf8, data, out _, out int written);
        if (status != OperationStatus.Done) return false;
        Array.Resize(ref data, written);
        return true;
    }
}

/// <summary>
/// How a record whose Kinesis data is not valid base64 reaches the processor: its bytes are <see cref="Marker"/>
/// followed by the data string exactly as the event carried it (UTF-8). No JSON or CSV decoder accepts a leading NUL,
/// and <see cref="UndecodableDataDecoder"/> names the reason; so the record goes to the error output (DeliverToS3's
/// <c>processing-failed</c> records, UpsertToES's dead letters) with that rawData, is counted, and is safe: it is not
/// listed in batchItemFailures (retrying cannot repair it).
/// </summary>
internal static class UndecodableData
{
    public static ReadOnlySpan<byte> Marker => "\0retail-lambda: kinesis.data is not valid base64; as received:\n"u8;

    public const string Reason = "kinesis.data is not valid base64 (rawData holds a NUL-marked line, then the data string as received)";

    public static byte[] Mark(string text)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        var bytes = new byte[Marker.Length + n];
        Marker.CopyTo(bytes);
        Encoding.UTF8.GetBytes(text, bytes.AsSpan(Marker.Length));
        return bytes;
    }

    public static bool IsMarked(ReadOnlySpan<byte> data) => data.StartsWith(Marker);
}

/// <summary>A decoder that rejects <see cref="UndecodableData"/> with its reason and hands everything else to <paramref name="inner"/>.</summary>
internal sealed class UndecodableDataDecoder(IRecordDecoder inner) : IRecordDecoder
{
    public bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out RetailTransaction? record, [NotNullWhen(false)] out string? error)
    {
        if (UndecodableData.IsMarked(data))
        {
            record = null;
            error = UndecodableData.Reason;
            return false;
        }
        return inner.TryDecode(data, out record, out error);
    }
}
