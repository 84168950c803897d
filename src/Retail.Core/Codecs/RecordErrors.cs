namespace Retail.Codecs;

/// <summary>What a reader does with a row it cannot turn into a <see cref="RetailTransaction"/>.</summary>
public enum BadRecordMode
{
    /// <summary>Stop at the first bad row: the reader throws <see cref="RetailFormatException"/>.</summary>
    Strict,

    /// <summary>Skip the bad row, count it and report it through the reader's error callback; good rows still come through.</summary>
    Lenient,
}

/// <summary>One row that could not be read, with where and why.</summary>
/// <param name="LineNumber">1-based physical line on which the row starts (the CSV header is line 1).</param>
/// <param name="Column">The column or field at fault, or <c>null</c> when the row as a whole is bad (wrong field count, unbalanced quote, bad JSON).</param>
/// <param name="RawText">The offending value, or the whole row when <paramref name="Column"/> is <c>null</c>.</param>
/// <param name="Reason">What is wrong, in words.</param>
/// <param name="RawRecord">The row exactly as read (without its line terminator), so it can be routed to an error output: whole,
/// unless the row was longer than the reader's <c>MaxRecordBytes</c>, when it is the row's first <c>MaxRecordBytes</c> bytes
/// (<see cref="RecordBytes"/> then says how long the row was).</param>
public sealed record RetailRecordError(long LineNumber, string? Column, string RawText, string Reason, ReadOnlyMemory<byte> RawRecord)
{
    /// <summary>
    /// The row's whole length in bytes (without its line terminator): <see cref="RawRecord"/>'s length, or more when
    /// the row was too long to keep (<see cref="IsTruncated"/>).
    /// </summary>
    public long RecordBytes { get; init; } = RawRecord.Length;

    /// <summary>
    /// The offset in the input of the record's first byte, when a line does not locate it: set by
    /// <see cref="JsonLinesReader"/> for records of objects concatenated without newlines (<c>{…}{…}</c>), null otherwise.
    /// </summary>
    public long? ByteOffset { get; init; }

    /// <summary>Where the record starts: <c>line 12</c>, or <c>line 1, byte 4096</c> when <see cref="ByteOffset"/> is set.</summary>
    public string Position => ByteOffset is { } offset ? $"line {LineNumber}, byte {offset}" : $"line {LineNumber}";

    /// <summary>Whether <see cref="RawRecord"/> holds only the start of a row that was too long to keep.</summary>
    public bool IsTruncated => RecordBytes > RawRecord.Length;

    /// <summary>A one-line description: <c>line 12, column Quantity ("abc"): not an integer</c>.</summary>
    public override string ToString() => Column is null
        ? $"{Position}: {Reason}: {Quote(RawText)}"
        : $"{Position}, column {Column} ({Quote(RawText)}): {Reason}";

    private static string Quote(string s)
    {
        const int max = 200;
        string t = s.Length > max ? s[..max] + "…" : s;
        return "\"" + t.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
    }
}

/// <summary>A row that cannot be read, thrown by readers in <see cref="BadRecordMode.Strict"/> mode.</summary>
public sealed class RetailFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public RetailFormatException(RetailRecordError error) : base(error.ToString()) => Error = error;

    /// <summary>Where and why.</summary>
    public RetailRecordError Error { get; }
}

/// <summary>Options shared by every reader of retail records.</summary>
public class RetailReaderOptions
{
    /// <summary>Strict (default) throws at the first bad row; lenient skips, counts and reports it.</summary>
    public BadRecordMode Mode { get; set; } = BadRecordMode.Strict;

    /// <summary>Called for every bad row in <see cref="BadRecordMode.Lenient"/> mode.</summary>
    public Action<RetailRecordError>? OnError { get; set; }

    /// <summary>
    /// Largest row accepted, in bytes, without its line terminator (default 1 MiB, Kinesis's record limit). A longer row
    /// is a bad row whose reason says "record too long (N bytes, limit M)" and whose <see cref="RetailRecordError.RawRecord"/>
    /// holds its first <see cref="MaxRecordBytes"/> bytes; memory stays bounded.
    /// </summary>
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    internal void Validate()
    {
        if (MaxRecordBytes < 256)
            throw new ArgumentOutOfRangeException(nameof(MaxRecordBytes), MaxRecordBytes, "MaxRecordBytes must be at least 256.");
        if (!Enum.IsDefined(Mode))
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown BadRecordMode.");
    }
}
