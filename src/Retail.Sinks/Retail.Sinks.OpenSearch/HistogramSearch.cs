using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Retail.Codecs;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// The <c>_search</c> request of <see cref="OpenSearchUpsertIndex.HistogramAsync"/> and the reading of its answer:
/// <c>size: 0</c>, <c>track_total_hits: true</c>, a <c>bool.filter</c> of a <c>range</c> on <c>InvoiceDate</c> and a
/// <c>term</c> on the <c>Country</c> keyword, a <c>date_histogram</c> (calendar interval, <c>min_doc_count: 1</c>, UTC)
/// with a <c>sum</c> of <c>Quantity</c> per bucket and a <c>bucket_sort</c> keeping the oldest
/// <see cref="SpeedLayerHistogramRequest.MaxBuckets"/> + 1 buckets (so the answer stays small and truncation shows),
/// and a top-level <c>sum</c> of <c>Quantity</c>. Written with <see cref="Utf8JsonWriter"/>, read with
/// <see cref="JsonDocument"/>: no reflection.
/// </summary>
internal static class HistogramSearch
{
    /// <summary>The date_histogram aggregation's name.</summary>
    public const string HistogramName = "histogram";

    /// <summary>The sum aggregations' name (per bucket and over every matching document).</summary>
    public const string QuantityName = "quantity";

    /// <summary>The bucket_sort aggregation's name (inside the histogram).</summary>
    public const string OldestName = "oldest";

    /// <summary>The format of the range query's bounds (one of the formats the retail index template's <c>InvoiceDate</c> accepts).</summary>
    public const string BoundFormat = "strict_date_optional_time";

    /// <summary>The largest <c>_search</c> response read: the histogram answers at most 10,001 buckets (about 1.5 MB).</summary>
    public const int MaxResponseBytes = 8 * 1024 * 1024;

    /// <summary>Beyond 2^53 a double (OpenSearch's sum) no longer holds every whole number.</summary>
    private const double MaxExact = 9_007_199_254_740_992d;

    /// <summary>OpenSearch's <c>calendar_interval</c> of <paramref name="interval"/>.</summary>
    public static string CalendarInterval(HistogramInterval interval) => interval switch
    {
        HistogramInterval.Minute => "minute",
        HistogramInterval.Hour => "hour",
        HistogramInterval.Day => "day",
        HistogramInterval.Week => "week",
        HistogramInterval.Month => "month",
        _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, null),
    };

    /// <summary>The request body for <paramref name="request"/> (already validated).</summary>
    public static byte[] Body(SpeedLayerHistogramRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(768);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = RetailJson.WriterOptions.Encoder }))
        {
            w.WriteStartObject();
            w.WriteNumber("size", 0);
            w.WriteBoolean("track_total_hits", true);
            if (request.From is not null || request.To is not null || request.Country is not null)
            {
                w.WriteStartObject("query");
                w.WriteStartObject("bool");
                w.WriteStartArray("filter");
                if (request.From is not null || request.To is not null)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("range");
                    w.WriteStartObject(RetailFields.InvoiceDate);
                    if (request.From is { } from) w.WriteString("gte", Bound(from));
                    if (request.To is { } to) w.WriteString("lt", Bound(to));
                    w.WriteString("format", BoundFormat);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                if (request.Country is { } country)
                {
                    // The retail index template maps Country as a keyword: a term query matches the exact value.
                    w.WriteStartObject();
                    w.WriteStartObject("term");
                    w.WriteStartObject(RetailFields.Country);
                    w.WriteString("value", country);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteStartObject("aggs");
            w.WriteStartObject(HistogramName);
            w.WriteStartObject("date_histogram");
            w.WriteString("field", RetailFields.InvoiceDate);
            w.WriteString("calendar_interval", CalendarInterval(request.Interval));
            w.WriteNumber("min_doc_count", 1);
            w.WriteString("time_zone", "UTC");
            w.WriteEndObject();
            w.WriteStartObject("aggs");
            Sum(w);
            w.WriteStartObject(OldestName);
            w.WriteStartObject("bucket_sort");
            w.WriteNumber("size", request.MaxBuckets + 1);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            Sum(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();

        static void Sum(Utf8JsonWriter w)
        {
            w.WriteStartObject(QuantityName);
            w.WriteStartObject("sum");
            w.WriteString("field", RetailFields.Quantity);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// A bound as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>: the time read as UTC (whatever its <see cref="DateTime.Kind"/>: the
    /// lake's invoice dates carry no zone), rounded up to OpenSearch's millisecond resolution, which keeps both
    /// <c>gte</c> and <c>lt</c> exact for dates stored in milliseconds.
    /// </summary>
    public static string Bound(DateTime time)
    {
        long ticks = time.Ticks - DateTime.UnixEpoch.Ticks;
        long ms = ticks / TimeSpan.TicksPerMillisecond;
        if (ticks > 0 && ticks % TimeSpan.TicksPerMillisecond != 0) ms++; // division truncates toward zero: a ceiling below the epoch already
        var rounded = DateTime.UnixEpoch.AddMilliseconds(ms);
        return rounded.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>The empty histogram (no index, or nothing matches).</summary>
    public static SpeedLayerHistogram Empty { get; } = new([], 0, 0, false);

    /// <summary>
    /// Reads a <c>_search</c> answer to <see cref="Body"/>; false, with <paramref name="problem"/>, for an answer that is
    /// not one (or a partial one, or a sum that is not a whole number).
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> json, int maxBuckets, out SpeedLayerHistogram histogram, out string? problem)
    {
        histogram = Empty;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Fail("the response is not a JSON object", out problem);
            if (root.TryGetProperty("timed_out", out var timedOut) && timedOut.ValueKind == JsonValueKind.True)
                return Fail("the search timed out (its results are partial)", out problem);
            if (root.TryGetProperty("_shards", out var shards) && shards.ValueKind == JsonValueKind.Object
                && shards.TryGetProperty("failed", out var failed) && failed.TryGetInt32(out int failedShards) && failedShards > 0)
                return Fail(string.Create(CultureInfo.InvariantCulture, $"{failedShards} shards failed (its results are partial){ShardFailure(shards)}"), out problem);

            if (!root.TryGetProperty("hits", out var hits) || hits.ValueKind != JsonValueKind.Object || !hits.TryGetProperty("total", out var total))
                return Fail("the response has no hits.total", out problem);
            long documents;
            if (total.ValueKind == JsonValueKind.Number && total.TryGetInt64(out documents))
            {
                // rest_total_hits_as_int: a plain number, always exact with track_total_hits: true.
            }
            else if (total.ValueKind == JsonValueKind.Object && total.TryGetProperty("value", out var value) && value.TryGetInt64(out documents))
            {
                if (total.TryGetProperty("relation", out var relation) && relation.ValueKind == JsonValueKind.String && !relation.ValueEquals("eq"u8))
                    return Fail($"hits.total.relation is '{relation.GetString()}', not 'eq' (a lower bound, although track_total_hits was true)", out problem);
            }
            else return Fail("hits.total is neither {value, relation} nor a number", out problem);

            if (!root.TryGetProperty("aggregations", out var aggregations))
            {
                // A pattern that matches no index is answered with no shards and no aggregations.
                if (documents == 0)
                {
                    problem = null;
                    return true;
                }
                return Fail("the response has no aggregations", out problem);
            }
            if (aggregations.ValueKind != JsonValueKind.Object
                || !aggregations.TryGetProperty(HistogramName, out var dateHistogram) || dateHistogram.ValueKind != JsonValueKind.Object
                || !dateHistogram.TryGetProperty("buckets", out var buckets) || buckets.ValueKind != JsonValueKind.Array)
                return Fail($"aggregations.{HistogramName}.buckets is missing or not an array", out problem);
            if (!TrySum(aggregations, "the documents", out long quantity, out problem)) return false;

            int count = buckets.GetArrayLength();
            var kept = new HistogramBucket[Math.Min(count, maxBuckets)];
            long lastKey = long.MinValue;
            int i = 0;
            foreach (var bucket in buckets.EnumerateArray())
            {
                if (bucket.ValueKind != JsonValueKind.Object
                    || !bucket.TryGetProperty("key", out var keyElement) || !keyElement.TryGetInt64(out long key))
                    return Fail(string.Create(CultureInfo.InvariantCulture, $"bucket {i} has no key in epoch milliseconds"), out problem);
                if (key <= lastKey) return Fail(string.Create(CultureInfo.InvariantCulture, $"bucket {i} (key {key}) is not after the bucket before it (key {lastKey})"), out problem);
                lastKey = key;
                DateTime start;
                try
                {
                    start = DateTime.UnixEpoch.AddMilliseconds(key);
                }
                catch (ArgumentOutOfRangeException)
                {
                    return Fail(string.Create(CultureInfo.InvariantCulture, $"bucket {i} has the key {key}, outside the dates .NET can hold"), out problem);
                }
                if (!bucket.TryGetProperty("doc_count", out var docCount) || !docCount.TryGetInt64(out long bucketDocuments))
                    return Fail(string.Create(CultureInfo.InvariantCulture, $"bucket {i} has no doc_count"), out problem);
                if (!TrySum(bucket, string.Create(CultureInfo.InvariantCulture, $"the bucket starting {start:yyyy-MM-dd'T'HH:mm:ss'Z'}"), out long bucketQuantity, out problem)) return false;
                if (i < kept.Length) kept[i] = new HistogramBucket(start, bucketDocuments, bucketQuantity);
                i++;
            }
            histogram = new SpeedLayerHistogram(kept, documents, quantity, count > maxBuckets);
            problem = null;
            return true;
        }
        catch (JsonException e)
        {
            return Fail("the response is not valid JSON: " + e.Message, out problem);
        }
    }

    private static bool TrySum(JsonElement parent, string what, out long quantity, out string? problem)
    {
        quantity = 0;
        if (!parent.TryGetProperty(QuantityName, out var sum) || sum.ValueKind != JsonValueKind.Object
            || !sum.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double v))
            return Fail($"the sum of Quantity of {what} ({QuantityName}.value) is missing or not a number", out problem);
        if (!double.IsFinite(v) || Math.Abs(v) > MaxExact)
            return Fail(string.Create(CultureInfo.InvariantCulture, $"the sum of Quantity of {what} is {v:R}, beyond 2^53, where OpenSearch's double sum is no longer exact"), out problem);
        if (Math.Floor(v) != v)
            return Fail(string.Create(CultureInfo.InvariantCulture,
                $"the sum of Quantity of {what} is {v:R}, not a whole number: Quantity must be mapped as an integer (the retail index template maps it so; see OpenSearchOptions.EnsureIndexTemplate)"), out problem);
        quantity = (long)v;
        problem = null;
        return true;
    }

    private static string ShardFailure(JsonElement shards)
    {
        if (!shards.TryGetProperty("failures", out var failures) || failures.ValueKind != JsonValueKind.Array || failures.GetArrayLength() == 0) return "";
        var first = failures[0];
        if (first.ValueKind != JsonValueKind.Object || !first.TryGetProperty("reason", out var reason)) return "";
        var (type, why) = Error(reason);
        return type is null && why is null ? "" : ": " + (type is null ? why : why is null ? type : type + ": " + why);
    }

    /// <summary>
    /// The <c>error.type</c> of an error response and its reason, with the root cause's type and reason added when it
    /// differs (a <c>search_phase_execution_exception</c> "all shards failed" says what went wrong only there).
    /// </summary>
    public static (string? Type, string? Reason) ReadError(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, null);
            if (!root.TryGetProperty("error", out var error))
                return root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? (null, m.GetString())
                    : root.TryGetProperty("Message", out var am) && am.ValueKind == JsonValueKind.String ? (null, am.GetString())
                    : (null, null);
            if (error.ValueKind == JsonValueKind.String) return (null, error.GetString());
            if (error.ValueKind != JsonValueKind.Object) return (null, null);
            var (type, reason) = Error(error);
            JsonElement cause = default;
            if (error.TryGetProperty("root_cause", out var roots) && roots.ValueKind == JsonValueKind.Array && roots.GetArrayLength() > 0) cause = roots[0];
            else if (error.TryGetProperty("caused_by", out var causedBy)) cause = causedBy;
            if (cause.ValueKind == JsonValueKind.Object)
            {
                var (rootType, rootReason) = Error(cause);
                if ((rootType is not null || rootReason is not null) && (rootType != type || rootReason != reason))
                    reason = (reason is null ? "" : reason + "; ") + "root cause " + (rootType is null ? rootReason : rootReason is null ? rootType : rootType + ": " + rootReason);
            }
            return (type, reason);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static (string? Type, string? Reason) Error(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return (null, null);
        string? type = e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        string? reason = e.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        return (type, reason);
    }

    private static bool Fail(string why, out string? problem)
    {
        problem = why;
        return false;
    }
}
