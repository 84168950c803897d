using Retail.Indexing;

namespace Retail.Sinks.OpenSearch;

/// <summary>A missing or bad setting of <see cref="UpsertHandlerSettings"/>: the message names the variable and its value (never a password's value).</summary>
public sealed class UpsertSettingsException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public UpsertSettingsException(string variable, string message) : base(message) => Variable = variable;

    /// <summary>The environment variable at fault (<c>ES_HOST</c>, …).</summary>
    public string Variable { get; }
}

/// <summary>
/// The workshop's <c>UpsertToES</c> environment contract, shared by every host (the Lambda handler, <c>retail upsert</c>):
/// <c>ES_HOST</c> (required: a host name as in the workshop, or a URL), <c>ES_INDEX</c> (default <c>retail</c>),
/// <c>ES_TYPE</c> (accepted, not sent), <c>REQUIRED_FIELDS</c> (default <c>Invoice,StockCode,Customer_ID</c>),
/// <c>REGION_NAME</c>, <c>DATE_TYPE_FIELDS</c> (<c>InvoiceDate</c>, the default, writes it ISO-8601; empty keeps
/// <c>yyyy-MM-dd HH:mm:ss</c>), <c>DATE_FORMAT</c> (<c>%Y-%m-%d %H:%M:%S</c>, the default, or <c>%Y-%m-%dT%H:%M:%S</c>),
/// <c>ES_AUTH</c> (<c>sigv4</c>, the default, <c>basic</c> with <c>ES_USERNAME</c>/<c>ES_PASSWORD</c>, or <c>none</c>),
/// and Retail's own <c>RETAIL_ID_MODE</c> (<c>source-position</c>, the default, <c>business-key</c>, <c>workshop-md5</c>),
/// <c>RETAIL_OPENSEARCH_SERVICE</c> (<c>es</c>, <c>aoss</c>), <c>RETAIL_INDEX_ROTATION</c>
/// (<c>none</c>, <c>hour</c>, <c>day</c>, <c>week</c>, <c>month</c>), <c>RETAIL_BULK_ACTION</c> (<c>index</c>,
/// <c>create</c>, <c>update</c>), <c>RETAIL_REFRESH</c> (<c>none</c>, <c>true</c>, <c>wait_for</c>) and
/// <c>RETAIL_INDEX_TEMPLATE</c> (<c>true</c>, the default: put the retail index template before the first upsert, which
/// needs the template permission; <c>false</c> where the domain's administrators manage templates). Values are
/// case-insensitive; an empty variable counts as unset (except DATE_TYPE_FIELDS). The signing region is REGION_NAME, else
/// the region in an AWS endpoint's host name (<c>….us-east-1.es.amazonaws.com</c>), else <c>AWS_REGION</c>; the signing
/// service is RETAIL_OPENSEARCH_SERVICE, else <c>aoss</c> for a <c>….aoss.amazonaws.com</c> host, else <c>es</c>.
/// </summary>
public sealed class UpsertHandlerSettings
{
    /// <summary>The workshop's DATE_FORMAT (Python <c>strptime</c>), its default.</summary>
    public const string WorkshopDateFormat = "%Y-%m-%d %H:%M:%S";

    /// <summary>The ISO-8601 DATE_FORMAT also accepted.</summary>
    public const string IsoDateFormat = "%Y-%m-%dT%H:%M:%S";

    private UpsertHandlerSettings(OpenSearchOptions openSearch, SpeedLayerOptions speedLayer)
    {
        OpenSearch = openSearch;
        SpeedLayer = speedLayer;
    }

    /// <summary>Where and how to write (ES_HOST, ES_INDEX, ES_AUTH, …).</summary>
    public OpenSearchOptions OpenSearch { get; }

    /// <summary>What to write (REQUIRED_FIELDS, RETAIL_ID_MODE).</summary>
    public SpeedLayerOptions SpeedLayer { get; }

    /// <summary>Reads and checks every variable.</summary>
    /// <param name="getVariable">The environment (<c>Environment.GetEnvironmentVariable</c>, or a test's dictionary).</param>
    /// <exception cref="UpsertSettingsException">A variable is missing or bad; <see cref="UpsertSettingsException.Variable"/> names it.</exception>
    public static UpsertHandlerSettings FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        string? Get(string name) => getVariable(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var os = new OpenSearchOptions();
        string host = Get("ES_HOST") ?? throw new UpsertSettingsException("ES_HOST",
            "ES_HOST must be set to the OpenSearch domain's endpoint (a host name such as vpc-retail-xxx.us-east-1.es.amazonaws.com, or a URL).");
        if (!OpenSearchEndpoint.TryParse(host, out _, out string? hostError))
            throw new UpsertSettingsException("ES_HOST", $"ES_HOST {hostError}, got '{OpenSearchEndpoint.Redact(host)}'.");
        os.Endpoint = host;
        var (hostRegion, hostService) = FromHost(host);
        if (hostRegion is not null) os.Region = hostRegion;

        if (Get("ES_INDEX") is { } index)
        {
            if (IndexNames.Check(index) is { } bad) throw new UpsertSettingsException("ES_INDEX", $"ES_INDEX {bad}, got '{index}'.");
            os.Index = index;
        }
        os.TypeName = Get("ES_TYPE");

        if (Get("REGION_NAME") is { } region)
        {
            var errors = new List<string>();
            AwsHttp.ValidateEndpoint(errors, "REGION_NAME", region, null);
            if (errors.Count > 0) throw new UpsertSettingsException("REGION_NAME", $"REGION_NAME must be a region name such as us-east-1, got '{region}'.");
            os.Region = region;
        }

        // DATE_TYPE_FIELDS: set but empty means "convert no field" (the record's own format is written).
        string? dateFields = getVariable("DATE_TYPE_FIELDS");
        if (dateFields is not null)
        {
            var names = dateFields.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var n in names)
                if (n != RetailFields.InvoiceDate)
                    throw new UpsertSettingsException("DATE_TYPE_FIELDS",
                        $"DATE_TYPE_FIELDS may name only InvoiceDate (the record's one date), got '{dateFields}'.");
            os.IsoDates = names.Length > 0;
        }

        if (Get("DATE_FORMAT") is { } format && format is not (WorkshopDateFormat or IsoDateFormat))
            throw new UpsertSettingsException("DATE_FORMAT",
                $"DATE_FORMAT must be '{WorkshopDateFormat}' (the workshop's, the default) or '{IsoDateFormat}', got '{format}'; Retail's decoder reads InvoiceDate itself.");

        os.Auth = Choice("ES_AUTH", Get("ES_AUTH"), OpenSearchAuth.SigV4, ("sigv4", OpenSearchAuth.SigV4), ("basic", OpenSearchAuth.Basic), ("none", OpenSearchAuth.None));
        if (os.Auth == OpenSearchAuth.Basic)
        {
            os.Username = Get("ES_USERNAME") ?? throw new UpsertSettingsException("ES_USERNAME", "ES_USERNAME must be set when ES_AUTH is basic.");
            if (os.Username.Contains(':', StringComparison.Ordinal))
                throw new UpsertSettingsException("ES_USERNAME", $"ES_USERNAME must not contain ':' (basic authentication cannot carry it), got '{os.Username}'.");
            // Not trimmed: a password's spaces are its own.
            os.Password = getVariable("ES_PASSWORD") is { Length: > 0 } password ? password
                : throw new UpsertSettingsException("ES_PASSWORD", "ES_PASSWORD must be set when ES_AUTH is basic.");
        }

        os.SigningService = Choice("RETAIL_OPENSEARCH_SERVICE", Get("RETAIL_OPENSEARCH_SERVICE"), hostService ?? "es", ("es", "es"), ("aoss", "aoss"));
        os.Rotation = Choice("RETAIL_INDEX_ROTATION", Get("RETAIL_INDEX_ROTATION"), IndexRotation.None,
            ("none", IndexRotation.None), ("hour", IndexRotation.Hour), ("day", IndexRotation.Day), ("week", IndexRotation.Week), ("month", IndexRotation.Month));
        os.Action = Choice("RETAIL_BULK_ACTION", Get("RETAIL_BULK_ACTION"), BulkAction.Index,
            ("index", BulkAction.Index), ("create", BulkAction.Create), ("update", BulkAction.Update));
        os.Refresh = Choice("RETAIL_REFRESH", Get("RETAIL_REFRESH"), RefreshPolicy.None,
            ("none", RefreshPolicy.None), ("true", RefreshPolicy.True), ("wait_for", RefreshPolicy.WaitFor));
        os.EnsureIndexTemplate = Choice("RETAIL_INDEX_TEMPLATE", Get("RETAIL_INDEX_TEMPLATE"), true, ("true", true), ("false", false));

        var speed = new SpeedLayerOptions
        {
            IdMode = Choice("RETAIL_ID_MODE", Get("RETAIL_ID_MODE"), DocumentIdMode.SourcePosition,
                ("source-position", DocumentIdMode.SourcePosition), ("business-key", DocumentIdMode.BusinessKey), ("workshop-md5", DocumentIdMode.WorkshopMd5Prefix)),
        };
        speed.DocumentTypeName = os.TypeName;
        if (Get("REQUIRED_FIELDS") is { } required)
        {
            var fields = required.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) throw new UpsertSettingsException("REQUIRED_FIELDS", $"REQUIRED_FIELDS must name at least one field, got '{required}'.");
            foreach (var f in fields)
                if (!RetailFields.All.Contains(f, StringComparer.Ordinal))
                    throw new UpsertSettingsException("REQUIRED_FIELDS",
                        $"REQUIRED_FIELDS has '{f}', which is not a record field ({string.Join(", ", RetailFields.All)}), got '{required}'.");
            speed.RequiredFields.Clear();
            foreach (var f in fields.Distinct(StringComparer.Ordinal)) speed.RequiredFields.Add(f);
        }

        // Whatever the checks above let through is still checked by the options themselves (never echoing the password).
        var problems = os.Validate();
        if (problems.Count > 0) throw new UpsertSettingsException(VariableOf(problems[0]), string.Join(" ", problems));
        var speedProblems = speed.Validate();
        if (speedProblems.Count > 0) throw new UpsertSettingsException("REQUIRED_FIELDS", string.Join(" ", speedProblems));
        return new UpsertHandlerSettings(os, speed);
    }

    /// <summary>The region and service of an AWS endpoint (<c>….{region}.es.amazonaws.com</c>, <c>….{region}.aoss.amazonaws.com</c>), or nulls.</summary>
    private static (string? Region, string? Service) FromHost(string endpoint)
    {
        if (!OpenSearchEndpoint.TryParse(endpoint, out var uri, out _)) return (null, null);
        string[] labels = uri.Host.Split('.');
        if (labels.Length >= 5 && labels[^1] == "com" && labels[^2] == "amazonaws" && labels[^3] is "es" or "aoss")
        {
            var errors = new List<string>();
            AwsHttp.ValidateEndpoint(errors, "ES_HOST", labels[^4], null);
            if (errors.Count == 0) return (labels[^4], labels[^3]);
        }
        return (null, null);
    }

    private static T Choice<T>(string variable, string? value, T fallback, params (string Name, T Value)[] choices)
    {
        if (value is null) return fallback;
        foreach (var (name, v) in choices)
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase)) return v;
        throw new UpsertSettingsException(variable,
            $"{variable} must be one of {string.Join(", ", choices.Select(c => c.Name))}, got '{value}'.");
    }

    private static string VariableOf(string problem) =>
        problem.StartsWith("OpenSearchOptions.Endpoint", StringComparison.Ordinal) ? "ES_HOST"
        : problem.StartsWith("OpenSearchOptions.Index", StringComparison.Ordinal) ? "ES_INDEX"
        : problem.StartsWith("OpenSearchOptions.Region", StringComparison.Ordinal) ? "REGION_NAME"
        : problem.StartsWith("OpenSearchOptions.Username", StringComparison.Ordinal) ? "ES_USERNAME"
        : problem.StartsWith("OpenSearchOptions.Password", StringComparison.Ordinal) ? "ES_PASSWORD"
        : problem.StartsWith("OpenSearchOptions.SigningService", StringComparison.Ordinal) ? "RETAIL_OPENSEARCH_SERVICE"
        : "ES_HOST";
}
