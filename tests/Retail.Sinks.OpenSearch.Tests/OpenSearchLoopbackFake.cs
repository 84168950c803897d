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
/// published REST reference: <c>_bulk</c>, <c>_count</c> and <c>_index_template</c>. Kestrel on 127.0.0.1 at a port
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
/// inserts), serves <c>_count</c> (comma lists and wildcards) and <c>_index_template</c> (PUT/GET). Faults on demand:
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
                    if (!_indices.TryGetValue(index, out var docs)) _indices[index] = docs = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
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
                    if (status is 200 or 201 && action != "delete") _writes[key] = _writes.GetValueOrDefault(key) + 1;
                    if (docs.Count == 0) _indices.Remove(index);
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
