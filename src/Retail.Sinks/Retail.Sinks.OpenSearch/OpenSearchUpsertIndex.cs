using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch;

/// <summary>
/// The speed layer's index on OpenSearch: Retail's <see cref="IUpsertIndex"/> over the <c>_bulk</c> API. Each upsert
/// is sent as NDJSON requests bounded by <see cref="OpenSearchOptions.MaxRequestBytes"/> and
/// <see cref="OpenSearchOptions.MaxRequestDocuments"/>; a 413 splits a request in two; the per-item results are read
/// (429 and 5xx items retryable, a 409 on <c>create</c> already indexed, other rejections permanent, with the domain's
/// error type and reason). Nothing is retried here: Retail's speed-layer processor owns the retries. Create it with
/// <c>OpenSearchClientFactory.CreateIndex</c> or <c>AddOpenSearchUpsert</c>. It also reads the speed layer back
/// (<see cref="ISpeedLayerView"/>: the Kibana chart's date histogram of <c>sum(Quantity)</c>, one <c>_search</c>).
/// </summary>
/// <remarks>
/// With <see cref="OpenSearchOptions.Rotation"/>, a document's index is named from its <c>InvoiceDate</c> (event time),
/// not from its arrival time as Firehose does: a replayed or retried record then always goes to the same index, so an
/// id stays unique across the rotated indices and a retry never makes a second copy in the next hour's index.
/// </remarks>
public sealed partial class OpenSearchUpsertIndex : IUpsertIndex, ISpeedLayerView, IDisposable
{
    /// <summary>The <see cref="Meter"/> name of this package.</summary>
    public const string MeterName = "Retail.Sinks.OpenSearch";

    internal const string TooLarge = "document too large for the domain's request limit";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> DocsSent = Meter.CreateCounter<long>("retail.opensearch.documents.sent", description: "Documents sent in _bulk requests.");
    private static readonly Counter<long> DocsFailed = Meter.CreateCounter<long>("retail.opensearch.documents.failed", description: "Documents rejected for good.");
    private static readonly Counter<long> DocsRetryable = Meter.CreateCounter<long>("retail.opensearch.documents.retryable", description: "Documents handed back as retryable.");
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("retail.opensearch.requests", description: "_bulk requests sent.");
    private static readonly Counter<long> Splits = Meter.CreateCounter<long>("retail.opensearch.requests.split", description: "_bulk requests split after a 413.");
    private static readonly MediaTypeHeaderValue NdJson = new("application/x-ndjson");
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private readonly OpenSearchOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Uri _base;
    private readonly Uri _bulkUri;
    private readonly AuthenticationHeaderValue? _basic;
    private readonly string _index;
    private readonly SemaphoreSlim _templateLock = new(1, 1);
    private volatile bool _templatePut;
    private bool _disposed;

    internal OpenSearchUpsertIndex(HttpClient http, bool ownsClient, OpenSearchOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _http = http;
        _ownsClient = ownsClient;
        // A copy: later changes to the caller's options object do not change a running index.
        _options = Copy(options);
        _logger = logger;
        _time = timeProvider;
        _base = OpenSearchEndpoint.Parse(options.Endpoint);
        _index = options.Index;
        string refresh = options.Refresh switch { RefreshPolicy.True => "?refresh=true", RefreshPolicy.WaitFor => "?refresh=wait_for", _ => "" };
        _bulkUri = new Uri(_base, "_bulk" + refresh);
        if (options.Auth == OpenSearchAuth.Basic)
            _basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.Username + ":" + options.Password)));
    }

    /// <summary>This instance's counters.</summary>
    public OpenSearchIndexStats Stats { get; } = new();

    /// <summary>The index (or, when rotating, the pattern <c>{index}-*</c>) that <see cref="CountAsync"/> counts.</summary>
    public string IndexPattern => IndexNames.Pattern(_index, _options.Rotation);

    /// <summary>The index <paramref name="record"/> is written to (the rotated name when rotating, from its <c>InvoiceDate</c>).</summary>
    public string IndexFor(RetailTransaction record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return IndexNames.For(_index, _options.Rotation, record.InvoiceDate);
    }

    /// <summary>
    /// Upserts <paramref name="documents"/> with <see cref="OpenSearchOptions.Action"/>, one result per document in
    /// request order, each with the index it went to (<c>IndexName</c>) and, when it failed, the domain's error type
    /// (<c>ErrorType</c>) and <c>"type: reason"</c>. 2xx items and (with <see cref="BulkAction.Create"/>) 409s succeed;
    /// 429, 5xx and 409 on index/update (a concurrent write) are retryable; other item errors are permanent. A request
    /// answered 429, 408 or 5xx as a whole, a timeout or a lost connection makes each of its documents retryable
    /// (<c>http_503</c>, <c>timeout</c>, <c>connection_failure</c>); a 413 splits the request in two, and a single
    /// document that still gets 413 fails permanently ("document too large for the domain's request limit").
    /// </summary>
    /// <exception cref="OpenSearchException">The domain refused the request as a whole: 401/403 (not transient; the message names OpenSearchOptions.Auth), or another client error.</exception>
    public async ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (documents.Count == 0) return new UpsertResult([]);
        if (_options.EnsureIndexTemplate && !_templatePut) await EnsureTemplateAsync(cancellationToken).ConfigureAwait(false);

        var results = new UpsertItemResult[documents.Count];
        var indexNames = new string[documents.Count];
        int[] positions = ArrayPool<int>.Shared.Rent(documents.Count); // body position -> document number
        using var body = new BulkBody(_options.Action, _options.IsoDates, Math.Min(documents.Count * 320 + 1024, 16 * 1024 * 1024));
        try
        {
            string? lastName = null;
            for (int i = 0; i < documents.Count; i++)
            {
                var doc = documents[i];
                if (doc.Record is null || string.IsNullOrEmpty(doc.Id))
                {
                    results[i] = Item(doc.Id ?? "", "the document has no id or no record", false, "invalid_document", null);
                    continue;
                }
                string name = _options.Rotation == IndexRotation.None ? _index : IndexNames.For(_index, _options.Rotation, doc.Record.InvoiceDate);
                if (name == lastName) name = lastName; // one string per run of equal names: the body encodes it once
                lastName = name;
                indexNames[i] = name;
                int size = body.Add(name, doc);
                if (size > _options.MaxRequestBytes)
                {
                    body.RemoveLast();
                    results[i] = Item(doc.Id, string.Create(CultureInfo.InvariantCulture,
                        $"request_too_large: {TooLarge} (the document's bulk lines are {size} bytes, more than OpenSearchOptions.MaxRequestBytes = {_options.MaxRequestBytes})"),
                        false, "request_too_large", name);
                    Stats.Failed(1);
                    DocsFailed.Add(1);
                    LogRejected(_logger, doc.Id, name, "request_too_large", TooLarge);
                    continue;
                }
                positions[body.Count - 1] = i;
            }

            int from = 0;
            while (from < body.Count)
            {
                int to = from;
                while (to < body.Count && to - from < _options.MaxRequestDocuments && body.Bytes(from, to + 1) <= _options.MaxRequestBytes) to++;
                await SendAsync(body, from, to, documents, indexNames, positions, results, cancellationToken).ConfigureAwait(false);
                from = to;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(positions);
        }
        return new UpsertResult(results);
    }

    private async Task SendAsync(BulkBody body, int from, int to, IReadOnlyList<IndexDocument> documents, string[] indexNames, int[] positions,
        UpsertItemResult[] results, CancellationToken ct)
    {
        int count = to - from;
        Stats.Request(count);
        Requests.Add(1);
        DocsSent.Add(count);
        using var request = new HttpRequestMessage(HttpMethod.Post, _bulkUri);
        request.Content = new ReadOnlyMemoryContent(body.Slice(from, to));
        request.Content.Headers.ContentType = NdJson;
        request.Headers.Authorization = _basic;
        long started = _time.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            AllRetryable("timeout", string.Create(CultureInfo.InvariantCulture, $"timeout: the _bulk request got no answer within OpenSearchOptions.RequestTimeout ({_options.RequestTimeout})"), e);
            return;
        }
        catch (HttpRequestException e)
        {
            AllRetryable("connection_failure", "connection_failure: " + e.Message, e);
            return;
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            LogBulk(_logger, count, body.Bytes(from, to), status, _time.GetElapsedTime(started).TotalMilliseconds);
            byte[] content;
            try
            {
                content = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                AllRetryable("timeout", "timeout: the _bulk response did not arrive in full within OpenSearchOptions.RequestTimeout", e);
                return;
            }
            catch (HttpRequestException e)
            {
                AllRetryable("connection_failure", "connection_failure: the _bulk response broke off: " + e.Message, e);
                return;
            }

            if (status == 200)
            {
                ReadItems(content);
                return;
            }
            if (status == 413)
            {
                if (count > 1)
                {
                    int mid = from + count / 2;
                    Stats.Split();
                    Splits.Add(1);
                    LogSplit(_logger, count, body.Bytes(from, to));
                    await SendAsync(body, from, mid, documents, indexNames, positions, results, ct).ConfigureAwait(false);
                    await SendAsync(body, mid, to, documents, indexNames, positions, results, ct).ConfigureAwait(false);
                    return;
                }
                int d = positions[from];
                results[d] = Item(documents[d].Id, "http_413: " + TooLarge, false, "http_413", indexNames[d]);
                Stats.Failed(1);
                DocsFailed.Add(1);
                LogRejected(_logger, documents[d].Id, indexNames[d], "http_413", TooLarge);
                return;
            }
            if (status is 408 or 429 or >= 500)
            {
                var (type, reason) = BulkResponse.ReadError(content);
                string code = "http_" + status.ToString(CultureInfo.InvariantCulture);
                AllRetryable(code, $"{code}: OpenSearch answered the _bulk request with HTTP {status}{Describe(type, reason)}", null);
                return;
            }
            throw Refused("_bulk", status, content);
        }

        void AllRetryable(string errorType, string error, Exception? e)
        {
            for (int p = from; p < to; p++)
            {
                int d = positions[p];
                results[d] = Item(documents[d].Id, error, true, errorType, indexNames[d]);
            }
            Stats.Retryable(count);
            DocsRetryable.Add(count);
            LogRequestFailed(_logger, e, count, errorType);
        }

        void ReadItems(byte[] content)
        {
            var outcomes = ArrayPool<BulkItemOutcome>.Shared.Rent(count);
            try
            {
                var span = outcomes.AsSpan(0, count);
                if (!BulkResponse.TryParse(content, span, out string? problem))
                {
                    AllRetryable("invalid_response", "invalid_response: the _bulk response could not be read: " + problem, null);
                    return;
                }
                long ok = 0, already = 0, failed = 0, retryable = 0;
                for (int k = 0; k < count; k++)
                {
                    int d = positions[from + k];
                    var o = span[k];
                    string id = documents[d].Id;
                    if (o.Status is >= 200 and < 300)
                    {
                        results[d] = Item(id, null, false, null, indexNames[d]);
                        ok++;
                    }
                    else if (o.Status == 409 && _options.Action == BulkAction.Create)
                    {
                        results[d] = Item(id, null, false, null, indexNames[d]);
                        ok++;
                        already++;
                    }
                    else if (o.Status is 401 or 403 or 404)
                    {
                        // Not the document's fault: no permission to write the index (fine-grained access control), a
                        // write block, or an index that cannot be auto-created. Dead-lettering would let the stream move on
                        // past documents never indexed, so the batch stops instead, and nothing past it is checkpointed.
                        throw ItemRefused(o.Status, o.ErrorType, o.Reason, indexNames[d]);
                    }
                    else
                    {
                        string type = o.ErrorType ?? "http_" + o.Status.ToString(CultureInfo.InvariantCulture);
                        string error = o.Reason is null ? type : type + ": " + o.Reason;
                        // 409 on index/update is a concurrent write to the same id: another attempt may succeed.
                        bool retry = o.Status is 429 or 409 or >= 500;
                        results[d] = Item(id, error, retry, type, indexNames[d]);
                        if (retry) retryable++;
                        else
                        {
                            failed++;
                            LogRejected(_logger, id, indexNames[d], type, o.Reason);
                        }
                    }
                }
                Stats.Indexed(ok);
                if (already > 0) Stats.AlreadyIndexed(already);
                if (failed > 0)
                {
                    Stats.Failed(failed);
                    DocsFailed.Add(failed);
                }
                if (retryable > 0)
                {
                    Stats.Retryable(retryable);
                    DocsRetryable.Add(retryable);
                }
            }
            finally
            {
                ArrayPool<BulkItemOutcome>.Shared.Return(outcomes, clearArray: true);
            }
        }
    }

    /// <summary>Nothing to do: a document the domain acknowledged is durable (its translog); it becomes searchable at the index's refresh interval, or per request with <see cref="OpenSearchOptions.Refresh"/>.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>Documents in the index (<c>GET /{index}/_count</c>; when rotating, every <c>{index}-*</c> index); 0 when the index does not exist yet.</summary>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, Uri.EscapeDataString(IndexPattern).Replace("%2A", "*", StringComparison.Ordinal) + "/_count"));
        request.Headers.Authorization = _basic;
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        byte[] content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        int status = (int)response.StatusCode;
        if (status == 404) return 0;
        if (status != 200) throw Refused("_count", status, content);
        return BulkResponse.ReadCount(content) ?? throw new OpenSearchException("OpenSearch's _count response has no count.", status, null);
    }

    /// <summary>
    /// The speed layer read back (the workshop's Kibana chart): one <c>POST /{index}/_search</c> (when rotating, over
    /// <see cref="IndexPattern"/>, every rotated index) with <c>size: 0</c> and <c>track_total_hits: true</c>, a
    /// <c>bool.filter</c> of a <c>range</c> on <c>InvoiceDate</c> (<c>gte</c> From, <c>lt</c> To, ISO-8601 in UTC) and a
    /// <c>term</c> on the <c>Country</c> keyword, a <c>date_histogram</c> on <c>InvoiceDate</c>
    /// (<c>calendar_interval</c> minute, hour, day, week (from Monday) or month; <c>min_doc_count: 1</c>; UTC) with a
    /// <c>sum</c> of <c>Quantity</c> per bucket, and a <c>sum</c> of <c>Quantity</c> over every matching document. The
    /// oldest <see cref="SpeedLayerHistogramRequest.MaxBuckets"/> buckets are kept (a <c>bucket_sort</c> asks for one
    /// more, so the answer stays small and <see cref="SpeedLayerHistogram.Truncated"/> shows). An index that does not
    /// exist yet gives the empty histogram. Nothing is retried here (the dashboard asks again); partial results (failed
    /// shards) are refused (<c>allow_partial_search_results=false</c>). The mapping is the retail index template's
    /// (<see cref="OpenSearchOptions.EnsureIndexTemplate"/>): <c>InvoiceDate</c> a date, <c>Quantity</c> an integer,
    /// <c>Country</c> a keyword.
    /// </summary>
    /// <exception cref="ArgumentException">The request is invalid; the message has every <see cref="SpeedLayerHistogramRequest.Validate"/> failure.</exception>
    /// <exception cref="OpenSearchException">
    /// The domain refused the search (the HTTP status and OpenSearch's error type and reason, with the root cause), gave
    /// no answer within <see cref="OpenSearchOptions.RequestTimeout"/> or none at all (status 0), or answered something
    /// that is not a full histogram: a response over 8 MiB, partial results, or a sum of <c>Quantity</c> that is not a
    /// whole number (<c>invalid_response</c>).
    /// </exception>
    public async ValueTask<SpeedLayerHistogram> HistogramAsync(SpeedLayerHistogramRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var invalid = request.Validate();
        if (invalid.Count > 0) throw new ArgumentException(string.Join(" ", invalid), nameof(request));
        ObjectDisposedException.ThrowIf(_disposed, this);

        string target = IndexPattern;
        string operation = "_search on '" + target + "'";
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_base,
            Uri.EscapeDataString(target).Replace("%2A", "*", StringComparison.Ordinal) + "/_search?allow_partial_search_results=false"));
        message.Content = new ByteArrayContent(HistogramSearch.Body(request));
        message.Content.Headers.ContentType = Json;
        message.Headers.Authorization = _basic;

        // One deadline for the answer and its body (HttpClient.Timeout stops at the headers when they are read first).
        using var deadline = _options.RequestTimeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var ct = linked?.Token ?? cancellationToken;
        long started = _time.GetTimestamp();
        int status;
        ReadOnlyMemory<byte> content;
        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            status = (int)response.StatusCode;
            content = await ReadBoundedAsync(response.Content, operation, status, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OpenSearchException($"OpenSearch gave no full answer to {operation} within OpenSearchOptions.RequestTimeout ({_options.RequestTimeout}).", 0, "timeout", e);
        }
        catch (HttpRequestException e)
        {
            throw new OpenSearchException($"OpenSearch could not be reached for {operation}: {e.Message}", 0, "connection_failure", e);
        }
        catch (IOException e)
        {
            throw new OpenSearchException($"OpenSearch's answer to {operation} broke off: {e.Message}", 0, "connection_failure", e);
        }
        LogSearch(_logger, target, request.Interval, status, content.Length, _time.GetElapsedTime(started).TotalMilliseconds);

        if (status == 200)
        {
            if (HistogramSearch.TryRead(content, request.MaxBuckets, out var histogram, out string? problem)) return histogram;
            throw new OpenSearchException($"OpenSearch's answer to {operation} is not a full histogram: {problem}.", status, "invalid_response");
        }
        var (type, reason) = HistogramSearch.ReadError(content);
        if (status == 404 && type == "index_not_found_exception") return HistogramSearch.Empty;
        if (type == "too_many_buckets_exception" || reason?.Contains("too_many_buckets_exception", StringComparison.Ordinal) == true)
            reason += " (the domain's search.max_buckets limits one search: ask for a wider Interval or a shorter From..To)";
        throw Refused(operation, status, type, reason);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(HttpContent content, string operation, int status, CancellationToken ct)
    {
        const int Limit = HistogramSearch.MaxResponseBytes, Chunk = 16 * 1024;
        long? length = content.Headers.ContentLength;
        if (length > Limit) throw TooLarge(length.Value);
        var buffer = new ArrayBufferWriter<byte>(length is > 0 ? (int)length.Value : Chunk);
        var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            while (true)
            {
                int read = await stream.ReadAsync(buffer.GetMemory(Chunk)[..Chunk], ct).ConfigureAwait(false);
                if (read == 0) break;
                buffer.Advance(read);
                if (buffer.WrittenCount > Limit) throw TooLarge(null);
            }
        }
        return buffer.WrittenMemory;

        OpenSearchException TooLarge(long? bytes) => new(string.Create(CultureInfo.InvariantCulture,
            $"OpenSearch's answer to {operation} (HTTP {status}) is {(bytes is { } b ? b + " bytes, " : "")}more than the {Limit} bytes this client reads."),
            status, "invalid_response");
    }

    /// <summary>Puts the retail index template (<c>PUT /_index_template/{index}-template</c>) once per instance; what <see cref="UpsertAsync"/> does first when <see cref="OpenSearchOptions.EnsureIndexTemplate"/> is set.</summary>
    public async ValueTask EnsureTemplateAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_templatePut) return;
        await _templateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_templatePut) return;
            string name = IndexTemplate.Name(_index);
            using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_base, "_index_template/" + Uri.EscapeDataString(name)));
            request.Content = new ByteArrayContent(IndexTemplate.Json(_index, _options.Rotation));
            request.Content.Headers.ContentType = Json;
            request.Headers.Authorization = _basic;
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            byte[] content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status != 200) throw Refused("PUT _index_template/" + name + " (OpenSearchOptions.EnsureIndexTemplate)", status, content);
            Stats.TemplatePut();
            LogTemplate(_logger, name);
            _templatePut = true;
        }
        finally
        {
            _templateLock.Release();
        }
    }

    private OpenSearchException Refused(string operation, int status, byte[] content)
    {
        var (type, reason) = BulkResponse.ReadError(content);
        return Refused(operation, status, type, reason);
    }

    private OpenSearchException ItemRefused(int status, string? type, string? reason, string index) =>
        Refused($"a document of a _bulk request to the index '{index}'", status, type, reason);

    private OpenSearchException Refused(string operation, int status, string? type, string? reason)
    {
        if (status is 401 or 403)
        {
            string how = _options.Auth switch
            {
                OpenSearchAuth.SigV4 => $"SigV4 for the service '{_options.SigningService}' in {_options.Region}, with the SDK's default credentials: check the role's permissions and the domain's access policy",
                OpenSearchAuth.Basic => $"Basic as the user '{_options.Username}': check OpenSearchOptions.Username and OpenSearchOptions.Password",
                _ => "None: the domain requires authentication; set OpenSearchOptions.Auth to SigV4 or Basic",
            };
            LogAuthFailed(_logger, status, operation, _options.Auth);
            return new OpenSearchException($"OpenSearch refused {operation} with HTTP {status}{Describe(type, reason)}. OpenSearchOptions.Auth is {how}.", status, type);
        }
        return new OpenSearchException($"OpenSearch refused {operation} with HTTP {status}{Describe(type, reason)}.", status, type);
    }

    private static string Describe(string? type, string? reason) =>
        type is null && reason is null ? "" : " (" + (type is null ? reason : reason is null ? type : type + ": " + reason) + ")";

    private static UpsertItemResult Item(string id, string? error, bool retryable, string? errorType, string? indexName) =>
        new(id, error, retryable) { ErrorType = errorType, IndexName = indexName };

    private static OpenSearchOptions Copy(OpenSearchOptions o) => new()
    {
        Endpoint = o.Endpoint,
        Index = o.Index,
        Rotation = o.Rotation,
        Action = o.Action,
        Auth = o.Auth,
        SigningService = o.SigningService,
        Region = o.Region,
        Username = o.Username,
        Password = o.Password,
        MaxRequestBytes = o.MaxRequestBytes,
        MaxRequestDocuments = o.MaxRequestDocuments,
        Refresh = o.Refresh,
        RequestTimeout = o.RequestTimeout,
        IsoDates = o.IsoDates,
        TypeName = o.TypeName,
        EnsureIndexTemplate = o.EnsureIndexTemplate,
    };

    /// <summary>Releases the HTTP client when this index made it (not one from <c>IHttpClientFactory</c>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsClient) _http.Dispose();
        _templateLock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "POST _bulk: {Documents} documents, {Bytes} bytes: HTTP {Status} in {ElapsedMs} ms")]
    private static partial void LogBulk(ILogger logger, int documents, int bytes, int status, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OpenSearch answered 413 (request too large) to {Documents} documents ({Bytes} bytes); splitting the request in two")]
    private static partial void LogSplit(ILogger logger, int documents, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OpenSearch rejected document {Id} in {Index}: {ErrorType}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string id, string? index, string errorType, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A _bulk request of {Documents} documents failed as a whole ({ErrorType}); they are handed back as retryable")]
    private static partial void LogRequestFailed(ILogger logger, Exception? exception, int documents, string errorType);

    [LoggerMessage(Level = LogLevel.Trace, Message = "POST {Target}/_search: {Interval} histogram: HTTP {Status}, {Bytes} bytes in {ElapsedMs} ms")]
    private static partial void LogSearch(ILogger logger, string target, HistogramInterval interval, int status, int bytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index template {Name} is in place")]
    private static partial void LogTemplate(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "OpenSearch refused {Operation} with HTTP {Status}; OpenSearchOptions.Auth is {Auth}")]
    private static partial void LogAuthFailed(ILogger logger, int status, string operation, OpenSearchAuth auth);
}
