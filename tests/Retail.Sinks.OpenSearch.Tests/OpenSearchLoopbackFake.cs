using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.OpenSearch.Tests;

/// <summary>
/// A strict loopback fake of OpenSearch's document APIs (no OpenSearch server installs here), written from the
/// published REST reference: <c>_bulk</c>, <c>_count</c>, <c>_index_template</c> and a subset of <c>_search</c> (the
/// speed layer's histogram: see <see cref="SearchAsync"/>). Kestrel on 127.0.0.1 at a port
/// the OS picks (<see cref="Url"/>). It rejects what OpenSearch rejects:
/// <list type="bullet">
/// <item>a Content-Type other than <c>application/x-ndjson</c> or <c>application/json</c> (a <c>charset=utf-8</c> is
/// allowed): 406 <c>{"error":"Content-Type header [x] is not supported","status":406}</c>;</item>
/// <item>a <c>_bulk</c> body that does not end with <c>\n</c>: 400 <c>illegal_argument_exception</c> "The bulk request
/// must be terminated by a newline [\n]"; an action line that is not a JSON object or names an action other than
/// index/create/update/delete: 400 <c>illegal_argument_exception</c> "Malformed action/metadata line [n], …"; an
/// action without <c>_index</c> when the URL names none, an update without <c>_id</c> or a source line without
/// <c>doc</c>: 400 <c>action_request_validation_exception</c>; a source line that is not a JSON object: 400
/// <c>illegal_argument_exception</c>; an unknown query parameter: 400;</item>
/// <item>a body larger than <see cref="MaxRequestBytes"/>: 413 (the AWS front end's <c>{"Message":"Request size
/// exceeded N bytes"}</c>); missing or wrong basic credentials when <see cref="BasicAuth"/> is set: 401
/// <c>security_exception</c>.</item>
/// </list>
/// It stores documents per index (<c>index</c> replaces, <c>create</c> answers 409
/// <c>version_conflict_engine_exception</c> when the id exists, <c>update</c> with <c>doc_as_upsert</c> merges or
/// inserts), serves <c>_count</c> (comma lists and wildcards) and <c>_index_template</c> (PUT/GET). Each index gets its
/// mapping when its first document arrives: the properties of the highest-priority index template matching its name,
/// then OpenSearch's dynamic mapping for fields the template does not name (a string that reads as
/// <c>strict_date_optional_time</c> a <c>date</c>, another string <c>text</c> with a <c>keyword</c> sub-field
/// <c>.keyword</c>, a whole number <c>long</c>, another number <c>float</c>). Faults on demand:
/// <see cref="ThrottleFraction"/> (items answered 429 on first sight, chosen by <see cref="Seed"/>, accepted when sent
/// again), <see cref="RejectWhen"/> (items answered 400 <c>mapper_parsing_exception</c>), <see cref="FailRequests"/>
/// (the next requests answered with a whole-request status). Every request is logged (<see cref="Requests"/>).
/// </summary>
public sealed class OpenSearchLoopbackFake : IAsyncDisposable
{
    private static readonly HashSet<string> BulkParameters = new(StringComparer.Ordinal)
    {
        "refresh", "timeout", "routing", "pipeline", "wait_for_active_shards", "require_alias", "pretty", "filter_path", "error_trace",
    };

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _indices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonNode> _templates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, FieldMapping>> _mappings = new(StringComparer.Ordinal);
    private readonly HashSet<string> _throttled = new(StringComparer.Ordinal);
    private readonly Queue<int> _failures = new();
    private readonly Dictionary<string, int> _writes = new(StringComparer.Ordinal);
    private readonly List<FakeRequest> _requests = [];
    private long _autoId;

    private OpenSearchLoopbackFake(WebApplication app) => _app = app;

    /// <summary>Starts the fake on 127.0.0.1 at a free port.</summary>
    public static async Task<OpenSearchLoopbackFake> StartAsync(int maxRequestBytes = 10 * 1024 * 1024, (string User, string Password)? basicAuth = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024; // the fake's own limit (MaxRequestBytes) answers 413
        });
        var app = builder.Build();
        var fake = new OpenSearchLoopbackFake(app) { MaxRequestBytes = maxRequestBytes, BasicAuth = basicAuth };
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.Url = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    /// <summary><c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The largest request body accepted; a larger one is answered 413.</summary>
    public int MaxRequestBytes { get; set; }

    /// <summary>When set, every request must carry these basic credentials (401 otherwise).</summary>
    public (string User, string Password)? BasicAuth { get; set; }

    /// <summary>The fraction (0 to 1) of bulk items answered 429 the first time their index and id are seen; they are accepted when sent again.</summary>
    public double ThrottleFraction { get; set; }

    /// <summary>Chooses which items <see cref="ThrottleFraction"/> throttles (the choice depends only on the seed, the index and the id).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Items for which this returns true (index, id, source) are answered 400 <c>mapper_parsing_exception</c> and not stored.</summary>
    public Func<string, string, JsonObject, bool>? RejectWhen { get; set; }

    /// <summary>
    /// Items for which this returns true (index, id, source) are answered 403 <c>security_exception</c> and not stored, as
    /// a domain with fine-grained access control answers a user without write permission on that index.
    /// </summary>
    public Func<string, string, JsonObject, bool>? ForbidWhen { get; set; }

    /// <summary>Answers the next <paramref name="count"/> requests with HTTP <paramref name="status"/> as a whole (nothing is stored).</summary>
    public void FailRequests(int status, int count = 1)
    {
        lock (_lock) for (int i = 0; i < count; i++) _failures.Enqueue(status);
    }

    /// <summary>A snapshot of every request received, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get { lock (_lock) return [.. _requests]; }
    }

    /// <summary>The number of items answered 429 so far.</summary>
    public int ThrottledItems
    {
        get { lock (_lock) return _throttled.Count; }
    }

    /// <summary>A snapshot of the documents of <paramref name="index"/> by id (empty when it does not exist).</summary>
    public IReadOnlyDictionary<string, JsonObject> Documents(string index)
    {
        lock (_lock)
            return _indices.TryGetValue(index, out var docs)
                ? docs.ToDictionary(d => d.Key, d => (JsonObject)d.Value.DeepClone(), StringComparer.Ordinal)
                : new Dictionary<string, JsonObject>();
    }

    /// <summary>The names of the indices that hold documents.</summary>
    public IReadOnlyList<string> IndexNames
    {
        get { lock (_lock) return [.. _indices.Keys.Order(StringComparer.Ordinal)]; }
    }

    /// <summary>Documents in every index.</summary>
    public long TotalDocuments
    {
        get { lock (_lock) return _indices.Values.Sum(d => (long)d.Count); }
    }

    /// <summary>How many times a bulk item stored (created, replaced or merged) the document <paramref name="id"/> of <paramref name="index"/>.</summary>
    public int Writes(string index, string id)
    {
        lock (_lock) return _writes.TryGetValue(index + "\n" + id, out int n) ? n : 0;
    }

    /// <summary>Bulk items that stored a document, over every index.</summary>
    public long TotalWrites
    {
        get { lock (_lock) return _writes.Values.Sum(n => (long)n); }
    }

    /// <summary>The body of the index template <paramref name="name"/>, or null.</summary>
    public JsonNode? Template(string name)
    {
        lock (_lock) return _templates.TryGetValue(name, out var t) ? t.DeepClone() : null;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        byte[] body;
        using (var ms = new MemoryStream())
        {
            await request.Body.CopyToAsync(ms, context.RequestAborted);
            body = ms.ToArray();
        }
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        int status = await RouteAsync(context, body);
        lock (_lock) _requests.Add(new FakeRequest(request.Method, request.Path + request.QueryString, headers, body, status));
    }

    private async Task<int> RouteAsync(HttpContext context, byte[] body)
    {
        var request = context.Request;
        var response = context.Response;
        if (BasicAuth is { } auth && !AuthorizedBasic(request, auth))
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"OpenSearch Security\"";
            return await ErrorAsync(response, 401, "security_exception", "Unauthorized");
        }
        lock (_lock)
        {
            if (_failures.TryDequeue(out int fail))
            {
                response.StatusCode = fail;
                response.ContentType = "application/json; charset=UTF-8";
                return fail;
            }
        }
        if (body.Length > MaxRequestBytes)
        {
            response.StatusCode = 413;
            response.ContentType = "application/json";
            await response.WriteAsync($"{{\"Message\":\"Request size exceeded {MaxRequestBytes} bytes\"}}");
            return 413;
        }
        if (body.Length > 0 && ContentTypeError(request.ContentType) is { } badType)
        {
            response.StatusCode = 406;
            response.ContentType = "application/json; charset=UTF-8";
            await response.WriteAsync(new JsonObject { ["error"] = badType, ["status"] = 406 }.ToJsonString());
            return 406;
        }

        string[] segments = request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        string method = request.Method;
        if (segments.Length >= 1 && segments[^1] == "_bulk" && segments.Length <= 2 && (HttpMethods.IsPost(method) || HttpMethods.IsPut(method)))
            return await BulkAsync(context, segments.Length == 2 ? Uri.UnescapeDataString(segments[0]) : null, body);
        if (segments.Length == 2 && segments[1] == "_count" && (HttpMethods.IsGet(method) || HttpMethods.IsPost(method)))
            return await CountAsync(response, Uri.UnescapeDataString(segments[0]));
        if (segments.Length == 1 && segments[0] == "_count" && (HttpMethods.IsGet(method) || HttpMethods.IsPost(method)))
            return await CountAsync(response, "*");
        if (segments.Length == 2 && segments[1] == "_search" && (HttpMethods.IsGet(method) || HttpMethods.IsPost(method)))
            return await SearchAsync(context, Uri.UnescapeDataString(segments[0]), body);
        if (segments.Length == 1 && segments[0] == "_search" && (HttpMethods.IsGet(method) || HttpMethods.IsPost(method)))
            return await SearchAsync(context, "_all", body);
        if (segments.Length == 2 && segments[0] == "_index_template")
        {
            string name = Uri.UnescapeDataString(segments[1]);
            if (HttpMethods.IsPut(method) || HttpMethods.IsPost(method)) return await PutTemplateAsync(response, name, body);
            if (HttpMethods.IsGet(method)) return await GetTemplateAsync(response, name);
        }
        return await ErrorAsync(response, 400, "illegal_argument_exception", $"no handler found for uri [{request.Path}{request.QueryString}] and method [{method}]");
    }

    private static bool AuthorizedBasic(HttpRequest request, (string User, string Password) auth)
    {
        string header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal)) return false;
        try
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            return decoded == auth.User + ":" + auth.Password;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string? ContentTypeError(string? contentType)
    {
        string value = contentType ?? "";
        string[] parts = value.Split(';', StringSplitOptions.TrimEntries);
        bool typeOk = parts[0] is "application/x-ndjson" or "application/json";
        bool paramsOk = parts.Skip(1).All(p => p.Equals("charset=utf-8", StringComparison.OrdinalIgnoreCase) || p.Equals("charset=\"utf-8\"", StringComparison.OrdinalIgnoreCase));
        return typeOk && paramsOk ? null : $"Content-Type header [{value}] is not supported";
    }

    private async Task<int> BulkAsync(HttpContext context, string? urlIndex, byte[] body)
    {
        var response = context.Response;
        foreach (var key in context.Request.Query.Keys)
            if (!BulkParameters.Contains(key))
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"request [{context.Request.Path}] contains unrecognized parameter: [{key}]");
        if (context.Request.Query.TryGetValue("refresh", out var refresh) && refresh.ToString() is not ("" or "true" or "false" or "wait_for"))
            return await ErrorAsync(response, 400, "illegal_argument_exception", $"Unknown value for refresh: [{refresh}].");
        if (body.Length == 0) return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: no requests added;");
        if (body[^1] != (byte)'\n') return await ErrorAsync(response, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");

        // Parse every line first: a malformed request is refused as a whole, as OpenSearch does, before anything is stored.
        var lines = Lines(body);
        var ops = new List<(string Action, string Index, string? Id, JsonObject? Source, bool DocAsUpsert)>();
        for (int i = 0; i < lines.Count; i++)
        {
            int lineNo = i + 1;
            JsonNode? actionNode;
            try
            {
                actionNode = JsonNode.Parse(lines[i]);
            }
            catch (JsonException)
            {
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"Malformed action/metadata line [{lineNo}], expected START_OBJECT but found [VALUE_STRING]");
            }
            if (actionNode is not JsonObject actionObj || actionObj.Count != 1)
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"Malformed action/metadata line [{lineNo}], expected START_OBJECT or END_OBJECT but found [{Token(actionNode)}]");
            var (action, meta) = actionObj.First();
            if (action is not ("index" or "create" or "update" or "delete"))
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"Malformed action/metadata line [{lineNo}], expected field [create], [delete], [index] or [update] but found [{action}]");
            if (meta is not JsonObject metaObj)
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"Malformed action/metadata line [{lineNo}], expected START_OBJECT but found [{Token(meta)}]");
            string? index = Str(metaObj["_index"]) ?? urlIndex;
            if (string.IsNullOrEmpty(index)) return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: index is missing;");
            string? id = Str(metaObj["_id"]);
            if (action is "update" or "delete" && string.IsNullOrEmpty(id))
                return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: id is missing;");
            if (action == "delete")
            {
                ops.Add((action, index, id, null, false));
                continue;
            }
            if (++i >= lines.Count) return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: source is missing;");
            JsonNode? sourceNode;
            try
            {
                sourceNode = JsonNode.Parse(lines[i]);
            }
            catch (JsonException e)
            {
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"The source on line [{i + 1}] is not valid JSON: {e.Message}");
            }
            if (sourceNode is not JsonObject source)
                return await ErrorAsync(response, 400, "illegal_argument_exception", $"The source on line [{i + 1}] is not a JSON object but [{Token(sourceNode)}]");
            bool docAsUpsert = false;
            if (action == "update")
            {
                if (source["doc"] is not JsonObject doc) return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: script or doc is missing;");
                docAsUpsert = source["doc_as_upsert"] is JsonValue u && u.TryGetValue(out bool b) && b;
                source = (JsonObject)doc.DeepClone();
            }
            ops.Add((action, index, id, source, docAsUpsert));
        }

        var items = new JsonArray();
        bool errors = false;
        lock (_lock)
        {
            foreach (var (action, index, givenId, source, docAsUpsert) in ops)
            {
                string id = givenId ?? "auto-" + (++_autoId);
                string key = index + "\n" + id;
                var item = new JsonObject { ["_index"] = index, ["_id"] = id };
                int status;
                if (source is not null && ThrottleFraction > 0 && !_throttled.Contains(key) && Throttles(key))
                {
                    _throttled.Add(key);
                    status = 429;
                    item["error"] = Error("rejected_execution_exception", "rejected execution of coordinating operation [shard_detail=[" + index + "][0]], bulk queue full");
                }
                else if (source is not null && ForbidWhen is { } forbid && forbid(index, id, source))
                {
                    status = 403;
                    item["error"] = Error("security_exception", $"no permissions for [indices:data/write/bulk[s]] and User [name=retail-writer] on [{index}]");
                }
                else if (source is not null && RejectWhen is { } reject && reject(index, id, source))
                {
                    status = 400;
                    item["error"] = Error("mapper_parsing_exception", $"failed to parse field [Quantity] of type [integer] in document with id '{id}'. Preview of field's value: '{source["Quantity"]}'");
                }
                else
                {
                    if (!_indices.TryGetValue(index, out var docs))
                    {
                        _indices[index] = docs = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
                        _mappings[index] = TemplateMapping(index);
                    }
                    bool exists = docs.TryGetValue(id, out var existing);
                    switch (action)
                    {
                        case "create" when exists:
                            status = 409;
                            item["error"] = Error("version_conflict_engine_exception", $"[{id}]: version conflict, document already exists (current version [1])");
                            break;
                        case "update" when !exists && !docAsUpsert:
                            status = 404;
                            item["error"] = Error("document_missing_exception", $"[{id}]: document missing");
                            break;
                        case "update":
                            if (exists)
                                foreach (var (name, value) in source!) existing![name] = value?.DeepClone();
                            else docs[id] = source!;
                            status = exists ? 200 : 201;
                            item["result"] = exists ? "updated" : "created";
                            break;
                        case "delete":
                            status = exists ? 200 : 404;
                            docs.Remove(id);
                            item["result"] = exists ? "deleted" : "not_found";
                            break;
                        default:
                            docs[id] = source!;
                            status = exists ? 200 : 201;
                            item["result"] = exists ? "updated" : "created";
                            break;
                    }
                    if (status is 200 or 201 && action != "delete")
                    {
                        _writes[key] = _writes.GetValueOrDefault(key) + 1;
                        MapDynamic(_mappings[index], docs[id]);
                    }
                    if (docs.Count == 0)
                    {
                        _indices.Remove(index);
                        _mappings.Remove(index);
                    }
                }
                item["status"] = status;
                if (status >= 300) errors = true;
                items.Add(new JsonObject { [action] = item });
            }
        }
        var answer = new JsonObject { ["took"] = 1, ["errors"] = errors, ["items"] = items };
        response.StatusCode = 200;
        response.ContentType = "application/json; charset=UTF-8";
        await response.WriteAsync(answer.ToJsonString());
        return 200;
    }

    private bool Throttles(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(Seed + "\n" + key), hash);
        return BinaryPrimitives.ReadUInt32LittleEndian(hash) / (double)uint.MaxValue < ThrottleFraction;
    }

    private async Task<int> CountAsync(HttpResponse response, string target)
    {
        long count = 0;
        lock (_lock)
        {
            foreach (var part in target.Split(','))
            {
                if (part.Contains('*', StringComparison.Ordinal))
                {
                    string prefix = part[..part.IndexOf('*', StringComparison.Ordinal)];
                    count += _indices.Where(i => i.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(i => (long)i.Value.Count);
                }
                else if (_indices.TryGetValue(part, out var docs)) count += docs.Count;
                else
                {
                    // An index that exists only as a template's target still does not exist.
                    goto Missing;
                }
            }
        }
        response.ContentType = "application/json; charset=UTF-8";
        await response.WriteAsync(new JsonObject { ["count"] = count, ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 } }.ToJsonString());
        return 200;
    Missing:
        return await ErrorAsync(response, 404, "index_not_found_exception", $"no such index [{target}]");
    }

    private async Task<int> PutTemplateAsync(HttpResponse response, string name, byte[] body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            return await ErrorAsync(response, 400, "x_content_parse_exception", e.Message);
        }
        if (node is not JsonObject template || template["index_patterns"] is not JsonArray { Count: > 0 })
            return await ErrorAsync(response, 400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;");
        lock (_lock) _templates[name] = template;
        response.ContentType = "application/json; charset=UTF-8";
        await response.WriteAsync("{\"acknowledged\":true}");
        return 200;
    }

    private async Task<int> GetTemplateAsync(HttpResponse response, string name)
    {
        JsonNode? template;
        lock (_lock) template = _templates.TryGetValue(name, out var t) ? t.DeepClone() : null;
        if (template is null) return await ErrorAsync(response, 404, "resource_not_found_exception", $"index template matching [{name}] not found");
        response.ContentType = "application/json; charset=UTF-8";
        var answer = new JsonObject { ["index_templates"] = new JsonArray(new JsonObject { ["name"] = name, ["index_template"] = template }) };
        await response.WriteAsync(answer.ToJsonString());
        return 200;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // _search: the subset the speed layer's histogram uses, from the published Query DSL and aggregation references.
    // ---------------------------------------------------------------------------------------------------------------

    private const string NotSupported = "the loopback fake does not support ";

    private static readonly HashSet<string> SearchParameters = new(StringComparer.Ordinal) { "allow_partial_search_results", "pretty", "error_trace" };

    // Real OpenSearch parameters and keys outside the subset: refused as unsupported (OpenSearch would accept them).
    private static readonly HashSet<string> OtherSearchParameters = new(StringComparer.Ordinal)
    {
        "q", "df", "analyzer", "default_operator", "from", "size", "sort", "_source", "timeout", "terminate_after", "track_total_hits", "typed_keys",
        "filter_path", "ignore_unavailable", "allow_no_indices", "expand_wildcards", "routing", "preference", "search_type", "request_cache",
        "batched_reduce_size", "max_concurrent_shard_requests", "pre_filter_shard_size", "rest_total_hits_as_int", "scroll", "stored_fields",
    };

    private static readonly HashSet<string> OtherSearchKeys = new(StringComparer.Ordinal)
    {
        "from", "sort", "_source", "timeout", "terminate_after", "post_filter", "highlight", "search_after", "stored_fields", "docvalue_fields",
        "fields", "script_fields", "min_score", "explain", "version", "seq_no_primary_term", "track_scores", "profile", "collapse", "rescore",
        "suggest", "indices_boost", "stats", "slice", "pit", "ext",
    };

    private static readonly HashSet<string> OtherQueries = new(StringComparer.Ordinal)
    {
        "match", "match_phrase", "match_phrase_prefix", "multi_match", "terms", "terms_set", "exists", "prefix", "wildcard", "regexp", "fuzzy", "ids",
        "query_string", "simple_query_string", "nested", "has_child", "has_parent", "constant_score", "dis_max", "function_score", "boosting",
        "script", "script_score", "geo_distance", "geo_bounding_box", "match_none", "intervals", "distance_feature", "more_like_this",
    };

    private static readonly HashSet<string> OtherAggregations = new(StringComparer.Ordinal)
    {
        "terms", "avg", "min", "max", "value_count", "cardinality", "stats", "extended_stats", "percentiles", "percentile_ranks", "top_hits",
        "histogram", "auto_date_histogram", "range", "date_range", "filter", "filters", "composite", "missing", "nested", "reverse_nested",
        "significant_terms", "sampler", "global", "weighted_avg", "median_absolute_deviation", "scripted_metric", "geo_bounds", "geohash_grid",
        "sum_bucket", "avg_bucket", "max_bucket", "min_bucket", "stats_bucket", "bucket_script", "bucket_selector", "cumulative_sum",
        "derivative", "moving_fn", "serial_diff", "multi_terms", "rare_terms", "adjacency_matrix",
    };

    // calendar_interval values the fake computes, and the other valid ones it refuses as unsupported.
    private static readonly Dictionary<string, string> CalendarUnits = new(StringComparer.Ordinal)
    {
        ["minute"] = "minute", ["1m"] = "minute", ["hour"] = "hour", ["1h"] = "hour", ["day"] = "day", ["1d"] = "day",
        ["week"] = "week", ["1w"] = "week", ["month"] = "month", ["1M"] = "month",
    };

    private static readonly HashSet<string> OtherCalendarUnits = new(StringComparer.Ordinal) { "quarter", "1q", "year", "1y" };

    private static readonly HashSet<string> NumericTypes = new(StringComparer.Ordinal)
    {
        "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long",
    };

    /// <summary>
    /// <c>POST /{target}/_search</c> (a comma list of names and wildcard patterns; a missing concrete index is 404
    /// <c>index_not_found_exception</c>, a pattern that matches nothing gives an answer with no shards and no
    /// aggregations) over the stored documents, for exactly this subset:
    /// <list type="bullet">
    /// <item>top level: <c>size</c> 0 only, <c>track_total_hits</c> (true, false or a number; default 10,000),
    /// <c>query</c>, <c>aggs</c>/<c>aggregations</c>; URL parameters <c>allow_partial_search_results</c>, <c>pretty</c>,
    /// <c>error_trace</c>;</item>
    /// <item>queries: <c>match_all</c>, <c>bool</c> with <c>filter</c> only, <c>range</c> on a <c>date</c> field with
    /// <c>gte</c>/<c>lt</c>, <c>format</c> (<c>strict_date_optional_time</c>, <c>epoch_millis</c>,
    /// <c>yyyy-MM-dd HH:mm:ss</c>, or <c>||</c> lists of them) and a UTC <c>time_zone</c>, <c>term</c> on a
    /// <c>keyword</c> or numeric field;</item>
    /// <item>aggregations: a top-level <c>date_histogram</c> (<c>field</c> a date, <c>calendar_interval</c> minute, hour,
    /// day, week (buckets from Monday, ISO 8601) or month, <c>min_doc_count: 1</c> given explicitly, a UTC
    /// <c>time_zone</c>) with <c>sum</c> and <c>bucket_sort</c> (<c>from</c>/<c>size</c>, no <c>sort</c>) inside it, and
    /// <c>sum</c> on a numeric field. Sums are doubles printed as Java prints them (<c>14.0</c>, <c>1.2345678E7</c>).</item>
    /// </list>
    /// Anything else is answered 400 so a wrong request cannot pass silently: an unknown key
    /// <c>parsing_exception</c> (as OpenSearch does), a valid OpenSearch feature outside the subset
    /// <c>illegal_argument_exception</c> "the loopback fake does not support …", and mapping errors on the shards as
    /// OpenSearch wraps them (<c>search_phase_execution_exception</c> "all shards failed" with the cause in
    /// <c>root_cause</c>): an aggregation on a field of the wrong type (OpenSearch's message), and — stricter than
    /// OpenSearch, which would silently match nothing — a <c>term</c> on a <c>text</c> field, or a field a target index
    /// does not map.
    /// </summary>
    private async Task<int> SearchAsync(HttpContext context, string target, byte[] body)
    {
        var response = context.Response;
        try
        {
            foreach (var key in context.Request.Query.Keys)
            {
                if (OtherSearchParameters.Contains(key)) throw Unsupported($"the parameter [{key}]");
                if (!SearchParameters.Contains(key)) throw new SearchError("illegal_argument_exception", $"request [{context.Request.Path}] contains unrecognized parameter: [{key}]");
            }
            if (context.Request.Query.TryGetValue("allow_partial_search_results", out var partial) && partial.ToString() is not ("true" or "false"))
                throw new SearchError("illegal_argument_exception", $"Failed to parse value [{partial}] as only [true] or [false] are allowed.");
            if (body.Length == 0) throw Unsupported("a search without a body (size 10 and hits): send {\"size\":0,…}");
            JsonNode? root;
            try
            {
                root = JsonNode.Parse(body);
            }
            catch (JsonException e)
            {
                throw new SearchError("parsing_exception", "Failed to parse the request body: " + e.Message);
            }
            if (root is not JsonObject request) throw new SearchError("parsing_exception", $"Unexpected token [{Token(root)}], expected [START_OBJECT].");
            var plan = ParseSearch(request);

            byte[]? answer = null;
            string? missing = null;
            lock (_lock)
            {
                var indices = ResolveIndices(target);
                if (indices is null) missing = MissingIndex(target);
                else answer = Execute(plan, indices);
            }
            if (missing is not null) return await IndexNotFoundAsync(response, missing);
            response.StatusCode = 200;
            response.ContentType = "application/json; charset=UTF-8";
            await response.Body.WriteAsync(answer!);
            return 200;
        }
        catch (SearchError e) when (e.Shard is null)
        {
            return await ErrorAsync(response, 400, e.Type, e.Message);
        }
        catch (SearchError e)
        {
            return await ShardErrorAsync(response, e.Shard!, e.Type, e.Message);
        }
    }

    private sealed class SearchError(string type, string reason, string? shard = null) : Exception(reason)
    {
        public string Type { get; } = type;

        /// <summary>The index whose shard failed (the error is then wrapped as OpenSearch wraps shard failures), or null for a request error.</summary>
        public string? Shard { get; } = shard;
    }

    private static SearchError Unsupported(string what) => new("illegal_argument_exception", NotSupported + what);

    private sealed record FieldMapping(string Type, string? Format, string Source, string? KeywordField);

    private abstract record Filter;

    private sealed record RangeFilter(string Field, JsonNode? Gte, JsonNode? Lt, string? Format) : Filter;

    private sealed record TermFilter(string Field, JsonValue Value) : Filter;

    private sealed record Aggregation(string Name, string Type, string? Field, string? Unit, int From, int? Size, List<Aggregation> Children);

    private sealed record SearchPlan(long? TrackTotalHits, List<Filter> Filters, List<Aggregation> Aggregations);

    private static SearchPlan ParseSearch(JsonObject request)
    {
        long? track = 10_000;
        var filters = new List<Filter>();
        var aggregations = new List<Aggregation>();
        bool sized = false;
        foreach (var (key, value) in request)
        {
            switch (key)
            {
                case "size":
                    if (value is not JsonValue size || size.GetValueKind() != JsonValueKind.Number || !size.TryGetValue(out int n) || n != 0)
                        throw Unsupported($"size [{value?.ToJsonString()}]: it answers aggregations only (size 0)");
                    sized = true;
                    break;
                case "track_total_hits":
                    track = value switch
                    {
                        JsonValue v when v.GetValueKind() == JsonValueKind.True => long.MaxValue,
                        JsonValue v when v.GetValueKind() == JsonValueKind.False => null,
                        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long limit) && limit >= 0 => limit,
                        _ => throw new SearchError("illegal_argument_exception", $"[track_total_hits] must be true, false or a non-negative number, got [{value?.ToJsonString()}]"),
                    };
                    break;
                case "query":
                    ParseQuery(value, filters);
                    break;
                case "aggs" or "aggregations":
                    aggregations.AddRange(ParseAggregations(value, null));
                    break;
                default:
                    if (OtherSearchKeys.Contains(key)) throw Unsupported($"the search key [{key}]");
                    throw new SearchError("parsing_exception", $"Unknown key for a {Token(value)} in [{key}].");
            }
        }
        if (!sized) throw Unsupported("a search without size 0 (the default size 10 returns hits)");
        return new SearchPlan(track, filters, aggregations);
    }

    private static void ParseQuery(JsonNode? node, List<Filter> filters)
    {
        if (node is not JsonObject query || query.Count != 1)
            throw new SearchError("parsing_exception", $"[query] must be an object with exactly one query, got [{node?.ToJsonString()}]");
        var (type, body) = query.First();
        switch (type)
        {
            case "match_all":
                if (body is not JsonObject all || all.Count != 0) throw Unsupported("[match_all] with parameters");
                break;
            case "bool":
                if (body is not JsonObject clauses) throw new SearchError("parsing_exception", "[bool] query malformed, no start_object after query name");
                foreach (var (clause, value) in clauses)
                {
                    if (clause is "must" or "should" or "must_not" or "minimum_should_match" or "boost" or "adjust_pure_negative" or "_name")
                        throw Unsupported($"[bool] [{clause}] (only [filter])");
                    if (clause != "filter") throw new SearchError("parsing_exception", $"[bool] query does not support [{clause}]");
                    if (value is JsonArray list)
                        foreach (var item in list) ParseQuery(item, filters);
                    else ParseQuery(value, filters);
                }
                break;
            case "range":
                filters.Add(ParseRange(body));
                break;
            case "term":
                filters.Add(ParseTerm(body));
                break;
            default:
                if (OtherQueries.Contains(type)) throw Unsupported($"the query [{type}]");
                throw new SearchError("parsing_exception", $"unknown query [{type}]");
        }
    }

    private static RangeFilter ParseRange(JsonNode? body)
    {
        if (body is not JsonObject range || range.Count != 1 || range.First().Value is not JsonObject bounds)
            throw new SearchError("parsing_exception", "[range] query malformed, expected one field with an object of bounds");
        string field = range.First().Key;
        JsonNode? gte = null, lt = null;
        string? format = null;
        foreach (var (key, value) in bounds)
        {
            switch (key)
            {
                case "gte":
                    gte = value;
                    break;
                case "lt":
                    lt = value;
                    break;
                case "format":
                    format = value is JsonValue f && f.TryGetValue(out string? text) ? text : throw new SearchError("parsing_exception", "[range] [format] must be a string");
                    break;
                case "time_zone":
                    RequireUtc("[range]", value);
                    break;
                case "gt" or "lte" or "from" or "to" or "include_lower" or "include_upper" or "relation" or "boost" or "_name":
                    throw Unsupported($"[range] [{key}] (only [gte], [lt], [format] and a UTC [time_zone])");
                default:
                    throw new SearchError("parsing_exception", $"[range] query does not support [{key}]");
            }
        }
        if (gte is null && lt is null) throw Unsupported("a [range] without [gte] or [lt]");
        return new RangeFilter(field, gte, lt, format);
    }

    private static TermFilter ParseTerm(JsonNode? body)
    {
        if (body is not JsonObject term || term.Count != 1)
            throw new SearchError("parsing_exception", "[term] query malformed, expected exactly one field");
        var (field, spec) = term.First();
        JsonNode? value = spec;
        if (spec is JsonObject options)
        {
            value = null;
            foreach (var (key, v) in options)
            {
                if (key == "value") value = v;
                else if (key is "boost" or "case_insensitive" or "_name") throw Unsupported($"[term] [{key}]");
                else throw new SearchError("parsing_exception", $"[term] query does not support [{key}]");
            }
        }
        if (value is not JsonValue scalar || scalar.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            throw new SearchError("parsing_exception", $"[term] query on [{field}] needs a value (a string, number or boolean), got [{value?.ToJsonString() ?? "null"}]");
        return new TermFilter(field, scalar);
    }

    private static List<Aggregation> ParseAggregations(JsonNode? node, string? parentType)
    {
        if (node is not JsonObject aggs) throw new SearchError("parsing_exception", $"Unexpected token {Token(node)} in [aggs].");
        var list = new List<Aggregation>();
        foreach (var (name, definition) in aggs)
        {
            if (definition is not JsonObject def) throw new SearchError("parsing_exception", $"Aggregation definition for [{name}] starts with a [{Token(definition)}], expected a [START_OBJECT].");
            string? type = null;
            JsonObject? parameters = null;
            List<Aggregation> children = [];
            foreach (var (key, value) in def)
            {
                if (key is "aggs" or "aggregations")
                {
                    children = ParseAggregations(value, type ?? "?");
                    continue;
                }
                if (key == "meta") throw Unsupported($"[meta] in the aggregation [{name}]");
                if (type is not null) throw new SearchError("parsing_exception", $"Found two aggregation type definitions in [{name}]: [{type}] and [{key}]");
                type = key;
                parameters = value as JsonObject ?? throw new SearchError("parsing_exception", $"Expected [START_OBJECT] under [{key}], but got a [{Token(value)}] in [{name}]");
            }
            if (type is null || parameters is null) throw new SearchError("parsing_exception", $"Missing definition for aggregation [{name}]");
            list.Add(type switch
            {
                "date_histogram" => DateHistogram(name, parameters, parentType, children),
                "sum" => Sum(name, parameters, children),
                "bucket_sort" => BucketSort(name, parameters, parentType, children),
                _ when OtherAggregations.Contains(type) => throw Unsupported($"the aggregation type [{type}]"),
                _ => throw new SearchError("parsing_exception", $"Unknown aggregation type [{type}]"),
            });
        }
        return list;
    }

    private static Aggregation DateHistogram(string name, JsonObject parameters, string? parentType, List<Aggregation> children)
    {
        if (parentType is not null) throw Unsupported($"a [date_histogram] inside another aggregation ([{name}])");
        string? field = null, unit = null;
        bool minDocCountOne = false;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "field":
                    field = value is JsonValue f && f.TryGetValue(out string? s) ? s : throw new SearchError("parsing_exception", "[date_histogram] [field] must be a string");
                    break;
                case "calendar_interval":
                    string text = value is JsonValue i && i.TryGetValue(out string? t) ? t : "";
                    if (OtherCalendarUnits.Contains(text)) throw Unsupported($"[calendar_interval] [{text}] (only minute, hour, day, week and month)");
                    unit = CalendarUnits.TryGetValue(text, out var u) ? u
                        : throw new SearchError("illegal_argument_exception", $"The supplied interval [{text}] could not be parsed as a calendar interval.");
                    break;
                case "min_doc_count":
                    minDocCountOne = value is JsonValue m && m.GetValueKind() == JsonValueKind.Number && m.TryGetValue(out long c) && c == 1
                        ? true : throw Unsupported($"[min_doc_count] [{value?.ToJsonString()}] (only 1: OpenSearch's default 0 adds empty buckets)");
                    break;
                case "time_zone":
                    RequireUtc("[date_histogram]", value);
                    break;
                case "fixed_interval" or "interval" or "offset" or "format" or "extended_bounds" or "hard_bounds" or "order" or "keyed" or "missing" or "script":
                    throw Unsupported($"[date_histogram] [{key}]");
                default:
                    throw new SearchError("parsing_exception", $"[date_histogram] unknown field [{key}]");
            }
        }
        if (field is null) throw new SearchError("illegal_argument_exception", $"Required one of fields [field, script], but none were specified. (aggregation [{name}])");
        if (unit is null) throw new SearchError("illegal_argument_exception", "Invalid interval specified, must be non-null and non-empty");
        if (!minDocCountOne) throw Unsupported("a [date_histogram] without [min_doc_count: 1] (OpenSearch's default 0 adds empty buckets)");
        foreach (var child in children)
            if (child.Type is not ("sum" or "bucket_sort")) throw Unsupported($"a [{child.Type}] inside a [date_histogram]");
        return new Aggregation(name, "date_histogram", field, unit, 0, null, children);
    }

    private static Aggregation Sum(string name, JsonObject parameters, List<Aggregation> children)
    {
        if (children.Count > 0) throw new SearchError("aggregation_initialization_exception", $"Aggregator [{name}] of type [sum] cannot accept sub-aggregations");
        string? field = null;
        foreach (var (key, value) in parameters)
        {
            if (key == "field") field = value is JsonValue f && f.TryGetValue(out string? s) ? s : throw new SearchError("parsing_exception", "[sum] [field] must be a string");
            else if (key is "missing" or "script" or "format" or "value_type") throw Unsupported($"[sum] [{key}]");
            else throw new SearchError("parsing_exception", $"[sum] unknown field [{key}]");
        }
        if (field is null) throw new SearchError("illegal_argument_exception", $"Required one of fields [field, script], but none were specified. (aggregation [{name}])");
        return new Aggregation(name, "sum", field, null, 0, null, []);
    }

    private static Aggregation BucketSort(string name, JsonObject parameters, string? parentType, List<Aggregation> children)
    {
        if (parentType is null) throw new SearchError("action_request_validation_exception", $"Validation Failed: 1: bucket_sort aggregation [{name}] must be declared inside of another aggregation;");
        if (children.Count > 0) throw new SearchError("parsing_exception", $"Aggregation [{name}] of type [bucket_sort] cannot accept sub-aggregations");
        int from = 0;
        int? size = null;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "size":
                    size = value is JsonValue s && s.GetValueKind() == JsonValueKind.Number && s.TryGetValue(out int n) && n > 0
                        ? n : throw new SearchError("illegal_argument_exception", $"[size] must be a positive integer: [{name}]");
                    break;
                case "from":
                    from = value is JsonValue f && f.GetValueKind() == JsonValueKind.Number && f.TryGetValue(out int m) && m >= 0
                        ? m : throw new SearchError("illegal_argument_exception", $"[from] must be a non-negative integer: [{name}]");
                    break;
                case "sort" or "gap_policy":
                    throw Unsupported($"[bucket_sort] [{key}] (only [from] and [size], which keep the parent's order)");
                default:
                    throw new SearchError("parsing_exception", $"[bucket_sort] unknown field [{key}]");
            }
        }
        if (size is null && from == 0 && !parameters.ContainsKey("from"))
            throw new SearchError("illegal_argument_exception", $"[{name}] is configured to perform nothing. Please set either of [sort, size, from] to use bucket_sort");
        return new Aggregation(name, "bucket_sort", null, null, from, size, []);
    }

    private static void RequireUtc(string where, JsonNode? value)
    {
        string zone = value is JsonValue v && v.TryGetValue(out string? s) ? s : "";
        if (zone is not ("UTC" or "Z" or "+00:00" or "Etc/UTC" or "GMT")) throw Unsupported($"{where} [time_zone] [{zone}] (only UTC)");
    }

    /// <summary>The indices <paramref name="target"/> names, or null when it names a concrete index that does not exist. Under <see cref="_lock"/>.</summary>
    private List<string>? ResolveIndices(string target)
    {
        var names = new List<string>();
        foreach (var part in target.Split(','))
        {
            if (part.StartsWith('-')) throw Unsupported($"index exclusions ([{part}])");
            if (part is "_all" or "*" || part.Contains('*', StringComparison.Ordinal))
            {
                var pattern = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(part is "_all" ? "*" : part).Replace("\\*", ".*", StringComparison.Ordinal) + "$");
                names.AddRange(_indices.Keys.Where(k => pattern.IsMatch(k)));
            }
            else if (_indices.ContainsKey(part)) names.Add(part);
            else return null;
        }
        return [.. names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private string MissingIndex(string target) => target.Split(',').First(p => !p.Contains('*', StringComparison.Ordinal) && p != "_all" && !_indices.ContainsKey(p));

    /// <summary>The query and aggregations over <paramref name="indices"/>. Under <see cref="_lock"/>.</summary>
    private byte[] Execute(SearchPlan plan, List<string> indices)
    {
        // The mapping checks run per index, as each shard checks its own mapping.
        foreach (string index in indices)
        {
            var mapping = _mappings[index];
            foreach (var filter in plan.Filters)
            {
                switch (filter)
                {
                    case RangeFilter r:
                        var rm = Mapped(index, mapping, r.Field, "a [range] query");
                        if (rm.Type != "date") throw new SearchError("illegal_argument_exception", $"{NotSupported}a [range] query on the [{rm.Type}] field [{r.Field}] (only on date fields)", index);
                        break;
                    case TermFilter t:
                        var tm = Mapped(index, mapping, t.Field, "a [term] query");
                        if (tm.Type == "text")
                            throw new SearchError("illegal_argument_exception",
                                $"the loopback fake refuses a [term] query on the text field [{t.Field}]: OpenSearch would compare [{t.Value.ToJsonString()}] with the field's analyzed tokens and usually match nothing"
                                + (tm.KeywordField is { } kw ? $"; query its keyword field [{kw}]" : ""), index);
                        if (tm.Type != "keyword" && !NumericTypes.Contains(tm.Type)) throw new SearchError("illegal_argument_exception", $"{NotSupported}a [term] query on the [{tm.Type}] field [{t.Field}]", index);
                        break;
                }
            }
            foreach (var aggregation in plan.Aggregations.Concat(plan.Aggregations.SelectMany(a => a.Children)))
            {
                if (aggregation.Field is null) continue;
                var am = Mapped(index, mapping, aggregation.Field, $"the aggregation [{aggregation.Name}]");
                bool ok = aggregation.Type == "date_histogram" ? am.Type == "date" : NumericTypes.Contains(am.Type);
                if (!ok) throw new SearchError("illegal_argument_exception", $"Field [{aggregation.Field}] of type [{am.Type}] is not supported for aggregation [{aggregation.Type}]", index);
            }
        }

        var matched = new List<(JsonObject Doc, Dictionary<string, FieldMapping> Mapping)>();
        foreach (string index in indices)
        {
            var mapping = _mappings[index];
            foreach (var doc in _indices[index].Values)
                if (plan.Filters.All(f => Matches(f, doc, mapping, index))) matched.Add((doc, mapping));
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("took", 1);
            w.WriteBoolean("timed_out", false);
            w.WriteStartObject("_shards");
            w.WriteNumber("total", indices.Count);
            w.WriteNumber("successful", indices.Count);
            w.WriteNumber("skipped", 0);
            w.WriteNumber("failed", 0);
            w.WriteEndObject();
            w.WriteStartObject("hits");
            if (plan.TrackTotalHits is { } limit)
            {
                w.WriteStartObject("total");
                w.WriteNumber("value", Math.Min(matched.Count, limit));
                w.WriteString("relation", matched.Count > limit ? "gte" : "eq");
                w.WriteEndObject();
            }
            w.WriteNull("max_score");
            w.WriteStartArray("hits");
            w.WriteEndArray();
            w.WriteEndObject();
            // With no shard to search (a pattern that matches no index) there is nothing to aggregate: no aggregations.
            if (plan.Aggregations.Count > 0 && indices.Count > 0)
            {
                w.WriteStartObject("aggregations");
                foreach (var aggregation in plan.Aggregations) WriteAggregation(w, aggregation, matched);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static FieldMapping Mapped(string index, Dictionary<string, FieldMapping> mapping, string field, string what) =>
        mapping.TryGetValue(field, out var m) ? m
        : throw new SearchError("illegal_argument_exception",
            $"the loopback fake refuses {what} on the field [{field}], which the index [{index}] does not map (OpenSearch would match nothing)", index);

    private static bool Matches(Filter filter, JsonObject doc, Dictionary<string, FieldMapping> mapping, string index)
    {
        switch (filter)
        {
            case RangeFilter r:
            {
                var m = mapping[r.Field];
                if (!TryDocDate(doc, m, out long value)) return false;
                string formats = r.Format ?? m.Format ?? DefaultDateFormat;
                if (r.Gte is not null && value < Bound(r.Gte, formats, r.Field, index)) return false;
                if (r.Lt is not null && value >= Bound(r.Lt, formats, r.Field, index)) return false;
                return true;
            }
            case TermFilter t:
            {
                var m = mapping[t.Field];
                if (doc[m.Source] is not JsonValue v) return false;
                if (m.Type == "keyword") return Text(v) == Text(t.Value);
                return TryNumber(v, out double a) && TryNumber(t.Value, out double b) && a == b;
            }
            default:
                return true;
        }
    }

    private static long Bound(JsonNode bound, string formats, string field, string index) =>
        TryParseDate(bound, formats, out long ms) ? ms
        : throw new SearchError("parse_exception", $"failed to parse date field [{Text(bound)}] with format [{formats}]", index);

    private static void WriteAggregation(Utf8JsonWriter w, Aggregation aggregation, List<(JsonObject Doc, Dictionary<string, FieldMapping> Mapping)> docs)
    {
        w.WriteStartObject(aggregation.Name);
        if (aggregation.Type == "sum")
        {
            w.WritePropertyName("value");
            w.WriteRawValue(JavaDouble(SumOf(aggregation.Field!, docs)));
        }
        else
        {
            var buckets = new SortedDictionary<long, List<(JsonObject Doc, Dictionary<string, FieldMapping> Mapping)>>();
            string? keyFormat = null;
            foreach (var entry in docs)
            {
                var m = entry.Mapping[aggregation.Field!];
                keyFormat ??= (m.Format ?? DefaultDateFormat).Split("||")[0];
                if (!TryDocDate(entry.Doc, m, out long ms)) continue;
                long key = CalendarFloor(ms, aggregation.Unit!);
                if (!buckets.TryGetValue(key, out var list)) buckets[key] = list = [];
                list.Add(entry);
            }
            IEnumerable<KeyValuePair<long, List<(JsonObject Doc, Dictionary<string, FieldMapping> Mapping)>>> kept = buckets; // min_doc_count 1: no empty bucket
            foreach (var sort in aggregation.Children.Where(c => c.Type == "bucket_sort"))
            {
                kept = kept.Skip(sort.From);
                if (sort.Size is { } size) kept = kept.Take(size);
            }
            w.WriteStartArray("buckets");
            foreach (var (key, members) in kept)
            {
                w.WriteStartObject();
                w.WriteString("key_as_string", FormatDate(key, keyFormat!));
                w.WriteNumber("key", key);
                w.WriteNumber("doc_count", members.Count);
                foreach (var sum in aggregation.Children.Where(c => c.Type == "sum"))
                {
                    w.WriteStartObject(sum.Name);
                    w.WritePropertyName("value");
                    w.WriteRawValue(JavaDouble(SumOf(sum.Field!, members)));
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static double SumOf(string field, List<(JsonObject Doc, Dictionary<string, FieldMapping> Mapping)> docs)
    {
        double sum = 0;
        foreach (var (doc, mapping) in docs)
            if (doc[mapping[field].Source] is JsonValue v && TryNumber(v, out double d)) sum += d;
        return sum;
    }

    /// <summary>The start (epoch milliseconds, UTC) of the calendar <paramref name="unit"/> holding <paramref name="ms"/>; weeks start on Monday.</summary>
    internal static long CalendarFloor(long ms, string unit)
    {
        var t = DateTime.UnixEpoch.AddMilliseconds(ms);
        var start = unit switch
        {
            "minute" => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Utc),
            "hour" => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc),
            "day" => t.Date,
            "week" => t.Date.AddDays(-(((int)t.DayOfWeek + 6) % 7)),
            "month" => new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc),
            _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, null),
        };
        return (long)(start - DateTime.UnixEpoch).TotalMilliseconds;
    }

    private const string DefaultDateFormat = "strict_date_optional_time||epoch_millis";

    private static readonly System.Text.RegularExpressions.Regex IsoDate = new(
        @"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static bool TryDocDate(JsonObject doc, FieldMapping mapping, out long ms)
    {
        ms = 0;
        // A value the date format cannot read would have been refused at index time by OpenSearch; the fake skips it.
        return doc[mapping.Source] is { } value && TryParseDate(value, mapping.Format ?? DefaultDateFormat, out ms);
    }

    /// <summary>Reads a date as OpenSearch does with a <c>||</c> list of formats (each tried in turn); a zone-less time is UTC.</summary>
    internal static bool TryParseDate(JsonNode value, string formats, out long ms)
    {
        ms = 0;
        foreach (string format in formats.Split("||"))
        {
            switch (format)
            {
                case "epoch_millis":
                    if (value is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.TryGetValue(out double d) && double.IsFinite(d))
                    {
                        ms = (long)d;
                        return true;
                    }
                    if (value is JsonValue s0 && s0.TryGetValue(out string? digits) && long.TryParse(digits, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out ms))
                        return true;
                    break;
                case "strict_date_optional_time":
                    if (value is JsonValue s1 && s1.TryGetValue(out string? iso) && TryIso(iso, out ms)) return true;
                    break;
                case "yyyy-MM-dd HH:mm:ss":
                    if (value is JsonValue s2 && s2.TryGetValue(out string? text)
                        && DateTime.TryParseExact(text, "yyyy'-'MM'-'dd' 'HH':'mm':'ss", System.Globalization.CultureInfo.InvariantCulture,
                            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var parsed))
                    {
                        ms = (long)(parsed - DateTime.UnixEpoch).TotalMilliseconds;
                        return true;
                    }
                    break;
                default:
                    throw Unsupported($"the date format [{format}]");
            }
        }
        return false;
    }

    private static bool TryIso(string text, out long ms)
    {
        ms = 0;
        var m = IsoDate.Match(text);
        if (!m.Success) return false;
        int Part(int g) => m.Groups[g].Success ? int.Parse(m.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        DateTime t;
        try
        {
            t = new DateTime(Part(1), Part(2), Part(3), Part(4), Part(5), Part(6), DateTimeKind.Utc);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
        long millis = (long)(t - DateTime.UnixEpoch).TotalMilliseconds;
        if (m.Groups[7].Success) millis += int.Parse(m.Groups[7].Value.PadRight(3, '0')[..3], System.Globalization.CultureInfo.InvariantCulture);
        if (m.Groups[8].Success && m.Groups[8].Value != "Z")
        {
            string zone = m.Groups[8].Value.Replace(":", "", StringComparison.Ordinal);
            int hours = int.Parse(zone[1..3], System.Globalization.CultureInfo.InvariantCulture);
            int minutes = zone.Length > 3 ? int.Parse(zone[3..5], System.Globalization.CultureInfo.InvariantCulture) : 0;
            int sign = zone[0] == '-' ? -1 : 1;
            millis -= sign * (hours * 60 + minutes) * 60_000L;
        }
        ms = millis;
        return true;
    }

    private static string FormatDate(long ms, string format)
    {
        var t = DateTime.UnixEpoch.AddMilliseconds(ms);
        return format switch
        {
            "yyyy-MM-dd HH:mm:ss" => t.ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss", System.Globalization.CultureInfo.InvariantCulture),
            "epoch_millis" => ms.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => t.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>A double as Java's <c>Double.toString</c> (which OpenSearch's JSON uses) prints it: <c>14.0</c>, <c>2.5</c>, <c>1.2345678E7</c>, <c>1.0E-4</c>.</summary>
    internal static string JavaDouble(double v)
    {
        if (v == 0) return "0.0";
        double a = Math.Abs(v);
        string sign = v < 0 ? "-" : "";
        string r = a.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (a is >= 1e-3 and < 1e7 && !r.Contains('E', StringComparison.Ordinal)) return sign + (r.Contains('.', StringComparison.Ordinal) ? r : r + ".0");
        string digits;
        int exponent;
        int e = r.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            digits = r[..e].Replace(".", "", StringComparison.Ordinal);
            exponent = int.Parse(r[(e + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            int dot = r.IndexOf('.', StringComparison.Ordinal);
            string whole = dot < 0 ? r : r[..dot], fraction = dot < 0 ? "" : r[(dot + 1)..];
            string all = whole + fraction;
            int lead = all.Length - all.TrimStart('0').Length;
            digits = all.TrimStart('0');
            exponent = whole.Length - 1 - lead;
        }
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{sign}{digits[0]}.{(digits.Length > 1 ? digits[1..] : "0")}E{exponent}");
    }

    private static string Text(JsonNode node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : node.ToJsonString();

    private static bool TryNumber(JsonValue value, out double d)
    {
        d = 0;
        if (value.GetValueKind() == JsonValueKind.Number) return value.TryGetValue(out d);
        // OpenSearch coerces numeric strings in numeric fields.
        return value.TryGetValue(out string? s) && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d);
    }

    /// <summary>The mapping a new index gets from the highest-priority template matching its name (empty when none does). Under <see cref="_lock"/>.</summary>
    private Dictionary<string, FieldMapping> TemplateMapping(string index)
    {
        var mapping = new Dictionary<string, FieldMapping>(StringComparer.Ordinal);
        JsonObject? best = null;
        long bestPriority = long.MinValue;
        foreach (var template in _templates.Values.OfType<JsonObject>())
        {
            var patterns = template["index_patterns"] as JsonArray;
            bool matches = patterns is not null && patterns.Any(p => p is JsonValue v && v.TryGetValue(out string? pattern)
                && new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$").IsMatch(index));
            long priority = template["priority"] is JsonValue pv && pv.TryGetValue(out long pr) ? pr : 0;
            if (matches && priority > bestPriority)
            {
                best = template;
                bestPriority = priority;
            }
        }
        if (best?["template"]?["mappings"]?["properties"] is not JsonObject properties) return mapping;
        foreach (var (name, node) in properties)
        {
            if (node is not JsonObject field || field["type"] is not JsonValue tv || !tv.TryGetValue(out string? type)) continue; // objects: not mapped by the fake
            string? format = field["format"] is JsonValue fv && fv.TryGetValue(out string? f) ? f : null;
            string? keyword = null;
            if (field["fields"] is JsonObject subFields)
                foreach (var (sub, subNode) in subFields)
                    if (subNode?["type"] is JsonValue sv && sv.TryGetValue(out string? subType))
                    {
                        mapping[name + "." + sub] = new FieldMapping(subType, null, name, null);
                        if (subType == "keyword") keyword ??= name + "." + sub;
                    }
            mapping[name] = new FieldMapping(type, type == "date" ? format ?? DefaultDateFormat : null, name, type == "text" ? keyword : null);
        }
        return mapping;
    }

    /// <summary>OpenSearch's dynamic mapping (date detection on) for the fields of <paramref name="doc"/> not mapped yet.</summary>
    private static void MapDynamic(Dictionary<string, FieldMapping> mapping, JsonObject doc)
    {
        foreach (var (name, value) in doc)
        {
            if (mapping.ContainsKey(name) || value is not JsonValue v) continue;
            switch (v.GetValueKind())
            {
                case JsonValueKind.String:
                    if (TryIso(v.GetValue<string>(), out _)) mapping[name] = new FieldMapping("date", DefaultDateFormat, name, null);
                    else
                    {
                        mapping[name] = new FieldMapping("text", null, name, name + ".keyword");
                        mapping[name + ".keyword"] = new FieldMapping("keyword", null, name, null);
                    }
                    break;
                case JsonValueKind.Number:
                    mapping[name] = new FieldMapping(v.TryGetValue(out long _) ? "long" : "float", null, name, null);
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    mapping[name] = new FieldMapping("boolean", null, name, null);
                    break;
            }
        }
    }

    /// <summary>The type of <paramref name="field"/> in the mapping of <paramref name="index"/> (<c>keyword</c>, <c>text</c>, <c>date</c>, …), or null.</summary>
    public string? FieldType(string index, string field)
    {
        lock (_lock) return _mappings.TryGetValue(index, out var m) && m.TryGetValue(field, out var f) ? f.Type : null;
    }

    private static async Task<int> IndexNotFoundAsync(HttpResponse response, string index)
    {
        JsonObject Error() => new()
        {
            ["type"] = "index_not_found_exception", ["reason"] = $"no such index [{index}]", ["index"] = index,
            ["resource.id"] = index, ["resource.type"] = "index_or_alias", ["index_uuid"] = "_na_",
        };
        var error = Error();
        error["root_cause"] = new JsonArray(Error());
        response.StatusCode = 404;
        response.ContentType = "application/json; charset=UTF-8";
        await response.WriteAsync(new JsonObject { ["error"] = error, ["status"] = 404 }.ToJsonString());
        return 404;
    }

    /// <summary>A shard failure as OpenSearch answers it: <c>search_phase_execution_exception</c> "all shards failed", the cause in <c>root_cause</c>, <c>failed_shards</c> and <c>caused_by</c>.</summary>
    private static async Task<int> ShardErrorAsync(HttpResponse response, string index, string type, string reason)
    {
        var error = new JsonObject
        {
            ["root_cause"] = new JsonArray(Error(type, reason)),
            ["type"] = "search_phase_execution_exception",
            ["reason"] = "all shards failed",
            ["phase"] = "query",
            ["grouped"] = true,
            ["failed_shards"] = new JsonArray(new JsonObject { ["shard"] = 0, ["index"] = index, ["node"] = "loopback-fake", ["reason"] = Error(type, reason) }),
            ["caused_by"] = Error(type, reason),
        };
        response.StatusCode = 400;
        response.ContentType = "application/json; charset=UTF-8";
        await response.WriteAsync(new JsonObject { ["error"] = error, ["status"] = 400 }.ToJsonString());
        return 400;
    }

    private static List<byte[]> Lines(byte[] body)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)'\n') continue;
            if (i > start) lines.Add(body[start..i]);
            start = i + 1;
        }
        return lines;
    }

    private static string Token(JsonNode? node) => node switch
    {
        null => "VALUE_NULL",
        JsonArray => "START_ARRAY",
        JsonObject => "START_OBJECT",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "VALUE_STRING",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => "VALUE_NUMBER",
        _ => "VALUE_BOOLEAN",
    };

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static JsonObject Error(string type, string reason) => new() { ["type"] = type, ["reason"] = reason };

    private static async Task<int> ErrorAsync(HttpResponse response, int status, string type, string reason)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=UTF-8";
        var error = Error(type, reason);
        error["root_cause"] = new JsonArray(Error(type, reason));
        await response.WriteAsync(new JsonObject { ["error"] = error, ["status"] = status }.ToJsonString());
        return status;
    }
}

/// <summary>One request the fake received: method, path and query, headers (names case-insensitive), body and the status answered.</summary>
public sealed record FakeRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Status);
