using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.Shared;

/// <summary>
/// The AWS JSON 1.1 protocol over an <see cref="HttpClient"/> whose handler chain signs (SigV4): POST / with
/// <c>X-Amz-Target: {prefix}.{operation}</c>; errors are <c>{"__type": "…#Code", "message": "…"}</c>, thrown as the
/// package's own exception type (<paramref name="error"/>). No retries here. One source file, compiled into each thin AWS
/// client package (Kinesis and Firehose, Athena) as an internal type.
/// </summary>
internal sealed partial class AwsJsonClient(HttpClient http, Uri endpoint, string service, string targetPrefix, ILogger logger, AwsJsonError error)
{
    private static readonly MediaTypeHeaderValue ContentType = new("application/x-amz-json-1.1");

    public string Service => service;

    public Uri Endpoint => endpoint;

    public async Task<TResponse> SendAsync<TRequest, TResponse>(string operation, TRequest request, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        return await SendAsync(operation, body, responseType, ct).ConfigureAwait(false);
    }

    public async Task<TResponse> SendAsync<TResponse>(string operation, ReadOnlyMemory<byte> body, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ReadOnlyMemoryContent(body) };
        message.Content.Headers.ContentType = ContentType;
        message.Headers.TryAddWithoutValidation("X-Amz-Target", targetPrefix + "." + operation);
        LogRequest(logger, service, operation, body.Length);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        string? requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        LogResponse(logger, service, operation, (int)response.StatusCode, bytes.Length, requestId);
        if (response.StatusCode != HttpStatusCode.OK) throw Error(operation, response.StatusCode, bytes, requestId);
        if (bytes.Length == 0) bytes = "{}"u8.ToArray(); // operations without output (CreateStream, SplitShard, …) may answer nothing
        try
        {
            return JsonSerializer.Deserialize(bytes, responseType)
                ?? throw new InvalidDataException($"{service} {operation} answered an empty body.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{service} {operation} answered JSON that is not its API's response ({e.Message}).", e);
        }
    }

    [SuppressMessage("Design", "CA1031", Justification = "An unreadable error body still becomes a typed error.")]
    private Exception Error(string operation, HttpStatusCode status, byte[] body, string? requestId)
    {
        string code = status == HttpStatusCode.InternalServerError ? "InternalFailure" : ((int)status >= 500 ? "ServiceUnavailable" : "HTTP" + (int)status);
        string message = body.Length == 0 ? status.ToString() : System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 500)));
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Name == "__type" && p.Value.GetString() is { Length: > 0 } type) code = type[(type.LastIndexOf('#') + 1)..];
                    else if (p.Name.Equals("message", StringComparison.OrdinalIgnoreCase) && p.Value.GetString() is { } m) message = m;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page): the status decides, the text is the message.
        }
        return error(operation, code, message, (int)status, requestId);
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "{Service} {Operation}: sending {Bytes} bytes")]
    private static partial void LogRequest(ILogger logger, string service, string operation, int bytes);

    [LoggerMessage(Level = LogLevel.Trace, Message = "{Service} {Operation}: HTTP {Status}, {Bytes} bytes, request id {RequestId}")]
    private static partial void LogResponse(ILogger logger, string service, string operation, int status, int bytes, string? requestId);
}

/// <summary>Makes the exception for an AWS JSON error answer: the operation, the error code (after <c>#</c>), the message,
/// the HTTP status and the request id.</summary>
internal delegate Exception AwsJsonError(string operation, string code, string message, int status, string? requestId);
