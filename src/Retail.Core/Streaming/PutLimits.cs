using System.Text;

namespace Retail.Streaming;

/// <summary>
/// Something records are put into in batches with per-entry results: a stream (<see cref="IRecordStream"/>) or a
/// put-only delivery service such as a Firehose delivery stream. <see cref="StreamProducer"/> batches for any of them
/// within its <see cref="Limits"/> and resends only the entries that failed.
/// </summary>
public interface IRecordPutTarget
{
    /// <summary>The stream's (or delivery stream's) name.</summary>
    string StreamName { get; }

    /// <summary>What one put and one record may carry; checked by the producer before anything is sent (Kinesis's by default).</summary>
    PutLimits Limits => PutLimits.Kinesis;

    /// <summary>
    /// Puts a batch (at most <see cref="PutLimits.MaxRecordsPerPut"/> records and <see cref="PutLimits.MaxBytesPerPut"/>
    /// bytes). Entries can fail one by one (throttling, a full shard): the result says which, in the same order, so the
    /// caller resends only those.
    /// </summary>
    ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default);
}

/// <summary>
/// The size limits of a put target, which Retail checks itself before sending (emulators do not, and a service that
/// refuses a whole call for one oversized record would fail the records beside it).
/// </summary>
public sealed record PutLimits
{
    /// <summary>Kinesis Data Streams: 500 records and 5 MiB a PutRecords call, 1 MiB a record, partition keys counted.</summary>
    public static PutLimits Kinesis { get; } = new()
    {
        MaxRecordsPerPut = StreamLimits.MaxRecordsPerPut, MaxBytesPerPut = StreamLimits.MaxBytesPerPut, MaxRecordBytes = StreamLimits.MaxRecordBytes,
    };

    /// <summary>Amazon Data Firehose: 500 records and 4 MiB a PutRecordBatch call, 1,000 KiB a record (no partition keys).</summary>
    public static PutLimits Firehose { get; } = new()
    {
        MaxRecordsPerPut = 500, MaxBytesPerPut = 4 * 1024 * 1024, MaxRecordBytes = 1000 * 1024, CountsPartitionKey = false,
    };

    /// <summary>
    /// Kinesis's limits for a stream whose record size was raised (<c>MaxRecordSizeInKiB</c>, up to 10 MiB): a call
    /// still carries at least 5 MiB, and always room for one record.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRecordBytes"/> is not 1 KiB to 10 MiB.</exception>
    public static PutLimits KinesisWithMaxRecordBytes(int maxRecordBytes)
    {
        if (maxRecordBytes is < 1024 or > 10 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(maxRecordBytes), maxRecordBytes, "A Kinesis record limit is 1 KiB to 10 MiB (1024 to 10485760 bytes).");
        return Kinesis with { MaxRecordBytes = maxRecordBytes, MaxBytesPerPut = Math.Max(StreamLimits.MaxBytesPerPut, maxRecordBytes) };
    }

    /// <summary>Records per put.</summary>
    public required int MaxRecordsPerPut { get; init; }

    /// <summary>Bytes per put: the records' data, plus their partition keys when <see cref="CountsPartitionKey"/>.</summary>
    public required int MaxBytesPerPut { get; init; }

    /// <summary>Bytes per record: its data, plus its partition key when <see cref="CountsPartitionKey"/>.</summary>
    public required int MaxRecordBytes { get; init; }

    /// <summary>True when partition keys count towards the sizes and must be 1–256 characters (Kinesis); false for Firehose, which has none.</summary>
    public bool CountsPartitionKey { get; init; } = true;

    /// <summary>The bytes <paramref name="entry"/> counts towards the limits.</summary>
    public int SizeOf(PutRecordsEntry entry) =>
        entry.Data.Length + (CountsPartitionKey ? Encoding.UTF8.GetByteCount(entry.PartitionKey ?? "") : 0);

    /// <summary>
    /// Throws <see cref="RecordTooLargeException"/> or <see cref="ArgumentException"/> naming the limit <paramref name="entry"/>
    /// breaks; otherwise returns its size as the limits count it (<see cref="SizeOf"/>).
    /// </summary>
    public int Validate(PutRecordsEntry entry)
    {
        if (CountsPartitionKey && (string.IsNullOrEmpty(entry.PartitionKey) || entry.PartitionKey.Length > StreamLimits.MaxPartitionKeyLength))
            throw new ArgumentException($"A partition key must be 1 to {StreamLimits.MaxPartitionKeyLength} characters, got {entry.PartitionKey?.Length ?? 0}.", nameof(entry));
        int size = SizeOf(entry);
        if (size > MaxRecordBytes) throw new RecordTooLargeException(size, MaxRecordBytes, CountsPartitionKey, entry.Data);
        return size;
    }
}

/// <summary>A record is larger than its target takes; the message gives both sizes and the start of the record.</summary>
public sealed class RecordTooLargeException : ArgumentException
{
    internal RecordTooLargeException(int size, int limit, bool countsPartitionKey, ReadOnlyMemory<byte> data)
        : base($"A record ({(countsPartitionKey ? "data plus partition key" : "data")}) is at most {limit} bytes, got {size} ({Preview(data)}).")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The record's size, as the limit counts it.</summary>
    public int Size { get; }

    /// <summary>The limit it breaks.</summary>
    public int Limit { get; }

    private static string Preview(ReadOnlyMemory<byte> data)
    {
        var head = data.Span[..Math.Min(data.Length, 60)];
        string text = Encoding.UTF8.GetString(head);
        return "starts \"" + System.Text.Json.JsonEncodedText.Encode(text).ToString() + (data.Length > head.Length ? "…\"" : "\"");
    }
}
