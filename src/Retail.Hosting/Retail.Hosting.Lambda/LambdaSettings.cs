using System.Globalization;
using Microsoft.Extensions.Logging;
using Retail.Sinks.S3;

namespace Retail.Hosting.Lambda;

/// <summary>A setting (environment variable) is missing or bad: an init error naming it.</summary>
internal sealed class LambdaSettingException(string setting, string message) : ArgumentException(message)
{
    public string Setting { get; } = setting;
}

/// <summary>
/// The host's own settings, from environment variables only (the handlers' own, such as UpsertToES's ES_HOST, are
/// read by each handler). Every value is checked here, at start-up; a missing or bad one throws
/// <see cref="LambdaSettingException"/> naming the variable and the value.
/// </summary>
internal sealed class LambdaSettings
{
    public const string UpsertToES = "UpsertToES";
    public const string DeliverToS3 = "DeliverToS3";
    public const string MergeSmallFiles = "MergeSmallFiles";
    public const string DefaultConsumerName = "delivery-lambda";

    /// <summary>The handler names <c>_HANDLER</c> may have.</summary>
    public static IReadOnlyList<string> Handlers { get; } = [UpsertToES, DeliverToS3, MergeSmallFiles];

    /// <summary>_HANDLER: one of <see cref="Handlers"/>.</summary>
    public required string Handler { get; init; }

    /// <summary>RETAIL_LAKE: where DeliverToS3 writes, where the handlers' dead letters go and what MergeSmallFiles (parquet) compacts.</summary>
    public required S3LakeOptions Lake { get; init; }

    /// <summary>RETAIL_DEADLINE_MARGIN_MS: how long before the deadline the batch stops (null: max(1 s, 10% of the time left)).</summary>
    public TimeSpan? DeadlineMargin { get; init; }

    /// <summary>RETAIL_CONSUMER_NAME: DeliverToS3's checkpoint consumer name (default <c>delivery-lambda</c>).</summary>
    public string ConsumerName { get; init; } = DefaultConsumerName;

    /// <summary>RETAIL_LOG_LEVEL: the lowest level logged (default Information).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>How long before <paramref name="timeLeft"/> runs out the batch must stop.</summary>
    public TimeSpan MarginFor(TimeSpan timeLeft) =>
        DeadlineMargin ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, timeLeft.Ticks / 10));

    /// <summary>The lowest level to log, read on its own (so that a bad setting elsewhere is still logged at the right level).</summary>
    public static LogLevel ReadLogLevel(Func<string, string?> env)
    {
        string? value = env("RETAIL_LOG_LEVEL");
        if (string.IsNullOrWhiteSpace(value)) return LogLevel.Information;
        if (Enum.TryParse<LogLevel>(value.Trim(), ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(value, out _)) return level;
        throw new LambdaSettingException("RETAIL_LOG_LEVEL", $"RETAIL_LOG_LEVEL '{value}' is not a level: use Trace, Debug, Information, Warning, Error, Critical or None.");
    }

    /// <summary>Reads and checks every setting.</summary>
    /// <exception cref="LambdaSettingException">A setting is missing or bad; the message names it and its value.</exception>
    public static LambdaSettings FromEnvironment(Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        string handler = (env("_HANDLER") ?? "").Trim();
        if (handler.Length == 0)
            throw new LambdaSettingException("_HANDLER", $"_HANDLER is not set: set the function's handler to one of {string.Join(", ", Handlers)}.");
        if (!Handlers.Contains(handler, StringComparer.Ordinal))
            throw new LambdaSettingException("_HANDLER", $"_HANDLER '{handler}' is not a handler of this runtime: use one of {string.Join(", ", Handlers)}.");

        string? lakeUri = env("RETAIL_LAKE");
        if (string.IsNullOrWhiteSpace(lakeUri))
            throw new LambdaSettingException("RETAIL_LAKE", "RETAIL_LAKE is not set: set it to s3://bucket[/prefix] (where DeliverToS3 writes and where dead letters go).");
        var lake = new S3LakeOptions();
        try
        {
            lake.UseUri(lakeUri.Trim());
        }
        catch (ArgumentException e)
        {
            throw new LambdaSettingException("RETAIL_LAKE", $"RETAIL_LAKE: {e.Message.Split(" (Parameter", 2)[0]}");
        }

        string? endpoint = env("RETAIL_S3_ENDPOINT_URL");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            endpoint = endpoint.Trim();
            bool parsed = Uri.TryCreate(endpoint, UriKind.Absolute, out var url);
            if (parsed && url!.UserInfo.Length > 0) // never echo what may be a password
                throw new LambdaSettingException("RETAIL_S3_ENDPOINT_URL", $"RETAIL_S3_ENDPOINT_URL must be a URL without credentials in it (user:password@ of {url.Scheme}://…@{url.Authority}): credentials come from the AWS SDK's chain.");
            if (!parsed || url!.Scheme is not ("http" or "https"))
                throw new LambdaSettingException("RETAIL_S3_ENDPOINT_URL", $"RETAIL_S3_ENDPOINT_URL '{endpoint}' is not an absolute http:// or https:// URL.");
            lake.ServiceUrl = endpoint; // path-style, WHEN_REQUIRED checksums and no chunked encoding follow from it
        }

        string? region = env("AWS_REGION");
        if (string.IsNullOrWhiteSpace(region)) region = env("AWS_DEFAULT_REGION");
        if (!string.IsNullOrWhiteSpace(region))
        {
            region = region.Trim();
            if (region.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
                throw new LambdaSettingException("AWS_REGION", $"AWS_REGION '{region}' is not a region name such as eu-west-1.");
            lake.Region = region;
        }
        if (lake.Validate() is { Count: > 0 } lakeErrors)
            throw new LambdaSettingException("RETAIL_LAKE", $"RETAIL_LAKE '{lakeUri}': {string.Join(" ", lakeErrors)}");

        TimeSpan? margin = null;
        string? marginText = env("RETAIL_DEADLINE_MARGIN_MS");
        if (!string.IsNullOrWhiteSpace(marginText))
        {
            if (!int.TryParse(marginText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) || ms > 900_000)
                throw new LambdaSettingException("RETAIL_DEADLINE_MARGIN_MS", $"RETAIL_DEADLINE_MARGIN_MS '{marginText}' is not a number of milliseconds from 0 to 900000.");
            margin = TimeSpan.FromMilliseconds(ms);
        }

        string consumer = DefaultConsumerName;
        string? consumerText = env("RETAIL_CONSUMER_NAME");
        if (!string.IsNullOrWhiteSpace(consumerText))
        {
            consumer = consumerText.Trim();
            if (consumer.Length > 128 || consumer.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || consumer.Trim('.').Length == 0)
                throw new LambdaSettingException("RETAIL_CONSUMER_NAME", $"RETAIL_CONSUMER_NAME '{consumerText}' must be 1 to 128 letters, digits, '-', '_' or '.' (it names a checkpoint folder).");
        }

        return new LambdaSettings
        {
            Handler = handler,
            Lake = lake,
            DeadlineMargin = margin,
            ConsumerName = consumer,
            LogLevel = ReadLogLevel(env),
        };
    }
}
