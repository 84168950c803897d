using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Retail.Query;

/// <summary>How <see cref="QueryResultFormatter"/> writes a result.</summary>
public enum QueryOutputFormat
{
    /// <summary>Aligned plain text: a header, a rule, the rows (numbers right-aligned, NULL shown as <c>NULL</c>), then <c>(N rows)</c>.</summary>
    Table,

    /// <summary>RFC 4180 CSV: a header row, CRLF line ends, fields quoted when needed; NULL is an empty field, an empty string is <c>""</c>.</summary>
    Csv,

    /// <summary>A JSON array with one object per row (one per line); numbers stay numbers, timestamps are strings.</summary>
    Json,
}

/// <summary>
/// Writes a <see cref="QueryResult"/> (from any <see cref="IQueryEngine"/>) as table, CSV or JSON
/// text — what <c>retail query --format table|csv|json</c> prints.
/// </summary>
/// <remarks>
/// Values print the same way in every format: decimals exactly, without trailing fractional zeros
/// (<c>12345.67</c>, <c>6.95</c>, <c>10</c>); doubles in their shortest round-trip form; timestamps
/// <c>yyyy-MM-dd HH:mm:ss</c> (with a fraction only when there is one); dates <c>yyyy-MM-dd</c>;
/// booleans <c>true</c>/<c>false</c>; blobs base64; lists and structs as JSON. Culture-invariant.
/// </remarks>
public static class QueryResultFormatter
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    /// <summary>The whole result as text in <paramref name="format"/>.</summary>
    public static string Format(QueryResult result, QueryOutputFormat format)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(result, format, writer);
        return writer.ToString();
    }

    /// <summary>Writes the result to <paramref name="writer"/> in <paramref name="format"/>.</summary>
    public static void Write(QueryResult result, QueryOutputFormat format, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(writer);
        switch (format)
        {
            case QueryOutputFormat.Table: WriteTable(result, writer); break;
            case QueryOutputFormat.Csv: WriteCsv(result, writer); break;
            case QueryOutputFormat.Json: WriteJson(result, writer); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown QueryOutputFormat.");
        }
    }

    /// <summary>The text form of one value, as table and CSV print it (null gives null).</summary>
    public static string? FormatValue(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        bool b => b ? "true" : "false",
        decimal d => Normalize(d).ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        DateTime t => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:sszzz" : "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "HH:mm:ss" : "HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        Guid g => g.ToString("D"),
        byte[] bytes => Convert.ToBase64String(bytes),
        IDictionary or (IEnumerable and not string) => NestedJson(value),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>The same value with no trailing fractional zeros (6.9500 → 6.95, 10.0000 → 10).</summary>
    private static decimal Normalize(decimal d) => d / 1.0000000000000000000000000000m;

    private static bool IsNumeric(string type) =>
        type.StartsWith("DECIMAL", StringComparison.Ordinal) || type is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
            or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT" or "FLOAT" or "DOUBLE" or "REAL" or "VARINT";

    private static void WriteTable(QueryResult result, TextWriter writer)
    {
        int n = result.Columns.Count;
        var cells = new List<string[]>(result.Rows.Count);
        var widths = new int[n];
        var right = new bool[n];
        for (int c = 0; c < n; c++)
        {
            widths[c] = result.Columns[c].Length;
            right[c] = c < result.ColumnTypes.Count && IsNumeric(result.ColumnTypes[c]);
        }
        foreach (var row in result.Rows)
        {
            var texts = new string[n];
            for (int c = 0; c < n; c++)
            {
                texts[c] = EscapeForTable(FormatValue(c < row.Length ? row[c] : null) ?? "NULL");
                widths[c] = Math.Max(widths[c], texts[c].Length);
            }
            cells.Add(texts);
        }

        var line = new StringBuilder();
        void Emit(IReadOnlyList<string> texts)
        {
            line.Clear();
            for (int c = 0; c < n; c++)
            {
                if (c > 0) line.Append(" | ");
                line.Append(right[c] ? texts[c].PadLeft(widths[c]) : texts[c].PadRight(widths[c]));
            }
            writer.Write(line.ToString().TrimEnd());
            writer.Write('\n');
        }

        Emit(result.Columns.Select(EscapeForTable).ToArray());
        writer.Write(string.Join("-+-", widths.Select(w => new string('-', w))));
        writer.Write('\n');
        foreach (var texts in cells) Emit(texts);
        int count = result.Rows.Count;
        writer.Write(count == 1 ? "(1 row" : string.Create(CultureInfo.InvariantCulture, $"({count} rows"));
        writer.Write(result.Truncated ? ", truncated)\n" : ")\n");
    }

    private static string EscapeForTable(string text) =>
        text.AsSpan().IndexOfAny('\r', '\n', '\t') < 0 ? text
            : text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);

    private static void WriteCsv(QueryResult result, TextWriter writer)
    {
        for (int c = 0; c < result.Columns.Count; c++)
        {
            if (c > 0) writer.Write(',');
            writer.Write(CsvField(result.Columns[c]));
        }
        writer.Write("\r\n");
        foreach (var row in result.Rows)
        {
            for (int c = 0; c < result.Columns.Count; c++)
            {
                if (c > 0) writer.Write(',');
                string? text = FormatValue(c < row.Length ? row[c] : null);
                if (text is not null) writer.Write(CsvField(text));
            }
            writer.Write("\r\n");
        }
    }

    /// <summary>
    /// RFC 4180 quoting: a field is quoted when it holds a comma, a quote, CR or LF — and also when it is
    /// empty (to tell it from NULL) or starts or ends with a space (which some readers would trim).
    /// </summary>
    private static string CsvField(string text)
    {
        bool quote = text.Length == 0 || text[0] == ' ' || text[^1] == ' ' || text.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        return quote ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private static void WriteJson(QueryResult result, TextWriter writer)
    {
        if (result.Rows.Count == 0)
        {
            writer.Write("[]\n");
            return;
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var json = new Utf8JsonWriter(buffer, JsonOptions);
        var names = result.Columns.Select(c => JsonEncodedText.Encode(c, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();
        writer.Write("[\n");
        for (int r = 0; r < result.Rows.Count; r++)
        {
            var row = result.Rows[r];
            buffer.ResetWrittenCount();
            json.Reset(buffer);
            json.WriteStartObject();
            for (int c = 0; c < names.Length; c++)
            {
                json.WritePropertyName(names[c]);
                WriteJsonValue(json, c < row.Length ? row[c] : null);
            }
            json.WriteEndObject();
            json.Flush();
            writer.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
            writer.Write(r + 1 < result.Rows.Count ? ",\n" : "\n");
        }
        writer.Write("]\n");
    }

    private static void WriteJsonValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null or DBNull: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case decimal d: json.WriteNumberValue(Normalize(d)); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): json.WriteNumberValue(f); break;
            case sbyte or byte or short or ushort or int or long: json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case uint or ulong: json.WriteNumberValue(Convert.ToUInt64(value, CultureInfo.InvariantCulture)); break;
            case BigInteger big: json.WriteRawValue(big.ToString(CultureInfo.InvariantCulture), skipInputValidation: true); break;
            case IDictionary map:
                json.WriteStartObject();
                foreach (DictionaryEntry e in map)
                {
                    json.WritePropertyName(FormatValue(e.Key) ?? "null");
                    WriteJsonValue(json, e.Value);
                }
                json.WriteEndObject();
                break;
            case IEnumerable list when value is not byte[]:
                json.WriteStartArray();
                foreach (var item in list) WriteJsonValue(json, item);
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(FormatValue(value)); break;
        }
    }

    private static string NestedJson(object value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions)) WriteJsonValue(json, value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
