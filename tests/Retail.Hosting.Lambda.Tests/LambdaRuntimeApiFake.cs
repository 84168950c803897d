using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>What the runtime answered to one invocation: a response, or an invocation error.</summary>
/// <param name="RequestId">The invocation.</param>
/// <param name="Body">The response payload, or the error body.</param>
/// <param name="IsError">True for <c>…/error</c>.</param>
/// <param name="ErrorType">The <c>Lambda-Runtime-Function-Error-Type</c> header of an error.</param>
/// <param name="ContentType">The request's Content-Type.</param>
public sealed record LambdaInvocationResult(string RequestId, byte[] Body, bool IsError, string? ErrorType, string? ContentType)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>An init error the runtime posted.</summary>
public sealed record LambdaInitError(byte[] Body, string? ErrorType, string? ContentType)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A strict loopback fake of the Lambda Runtime API 2018-06-01 (written from its OpenAPI document and the developer
/// guide, because no Lambda emulator installs here). Kestrel on 127.0.0.1 at a port the OS picks; give the runtime
/// <see cref="RuntimeApi"/> as AWS_LAMBDA_RUNTIME_API.
/// <list type="bullet">
/// <item><c>GET /2018-06-01/runtime/invocation/next</c> blocks until an event is queued (<see cref="Enqueue"/>) and
/// serves it with <c>Lambda-Runtime-Aws-Request-Id</c>, <c>-Deadline-Ms</c> (now + the event's timeout),
/// <c>-Invoked-Function-Arn</c> and <c>-Trace-Id</c>; after <see cref="StopServing"/> (or dispose) it answers 500, the
/// "container error" after which a runtime must exit. A <c>/next</c> while an invocation is outstanding: 403
/// <c>InvalidStateTransition</c>.</item>
/// <item><c>POST …/invocation/{id}/response</c> and <c>…/error</c> are accepted (202 <c>{"status":"OK"}</c>) only for
/// the outstanding invocation; an id never served: 400 <c>InvalidRequestID</c>; an id already answered: 403
/// <c>InvalidStateTransition</c>; a response over 6 MB (6,291,556 bytes): 413 <c>RequestEntityTooLarge</c>. An error
/// sent as <c>application/vnd.aws.lambda.error+json</c> must be the ErrorRequest shape (errorMessage and errorType strings,
/// stackTrace an array of strings): 400 otherwise.</item>
/// <item><c>POST /2018-06-01/runtime/init/error</c>: 202 before the first <c>/next</c>, 403 <c>InvalidStateTransition</c> after.</item>
/// <item>Any other path: 404; another method on a known path: 405.</item>
/// </list>
/// Every request is logged (<see cref="Requests"/>); results are recorded and awaited with <see cref="WaitForResultAsync"/>.
/// </summary>
public sealed partial class LambdaRuntimeApiFake : IAsyncDisposable
{
    public const int MaxResponseBytes = 6_291_556;
    public const string ErrorContentType = "application/vnd.aws.lambda.error+json";

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _queue = new();
    private readonly Dictionary<string, TaskCompletionSource<LambdaInvocationResult>> _results = new(StringComparer.Ordinal);
    private readonly HashSet<string> _served = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private readonly List<LambdaInitError> _initErrors = [];
    private readonly TaskCompletionSource<LambdaInitError> _firstInitError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _outstanding;
    private bool _nextCalled;
    private int _sequence;

    private sealed record Pending(string RequestId, byte[] Payload, TimeSpan Timeout, string FunctionArn, string TraceId);

    private LambdaRuntimeApiFake(WebApplication app) => _app = app;

    public static async Task<LambdaRuntimeApiFake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024; // the 6 MB limit is the fake's own answer (413), not Kestrel's
        });
        var app = builder.Build();
        var fake = new LambdaRuntimeApiFake(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.RuntimeApi = new Uri(address).Authority;
        return fake;
    }

    /// <summary><c>127.0.0.1:PORT</c>, the value of AWS_LAMBDA_RUNTIME_API.</summary>
    public string RuntimeApi { get; private set; } = "";

    /// <summary>The function ARN served with each invocation.</summary>
    public string FunctionArn { get; set; } = "arn:aws:lambda:us-east-1:123456789012:function:retail-fake";

    /// <summary>Queues an event; <paramref name="timeout"/> (default 60 s) sets its deadline from the moment it is served.</summary>
    /// <returns>Its request id.</returns>
    public string Enqueue(byte[] payload, TimeSpan? timeout = null, string? traceId = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        lock (_lock)
        {
            string id = $"{Guid.NewGuid():D}";
            _sequence++;
            _queue.Enqueue(new Pending(id, payload, timeout ?? TimeSpan.FromSeconds(60), FunctionArn,
                traceId ?? $"Root=1-{_sequence:x8}-{Guid.NewGuid():N}"[..43] + ";Parent=9a9197af755a6419;Sampled=1"));
            _results[id] = new TaskCompletionSource<LambdaInvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queued.TrySetResult();
            return id;
        }
    }

    public string Enqueue(string json, TimeSpan? timeout = null, string? traceId = null) => Enqueue(Encoding.UTF8.GetBytes(json), timeout, traceId);

    /// <summary>The result of invocation <paramref name="requestId"/>, once the runtime posted it (or a timeout error).</summary>
    public async Task<LambdaInvocationResult> WaitForResultAsync(string requestId, TimeSpan? timeout = null)
    {
        Task<LambdaInvocationResult> task;
        lock (_lock) task = _results[requestId].Task;
        return await task.WaitAsync(timeout ?? TimeSpan.FromMinutes(2));
    }

    /// <summary>The first init error, once posted.</summary>
    public Task<LambdaInitError> WaitForInitErrorAsync(TimeSpan? timeout = null) => _firstInitError.Task.WaitAsync(timeout ?? TimeSpan.FromMinutes(1));

    public IReadOnlyList<LambdaInitError> InitErrors
    {
        get { lock (_lock) return [.. _initErrors]; }
    }

    /// <summary>"METHOD path → status" of every request, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get { lock (_lock) return [.. _requests]; }
    }

    /// <summary>From now on <c>/next</c> answers 500 (container error): a runtime waiting on it exits.</summary>
    public void StopServing() => _stopping.Cancel();

    public async ValueTask DisposeAsync()
    {
        StopServing();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    [GeneratedRegex("^/2018-06-01/runtime/invocation/(?<id>[^/]+)/(?<kind>response|error)$")]
    private static partial Regex InvocationPath();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        int status;
        if (path == "/2018-06-01/runtime/invocation/next")
            status = HttpMethods.IsGet(request.Method) ? await NextAsync(context) : await MethodNotAllowedAsync(context);
        else if (path == "/2018-06-01/runtime/init/error")
            status = HttpMethods.IsPost(request.Method) ? await InitErrorAsync(context) : await MethodNotAllowedAsync(context);
        else if (InvocationPath().Match(path) is { Success: true } m)
            status = HttpMethods.IsPost(request.Method) ? await ResultAsync(context, Uri.UnescapeDataString(m.Groups["id"].Value), m.Groups["kind"].Value == "error") : await MethodNotAllowedAsync(context);
        else
            status = await ErrorAsync(context.Response, 404, "NotFound", $"No such path: {path}");
        lock (_lock) _requests.Add($"{request.Method} {path} → {status}");
    }

    private async Task<int> NextAsync(HttpContext context)
    {
        Pending? pending = null;
        string? busy = null;
        while (pending is null)
        {
            Task queued;
            lock (_lock)
            {
                _nextCalled = true;
                if (_outstanding is not null)
                {
                    busy = _outstanding;
                    break;
                }
                if (_stopping.IsCancellationRequested) break;
                if (_queue.TryDequeue(out pending))
                {
                    _outstanding = pending.RequestId;
                    _served.Add(pending.RequestId);
                    break;
                }
                if (_queued.Task.IsCompleted) _queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                queued = _queued.Task;
            }
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted);
            try
            {
                await queued.WaitAsync(wake.Token);
            }
            catch (OperationCanceledException)
            {
                if (context.RequestAborted.IsCancellationRequested) return 499;
            }
        }
        if (busy is not null)
            return await ErrorAsync(context.Response, 403, "InvalidStateTransition", $"Invocation {busy} has not been answered yet.");
        if (pending is null)
            return await ErrorAsync(context.Response, 500, "ContainerError", "The fake stopped serving invocations.");
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers["Lambda-Runtime-Aws-Request-Id"] = pending.RequestId;
        response.Headers["Lambda-Runtime-Deadline-Ms"] = DateTimeOffset.UtcNow.Add(pending.Timeout).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = pending.FunctionArn;
        response.Headers["Lambda-Runtime-Trace-Id"] = pending.TraceId;
        await response.Body.WriteAsync(pending.Payload);
        return 200;
    }

    private async Task<int> ResultAsync(HttpContext context, string id, bool isError)
    {
        byte[] body = await ReadBodyAsync(context.Request);
        string? contentType = context.Request.ContentType;
        string? errorType = context.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault();
        TaskCompletionSource<LambdaInvocationResult>? result = null;
        (int Status, string Type, string Message)? error = null;
        lock (_lock)
        {
            if (!_served.Contains(id))
                error = (400, "InvalidRequestID", $"Invalid request ID: {id}");
            else if (_outstanding != id)
                error = (403, "InvalidStateTransition", $"Invocation {id} was already answered.");
            else if (!isError && body.Length > MaxResponseBytes)
                error = (413, "RequestEntityTooLarge", $"The response is {body.Length} bytes; the limit is {MaxResponseBytes}.");
            else if (isError && IsErrorJson(contentType) && !IsErrorRequest(body))
                error = (400, "InvalidErrorRequest", "The body is not {errorMessage, errorType, stackTrace[]}.");
            else
            {
                _outstanding = null;
                result = _results[id];
            }
        }
        if (error is { } e) return await ErrorAsync(context.Response, e.Status, e.Type, e.Message);
        result!.TrySetResult(new LambdaInvocationResult(id, body, isError, errorType, contentType));
        await WriteJsonAsync(context.Response, 202, """{"status":"OK"}""");
        return 202;
    }

    private async Task<int> InitErrorAsync(HttpContext context)
    {
        byte[] body = await ReadBodyAsync(context.Request);
        string? contentType = context.Request.ContentType;
        var initError = new LambdaInitError(body, context.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault(), contentType);
        (int Status, string Type, string Message)? error = null;
        lock (_lock)
        {
            if (_nextCalled)
                error = (403, "InvalidStateTransition", "init/error after the runtime asked for an invocation.");
            else if (IsErrorJson(contentType) && !IsErrorRequest(body))
                error = (400, "InvalidErrorRequest", "The body is not {errorMessage, errorType, stackTrace[]}.");
            else
                _initErrors.Add(initError);
        }
        if (error is { } e) return await ErrorAsync(context.Response, e.Status, e.Type, e.Message);
        _firstInitError.TrySetResult(initError);
        await WriteJsonAsync(context.Response, 202, """{"status":"OK"}""");
        return 202;
    }

    private static bool IsErrorJson(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals(ErrorContentType, StringComparison.OrdinalIgnoreCase);

    private static bool IsErrorRequest(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("errorMessage", out var m) && m.ValueKind == JsonValueKind.String
                && root.TryGetProperty("errorType", out var t) && t.ValueKind == JsonValueKind.String
                && (!root.TryGetProperty("stackTrace", out var s) || (s.ValueKind == JsonValueKind.Array && s.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static async Task<int> MethodNotAllowedAsync(HttpContext context) =>
        await ErrorAsync(context.Response, 405, "MethodNotAllowed", $"{context.Request.Method} is not allowed on {context.Request.Path}");

    private static async Task<int> ErrorAsync(HttpResponse response, int status, string type, string message)
    {
        await WriteJsonAsync(response, status, JsonSerializer.Serialize(new Dictionary<string, string> { ["errorMessage"] = message, ["errorType"] = type }));
        return status;
    }

    private static Task WriteJsonAsync(HttpResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        return response.WriteAsync(json);
    }
}
