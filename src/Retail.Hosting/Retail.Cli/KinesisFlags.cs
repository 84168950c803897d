using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using Retail.Sinks.Kinesis;
using Retail.Streaming;

namespace Retail.Cli;

/// <summary>
/// The flags every Kinesis command shares (<c>--stream-name</c>, <c>--region-name</c>, <c>--endpoint-url</c>) and the
/// start positions (<c>TRIM_HORIZON|LATEST|AT_TIMESTAMP</c> with <c>--timestamp</c>). Credentials are never flags: they
/// come from the AWS SDK's default chain (environment, profile, role).
/// </summary>
internal static class KinesisFlags
{
    public static readonly string[] IteratorTypes = ["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"];

    /// <summary>
    /// The services of a consumer of a Kinesis stream that keeps its checkpoints (and its error output) in the lake at
    /// <paramref name="location"/> (a folder, checked writable here, or <c>s3://bucket[/prefix]</c>), as <c>retail deliver</c>
    /// and <c>retail upsert</c> run them. Credentials for the bucket and the stream come from the AWS SDK's default chain.
    /// </summary>
    public static (ServiceCollection Services, IRetailBuilder Retail, IRecordStream Stream) LakeConsumerServices(string location, string? s3Endpoint, KinesisOptions kinesis)
    {
        bool s3 = LakeOption.IsS3(location);
        if (!s3) LakeOption.EnsureWritable(Path.GetFullPath(location));
        var services = new ServiceCollection();
        var retail = services.AddRetail();
        if (s3) retail.AddS3Lake(o => { o.UseUri(location); o.ServiceUrl = s3Endpoint; });
        else retail.AddLocalLake(o => o.Path = Path.GetFullPath(location));
        var stream = CreateStream(kinesis);
        services.AddSingleton<IRecordStream>(_ => stream); // a factory, so the provider disposes it
        retail.AddLakeCheckpoints();
        return (services, retail, stream);
    }

    /// <summary><c>--stream-name</c>; <paramref name="required"/> makes a missing one a usage error naming the flag.</summary>
    public static Option<string?> StreamName(bool required, string description = "The Kinesis stream's name.")
    {
        var option = new Option<string?>("--stream-name") { Description = description, Required = required };
        return option;
    }

    /// <summary><c>--region-name</c> (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1).</summary>
    public static Option<string?> Region() =>
        new("--region-name") { Description = "AWS region of the stream (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)." };

    /// <summary><c>--endpoint-url</c>: an emulator or a VPC endpoint instead of the region's Kinesis endpoint.</summary>
    public static Option<string?> Endpoint(string service = "Kinesis")
    {
        var endpoint = new Option<string?>("--endpoint-url") { Description = $"The {service} endpoint instead of the region's (an emulator such as http://127.0.0.1:4567, a VPC endpoint)." };
        endpoint.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || u.UserInfo.Length > 0))
                r.AddError($"--endpoint-url '{url}' is not an absolute http:// or https:// URL (without credentials in it).");
        });
        return endpoint;
    }

    /// <summary>An iterator-type option (<c>--iter-type</c>, <c>--from</c>) accepting TRIM_HORIZON, LATEST and AT_TIMESTAMP.</summary>
    public static Option<string> IteratorType(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => "TRIM_HORIZON" };
        option.AcceptOnlyFromAmong(IteratorTypes);
        return option;
    }

    /// <summary><c>--timestamp T</c> for AT_TIMESTAMP: ISO-8601 or epoch seconds.</summary>
    public static Option<string?> Timestamp()
    {
        var option = new Option<string?>("--timestamp") { Description = "For AT_TIMESTAMP: ISO-8601 (2026-12-02T10:00:00Z; no zone means UTC) or epoch seconds (1796205600)." };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } s && !TryParseTimestamp(s, out _))
                r.AddError($"--timestamp must be ISO-8601 (2026-12-02T10:00:00Z) or epoch seconds (1796205600), got '{s}'.");
        });
        return option;
    }

    /// <summary>Makes AT_TIMESTAMP without <c>--timestamp</c> (and <c>--timestamp</c> with another type) a usage error.</summary>
    public static void RequireTimestamp(Command command, Option<string> iterType, Option<string?> timestamp)
    {
        command.Validators.Add(r =>
        {
            string type = r.GetValue(iterType) ?? "TRIM_HORIZON";
            bool has = r.GetValue(timestamp) is not null;
            if (type == "AT_TIMESTAMP" && !has) r.AddError($"{iterType.Name} AT_TIMESTAMP needs --timestamp (ISO-8601 or epoch seconds).");
            else if (type != "AT_TIMESTAMP" && has) r.AddError($"--timestamp applies only to {iterType.Name} AT_TIMESTAMP, not {type}.");
        });
    }

    /// <summary>The start position the flags name.</summary>
    public static StartPosition Position(string type, string? timestamp) => type switch
    {
        "LATEST" => StartPosition.Latest,
        "AT_TIMESTAMP" when timestamp is not null && TryParseTimestamp(timestamp, out var t) => StartPosition.AtTimestamp(t),
        "AT_TIMESTAMP" => throw new CliException("AT_TIMESTAMP needs --timestamp (ISO-8601 or epoch seconds).", 2),
        _ => StartPosition.TrimHorizon,
    };

    /// <summary>ISO-8601 (a value without a zone is UTC) or epoch seconds (fractions allowed).</summary>
    public static bool TryParseTimestamp(string s, out DateTimeOffset value)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && double.IsFinite(seconds) && seconds >= 0 && seconds < 253402300800)
        {
            value = DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
            return true;
        }
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
            && s.Length >= 10 && char.IsAsciiDigit(s[0]);
    }

    /// <summary>The Kinesis options the flags name (region and endpoint; the stream name when given).</summary>
    public static KinesisOptions Options(string? streamName, string? region, string? endpoint)
    {
        var options = new KinesisOptions { StreamName = streamName, ServiceUrl = endpoint };
        if (region is not null) options.Region = region;
        return options;
    }

    /// <summary>A Kinesis stream client; bad options (a bad stream or region name) are one usage error.</summary>
    public static IRecordStream CreateStream(KinesisOptions options)
    {
        try
        {
            return KinesisClientFactory.CreateStream(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Replace(" (Parameter 'options')", "", StringComparison.Ordinal), 2, e);
        }
    }

    /// <summary>A Kinesis stream manager; bad options are one usage error.</summary>
    public static KinesisStreamManager CreateManager(KinesisOptions options)
    {
        try
        {
            return KinesisClientFactory.CreateManager(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Replace(" (Parameter 'options')", "", StringComparison.Ordinal), 2, e);
        }
    }
}
