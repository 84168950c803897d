using Amazon.Runtime;
using Amazon.S3;
using Retail.Storage;

namespace Retail.Sinks.S3;

/// <summary>
/// Where an S3 lake lives and how to talk to it. Credentials are not settings: they come from the AWS SDK's
/// default chain (environment, profile, container or instance role), and nothing in Retail logs them.
/// </summary>
public sealed class S3LakeOptions
{
    /// <summary>The smallest part S3 accepts in a multipart upload (except the last): 5 MiB.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>The largest single PutObject (and the largest part): 5 GiB.</summary>
    public const long MaximumPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The bucket (required).</summary>
    public string Bucket { get; set; } = "";

    /// <summary>
    /// The key prefix the lake lives under, such as <c>retail/</c> (default none: the bucket's root). A trailing
    /// <c>/</c> is added if missing; store keys are relative to it, and listings return them without it.
    /// </summary>
    public string Prefix { get; set; } = "";

    /// <summary>The AWS region (such as <c>eu-west-1</c>); null takes the SDK's (environment, profile). With <see cref="ServiceUrl"/>, the signing region (default <c>us-east-1</c>).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// The endpoint of an S3-compatible store (such as <c>http://127.0.0.1:4569</c> for s3rver, MinIO, …); null
    /// for Amazon S3. Setting it turns on the settings compatible stores need unless they are set otherwise:
    /// <see cref="ForcePathStyle"/> true, <see cref="UseChunkEncoding"/> false and checksums only when required.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>) instead of virtual-hosted buckets; null: true with <see cref="ServiceUrl"/>, else false.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>
    /// Whether uploads use aws-chunked content encoding; null: false with <see cref="ServiceUrl"/>, else true. Some
    /// compatible stores (s3rver) do not understand it and store the chunk framing inside the object.
    /// </summary>
    public bool? UseChunkEncoding { get; set; }

    /// <summary>When requests carry checksums; null: <c>WHEN_REQUIRED</c> with <see cref="ServiceUrl"/>, else the SDK's default.</summary>
    public RequestChecksumCalculation? RequestChecksumCalculation { get; set; }

    /// <summary>When responses' checksums are validated; null: <c>WHEN_REQUIRED</c> with <see cref="ServiceUrl"/>, else the SDK's default.</summary>
    public ResponseChecksumValidation? ResponseChecksumValidation { get; set; }

    /// <summary>Objects larger than this are uploaded in parts (default 16 MiB; 5 MiB to 5 GiB).</summary>
    public long MultipartThreshold { get; set; } = 16L * 1024 * 1024;

    /// <summary>The size of each part of a multipart upload (default 8 MiB; 5 MiB to 5 GiB). One part is buffered in memory per upload.</summary>
    public long PartSize { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Changes to the SDK client's configuration, applied last (an HTTP client factory, a timeout, a proxy).
    /// The SDK's retries stay off whatever it sets: Retail's retry pipeline owns retries.
    /// </summary>
    public Action<AmazonS3Config>? ConfigureClient { get; set; }

    /// <summary>Sets <see cref="Bucket"/> and <see cref="Prefix"/> from <c>s3://bucket[/prefix]</c>.</summary>
    /// <exception cref="ArgumentException">The URI is not an <c>s3://</c> URI with a valid bucket name and key prefix; the message names it.</exception>
    public S3LakeOptions UseUri(string uri)
    {
        (Bucket, Prefix) = ParseUri(uri);
        return this;
    }

    /// <summary>Splits <c>s3://bucket[/prefix]</c> into the bucket and the prefix (empty, or ending in <c>/</c>).</summary>
    /// <exception cref="ArgumentException">The URI is not an <c>s3://</c> URI with a valid bucket name and key prefix; the message names it.</exception>
    public static (string Bucket, string Prefix) ParseUri(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        const string scheme = "s3://";
        if (!uri.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{uri}' is not an S3 URI: expected s3://bucket[/prefix].", nameof(uri));
        string rest = uri[scheme.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string bucket = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (BucketProblem(bucket) is { } why)
            throw new ArgumentException($"'{uri}' is not a valid S3 URI: the bucket name '{bucket}' {why}.", nameof(uri));
        if (prefix.Length > 0 && PrefixProblem(prefix) is { } bad)
            throw new ArgumentException($"'{uri}' is not a valid S3 URI: the key prefix '{prefix}' {bad}.", nameof(uri));
        return (bucket, NormalizePrefix(prefix));
    }

    /// <summary>Checks every setting; each message names the setting and the bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (BucketProblem(Bucket) is { } why) errors.Add($"S3LakeOptions.Bucket '{Bucket}' {why}.");
        if (Prefix is null) errors.Add("S3LakeOptions.Prefix must not be null (use \"\" for the bucket's root).");
        else if (Prefix.Length > 0 && PrefixProblem(Prefix) is { } bad) errors.Add($"S3LakeOptions.Prefix '{Prefix}' {bad}.");
        if (ServiceUrl is not null && (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
            errors.Add($"S3LakeOptions.ServiceUrl '{ServiceUrl}' is not an absolute http:// or https:// URL.");
        if (Region is not null && (Region.Length == 0 || Region.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))))
            errors.Add($"S3LakeOptions.Region '{Region}' is not a region name such as eu-west-1.");
        if (PartSize is < MinimumPartSize or > MaximumPartSize)
            errors.Add($"S3LakeOptions.PartSize {PartSize} must be between {MinimumPartSize} (5 MiB, S3's smallest part) and {MaximumPartSize} (5 GiB).");
        if (MultipartThreshold is < MinimumPartSize or > MaximumPartSize)
            errors.Add($"S3LakeOptions.MultipartThreshold {MultipartThreshold} must be between {MinimumPartSize} (5 MiB) and {MaximumPartSize} (5 GiB, S3's largest single upload).");
        return errors;
    }

    internal string NormalizedPrefix => NormalizePrefix(Prefix ?? "");

    private static string NormalizePrefix(string prefix) => prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";

    private static string? PrefixProblem(string prefix)
    {
        string probe = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        return ObjectKeys.IsValid(probe, out string? why) ? null : why;
    }

    /// <summary>S3's bucket naming rules (3–63 characters: lowercase letters, digits, '.', '-'; starting and ending with a letter or digit).</summary>
    private static string? BucketProblem(string? bucket)
    {
        if (string.IsNullOrEmpty(bucket)) return "is empty: a bucket is required";
        if (bucket.Length is < 3 or > 63) return "must be 3 to 63 characters long";
        if (bucket.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-'))) return "may hold only lowercase letters, digits, '.' and '-'";
        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1])) return "must start and end with a letter or digit";
        if (bucket.Contains("..", StringComparison.Ordinal)) return "must not contain '..'";
        return null;
    }
}
