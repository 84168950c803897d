namespace Retail.Sinks.Athena;

/// <summary>Where and how Athena runs Retail's queries: the region (or a test endpoint), the database, work group and result location.</summary>
public sealed class AthenaOptions
{
    /// <summary>The AWS region (default: <c>AWS_REGION</c>, then <c>AWS_DEFAULT_REGION</c>, then <c>us-east-1</c>).</summary>
    public string Region { get; set; } = AwsHttp.DefaultRegion();

    /// <summary>An endpoint to use instead of the region's (<c>http://127.0.0.1:PORT</c> for a test fake), or null.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The database (Glue schema) unqualified table names resolve in (default <c>mydatabase</c>, the workshop's).
    /// Athena requires it to exist; null sends no database, for statements whose names are all qualified, such as
    /// <c>CREATE DATABASE</c> (what <see cref="AthenaCatalog.ApplyAsync"/> needs).</summary>
    public string? Database { get; set; } = "mydatabase";

    /// <summary>The data catalog (default <c>AwsDataCatalog</c>).</summary>
    public string Catalog { get; set; } = "AwsDataCatalog";

    /// <summary>The work group (default <c>primary</c>).</summary>
    public string WorkGroup { get; set; } = "primary";

    /// <summary>Where Athena writes query results (<c>s3://bucket/prefix/</c>), or null to use the work group's setting.</summary>
    public string? OutputLocation { get; set; }

    /// <summary>Timeout of each HTTP request to Athena (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay between GetQueryExecution polls (default 200 ms); it doubles up to <see cref="MaxPollInterval"/>.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between polls (default 5 s).</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one query may run before it is stopped (StopQueryExecution) and reported as timed out (default 30 min).</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How transient failures of each Athena call (throttling, 5xx, network, request timeout) are retried: Retail's one retry pipeline.</summary>
    public Retail.RetryOptions Retry { get; set; } = new();

    /// <summary>A copy (the retry options copied too).</summary>
    public AthenaOptions Clone()
    {
        var copy = (AthenaOptions)MemberwiseClone();
        copy.Retry = Retry?.Clone()!;
        return copy;
    }

    /// <summary>Every problem with these options, each naming the setting and its value; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        AwsHttp.ValidateEndpoint(errors, "AthenaOptions", Region, ServiceUrl);
        if (Database is not null && string.IsNullOrWhiteSpace(Database)) errors.Add($"AthenaOptions.Database must be a name or null, got '{Database}'.");
        if (string.IsNullOrWhiteSpace(Catalog)) errors.Add($"AthenaOptions.Catalog must be set, got '{Catalog}'.");
        if (string.IsNullOrWhiteSpace(WorkGroup)) errors.Add($"AthenaOptions.WorkGroup must be set, got '{WorkGroup}'.");
        if (OutputLocation is not null && (!OutputLocation.StartsWith("s3://", StringComparison.Ordinal) || OutputLocation.Length <= 5))
            errors.Add($"AthenaOptions.OutputLocation must be an s3://bucket/prefix/ URL, got '{OutputLocation}'.");
        if (RequestTimeout <= TimeSpan.Zero) errors.Add($"AthenaOptions.RequestTimeout must be positive, got {RequestTimeout}.");
        if (PollInterval <= TimeSpan.Zero) errors.Add($"AthenaOptions.PollInterval must be positive, got {PollInterval}.");
        if (MaxPollInterval < PollInterval) errors.Add($"AthenaOptions.MaxPollInterval must be at least PollInterval ({PollInterval}), got {MaxPollInterval}.");
        if (QueryTimeout <= TimeSpan.Zero) errors.Add($"AthenaOptions.QueryTimeout must be positive, got {QueryTimeout}.");
        if (Retry is null) errors.Add("AthenaOptions.Retry must be set.");
        else errors.AddRange(Retry.Validate("AthenaOptions.Retry"));
        return errors;
    }
}
