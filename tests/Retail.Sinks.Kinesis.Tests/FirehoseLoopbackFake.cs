using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>
/// A strict loopback fake of Amazon Data Firehose's <c>PutRecordBatch</c> (JSON 1.1, <c>Firehose_20150804</c>), written
/// from the published API reference because no Firehose emulator exists. Kestrel on 127.0.0.1 at a port the OS picks
/// (<see cref="ServiceUrl"/>). It rejects what the real service rejects:
/// <list type="bullet">
/// <item>a method other than POST: 403 <c>AccessDeniedException</c>; a path other than <c>/</c>: 404
/// <c>UnknownOperationException</c>; a Content-Type other than <c>application/x-amz-json-1.1</c>: 404
/// <c>UnknownOperationException</c>; a body that is not a JSON object: 400 <c>SerializationException</c>;</item>
/// <item>an <c>X-Amz-Target</c> outside <c>Firehose_20150804</c>, or an operation Firehose does not have: 400
/// <c>UnknownOperationException</c>; another real Firehose operation: 400 <c>InvalidArgumentException</c> (the fake
/// implements PutRecordBatch only);</item>
/// <item>no <c>Authorization</c> header: 403 <c>MissingAuthenticationTokenException</c> (the Common Errors page's
/// status); an Authorization that is not <c>AWS4-HMAC-SHA256 Credential=key/yyyyMMdd/region/service/aws4_request,
/// SignedHeaders=…, Signature=hex</c>, or no <c>X-Amz-Date</c>: 400 <c>IncompleteSignatureException</c>; a credential
/// scoped to another service than <c>firehose</c> or to another date than X-Amz-Date's: 400
/// <c>InvalidSignatureException</c> (the signature itself is not checked);</item>
/// <item>model constraints (DeliveryStreamName 1–64 chars of <c>[a-zA-Z0-9_.-]</c>, Records 1–500, each record's
/// decoded Data 1,024,000 bytes at most): 400 <c>ValidationException</c> with the service framework's "N validation
/// error(s) detected: … failed to satisfy constraint: Member must have length less than or equal to 500" message (what
/// the real service answers, as reported in osquery/osquery#3568 and postmates/cernan#210);</item>
/// <item>a delivery stream the fake was not told about (<see cref="AddDeliveryStream"/>): 400
/// <c>ResourceNotFoundException</c>; a batch whose decoded data exceeds 4 MiB (4,194,304 bytes): 400
/// <c>InvalidArgumentException</c> "Records size exceeds 4 MB limit".</item>
/// </list>
/// Success answers <c>{"Encrypted":false,"FailedPutCount":N,"RequestResponses":[…]}</c> in request order; every response
/// carries <c>x-amzn-RequestId</c> and Content-Type <c>application/x-amz-json-1.1</c>. Faults on demand:
/// <see cref="FailEntry"/> and <see cref="FailCall"/>.
/// </summary>
public sealed partial class FirehoseLoopbackFake : IAsyncDisposable
{
    public const string ContentType = "application/x-amz-json-1.1";
    public const string TargetPrefix = "Firehose_20150804";
    public const int MaxRecordsPerBatch = 500;
    public const int MaxRecordBytes = 1_024_000;
    public const int MaxBatchBytes = 4 * 1024 * 1024;

    private static readonly HashSet<string> OtherOperations = new(StringComparer.Ordinal)
    {
        "CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
        "ListTagsForDeliveryStream", "PutRecord", "StartDeliveryStreamEncryption", "StopDeliveryStreamEncryption",
        "TagDeliveryStream", "UntagDeliveryStream", "UpdateDestination",
    };

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<byte[]>> _records = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, string>> _headers = [];
    private int _calls;
    private int _entries;

    private FirehoseLoopbackFake(WebApplication app) => _app = app;

    /// <summary>Starts the fake on 127.0.0.1 with the delivery streams <paramref name="deliveryStreams"/>.</summary>
    public static async Task<FirehoseLoopbackFake> StartAsync(params string[] deliveryStreams)
    {
        ArgumentNullException.ThrowIfNull(deliveryStreams);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024; // the real limit is checked on the decoded data, not here
        });
        var app = builder.Build();
        var fake = new FirehoseLoopbackFake(app);
        foreach (var s in deliveryStreams) fake.AddDeliveryStream(s);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.ServiceUrl = address.TrimEnd('/');
        return fake;
    }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string ServiceUrl { get; private set; } = "";

    /// <summary>
    /// Decides, for each entry of a valid call in arrival order, whether it fails with <c>ServiceUnavailableException</c>
    /// (the argument is the entry's 0-based number across all calls the fake has processed). Failed entries are not stored.
    /// </summary>
    public Func<int, bool>? FailEntry { get; set; }

    /// <summary>
    /// Decides, for each call (its 1-based number among all requests received, <see cref="Calls"/>), whether a valid call
    /// fails as a whole: return the HTTP status to answer (503 <c>ServiceUnavailableException</c>, 500
    /// <c>InternalFailure</c>, any other status <c>InternalFailure</c>) or null to process it. Nothing is stored.
    /// </summary>
    public Func<int, int?>? FailCall { get; set; }

    /// <summary>Makes <paramref name="name"/> a delivery stream that exists.</summary>
    public void AddDeliveryStream(string name)
    {
        lock (_lock) _streams.Add(name);
    }

    /// <summary>The number of HTTP requests received (valid or not).</summary>
    public int Calls
    {
        get { lock (_lock) return _calls; }
    }

    /// <summary>A snapshot of the records stored in <paramref name="deliveryStream"/>, in arrival order.</summary>
    public IReadOnlyList<byte[]> Records(string deliveryStream)
    {
        lock (_lock) return _records.TryGetValue(deliveryStream, out var list) ? [.. list] : [];
    }

    /// <summary>A snapshot of each request's headers (names case-insensitive), in arrival order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> RequestHeaders
    {
        get { lock (_lock) return [.. _headers]; }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        int call;
        lock (_lock)
        {
            call = ++_calls;
            _headers.Add(request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await ErrorAsync(response, 403, "AccessDeniedException", "Unable to determine service/operation name to be authorized");
            return;
        }
        if (request.Path != "/")
        {
            await ErrorAsync(response, 404, "UnknownOperationException", $"No operation at path '{request.Path}'");
            return;
        }
        string contentType = (request.ContentType ?? "").Split(';')[0].Trim();
        if (!string.Equals(contentType, ContentType, StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(response, 404, "UnknownOperationException", $"Content-Type must be {ContentType}, not '{request.ContentType}'");
            return;
        }

        string target = request.Headers["X-Amz-Target"].ToString();
        int dot = target.IndexOf('.', StringComparison.Ordinal);
        string prefix = dot < 0 ? target : target[..dot], operation = dot < 0 ? "" : target[(dot + 1)..];
        if (prefix != TargetPrefix || (operation != "PutRecordBatch" && !OtherOperations.Contains(operation)))
        {
            await ErrorAsync(response, 400, "UnknownOperationException", null);
            return;
        }

        if (AuthorizationError(request) is { } authError)
        {
            await ErrorAsync(response, authError.Status, authError.Type, authError.Message);
            return;
        }
        if (operation != "PutRecordBatch")
        {
            await ErrorAsync(response, 400, "InvalidArgumentException", $"The loopback fake implements only {TargetPrefix}.PutRecordBatch, not {operation}.");
            return;
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            await ErrorAsync(response, 400, "SerializationException", null);
            return;
        }
        using (document)
        {
            if (Parse(document.RootElement) is not { } batch)
            {
                await ErrorAsync(response, 400, "SerializationException", null);
                return;
            }
            if (Validate(batch) is { } validation)
            {
                await ErrorAsync(response, 400, "ValidationException", validation);
                return;
            }
            bool exists;
            lock (_lock) exists = _streams.Contains(batch.Name!);
            if (!exists)
            {
                await ErrorAsync(response, 400, "ResourceNotFoundException", $"Firehose {batch.Name} under account 000000000000 not found.");
                return;
            }
            if (batch.Records!.Sum(r => (long)r.Length) > MaxBatchBytes)
            {
                await ErrorAsync(response, 400, "InvalidArgumentException", "Records size exceeds 4 MB limit");
                return;
            }
            if (FailCall?.Invoke(call) is int status)
            {
                await ErrorAsync(response, status, status == 503 ? "ServiceUnavailableException" : "InternalFailure",
                    status == 503 ? "Slow down." : "The request processing has failed because of an unknown error, exception or failure.");
                return;
            }

            var results = new string?[batch.Records!.Count]; // the record id, or null when the entry failed
            int failed = 0;
            lock (_lock)
            {
                if (!_records.TryGetValue(batch.Name!, out var stored)) _records[batch.Name!] = stored = [];
                for (int i = 0; i < results.Length; i++)
                {
                    if (FailEntry?.Invoke(_entries++) == true) { failed++; continue; }
                    stored.Add(batch.Records[i]);
                    results[i] = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
                }
            }

            response.StatusCode = 200;
            response.ContentType = ContentType;
            await using var json = new Utf8JsonWriter(response.Body);
            json.WriteStartObject();
            json.WriteBoolean("Encrypted", false);
            json.WriteNumber("FailedPutCount", failed);
            json.WriteStartArray("RequestResponses");
            foreach (var id in results)
            {
                json.WriteStartObject();
                if (id is not null) json.WriteString("RecordId", id);
                else
                {
                    json.WriteString("ErrorCode", "ServiceUnavailableException");
                    json.WriteString("ErrorMessage", "Slow down.");
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    private sealed record Batch(string? Name, List<byte[]>? Records);

    /// <summary>The request's fields, or null when the JSON does not have the request's shape (a SerializationException).</summary>
    private static Batch? Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        string? name = null;
        List<byte[]>? records = null;
        if (root.TryGetProperty("DeliveryStreamName", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.String) return null;
            name = n.GetString();
        }
        if (root.TryGetProperty("Records", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            if (r.ValueKind != JsonValueKind.Array) return null;
            records = [];
            foreach (var entry in r.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("Data", out var data)) return null;
                if (data.ValueKind != JsonValueKind.String || !data.TryGetBytesFromBase64(out var bytes)) return null;
                records.Add(bytes);
            }
        }
        return new Batch(name, records);
    }

    /// <summary>The model constraints' message (as the service framework words it), or null when the request meets them.</summary>
    private static string? Validate(Batch batch)
    {
        var errors = new List<string>();
        if (batch.Name is null)
            errors.Add("Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null");
        else
        {
            if (batch.Name.Length < 1)
                errors.Add($"Value '{batch.Name}' at 'deliveryStreamName' failed to satisfy constraint: Member must have length greater than or equal to 1");
            if (batch.Name.Length > 64)
                errors.Add($"Value '{batch.Name}' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64");
            if (batch.Name.Length > 0 && !StreamNamePattern().IsMatch(batch.Name))
                errors.Add($"Value '{batch.Name}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
        }
        if (batch.Records is null)
            errors.Add("Value null at 'records' failed to satisfy constraint: Member must not be null");
        else
        {
            if (batch.Records.Count < 1)
                errors.Add("Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1");
            if (batch.Records.Count > MaxRecordsPerBatch)
                errors.Add($"Value '[{batch.Records.Count} records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to {MaxRecordsPerBatch}");
            for (int i = 0; i < batch.Records.Count; i++)
            {
                int length = batch.Records[i].Length;
                if (length > MaxRecordBytes)
                    errors.Add($"Value 'java.nio.HeapByteBuffer[pos=0 lim={length} cap={length}]' at 'records.{i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to {MaxRecordBytes}");
            }
        }
        if (errors.Count == 0) return null;
        return string.Create(CultureInfo.InvariantCulture, $"{errors.Count} validation error{(errors.Count > 1 ? "s" : "")} detected: {string.Join("; ", errors)}");
    }

    private static (int Status, string Type, string Message)? AuthorizationError(HttpRequest request)
    {
        string authorization = request.Headers.Authorization.ToString();
        if (authorization.Length == 0) return (403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        string date = request.Headers["X-Amz-Date"].ToString();
        if (date.Length == 0)
            return (400, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        if (SigV4().Match(authorization) is not { Success: true } m)
            return (400, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters of AWS4-HMAC-SHA256.");
        if (!DateTime.TryParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _))
            return (400, "IncompleteSignatureException", $"X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', not '{date}'.");
        if (m.Groups["service"].Value != "firehose")
            return (400, "InvalidSignatureException", $"Credential should be scoped to correct service: 'firehose'.");
        if (m.Groups["date"].Value != date[..8])
            return (400, "InvalidSignatureException", $"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{m.Groups["date"].Value}' != '{date[..8]}'");
        return null;
    }

    private static async Task ErrorAsync(HttpResponse response, int status, string type, string? message)
    {
        response.StatusCode = status;
        response.ContentType = ContentType;
        await using var json = new Utf8JsonWriter(response.Body);
        json.WriteStartObject();
        json.WriteString("__type", type);
        if (message is not null) json.WriteString("message", message);
        json.WriteEndObject();
    }

    [GeneratedRegex("^[a-zA-Z0-9_.-]+$")]
    private static partial Regex StreamNamePattern();

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/,\s]+)/(?<date>\d{8})/(?<region>[a-z0-9-]+)/(?<service>[a-z0-9-]+)/aws4_request, ?SignedHeaders=(?<headers>[a-z0-9;-]+), ?Signature=(?<signature>[0-9a-f]+)$")]
    private static partial Regex SigV4();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
