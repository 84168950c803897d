namespace Retail.Codecs;

/// <summary>The two delimited text formats Retail reads and writes.</summary>
public enum DelimitedFormat
{
    /// <summary>
    /// RFC 4180 CSV: fields separated by <c>,</c>; a field that holds a comma, a double quote, a CR or
    /// an LF, or that starts or ends with a space, is enclosed in double quotes, with each inner quote
    /// doubled. Records end with <c>\n</c> (the reader also accepts <c>\r\n</c>).
    /// </summary>
    Csv,

    /// <summary>
    /// Tab-separated values with backslash escapes: inside a field a tab is written <c>\t</c>, a line
    /// feed <c>\n</c>, a carriage return <c>\r</c> and a backslash <c>\\</c>; nothing else is escaped
    /// and there is no quoting. The reader turns those four escapes back and keeps any other
    /// backslash as it is. Records end with <c>\n</c> (the reader also accepts <c>\r\n</c>).
    /// </summary>
    Tsv,
}

/// <summary>Text encodings the delimited readers accept.</summary>
public enum TextEncoding
{
    /// <summary>UTF-8, with or without a byte order mark. Invalid UTF-8 makes the row bad (never silently replaced).</summary>
    Utf8,

    /// <summary>ISO-8859-1 (Latin-1), for files saved by older spreadsheet tools; transcoded to UTF-8 while reading.</summary>
    Latin1,
}
