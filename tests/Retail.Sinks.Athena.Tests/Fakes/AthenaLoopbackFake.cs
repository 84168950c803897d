using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.Athena.Tests.Fakes;

/// <summary>
/// A strict loopback fake of Athena's JSON 1.1 API (StartQueryExecution, GetQueryExecution, GetQueryResults,
/// StopQueryExecution), written from the API reference: SigV4 for service <c>athena</c>, the JSON 1.1 content type,
/// ClientRequestToken 32–128 characters (the same token gives the same id), QueryString at most 262,144 characters,
/// ExecutionParameters (when given) at least one string of 1 to 1,024 characters each, QUEUED → RUNNING → SUCCEEDED | FAILED,
/// pages of at most 1,000 rows (header row first for DML), every value a VarCharValue.
/// </summary>
public sealed class AthenaLoopbackFake : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Query> _queries = new();
    private readonly ConcurrentDictionary<string, string> _tokens = new();
    private readonly ConcurrentQueue<FakeStatement> _started = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private int _throttle, _fail, _ids;

    private AthenaLoopbackFake(WebApplication app, AthenaStatementExecutor executor)
    {
        _app = app;
        Executor = executor;
    }

    /// <summary>StartQueryExecution's longest QueryString (the API reference's length constraint).</summary>
    public const int MaxQueryStringLength = 262_144;

    /// <summary>The longest member of StartQueryExecution's ExecutionParameters (the API reference's length constraint).</summary>
    public const int MaxExecutionParameterLength = 1024;

    /// <summary>Starts the fake on 127.0.0.1 at a free port.</summary>
    public static async Task<AthenaLoopbackFake> StartAsync(AthenaStatementExecutor executor)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new AthenaLoopbackFake(app, executor);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.Url = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    /// <summary><c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>What runs the statements.</summary>
    public AthenaStatementExecutor Executor { get; set; }

    /// <summary>GetQueryExecution answers QUEUED this many times per query before RUNNING.</summary>
    public int QueuedPolls { get; set; } = 1;

    /// <summary>GetQueryExecution answers RUNNING this many times per query before it ends.</summary>
    public int RunningPolls { get; set; } = 1;

    /// <summary>After its RUNNING polls a query goes back to QUEUED for this many polls (then RUNNING once more), as Athena may.</summary>
    public int RequeuedPolls { get; set; }

    /// <summary>Every statement started (once per new query id), in order.</summary>
    public IReadOnlyList<FakeStatement> Started => [.. _started];

    /// <summary>Every call's target operation, in order (rejected ones included).</summary>
    public IReadOnlyList<string> Calls => [.. _calls];

    /// <summary>Every ClientRequestToken received by StartQueryExecution, in order.</summary>
    public ConcurrentQueue<string> Tokens { get; } = new();

    /// <summary>Answers the next <paramref name="calls"/> calls 400 ThrottlingException.</summary>
    public void ThrottleNext(int calls) => Interlocked.Exchange(ref _throttle, calls);

    /// <summary>Answers the next <paramref name="calls"/> calls 500 InternalServerException.</summary>
    public void FailNext(int calls) => Interlocked.Exchange(ref _fail, calls);

    private sealed class Query(string id, FakeStatement statement)
    {
        public string Id { get; } = id;
        public FakeStatement Statement { get; } = statement;
        public int Polls;
        public string State = "QUEUED";
        public FakeQueryOutcome? Outcome;
        public FakeQueryFailure? Failure;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string target = request.Headers["X-Amz-Target"].ToString();
        _calls.Enqueue(target);
        if (request.Method != "POST" || request.Path != "/") { await Error(context, 404, "UnknownOperationException", "POST / only."); return; }
        string auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal) || !auth.Contains("/athena/aws4_request", StringComparison.Ordinal)
            || !request.Headers.ContainsKey("X-Amz-Date"))
        { await Error(context, 403, "MissingAuthenticationTokenException", "Missing or wrong SigV4 Authorization for service athena."); return; }
        if (request.ContentType != "application/x-amz-json-1.1") { await Error(context, 400, "SerializationException", $"Content-Type must be application/x-amz-json-1.1, got '{request.ContentType}'."); return; }
        if (Interlocked.Decrement(ref _throttle) >= 0) { await Error(context, 400, "ThrottlingException", "Rate exceeded"); return; }
        Interlocked.Exchange(ref _throttle, Math.Max(0, Volatile.Read(ref _throttle)));
        if (Interlocked.Decrement(ref _fail) >= 0) { await Error(context, 500, "InternalServerException", "Internal failure"); return; }
        Interlocked.Exchange(ref _fail, Math.Max(0, Volatile.Read(ref _fail)));
        JsonObject body;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        try { body = (JsonNode.Parse(buffer.ToArray()) as JsonObject) ?? throw new JsonException("not an object"); }
        catch (JsonException e) { await Error(context, 400, "SerializationException", e.Message); return; }
        switch (target)
        {
            case "AmazonAthena.StartQueryExecution": await StartAsync(context, body); break;
            case "AmazonAthena.GetQueryExecution": await GetExecutionAsync(context, body); break;
            case "AmazonAthena.GetQueryResults": await GetResultsAsync(context, body); break;
            case "AmazonAthena.StopQueryExecution":
                if (Find(body) is not { } q) { await Error(context, 400, "InvalidRequestException", "QueryExecution not found"); return; }
                lock (q) if (q.State is "QUEUED" or "RUNNING") q.State = "CANCELLED";
                await Ok(context, new JsonObject());
                break;
            default: await Error(context, 400, "UnknownOperationException", $"Unknown target '{target}'."); break;
        }
    }

    private Query? Find(JsonObject body) => body["QueryExecutionId"]?.GetValue<string>() is { } id && _queries.TryGetValue(id, out var q) ? q : null;

    private async Task StartAsync(HttpContext context, JsonObject body)
    {
        string? sql = body["QueryString"]?.GetValue<string>();
        string? token = body["ClientRequestToken"]?.GetValue<string>();
        if (string.IsNullOrEmpty(sql)) { await Error(context, 400, "InvalidRequestException", "QueryString is required."); return; }
        if (sql.Length > MaxQueryStringLength) { await Error(context, 400, "InvalidRequestException", $"QueryString must be at most {MaxQueryStringLength} characters, got {sql.Length}."); return; }
        if (token is null || token.Length is < 32 or > 128) { await Error(context, 400, "InvalidRequestException", "ClientRequestToken must be 32 to 128 characters."); return; }
        var parameters = new List<string>();
        if (body["ExecutionParameters"] is { } given && ExecutionParametersProblem(given, parameters) is { } problem)
        { await Error(context, 400, problem.Code, problem.Message); return; }
        Tokens.Enqueue(token);
        var statement = new FakeStatement(sql, body["QueryExecutionContext"]?["Database"]?.GetValue<string>(), body["QueryExecutionContext"]?["Catalog"]?.GetValue<string>(),
            parameters, body["WorkGroup"]?.GetValue<string>(), body["ResultConfiguration"]?["OutputLocation"]?.GetValue<string>());
        string fresh = "q-" + Interlocked.Increment(ref _ids).ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];
        string id = _tokens.GetOrAdd(token, fresh);
        if (id == fresh)
        {
            _queries[id] = new Query(id, statement);
            _started.Enqueue(statement);
        }
        else if (_queries[id].Statement.QueryString != sql)
        { await Error(context, 400, "InvalidRequestException", "Idempotent parameters do not match: ClientRequestToken reused with a different QueryString."); return; }
        await Ok(context, new JsonObject { ["QueryExecutionId"] = id });
    }

    /// <summary>What is wrong with StartQueryExecution's ExecutionParameters (a list of at least 1 string, each 1 to 1,024 characters), or null; the strings go to <paramref name="parameters"/>.</summary>
    private static (string Code, string Message)? ExecutionParametersProblem(JsonNode given, List<string> parameters)
    {
        if (given is not JsonArray list) return ("SerializationException", "ExecutionParameters must be a list of strings.");
        if (list.Count == 0) return ("InvalidRequestException", "ExecutionParameters must hold at least 1 item when given.");
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                return ("SerializationException", $"ExecutionParameters member {i + 1} must be a string.");
            string p = v.GetValue<string>();
            if (p.Length is < 1 or > MaxExecutionParameterLength)
                return ("InvalidRequestException", $"ExecutionParameters member {i + 1} must be 1 to {MaxExecutionParameterLength} characters long, got {p.Length}.");
            parameters.Add(p);
        }
        return null;
    }

    private async Task GetExecutionAsync(HttpContext context, JsonObject body)
    {
        if (Find(body) is not { } q) { await Error(context, 400, "InvalidRequestException", "QueryExecution not found"); return; }
        bool run = false;
        lock (q)
        {
            int p = ++q.Polls, requeued = RequeuedPolls;
            if (q.State is "QUEUED" or "RUNNING")
            {
                if (p <= QueuedPolls) q.State = "QUEUED";
                else if (p <= QueuedPolls + RunningPolls) q.State = "RUNNING";
                else if (p <= QueuedPolls + RunningPolls + requeued) q.State = "QUEUED";
                else if (requeued > 0 && p <= QueuedPolls + RunningPolls + requeued + 1) q.State = "RUNNING";
                else { q.State = "RUNNING"; run = true; }
            }
        }
        if (run)
        {
            try { q.Outcome = await Executor(q.Statement, context.RequestAborted); lock (q) q.State = q.State == "RUNNING" ? "SUCCEEDED" : q.State; }
            catch (FakeQueryFailure f) { q.Failure = f; lock (q) q.State = "FAILED"; }
        }
        var status = new JsonObject { ["State"] = q.State };
        if (q.Failure is { } failure)
        {
            status["StateChangeReason"] = failure.Reason;
            status["AthenaError"] = new JsonObject { ["ErrorCategory"] = failure.ErrorCategory, ["ErrorType"] = failure.ErrorType, ["Retryable"] = failure.Retryable, ["ErrorMessage"] = failure.Reason };
        }
        if (q.State == "CANCELLED") status["StateChangeReason"] = "Query cancelled by user";
        await Ok(context, new JsonObject { ["QueryExecution"] = new JsonObject { ["QueryExecutionId"] = q.Id, ["Query"] = q.Statement.QueryString, ["StatementType"] = q.Outcome?.StatementType ?? "DML", ["Status"] = status } });
    }

    private async Task GetResultsAsync(HttpContext context, JsonObject body)
    {
        if (Find(body) is not { } q) { await Error(context, 400, "InvalidRequestException", "QueryExecution not found"); return; }
        int max = body["MaxResults"]?.GetValue<int>() ?? 1000;
        if (max is < 1 or > 1000) { await Error(context, 400, "InvalidRequestException", "MaxResults must be 1 to 1000."); return; }
        if (q.State != "SUCCEEDED" || q.Outcome is not { } outcome) { await Error(context, 400, "InvalidRequestException", $"Query has not yet finished. Current state: {q.State}"); return; }
        var all = new List<string?[]>();
        if (outcome.StatementType == "DML" && outcome.Columns.Count > 0) all.Add(outcome.Columns.Select(c => (string?)c.Name).ToArray());
        all.AddRange(outcome.Rows);
        int start = body["NextToken"]?.GetValue<string>() is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var rows = new JsonArray();
        foreach (var row in all.Skip(start).Take(max))
            rows.Add(new JsonObject { ["Data"] = new JsonArray(row.Select(v => (JsonNode)(v is null ? new JsonObject() : new JsonObject { ["VarCharValue"] = v })).ToArray()) });
        var columns = new JsonArray(outcome.Columns.Select(c => (JsonNode)new JsonObject
        {
            ["CatalogName"] = "hive", ["SchemaName"] = "", ["TableName"] = "", ["Name"] = c.Name, ["Label"] = c.Name, ["Type"] = c.Type,
            ["Precision"] = c.Precision, ["Scale"] = c.Scale, ["Nullable"] = "UNKNOWN", ["CaseSensitive"] = c.Type == "varchar",
        }).ToArray());
        var answer = new JsonObject { ["UpdateCount"] = 0, ["ResultSet"] = new JsonObject { ["Rows"] = rows, ["ResultSetMetadata"] = new JsonObject { ["ColumnInfo"] = columns } } };
        if (start + max < all.Count) answer["NextToken"] = (start + max).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Ok(context, answer);
    }

    private static async Task Ok(HttpContext context, JsonObject body)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static async Task Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.WriteAsync(new JsonObject { ["__type"] = "com.amazonaws.athena#" + code, ["message"] = message }.ToJsonString());
    }

    /// <summary>Stops the fake.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
