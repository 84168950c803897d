using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Retail.Cli;

/// <summary>
/// The workshop's OpenSearch Dashboards objects as saved-objects NDJSON (the format of <c>_export</c>, accepted by
/// <c>POST /api/saved_objects/_import</c>): an index pattern over the speed layer's index with InvoiceDate as its
/// time field, the workshop's visualization (a vertical bar chart of sum(Quantity) over a date histogram of
/// InvoiceDate) and a dashboard holding it. Ids are name-based UUIDs derived from the index pattern, so a second
/// import (with <c>overwrite=true</c>) replaces the same three objects instead of adding copies.
/// Written with <see cref="Utf8JsonWriter"/>: no reflection.
/// </summary>
internal static class SavedObjects
{
    /// <summary>The default index pattern: the speed layer's index, <c>retail</c>, and its rotated indexes.</summary>
    public const string DefaultIndexPattern = "retail*";

    /// <summary>The time field of the index pattern and the field of the date histogram.</summary>
    public const string TimeField = "InvoiceDate";

    /// <summary>The field the visualization sums.</summary>
    public const string MetricField = "Quantity";

    /// <summary>The reference name of the visualization's index pattern (what <c>_export</c> writes).</summary>
    public const string SearchSourceIndexRefName = "kibanaSavedObjectMeta.searchSourceJSON.index";

    /// <summary>The reference name of the dashboard's one panel.</summary>
    public const string PanelRefName = "panel_0";

    private static readonly JsonWriterOptions Options = new()
    {
        // The file is imported, never embedded in HTML: keep quotes and '<' readable inside the JSON strings.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Characters an index pattern cannot hold (OpenSearch's forbidden index-name characters and whitespace).</summary>
    private static readonly SearchValues<char> Forbidden = SearchValues.Create("\\/?\"<>|# \t\r\n");

    /// <summary>Why <paramref name="pattern"/> cannot be an index pattern, or null when it can.</summary>
    public static string? Validate(string pattern)
    {
        if (string.IsNullOrEmpty(pattern)) return "--index-pattern must not be empty.";
        int bad = pattern.AsSpan().IndexOfAny(Forbidden);
        if (bad >= 0) return $"--index-pattern '{pattern}' holds '{pattern[bad]}', which an OpenSearch index name cannot (none of \\ / ? \" < > | # or whitespace).";
        if (pattern[0] is '-' or '_' or '+') return $"--index-pattern '{pattern}' starts with '{pattern[0]}', which an OpenSearch index name cannot.";
        if (pattern.Length > 255) return $"--index-pattern is {pattern.Length} characters; an OpenSearch index name has at most 255.";
        return null;
    }

    /// <summary>The id of the index pattern for <paramref name="pattern"/> (stable across runs and machines).</summary>
    public static string IndexPatternId(string pattern) => NameBasedId("index-pattern", pattern);

    /// <summary>The id of the visualization over <paramref name="pattern"/>.</summary>
    public static string VisualizationId(string pattern) => NameBasedId("visualization", pattern);

    /// <summary>The default start of the time range: today (the synthetic producer stamps today's dates).</summary>
    public const string DefaultTimeFrom = "now/d";

    /// <summary>The default end of the time range.</summary>
    public const string DefaultTimeTo = "now/d";

    /// <summary>The id of the dashboard over <paramref name="pattern"/>.</summary>
    public static string DashboardId(string pattern) => NameBasedId("dashboard", pattern);

    /// <summary>The three objects, one JSON object a line, each line ending in <c>\n</c>.</summary>
    /// <param name="pattern">The index pattern.</param>
    /// <param name="timeFrom">The dashboard's time range start (Dashboards date math: <c>now/d</c>, today, by default; <c>now-20y</c> or <c>2009-12-01</c> for replayed data).</param>
    /// <param name="timeTo">Its end (default <c>now/d</c>).</param>
    public static byte[] Export(string pattern, string timeFrom = DefaultTimeFrom, string timeTo = DefaultTimeTo)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentException.ThrowIfNullOrEmpty(timeFrom);
        ArgumentException.ThrowIfNullOrEmpty(timeTo);
        var output = new ArrayBufferWriter<byte>(8192);
        WriteIndexPattern(output, pattern);
        WriteVisualization(output, pattern, timeFrom, timeTo);
        WriteDashboard(output, pattern, timeFrom, timeTo);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteIndexPattern(ArrayBufferWriter<byte> output, string pattern)
    {
        WriteObject(output, "index-pattern", IndexPatternId(pattern), w =>
        {
            w.WriteString("title", pattern);
            w.WriteString("timeFieldName", TimeField);
            // Dashboards reads the field list from the index when the pattern is first opened.
            w.WriteString("fields", "[]");
        }, reference: null, "7.6.0");
    }

    private static void WriteVisualization(ArrayBufferWriter<byte> output, string pattern, string timeFrom, string timeTo)
    {
        string title = $"Sum of {MetricField} over {TimeField} ({pattern})";
        WriteObject(output, "visualization", VisualizationId(pattern), w =>
        {
            w.WriteString("title", title);
            w.WriteString("description", $"The workshop's speed-layer chart: sum({MetricField}) per {TimeField} interval.");
            w.WriteString("visState", Json(v => WriteVisState(v, title, timeFrom, timeTo)));
            w.WriteString("uiStateJSON", "{}");
            w.WriteNumber("version", 1);
            w.WriteStartObject("kibanaSavedObjectMeta");
            w.WriteString("searchSourceJSON", Json(s =>
            {
                s.WriteStartObject();
                WriteEmptyQuery(s);
                s.WriteString("indexRefName", SearchSourceIndexRefName);
                s.WriteEndObject();
            }));
            w.WriteEndObject();
        }, (SearchSourceIndexRefName, "index-pattern", IndexPatternId(pattern)), "7.10.0");
    }

    /// <summary>A vertical bar chart ("histogram"): metric 1 = sum(Quantity) on the Y axis, bucket 2 = a date histogram of InvoiceDate on X.</summary>
    private static void WriteVisState(Utf8JsonWriter v, string title, string timeFrom, string timeTo)
    {
        v.WriteStartObject();
        v.WriteString("title", title);
        v.WriteString("type", "histogram");
        v.WriteStartArray("aggs");
        v.WriteStartObject();
        v.WriteString("id", "1");
        v.WriteBoolean("enabled", true);
        v.WriteString("type", "sum");
        v.WriteString("schema", "metric");
        v.WriteStartObject("params");
        v.WriteString("field", MetricField);
        v.WriteEndObject();
        v.WriteEndObject();
        v.WriteStartObject();
        v.WriteString("id", "2");
        v.WriteBoolean("enabled", true);
        v.WriteString("type", "date_histogram");
        v.WriteString("schema", "segment");
        v.WriteStartObject("params");
        v.WriteString("field", TimeField);
        v.WriteStartObject("timeRange");
        v.WriteString("from", timeFrom);
        v.WriteString("to", timeTo);
        v.WriteEndObject();
        v.WriteBoolean("useNormalizedOpenSearchInterval", true);
        v.WriteBoolean("scaleMetricValues", false);
        v.WriteString("interval", "auto");
        v.WriteBoolean("drop_partials", false);
        v.WriteNumber("min_doc_count", 1);
        v.WriteStartObject("extended_bounds");
        v.WriteEndObject();
        v.WriteEndObject();
        v.WriteEndObject();
        v.WriteEndArray();
        v.WriteStartObject("params");
        v.WriteString("type", "histogram");
        v.WriteBoolean("addTooltip", true);
        v.WriteBoolean("addLegend", true);
        v.WriteString("legendPosition", "right");
        v.WriteBoolean("addTimeMarker", false);
        v.WriteStartArray("categoryAxes");
        v.WriteStartObject();
        v.WriteString("id", "CategoryAxis-1");
        v.WriteString("type", "category");
        v.WriteString("position", "bottom");
        v.WriteBoolean("show", true);
        v.WriteStartObject("scale");
        v.WriteString("type", "linear");
        v.WriteEndObject();
        v.WriteStartObject("labels");
        v.WriteBoolean("show", true);
        v.WriteBoolean("filter", true);
        v.WriteNumber("truncate", 100);
        v.WriteEndObject();
        v.WriteStartObject("title");
        v.WriteEndObject();
        v.WriteEndObject();
        v.WriteEndArray();
        v.WriteStartArray("valueAxes");
        v.WriteStartObject();
        v.WriteString("id", "ValueAxis-1");
        v.WriteString("name", "LeftAxis-1");
        v.WriteString("type", "value");
        v.WriteString("position", "left");
        v.WriteBoolean("show", true);
        v.WriteStartObject("scale");
        v.WriteString("type", "linear");
        v.WriteString("mode", "normal");
        v.WriteEndObject();
        v.WriteStartObject("labels");
        v.WriteBoolean("show", true);
        v.WriteNumber("rotate", 0);
        v.WriteBoolean("filter", false);
        v.WriteNumber("truncate", 100);
        v.WriteEndObject();
        v.WriteStartObject("title");
        v.WriteString("text", $"Sum of {MetricField}");
        v.WriteEndObject();
        v.WriteEndObject();
        v.WriteEndArray();
        v.WriteStartArray("seriesParams");
        v.WriteStartObject();
        v.WriteBoolean("show", true);
        v.WriteString("type", "histogram");
        v.WriteString("mode", "stacked");
        v.WriteStartObject("data");
        v.WriteString("label", $"Sum of {MetricField}");
        v.WriteString("id", "1");
        v.WriteEndObject();
        v.WriteString("valueAxis", "ValueAxis-1");
        v.WriteBoolean("drawLinesBetweenPoints", true);
        v.WriteNumber("lineWidth", 2);
        v.WriteBoolean("showCircles", true);
        v.WriteEndObject();
        v.WriteEndArray();
        v.WriteStartObject("grid");
        v.WriteBoolean("categoryLines", false);
        v.WriteEndObject();
        v.WriteStartObject("labels");
        v.WriteBoolean("show", false);
        v.WriteEndObject();
        v.WriteBoolean("thresholdLine", false);
        v.WriteEndObject();
        v.WriteEndObject();
    }

    private static void WriteDashboard(ArrayBufferWriter<byte> output, string pattern, string timeFrom, string timeTo)
    {
        WriteObject(output, "dashboard", DashboardId(pattern), w =>
        {
            w.WriteString("title", $"Retail speed layer ({pattern})");
            w.WriteString("description", "Sales as the speed layer indexes them: sum(Quantity) over InvoiceDate, today, refreshed every 10 s.");
            w.WriteNumber("hits", 0);
            w.WriteString("panelsJSON", Json(p =>
            {
                p.WriteStartArray();
                p.WriteStartObject();
                p.WriteString("panelIndex", "1");
                p.WriteStartObject("gridData");
                p.WriteNumber("x", 0);
                p.WriteNumber("y", 0);
                p.WriteNumber("w", 48);
                p.WriteNumber("h", 20);
                p.WriteString("i", "1");
                p.WriteEndObject();
                p.WriteStartObject("embeddableConfig");
                p.WriteEndObject();
                p.WriteString("version", "7.10.2");
                p.WriteString("panelRefName", PanelRefName);
                p.WriteEndObject();
                p.WriteEndArray();
            }));
            w.WriteString("optionsJSON", Json(o =>
            {
                o.WriteStartObject();
                o.WriteBoolean("hidePanelTitles", false);
                o.WriteBoolean("useMargins", true);
                o.WriteEndObject();
            }));
            w.WriteNumber("version", 1);
            // By default today (the synthetic producer stamps today's dates), refreshed as documents arrive.
            w.WriteBoolean("timeRestore", true);
            w.WriteString("timeFrom", timeFrom);
            w.WriteString("timeTo", timeTo);
            w.WriteStartObject("refreshInterval");
            w.WriteBoolean("pause", false);
            w.WriteNumber("value", 10_000);
            w.WriteEndObject();
            w.WriteStartObject("kibanaSavedObjectMeta");
            w.WriteString("searchSourceJSON", Json(s =>
            {
                s.WriteStartObject();
                WriteEmptyQuery(s);
                s.WriteEndObject();
            }));
            w.WriteEndObject();
        }, (PanelRefName, "visualization", VisualizationId(pattern)), "7.9.3");
    }

    private static void WriteEmptyQuery(Utf8JsonWriter w)
    {
        w.WriteStartObject("query");
        w.WriteString("query", "");
        w.WriteString("language", "kuery");
        w.WriteEndObject();
        w.WriteStartArray("filter");
        w.WriteEndArray();
    }

    /// <summary>
    /// One saved object on its own line: <c>{type, id, attributes, references, migrationVersion}</c>, its attributes written
    /// by <paramref name="attributes"/>, with at most one reference.
    /// </summary>
    private static void WriteObject(ArrayBufferWriter<byte> output, string type, string id, Action<Utf8JsonWriter> attributes,
        (string Name, string Type, string Id)? reference, string migrationVersion)
    {
        using (var w = new Utf8JsonWriter(output, Options))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteString("id", id);
            w.WriteStartObject("attributes");
            attributes(w);
            w.WriteEndObject();
            w.WriteStartArray("references");
            if (reference is { } r)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("type", r.Type);
                w.WriteString("id", r.Id);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("migrationVersion");
            w.WriteString(type, migrationVersion);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        output.Write("\n"u8);
    }

    /// <summary>A nested JSON document (the saved objects keep visState, panelsJSON and searchSourceJSON as strings).</summary>
    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Options)) write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A name-based UUID (RFC 9562 version 8, from SHA-256) of the object's type and the index pattern.</summary>
    private static string NameBasedId(string type, string pattern)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"retail-dashboards/{type}/{pattern}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(hash[..16], bigEndian: true).ToString("D");
    }
}
