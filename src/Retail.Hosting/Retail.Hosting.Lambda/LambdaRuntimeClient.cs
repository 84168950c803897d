using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Retail.Hosting.Lambda;

/// <summary>One invocation, as <c>GET /runtime/invocation/next</c> served it.</summary>
/// <param name="RequestId">Lambda-Runtime-Aws-Request-Id.</param>
/// <param name="Deadline">Lambda-Runtime-Deadline-Ms (when the function times out).</param>
/// <param name="InvokedFunctionArn">Lambda-Runtime-Invoked-Function-Arn, or null.</param>
/// <param name="TraceId">Lambda-Runtime-Trace-Id (the X-Ray header), or null.</param>
/// <param name="Payload">The event JSON.</param>
internal sealed record LambdaInvocation(string RequestId, DateTimeOffset Deadline, string? InvokedFunctionArn, string? TraceId, byte[] Payload);

/// <summary>
/// The Runtime API answered in a way the runtime cannot continue from (a 500 "container error", a 403, a
/// malformed invocation): the runtime exits, and Lambda starts a new one.
/// </summary>
internal sealed class LambdaRuntimeFatalException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A client of the Lambda Runtime API, version 2018-06-01 (the API reference's OpenAPI document): next invocation
/// (no client timeout: the call blocks until an event comes, and the process may be frozen meanwhile), invocation
/// response, invocation error and init error (the standard error body, Content-Type
/// <c>application/vnd.aws.lambda.error+json</c>, and the <c>Lambda-Runtime-Function-Error-Type</c> header).
/// </summary>
internal sealed class LambdaRuntimeClient : IDisposable
{
    public const string ErrorContentType = "application/vnd.aws.lambda.error+json";
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";
    public const string DeadlineHeader = "Lambda-Runtime-Deadline-Ms";
    public const string FunctionArnHeader = "Lambda-Runtime-Invoked-Function-Arn";
    public const string TraceIdHeader = "Lambda-Runtime-Trace-Id";

    private static readonly TimeSpan PostTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;

    /// <param name="runtimeApi">AWS_LAMBDA_RUNTIME_API: <c>host:port</c>.</param>
    /// <param name="handler">A transport (tests); null for a direct socket handler without proxy.</param>
    public LambdaRuntimeClient(string runtimeApi, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        BaseUri = ParseRuntimeApi(runtimeApi);
        // The Runtime API is on the sandbox's loopback: never through a proxy, never a client timeout on /next.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary><c>http://host:port/2018-06-01/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>Parses AWS_LAMBDA_RUNTIME_API (<c>host:port</c>, as Lambda sets it).</summary>
    /// <exception cref="FormatException">Not a host and port.</exception>
    public static Uri ParseRuntimeApi(string runtimeApi)
    {
        string value = runtimeApi.Trim();
        if (value.Contains("://", StringComparison.Ordinal) || value.Contains('/', StringComparison.Ordinal)
            || !Uri.TryCreate("http://" + value + "/2018-06-01/", UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new FormatException($"AWS_LAMBDA_RUNTIME_API '{runtimeApi}' is not a host:port such as 127.0.0.1:9001.");
        return uri;
    }

    /// <summary>Waits for the next invocation (no timeout).</summary>
    /// <exception cref="LambdaRuntimeFatalException">Any answer but 200 with a request id and a deadline.</exception>
    public async Task<LambdaInvocation> NextAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri(BaseUri, "runtime/invocation/next"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new LambdaRuntimeFatalException($"GET runtime/invocation/next answered HTTP {(int)response.StatusCode}: {Excerpt(body)}");
        string? id = Header(response, RequestIdHeader);
        if (string.IsNullOrEmpty(id))
            throw new LambdaRuntimeFatalException($"GET runtime/invocation/next answered without {RequestIdHeader}.");
        string? deadline = Header(response, DeadlineHeader);
        if (!long.TryParse(deadline, NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
            throw new LambdaRuntimeFatalException($"Invocation {id}: {DeadlineHeader} '{deadline}' is not a number of milliseconds since the Unix epoch.");
        return new LambdaInvocation(id, DateTimeOffset.FromUnixTimeMilliseconds(ms), Header(response, FunctionArnHeader), Header(response, TraceIdHeader), body);
    }

    /// <summary>Posts the invocation's response.</summary>
    /// <returns>Null when accepted (202), else the reason it was refused (400, 403, 413: the runtime can go on).</returns>
    /// <exception cref="LambdaRuntimeFatalException">HTTP 500 (container error: the runtime must exit) or another unexpected status.</exception>
    public Task<string?> PostResponseAsync(string requestId, byte[] payload, CancellationToken cancellationToken = default)
    {
        var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/response", content, null, cancellationToken);
    }

    /// <summary>Posts an invocation error (the function failed this event).</summary>
    public Task<string?> PostInvocationErrorAsync(string requestId, LambdaErrorBody error, CancellationToken cancellationToken = default) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/error", ErrorContent(error), error.ErrorType, cancellationToken);

    /// <summary>Posts an init error (the runtime cannot start; it exits next).</summary>
    public Task<string?> PostInitErrorAsync(LambdaErrorBody error, CancellationToken cancellationToken = default) =>
        PostAsync("runtime/init/error", ErrorContent(error), error.ErrorType, cancellationToken);

    /// <summary>The error body of an exception: its message, the error type given, and its stack trace lines.</summary>
    public static LambdaErrorBody ErrorBody(string errorType, string message, Exception? exception = null)
    {
        var trace = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (!ReferenceEquals(e, exception)) trace.Add($"--- caused by {e.GetType().Name}: {e.Message}");
            if (e.StackTrace is { } st)
                trace.AddRange(st.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        return new LambdaErrorBody(message, errorType, trace);
    }

    public void Dispose() => _http.Dispose();

    private static ByteArrayContent ErrorContent(LambdaErrorBody error)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(error, LambdaJsonContext.Default.LambdaErrorBody));
        content.Headers.ContentType = new MediaTypeHeaderValue(ErrorContentType);
        return content;
    }

    private async Task<string?> PostAsync(string path, HttpContent content, string? errorType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, path)) { Content = content };
        if (errorType is not null) request.Headers.TryAddWithoutValidation(ErrorTypeHeader, errorType);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PostTimeout);
        using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        int status = (int)response.StatusCode;
        return status switch
        {
            202 => null,
            400 or 403 or 413 => $"POST {path} answered HTTP {status}: {Excerpt(body)}",
            _ => throw new LambdaRuntimeFatalException($"POST {path} answered HTTP {status}: {Excerpt(body)}"),
        };
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string Excerpt(byte[] body)
    {
        string text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500));
        return text.ReplaceLineEndings(" ");
    }
}
