namespace Retail.Codecs;

/// <summary>
/// Recognises input that is UTF-16 or UTF-32 rather than UTF-8, from its first bytes: a byte order mark, or (without
/// one) the NUL bytes that ASCII text has between its characters in those encodings. Such a file is not a file of bad
/// rows but a file in the wrong encoding, so readers stop at once and say how to convert it.
/// </summary>
internal static class EncodingSniffer
{
    /// <summary>Bytes needed to decide (fewer at the end of the input is fine).</summary>
    public const int BytesNeeded = 4;

    private const string NoMark = "no byte order mark; NUL bytes between the characters";

    /// <summary>The encoding the input is in (as iconv names it) and how it was told, or null when it may be UTF-8.</summary>
    public static (string Name, string Evidence)? Detect(ReadOnlySpan<byte> start)
    {
        // UTF-32 first: its LE mark starts with UTF-16 LE's.
        if (start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00])) return ("UTF-32LE", "byte order mark FF FE 00 00");
        if (start.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF])) return ("UTF-32BE", "byte order mark 00 00 FE FF");
        if (start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return ("UTF-16LE", "byte order mark FF FE");
        if (start.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return ("UTF-16BE", "byte order mark FE FF");
        if (start.Length >= 4)
        {
            // ASCII text without a mark: "In" is 49 00 6E 00 in UTF-16 LE, 00 49 00 6E in BE, 49 00 00 00 in UTF-32 LE.
            bool[] zero = [start[0] == 0, start[1] == 0, start[2] == 0, start[3] == 0];
            if (!zero[0] && zero[1] && zero[2] && zero[3]) return ("UTF-32LE", NoMark);
            if (zero[0] && zero[1] && zero[2] && !zero[3]) return ("UTF-32BE", NoMark);
            if (!zero[0] && zero[1] && !zero[2] && zero[3]) return ("UTF-16LE", NoMark);
            if (zero[0] && !zero[1] && zero[2] && !zero[3]) return ("UTF-16BE", NoMark);
        }
        else if (start.Length >= 2 && start[0] != 0 && start[1] == 0)
        {
            return ("UTF-16LE", NoMark);
        }
        return null;
    }

    /// <summary>The error for input in <paramref name="encoding"/> (from <see cref="Detect"/>).</summary>
    public static RetailFormatException Error((string Name, string Evidence) encoding, ReadOnlySpan<byte> start)
    {
        var (name, evidence) = encoding;
        return new RetailFormatException(new RetailRecordError(1, null, Convert.ToHexString(start),
            $"the input is {name} ({evidence}), not UTF-8: convert it to UTF-8 first (e.g. iconv -f {name} -t UTF-8 in.csv > out.csv)", start.ToArray()));
    }
}
