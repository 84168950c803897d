using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Retail.Storage;

namespace Retail.Sinks.S3;

/// <summary>
/// <see cref="IObjectStore"/> over an S3 bucket under an optional key prefix. Objects above
/// <see cref="S3LakeOptions.MultipartThreshold"/> are uploaded in parts (aborted if any part fails), so a reader
/// sees the whole object or none of it. The SDK's retries are off: failures surface at once as
/// <see cref="ObjectStoreException"/> (with <see cref="ObjectStoreException.IsTransient"/> set for throttling, 5xx,
/// timeouts and connection resets) or <see cref="ObjectNotFoundException"/>, for Core's retry pipeline to judge.
/// </summary>
internal sealed class S3ObjectStore : IObjectStore, IDisposable
{
    /// <summary>Keys S3's DeleteObjects takes in one request.</summary>
    internal const int DeleteBatchSize = 1000;

    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly bool _useChunkEncoding;
    private readonly long _threshold;
    private readonly int _partSize;

    public S3ObjectStore(IAmazonS3 s3, S3LakeOptions options, bool ownsClient)
    {
        _s3 = s3;
        _ownsClient = ownsClient;
        _bucket = options.Bucket;
        _prefix = options.NormalizedPrefix;
        _useChunkEncoding = options.UseChunkEncoding ?? options.ServiceUrl is null;
        _threshold = options.MultipartThreshold;
        _partSize = checked((int)Math.Min(options.PartSize, Array.MaxLength));
    }

    private string FullKey(string key)
    {
        ObjectKeys.Validate(key);
        return _prefix + key;
    }

    private string Location(string? key) => key is null ? $"s3://{_bucket}/{_prefix}" : $"s3://{_bucket}/{_prefix}{key}";

    /// <inheritdoc />
    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        if (data.Length <= _threshold)
        {
            await PutSingleAsync(key, full, data, cancellationToken).ConfigureAwait(false);
            return;
        }
        var stream = new MemoryStream(data.ToArray(), writable: false);
        await using (stream.ConfigureAwait(false))
            await PutAsync(key, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string full = FullKey(key);
        // Read up to the threshold (and one byte more) to tell a single put from a multipart one.
        int firstSize = checked((int)Math.Min(_threshold + 1, Array.MaxLength));
        byte[] first = ArrayPool<byte>.Shared.Rent(firstSize);
        try
        {
            int n = await ReadFullAsync(content, first.AsMemory(0, firstSize), cancellationToken).ConfigureAwait(false);
            if (n <= _threshold)
            {
                await PutSingleAsync(key, full, first.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                return;
            }
            await PutMultipartAsync(key, full, first.AsMemory(0, n), content, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
        }
    }

    private async Task PutSingleAsync(string key, string full, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var body = AsStream(data);
        await using (body.ConfigureAwait(false))
        {
            var request = new PutObjectRequest { BucketName = _bucket, Key = full, InputStream = body, AutoCloseStream = false, UseChunkEncoding = _useChunkEncoding };
            try
            {
                await _s3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Translate(e, "PutObject", key, cancellationToken) is { } t)
            {
                throw t;
            }
        }
    }

    private async Task PutMultipartAsync(string key, string full, ReadOnlyMemory<byte> head, Stream rest, CancellationToken cancellationToken)
    {
        string uploadId;
        try
        {
            uploadId = (await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = full }, cancellationToken).ConfigureAwait(false)).UploadId;
        }
        catch (Exception e) when (Translate(e, "CreateMultipartUpload", key, cancellationToken) is { } t)
        {
            throw t;
        }
        byte[] part = ArrayPool<byte>.Shared.Rent(_partSize);
        try
        {
            var etags = new List<PartETag>();
            int headOffset = 0;
            while (true)
            {
                // A part: what is left of the bytes read first, then the stream.
                int filled = 0;
                int fromHead = Math.Min(head.Length - headOffset, _partSize);
                head.Slice(headOffset, fromHead).CopyTo(part);
                headOffset += fromHead;
                filled += fromHead;
                if (filled < _partSize) filled += await ReadFullAsync(rest, part.AsMemory(filled, _partSize - filled), cancellationToken).ConfigureAwait(false);
                if (filled == 0 && etags.Count > 0) break;
                int number = etags.Count + 1;
                if (number > 10_000)
                    throw new ObjectStoreException($"{Location(key)} is larger than 10,000 parts of {_partSize} bytes (S3LakeOptions.PartSize); nothing written",
                        "UploadPart", key, null, null, isTransient: false);
                var body = new MemoryStream(part, 0, filled, writable: false);
                await using (body.ConfigureAwait(false))
                {
                    try
                    {
                        var response = await _s3.UploadPartAsync(new UploadPartRequest
                        {
                            BucketName = _bucket, Key = full, UploadId = uploadId, PartNumber = number,
                            InputStream = body, PartSize = filled, UseChunkEncoding = _useChunkEncoding,
                        }, cancellationToken).ConfigureAwait(false);
                        etags.Add(new PartETag(number, response.ETag));
                    }
                    catch (Exception e) when (Translate(e, "UploadPart", key, cancellationToken) is { } t)
                    {
                        throw t;
                    }
                }
                if (filled < _partSize) break;
            }
            try
            {
                await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _bucket, Key = full, UploadId = uploadId, PartETags = etags,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Translate(e, "CompleteMultipartUpload", key, cancellationToken) is { } t)
            {
                throw t;
            }
        }
        catch
        {
            await AbortAsync(full, uploadId).ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(part);
        }
    }

    /// <summary>Best effort: an upload left behind is never visible, and a bucket lifecycle rule can remove its parts.</summary>
    private async Task AbortAsync(string full, string uploadId)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = full, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            // The original failure is the one reported.
        }
    }

    /// <inheritdoc />
    public async ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        try
        {
            var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = full }, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (Exception e) when (Translate(e, "GetObject", key, cancellationToken) is { } t)
        {
            throw t;
        }
    }

    /// <inheritdoc />
    /// <remarks>HEAD answers a missing bucket as it answers a missing key (404, no body): both give null.</remarks>
    public async ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        try
        {
            var m = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = full }, cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, m.ContentLength, ToTime(m.LastModified), TrimETag(m.ETag));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (Translate(e, "HeadObject", key, cancellationToken) is { } t)
        {
            throw t;
        }
    }

    /// <inheritdoc />
    public async ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        if (maxKeys < 1) throw new ArgumentOutOfRangeException(nameof(maxKeys), maxKeys, "maxKeys must be at least 1.");
        ListObjectsV2Response response;
        try
        {
            response = await _s3.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _bucket, Prefix = _prefix + prefix, ContinuationToken = continuationToken, MaxKeys = Math.Min(maxKeys, 1000),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, "ListObjectsV2", prefix, cancellationToken) is { } t)
        {
            throw t;
        }
        var objects = new List<ObjectInfo>(response.S3Objects?.Count ?? 0);
        foreach (var o in response.S3Objects ?? [])
        {
            if (!o.Key.StartsWith(_prefix, StringComparison.Ordinal))
                throw new ObjectStoreException($"ListObjectsV2 on {Location(prefix)} returned '{o.Key}', which is not under the lake's prefix '{_prefix}'",
                    "ListObjectsV2", prefix, null, null, isTransient: false);
            string key = o.Key[_prefix.Length..];
            if (!ObjectKeys.IsValid(key, out string? why))
                throw new ObjectStoreException($"s3://{_bucket}/{o.Key} has a key this store does not accept ({why}); rename or remove it",
                    "ListObjectsV2", key, null, null, isTransient: false);
            objects.Add(new ObjectInfo(key, o.Size ?? 0, ToTime(o.LastModified), TrimETag(o.ETag)));
        }
        string? next = response.IsTruncated == true ? response.NextContinuationToken : null;
        if (response.IsTruncated == true && string.IsNullOrEmpty(next))
            throw new ObjectStoreException($"ListObjectsV2 on {Location(prefix)} said the listing is truncated but gave no continuation token",
                "ListObjectsV2", prefix, null, null, isTransient: false);
        return new ObjectPage(objects, next);
    }

    /// <inheritdoc />
    public async ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        try
        {
            await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = full }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, "DeleteObject", key, cancellationToken) is { } t)
        {
            throw t;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ObjectDeleteError>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var full = new string[keys.Count];
        for (int i = 0; i < keys.Count; i++) full[i] = FullKey(keys[i]);
        var errors = new List<ObjectDeleteError>();
        for (int start = 0; start < full.Length; start += DeleteBatchSize)
        {
            var request = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true, Objects = [] };
            for (int i = start; i < Math.Min(start + DeleteBatchSize, full.Length); i++) request.Objects.Add(new KeyVersion { Key = full[i] });
            DeleteObjectsResponse response;
            try
            {
                response = await _s3.DeleteObjectsAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (DeleteObjectsException e)
            {
                response = e.Response;
            }
            catch (Exception e) when (Translate(e, "DeleteObjects", keys[start], cancellationToken) is { } t)
            {
                throw t;
            }
            foreach (var error in response?.DeleteErrors ?? [])
            {
                string key = error.Key is { } k && k.StartsWith(_prefix, StringComparison.Ordinal) ? k[_prefix.Length..] : error.Key ?? "";
                errors.Add(new ObjectDeleteError(key, error.Code ?? "", error.Message ?? ""));
            }
        }
        return errors;
    }

    /// <summary>
    /// The exception to throw for <paramref name="e"/>, or null to let it pass (the caller's own cancellation, or an
    /// argument error of ours).
    /// </summary>
    private Exception? Translate(Exception e, string operation, string? key, CancellationToken cancellationToken)
    {
        if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) return null;
        if (e is ArgumentException or ObjectStoreException) return null;
        string where = Location(key);
        if (e is AmazonServiceException service)
        {
            string? code = service.ErrorCode;
            int status = (int)service.StatusCode;
            if (code == "NoSuchKey" || (status == 404 && code is null or "" && operation == "GetObject")) return new ObjectNotFoundException(key ?? "");
            if (code == "NoSuchBucket")
                return new ObjectStoreException($"The bucket '{_bucket}' does not exist ({operation} {where}); create it or fix S3LakeOptions.Bucket.",
                    operation, key, code, status, isTransient: false, e);
            if (status == 403 || code is "AccessDenied" or "AllAccessDisabled" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken")
                return new ObjectStoreException($"Access denied: {operation} on {where} was refused ({code}, HTTP {status}): {service.Message}. " +
                    "Check the credentials the SDK's default chain found and their permissions on this bucket and key.", operation, key, code, status, isTransient: false, e);
            bool transient = status >= 500 || status is 408 or 429
                || code is "SlowDown" or "Throttling" or "ThrottlingException" or "RequestTimeout" or "InternalError" or "ServiceUnavailable" or "RequestTimeTooSkewed";
            return new ObjectStoreException(string.Create(CultureInfo.InvariantCulture,
                $"S3 {operation} on {where} failed: {code} (HTTP {status}){(transient ? ", transient" : "")}: {service.Message}"), operation, key, code, status, transient, e);
        }
        if (e is OperationCanceledException or TimeoutException)
            return new ObjectStoreException($"S3 {operation} on {where} timed out (transient).", operation, key, null, null, isTransient: true, e);
        if (e is HttpRequestException or IOException or SocketException || e is AmazonClientException && e.InnerException is HttpRequestException or IOException or SocketException)
            return new ObjectStoreException($"S3 {operation} on {where} could not reach the service (transient): {e.Message}", operation, key, null, null, isTransient: true, e);
        if (e is AmazonClientException client)
            return new ObjectStoreException($"S3 {operation} on {where} failed in the client: {client.Message}", operation, key, null, null, isTransient: false, e);
        return null;
    }

    private static Stream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    private static async ValueTask<int> ReadFullAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static string TrimETag(string? etag) => etag is null ? "" : etag.Trim('"');

    private static DateTimeOffset ToTime(DateTime? time) => time is { } t
        ? new DateTimeOffset(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc), TimeSpan.Zero)
        : DateTimeOffset.MinValue;

    public void Dispose()
    {
        if (_ownsClient) _s3.Dispose();
    }
}
