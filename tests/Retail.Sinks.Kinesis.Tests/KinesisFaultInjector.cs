using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Retail.Sinks.Kinesis.Tests;

/// <summary>One call through a <see cref="KinesisFaultInjector"/>: the operation named by <c>X-Amz-Target</c>
/// (<c>Kinesis_20131202.&lt;Operation&gt;</c>), its 1-based number among all calls, and among calls of that operation.</summary>
public sealed record KinesisCall(string Operation, int Number, int OperationNumber);

/// <summary>
/// Injects Kinesis faults at the HTTP layer. Place it below the signing handler, wrapping the real transport
/// (<c>new SigV4SigningHandler(…) { InnerHandler = new KinesisFaultInjector { InnerHandler = new SocketsHttpHandler() } }</c>).
/// Each fault has its own settable policy (null: never); policies see the <see cref="KinesisCall"/> and may draw from
/// the seeded <see cref="Random"/> for fractional faults. In the order they are consulted:
/// <list type="number">
/// <item><see cref="ResetConnection"/>: throws <see cref="HttpRequestException"/> wrapping
/// <c>IOException("Connection reset by peer")</c>, without forwarding;</item>
/// <item><see cref="FailCall"/>: answers 500 <c>InternalFailure</c> or 503 <c>ServiceUnavailable</c>, without forwarding;</item>
/// <item><see cref="ThrottleGetRecords"/> / <see cref="ExpireGetRecordsIterator"/>: answer GetRecords with 400
/// <c>ProvisionedThroughputExceededException</c> / <c>ExpiredIteratorException</c>, without forwarding;</item>
/// <item><see cref="DelayBeforeForwarding"/>: waits (with the request's cancellation token) before sending, so a client
/// timeout fires before the emulator saw the call;</item>
/// <item><see cref="FailPutRecordsEntry"/>: removes the chosen PutRecords entries from the request before forwarding (so
/// they are really not stored) and splices <c>ProvisionedThroughputExceededException</c> entries back into the
/// response's <c>Records</c> at their positions, adding them to <c>FailedRecordCount</c>; when every entry fails, the
/// call is answered without forwarding;</item>
/// <item><see cref="DelayAfterForwarding"/>: waits (with the request's cancellation token) after the emulator answered,
/// so a client timeout fires although the call took effect.</item>
/// </list>
/// Counters say how many faults of each kind it injected. Rewriting a PutRecords body invalidates the request's SigV4
/// signature: harmless against the emulators (they do not verify signatures), not usable against AWS.
/// </summary>
public sealed class KinesisFaultInjector : DelegatingHandler
{
    public const string TargetPrefix = "Kinesis_20131202.";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _operationCalls = new(StringComparer.Ordinal);
    private int _calls;
    private int _putRecordsEntries;
    private int _entryFailures, _throttles, _expiredIterators, _serverErrors, _resets, _delays;

    /// <param name="seed">Seeds <see cref="Random"/>, so fractional policies fail the same entries on every run.</param>
    public KinesisFaultInjector(int seed = 42) => Random = new Random(seed);

    /// <summary>The seeded randomness for fractional policies (use it from policies only: they run one at a time).</summary>
    public Random Random { get; }

    /// <summary>Whether an entry of a PutRecords call fails: the call, the entry's 0-based index in the request, and its
    /// 0-based number among all PutRecords entries this injector saw.</summary>
    public Func<KinesisCall, int, int, bool>? FailPutRecordsEntry { get; set; }

    /// <summary>Whether a GetRecords call is answered 400 <c>ProvisionedThroughputExceededException</c>.</summary>
    public Func<KinesisCall, bool>? ThrottleGetRecords { get; set; }

    /// <summary>Whether a GetRecords call is answered 400 <c>ExpiredIteratorException</c>.</summary>
    public Func<KinesisCall, bool>? ExpireGetRecordsIterator { get; set; }

    /// <summary>The status (500 <c>InternalFailure</c> or 503 <c>ServiceUnavailable</c>) any call is answered with, or null.</summary>
    public Func<KinesisCall, int?>? FailCall { get; set; }

    /// <summary>Whether a call fails with a connection reset (<see cref="HttpRequestException"/> over <see cref="IOException"/>).</summary>
    public Func<KinesisCall, bool>? ResetConnection { get; set; }

    /// <summary>How long to wait before forwarding a call, or null.</summary>
    public Func<KinesisCall, TimeSpan?>? DelayBeforeForwarding { get; set; }

    /// <summary>How long to wait after the inner handler answered a call, or null.</summary>
    public Func<KinesisCall, TimeSpan?>? DelayAfterForwarding { get; set; }

    /// <summary>Fails the given fraction of PutRecords entries, drawn from the seeded <see cref="Random"/>.</summary>
    public void FailPutRecordsEntries(double fraction) => FailPutRecordsEntry = (_, _, _) => Draw() < fraction;

    /// <summary>The next number of the seeded <see cref="Random"/>, safe from concurrent calls (a producer keeps several puts in flight).</summary>
    public double Draw()
    {
        lock (Random) return Random.NextDouble();
    }

    public int Calls => Volatile.Read(ref _calls);
    public int InjectedEntryFailures => Volatile.Read(ref _entryFailures);
    public int InjectedGetRecordsThrottles => Volatile.Read(ref _throttles);
    public int InjectedExpiredIterators => Volatile.Read(ref _expiredIterators);
    public int InjectedServerErrors => Volatile.Read(ref _serverErrors);
    public int InjectedConnectionResets => Volatile.Read(ref _resets);
    public int InjectedDelays => Volatile.Read(ref _delays);

    /// <summary>How many calls of <paramref name="operation"/> went through the injector.</summary>
    public int CallsOf(string operation)
    {
        lock (_lock) return _operationCalls.GetValueOrDefault(operation);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.FirstOrDefault() ?? "" : "";
        string operation = target.StartsWith(TargetPrefix, StringComparison.Ordinal) ? target[TargetPrefix.Length..] : target;
        KinesisCall call;
        lock (_lock)
        {
            int operationNumber = _operationCalls.GetValueOrDefault(operation) + 1;
            _operationCalls[operation] = operationNumber;
            call = new KinesisCall(operation, ++_calls, operationNumber);
        }

        if (ResetConnection?.Invoke(call) == true)
        {
            Interlocked.Increment(ref _resets);
            throw new HttpRequestException("An error occurred while sending the request.", new IOException("Connection reset by peer"));
        }
        if (FailCall?.Invoke(call) is int status)
        {
            Interlocked.Increment(ref _serverErrors);
            return status == 503
                ? Error(request, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "Service Unavailable")
                : Error(request, (HttpStatusCode)status, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.");
        }
        if (operation == "GetRecords" && ThrottleGetRecords?.Invoke(call) == true)
        {
            Interlocked.Increment(ref _throttles);
            return Error(request, HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException", "Rate exceeded for shard");
        }
        if (operation == "GetRecords" && ExpireGetRecordsIterator?.Invoke(call) == true)
        {
            Interlocked.Increment(ref _expiredIterators);
            return Error(request, HttpStatusCode.BadRequest, "ExpiredIteratorException",
                "Iterator expired. The iterator was created more than 300000 milliseconds ago (injected).");
        }
        if (DelayBeforeForwarding?.Invoke(call) is TimeSpan before)
        {
            Interlocked.Increment(ref _delays);
            await Task.Delay(before, cancellationToken);
        }

        HttpResponseMessage response = operation == "PutRecords" && FailPutRecordsEntry is { } failEntry && request.Content is not null
            ? await PutRecordsWithFailuresAsync(request, call, failEntry, cancellationToken)
            : await base.SendAsync(request, cancellationToken);

        if (DelayAfterForwarding?.Invoke(call) is TimeSpan after)
        {
            Interlocked.Increment(ref _delays);
            try { await Task.Delay(after, cancellationToken); }
            catch (OperationCanceledException) { response.Dispose(); throw; }
        }
        return response;
    }

    private async Task<HttpResponseMessage> PutRecordsWithFailuresAsync(
        HttpRequestMessage request, KinesisCall call, Func<KinesisCall, int, int, bool> failEntry, CancellationToken cancellationToken)
    {
        byte[] body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        if (JsonNode.Parse(body) is not JsonObject json || json["Records"] is not JsonArray records)
            return await base.SendAsync(request, cancellationToken); // not a PutRecords request the emulator will accept: let it say so

        var failed = new bool[records.Count];
        int failures = 0;
        lock (_lock)
        {
            for (int i = 0; i < failed.Length; i++)
                if (failed[i] = failEntry(call, i, _putRecordsEntries++)) failures++;
        }
        if (failures == 0)
        {
            request.Content = Copy(request.Content, body);
            return await base.SendAsync(request, cancellationToken);
        }
        Interlocked.Add(ref _entryFailures, failures);
        string stream = json["StreamName"]?.GetValue<string>() ?? json["StreamARN"]?.GetValue<string>() ?? "";
        JsonObject Failure() => new()
        {
            ["ErrorCode"] = "ProvisionedThroughputExceededException",
            ["ErrorMessage"] = $"Rate exceeded for shard (injected) in stream {stream} under account 000000000000.",
        };

        if (failures == failed.Length)
        {
            // Every entry fails: an empty PutRecords is invalid, so answer without forwarding.
            var all = new JsonArray();
            for (int i = 0; i < failed.Length; i++) all.Add(Failure());
            var answer = new JsonObject { ["FailedRecordCount"] = failures, ["Records"] = all };
            return Json(request, HttpStatusCode.OK, answer.ToJsonString());
        }

        for (int i = failed.Length - 1; i >= 0; i--)
            if (failed[i]) records.RemoveAt(i);
        request.Content = Copy(request.Content, Encoding.UTF8.GetBytes(json.ToJsonString()));
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK) return response; // the call failed as a whole: nothing to splice into

        byte[] answerBody = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (JsonNode.Parse(answerBody) is not JsonObject result || result["Records"] is not JsonArray forwarded || forwarded.Count != failed.Length - failures)
            throw new InvalidOperationException("The emulator answered PutRecords with an unexpected body: " + Encoding.UTF8.GetString(answerBody));
        var spliced = new JsonArray();
        int next = 0;
        for (int i = 0; i < failed.Length; i++)
            spliced.Add(failed[i] ? Failure() : forwarded[next++]!.DeepClone());
        result["Records"] = spliced;
        result["FailedRecordCount"] = (result["FailedRecordCount"]?.GetValue<int>() ?? 0) + failures;
        response.Content = Copy(response.Content, Encoding.UTF8.GetBytes(result.ToJsonString()));
        return response;
    }

    /// <summary>New content with <paramref name="bytes"/> and the headers of <paramref name="original"/> (but its length).</summary>
    private static ByteArrayContent Copy(HttpContent original, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        foreach (var header in original.Headers)
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        original.Dispose();
        return content;
    }

    private static HttpResponseMessage Error(HttpRequestMessage request, HttpStatusCode status, string type, string message) =>
        Json(request, status, new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString());

    private static HttpResponseMessage Json(HttpRequestMessage request, HttpStatusCode status, string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new("application/x-amz-json-1.1");
        var response = new HttpResponseMessage(status) { Content = content, RequestMessage = request };
        response.Headers.TryAddWithoutValidation("x-amzn-RequestId", Guid.NewGuid().ToString());
        return response;
    }
}
