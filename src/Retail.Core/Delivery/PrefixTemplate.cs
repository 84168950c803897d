using System.Globalization;
using System.Text;

namespace Retail.Delivery;

/// <summary>
/// Firehose's S3 prefix language: literal text with <c>!{namespace:value}</c> expressions.
/// <list type="bullet">
/// <item><c>!{timestamp:PATTERN}</c> — a Java <c>DateTimeFormatter</c> pattern (letters
/// <c>y u M d H h m s S D a</c>; text in single quotes is literal) applied to the approximate
/// arrival time of the oldest record in the object, in UTC. Every instance in one prefix sees the same instant.</item>
/// <item><c>!{firehose:error-output-type}</c> — only in the error prefix (e.g. <c>processing-failed</c>).</item>
/// <item><c>!{firehose:random-string}</c> — 11 characters, fresh per instance (Retail derives them from
/// the object's source position, so a re-delivery writes the same key).</item>
/// <item><c>!{partitionKeyFromQuery:KEY}</c> — dynamic partitioning: a value computed from the record;
/// KEY is <c>year</c>, <c>month</c>, <c>day</c> or <c>hour</c> of its InvoiceDate (event time,
/// zero-padded) or a field name such as <c>Country</c>.</item>
/// </list>
/// Templates are checked when parsed; errors name the offending expression and its position.
/// </summary>
public sealed class PrefixTemplate
{
    /// <summary>Firehose's limit on an evaluated prefix.</summary>
    public const int MaxEvaluatedLength = 512;

    /// <summary>The default when no prefix is configured: <c>!{timestamp:yyyy/MM/dd/HH/}</c>.</summary>
    public const string DefaultTimestampSuffix = "!{timestamp:yyyy/MM/dd/HH/}";

    /// <summary>Dynamic partition keys computed from InvoiceDate.</summary>
    public static IReadOnlyList<string> EventTimeKeys { get; } = ["year", "month", "day", "hour"];

    private readonly Part[] _parts;

    private PrefixTemplate(string text, Part[] parts, bool isError)
    {
        Text = text;
        _parts = parts;
        IsErrorPrefix = isError;
    }

    /// <summary>The template as given (after defaults were applied).</summary>
    public string Text { get; }

    /// <summary>True for an error-output prefix.</summary>
    public bool IsErrorPrefix { get; }

    /// <summary>True when the template has a <c>partitionKeyFromQuery</c> expression.</summary>
    public bool UsesDynamicPartitioning => _parts.Any(p => p.Kind == PartKind.PartitionKey);

    /// <summary>True when the template has a <c>firehose:random-string</c> expression.</summary>
    public bool UsesRandomString => _parts.Any(p => p.Kind == PartKind.RandomString);

    /// <summary>
    /// Parses a data prefix. Null or empty means the default (<c>yyyy/MM/dd/HH/</c>); a prefix without
    /// a timestamp (or dynamic-partitioning) expression gets <see cref="DefaultTimestampSuffix"/> appended,
    /// as Firehose does.
    /// </summary>
    /// <exception cref="FormatException">The template is invalid; the message names the expression.</exception>
    public static PrefixTemplate ParseDataPrefix(string? template) => Parse(template, isError: false);

    /// <summary>Parses an error-output prefix (it must contain <c>!{firehose:error-output-type}</c> if it has any expression).</summary>
    /// <exception cref="FormatException">The template is invalid; the message names the expression.</exception>
    public static PrefixTemplate ParseErrorPrefix(string? template) => Parse(template, isError: true);

    private static PrefixTemplate Parse(string? template, bool isError)
    {
        string what = isError ? "error output prefix" : "prefix";
        string text = template ?? "";
        var parts = Tokenize(text, what, isError);
        bool hasTimestamp = parts.Any(p => p.Kind == PartKind.Timestamp);
        bool hasDynamic = parts.Any(p => p.Kind == PartKind.PartitionKey);
        bool hasExpressions = parts.Any(p => p.Kind != PartKind.Literal);
        if (isError && hasExpressions && !parts.Any(p => p.Kind == PartKind.ErrorOutputType))
            throw new FormatException($"The {what} '{text}' uses expressions but no !{{firehose:error-output-type}}; Firehose requires it.");
        if (!hasTimestamp && !hasDynamic)
        {
            text += DefaultTimestampSuffix;
            parts = Tokenize(text, what, isError);
        }
        return new PrefixTemplate(text, [.. parts], isError);
    }

    private static List<Part> Tokenize(string text, string what, bool isError)
    {
        var parts = new List<Part>();
        int i = 0;
        var literal = new StringBuilder();
        while (i < text.Length)
        {
            int start = text.IndexOf("!{", i, StringComparison.Ordinal);
            if (start < 0)
            {
                literal.Append(text, i, text.Length - i);
                break;
            }
            literal.Append(text, i, start - i);
            int end = text.IndexOf('}', start + 2);
            if (end < 0) throw Error(what, text, start, text[start..], "is not closed with '}'");
            string expr = text[(start + 2)..end];
            string shown = text[start..(end + 1)];
            int colon = expr.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) throw Error(what, text, start, shown, "must look like !{namespace:value}");
            string ns = expr[..colon].Trim();
            string value = expr[(colon + 1)..];
            if (literal.Length > 0)
            {
                parts.Add(Part.Lit(literal.ToString()));
                literal.Clear();
            }
            switch (ns)
            {
                case "timestamp":
                    if (value.Length == 0) throw Error(what, text, start, shown, "has an empty timestamp pattern");
                    parts.Add(new Part(PartKind.Timestamp, value, JavaDateFormat.Compile(value, m => Error(what, text, start, shown, m))));
                    break;
                case "firehose":
                    if (value == "random-string") parts.Add(new Part(PartKind.RandomString, value, null));
                    else if (value == "error-output-type")
                    {
                        if (!isError) throw Error(what, text, start, shown, "may only be used in the error output prefix");
                        parts.Add(new Part(PartKind.ErrorOutputType, value, null));
                    }
                    else throw Error(what, text, start, shown, "is not a firehose expression (use random-string or error-output-type)");
                    break;
                case "partitionKeyFromQuery":
                    if (isError) throw Error(what, text, start, shown, "cannot be used in the error output prefix (records there failed to parse)");
                    if (!EventTimeKeys.Contains(value) && !RetailFieldAccess.IsField(value))
                        throw Error(what, text, start, shown, $"names an unknown key '{value}' (use {string.Join(", ", EventTimeKeys)} or a field: {string.Join(", ", RetailFields.All)})");
                    parts.Add(new Part(PartKind.PartitionKey, value, null));
                    break;
                default:
                    throw Error(what, text, start, shown, $"has the unknown namespace '{ns}' (use timestamp, firehose or partitionKeyFromQuery)");
            }
            i = end + 1;
        }
        if (literal.Length > 0) parts.Add(Part.Lit(literal.ToString()));
        foreach (var p in parts.Where(p => p.Kind == PartKind.Literal))
        {
            if (p.Text.Contains('\\') || p.Text.Contains('\0') || p.Text.Split('/').Any(s => s is "." or ".."))
                throw new FormatException($"The {what} '{text}' contains '{p.Text}', which is not allowed in an object key (backslash, NUL, '.' or '..' segment).");
        }
        if (parts.Count > 0 && parts[0].Kind == PartKind.Literal && parts[0].Text.StartsWith('/'))
            throw new FormatException($"The {what} '{text}' must not start with '/'.");
        return parts;
    }

    private static FormatException Error(string what, string text, int position, string expression, string message) =>
        new($"The {what} '{text}' is invalid at position {position}: {expression} {message}.");

    /// <summary>
    /// The grouping key of a record: the prefix evaluated for the record's arrival time and
    /// partition values, with each random string left as a placeholder. Records with equal keys
    /// can share an object.
    /// </summary>
    internal string GroupKey(DateTimeOffset arrival, RetailTransaction? record, string? errorOutputType) =>
        Evaluate(arrival, record, errorOutputType, randomSeed: null);

    /// <summary>Evaluates the prefix. Random strings come from <paramref name="randomSeed"/> (deterministic), or stay as <c>!{firehose:random-string}</c> when it is null.</summary>
    public string Evaluate(DateTimeOffset arrival, RetailTransaction? record, string? errorOutputType, ulong? randomSeed)
    {
        var sb = new StringBuilder(128);
        var utc = arrival.UtcDateTime;
        ulong rng = randomSeed ?? 0;
        foreach (var p in _parts)
        {
            switch (p.Kind)
            {
                case PartKind.Literal: sb.Append(p.Text); break;
                case PartKind.Timestamp: p.Format!(utc, sb); break;
                case PartKind.ErrorOutputType: sb.Append(errorOutputType ?? throw new ArgumentNullException(nameof(errorOutputType))); break;
                case PartKind.RandomString:
                    if (randomSeed is null) sb.Append("!{firehose:random-string}");
                    else AppendRandom(sb, ref rng);
                    break;
                case PartKind.PartitionKey:
                    sb.Append(PartitionValue(record ?? throw new ArgumentNullException(nameof(record)), p.Text));
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>The value of a dynamic partition key, made safe for a key segment.</summary>
    internal static string PartitionValue(RetailTransaction record, string key)
    {
        var d = record.InvoiceDate;
        string raw = key switch
        {
            "year" => d.Year.ToString("0000", CultureInfo.InvariantCulture),
            "month" => d.Month.ToString("00", CultureInfo.InvariantCulture),
            "day" => d.Day.ToString("00", CultureInfo.InvariantCulture),
            "hour" => d.Hour.ToString("00", CultureInfo.InvariantCulture),
            _ => RetailFieldAccess.GetText(record, key),
        };
        return SafeSegment(raw);
    }

    /// <summary>
    /// Percent-encodes what cannot sit in a key segment (<c>/</c>, <c>\</c>, <c>%</c>, control
    /// characters; a value of only dots); an empty value becomes Hive's <c>__HIVE_DEFAULT_PARTITION__</c>.
    /// </summary>
    internal static string SafeSegment(string value)
    {
        if (value.Length == 0) return "__HIVE_DEFAULT_PARTITION__";
        bool clean = true;
        foreach (char c in value)
            if (c is '/' or '\\' or '%' || char.IsControl(c)) { clean = false; break; }
        if (clean && value.Trim('.').Length > 0) return value;
        var sb = new StringBuilder(value.Length + 8);
        bool allDots = value.Trim('.').Length == 0;
        foreach (char c in value)
        {
            if (c is '/' or '\\' or '%' || char.IsControl(c) || (allDots && c == '.'))
                foreach (byte b in Encoding.UTF8.GetBytes(c.ToString())) sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static void AppendRandom(StringBuilder sb, ref ulong state)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (int i = 0; i < 11; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            sb.Append(alphabet[(int)(z % (ulong)alphabet.Length)]);
        }
    }

    private enum PartKind { Literal, Timestamp, ErrorOutputType, RandomString, PartitionKey }

    private sealed record Part(PartKind Kind, string Text, Action<DateTime, StringBuilder>? Format)
    {
        public static Part Lit(string text) => new(PartKind.Literal, text, null);
    }
}

/// <summary>A subset of Java's DateTimeFormatter patterns, compiled to an appender.</summary>
internal static class JavaDateFormat
{
    public static Action<DateTime, StringBuilder> Compile(string pattern, Func<string, Exception> error)
    {
        var steps = new List<Action<DateTime, StringBuilder>>();
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\'')
            {
                int close = pattern.IndexOf('\'', i + 1);
                if (close < 0) throw error("has an unclosed quote in its timestamp pattern");
                string lit = close == i + 1 ? "'" : pattern[(i + 1)..close];
                steps.Add((_, sb) => sb.Append(lit));
                i = close + 1;
                continue;
            }
            if (!char.IsAsciiLetter(c))
            {
                steps.Add((_, sb) => sb.Append(c));
                i++;
                continue;
            }
            int n = 1;
            while (i + n < pattern.Length && pattern[i + n] == c) n++;
            int width = n;
            Action<DateTime, StringBuilder> step = c switch
            {
                'y' or 'u' => width == 2
                    ? (d, sb) => sb.Append((d.Year % 100).ToString("00", CultureInfo.InvariantCulture))
                    : (d, sb) => sb.Append(d.Year.ToString(new string('0', width), CultureInfo.InvariantCulture)),
                'M' when width <= 2 => Num(d => d.Month, width),
                'M' when width == 3 => (d, sb) => sb.Append(CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(d.Month)),
                'M' => (d, sb) => sb.Append(CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(d.Month)),
                'd' when width <= 2 => Num(d => d.Day, width),
                'D' when width <= 3 => Num(d => d.DayOfYear, width),
                'H' when width <= 2 => Num(d => d.Hour, width),
                'h' when width <= 2 => Num(d => d.Hour % 12 == 0 ? 12 : d.Hour % 12, width),
                'm' when width <= 2 => Num(d => d.Minute, width),
                's' when width <= 2 => Num(d => d.Second, width),
                'S' when width <= 9 => (d, sb) => sb.Append((d.Ticks % TimeSpan.TicksPerSecond).ToString("0000000", CultureInfo.InvariantCulture).PadRight(9, '0')[..width]),
                'a' when width == 1 => (d, sb) => sb.Append(d.Hour < 12 ? "AM" : "PM"),
                _ => throw error($"has the unsupported pattern letters '{new string(c, width)}' in its timestamp pattern (supported: y u M d D H h m s S a, and 'quoted text')"),
            };
            steps.Add(step);
            i += n;
        }
        var compiled = steps.ToArray();
        return (d, sb) =>
        {
            foreach (var s in compiled) s(d, sb);
        };
    }

    private static Action<DateTime, StringBuilder> Num(Func<DateTime, int> get, int width) =>
        (d, sb) => sb.Append(get(d).ToString(width == 1 ? "0" : new string('0', width), CultureInfo.InvariantCulture));
}
