using System.Globalization;

namespace Retail.Sinks.OpenSearch;

/// <summary>How the index name changes with time (Amazon Data Firehose's <c>IndexRotationPeriod</c> and its naming).</summary>
public enum IndexRotation
{
    /// <summary>One index, <see cref="OpenSearchOptions.Index"/> (Firehose's <c>NoRotation</c>).</summary>
    None,

    /// <summary><c>{index}-yyyy-MM-dd-HH</c> (Firehose's <c>OneHour</c>).</summary>
    Hour,

    /// <summary><c>{index}-yyyy-MM-dd</c> (Firehose's <c>OneDay</c>).</summary>
    Day,

    /// <summary><c>{index}-yyyy-wWW</c>, weeks starting on Sunday, week 1 starting on the year's first Sunday (Firehose's <c>OneWeek</c>).</summary>
    Week,

    /// <summary><c>{index}-yyyy-MM</c> (Firehose's <c>OneMonth</c>).</summary>
    Month,
}

/// <summary>The <c>_bulk</c> action each document is sent with.</summary>
public enum BulkAction
{
    /// <summary><c>index</c>: inserts the document or replaces the one with its id (the workshop's action).</summary>
    Index,

    /// <summary><c>create</c>: inserts the document unless its id exists; an existing id (409) counts as already indexed, not as a failure.</summary>
    Create,

    /// <summary><c>update</c> with <c>{"doc":…,"doc_as_upsert":true}</c>: merges the document's fields into the one with its id, or inserts it.</summary>
    Update,
}

/// <summary>How requests are authenticated.</summary>
public enum OpenSearchAuth
{
    /// <summary>AWS Signature Version 4 (AWSSDK.Core's signer, the SDK's default credential chain) for the service <see cref="OpenSearchOptions.SigningService"/>.</summary>
    SigV4,

    /// <summary>HTTP basic authentication with <see cref="OpenSearchOptions.Username"/> and <see cref="OpenSearchOptions.Password"/> (a fine-grained access control master user, as the workshop's CDK domain has).</summary>
    Basic,

    /// <summary>No authentication (an open domain inside a VPC, a local cluster).</summary>
    None,
}

/// <summary>The <c>refresh</c> parameter of each <c>_bulk</c> request.</summary>
public enum RefreshPolicy
{
    /// <summary>No refresh (the default): documents become searchable at the index's refresh interval (1 s by default).</summary>
    None,

    /// <summary><c>refresh=true</c>: the shards refresh after every request (the workshop's setting; costly under load).</summary>
    True,

    /// <summary><c>refresh=wait_for</c>: each request returns once a scheduled refresh made its documents searchable.</summary>
    WaitFor,
}

/// <summary>Where and how to reach an OpenSearch domain (Amazon OpenSearch Service, OpenSearch Serverless, or any OpenSearch 1.3+ cluster) for the speed layer.</summary>
public sealed class OpenSearchOptions
{
    /// <summary>The largest request <see cref="MaxRequestBytes"/> may allow: 10 MiB, the <c>_bulk</c> limit of the smallest Amazon OpenSearch Service instance types.</summary>
    public const int MaxRequestBytesLimit = 10 * 1024 * 1024;

    /// <summary>
    /// The domain's endpoint: a URL (<c>https://search-retail-xxx.us-east-1.es.amazonaws.com</c>, <c>http://127.0.0.1:9200</c>),
    /// or a bare host name as the workshop's <c>ES_HOST</c> is (<c>vpc-retail-xxx.us-east-1.es.amazonaws.com</c>, taken as <c>https://</c>).
    /// Required. A URL may have a path (a proxy's prefix); it must not carry credentials or a query.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>The index (default <c>retail</c>, the workshop's ES_INDEX); with <see cref="Rotation"/>, the prefix of the rotated names.</summary>
    public string Index { get; set; } = "retail";

    /// <summary>Time-based index rotation (default <see cref="IndexRotation.None"/>).</summary>
    public IndexRotation Rotation { get; set; } = IndexRotation.None;

    /// <summary>The <c>_bulk</c> action (default <see cref="BulkAction.Index"/>).</summary>
    public BulkAction Action { get; set; } = BulkAction.Index;

    /// <summary>How requests are authenticated (default <see cref="OpenSearchAuth.SigV4"/>).</summary>
    public OpenSearchAuth Auth { get; set; } = OpenSearchAuth.SigV4;

    /// <summary>The SigV4 service name: <c>es</c> (default) for a managed domain, <c>aoss</c> for OpenSearch Serverless.</summary>
    public string SigningService { get; set; } = "es";

    /// <summary>The domain's AWS region, the SigV4 signing region (default: <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else <c>us-east-1</c>).</summary>
    public string Region { get; set; } = AwsHttp.DefaultRegion();

    /// <summary>The user of <see cref="OpenSearchAuth.Basic"/>.</summary>
    public string? Username { get; set; }

    /// <summary>The password of <see cref="OpenSearchAuth.Basic"/> (never logged, never in a message).</summary>
    public string? Password { get; set; }

    /// <summary>The largest <c>_bulk</c> request body in bytes (default 5 MiB; 1 KiB to <see cref="MaxRequestBytesLimit"/>). A larger batch is sent as several requests.</summary>
    public int MaxRequestBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>The most documents in one <c>_bulk</c> request (default 10,000; 1 to 100,000).</summary>
    public int MaxRequestDocuments { get; set; } = 10_000;

    /// <summary>The refresh policy of each request (default <see cref="RefreshPolicy.None"/>).</summary>
    public RefreshPolicy Refresh { get; set; } = RefreshPolicy.None;

    /// <summary>How long one HTTP request may take (default 30 s); a request that takes longer makes its documents retryable (<c>timeout</c>).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether <c>InvoiceDate</c> is written ISO-8601 (<c>2009-12-01T07:45:00</c>, the default, the workshop's DATE_TYPE_FIELDS
    /// conversion) or as the record's <c>yyyy-MM-dd HH:mm:ss</c>. The index template's date format accepts both.
    /// </summary>
    public bool IsoDates { get; set; } = true;

    /// <summary>The workshop's ES_TYPE (<c>trans</c>): accepted for compatibility and not sent (OpenSearch has no mapping types).</summary>
    public string? TypeName { get; set; }

    /// <summary>Whether the retail index template is put before the first upsert (default true; needs the <c>indices:admin/index_template/put</c> permission).</summary>
    public bool EnsureIndexTemplate { get; set; } = true;

    /// <summary>Every problem with these options, each naming the setting and its value (never the password); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Endpoint)) errors.Add("OpenSearchOptions.Endpoint must be set (a URL such as https://search-retail-xxx.us-east-1.es.amazonaws.com, or a host name).");
        else if (OpenSearchEndpoint.TryParse(Endpoint, out _, out var why) is false) errors.Add($"OpenSearchOptions.Endpoint {why}, got '{OpenSearchEndpoint.Redact(Endpoint)}'.");
        if (IndexNames.Check(Index) is { } bad) errors.Add($"OpenSearchOptions.Index {bad}, got '{Index}'.");
        if (!Enum.IsDefined(Rotation)) errors.Add($"OpenSearchOptions.Rotation '{Rotation}' is not an IndexRotation.");
        if (!Enum.IsDefined(Action)) errors.Add($"OpenSearchOptions.Action '{Action}' is not a BulkAction.");
        if (!Enum.IsDefined(Refresh)) errors.Add($"OpenSearchOptions.Refresh '{Refresh}' is not a RefreshPolicy.");
        switch (Auth)
        {
            case OpenSearchAuth.SigV4:
                if (SigningService is not ("es" or "aoss")) errors.Add($"OpenSearchOptions.SigningService must be 'es' (a managed domain) or 'aoss' (OpenSearch Serverless), got '{SigningService}'.");
                AwsHttp.ValidateEndpoint(errors, "OpenSearchOptions", Region, null);
                break;
            case OpenSearchAuth.Basic:
                if (string.IsNullOrEmpty(Username)) errors.Add("OpenSearchOptions.Username must be set when OpenSearchOptions.Auth is Basic.");
                else if (Username.Contains(':', StringComparison.Ordinal)) errors.Add($"OpenSearchOptions.Username must not contain ':' (basic authentication cannot carry it), got '{Username}'.");
                if (string.IsNullOrEmpty(Password)) errors.Add("OpenSearchOptions.Password must be set when OpenSearchOptions.Auth is Basic.");
                break;
            case OpenSearchAuth.None:
                break;
            default:
                errors.Add($"OpenSearchOptions.Auth '{Auth}' is not an OpenSearchAuth.");
                break;
        }
        if (MaxRequestBytes is < 1024 or > MaxRequestBytesLimit)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"OpenSearchOptions.MaxRequestBytes must be 1024 to {MaxRequestBytesLimit} (1 KiB to 10 MiB), got {MaxRequestBytes}."));
        if (MaxRequestDocuments is < 1 or > 100_000)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"OpenSearchOptions.MaxRequestDocuments must be 1 to 100000, got {MaxRequestDocuments}."));
        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
            errors.Add($"OpenSearchOptions.RequestTimeout must be positive, got {RequestTimeout}.");
        return errors;
    }
}
