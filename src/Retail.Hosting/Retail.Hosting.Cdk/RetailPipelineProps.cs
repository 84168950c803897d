using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.CDK;
using Retail.Sinks.Athena;
using Retail.Storage;

namespace Retail.Hosting.Cdk;

/// <summary>Which compactor writes the Parquet table: it decides how the table finds its hours.</summary>
public enum RetailCompactionEngine
{
    /// <summary>Retail's Parquet compactor writes hour folders: the Parquet table uses partition projection.</summary>
    Parquet,

    /// <summary>The Athena CTAS compactor registers each hour itself: the Parquet table has no projection.</summary>
    Athena,
}

/// <summary>The settings of <see cref="RetailPipeline"/>, validated at synth time (every message names the prop and its value).</summary>
public sealed partial class RetailPipelineProps
{
    /// <summary>The table names and prefixes (default: the workshop's).</summary>
    public RetailLakeDefinition Lake { get; set; } = new();

    /// <summary>The Kinesis data stream (default <c>retail-trans</c>; 1-128 of letters, digits and <c>_.-</c>).</summary>
    public string StreamName { get; set; } = "retail-trans";

    /// <summary>The Firehose delivery stream (default <c>retail-trans</c>; 1-64 of letters, digits and <c>_.-</c>).</summary>
    public string DeliveryStreamName { get; set; } = "retail-trans";

    /// <summary>Provisioned shards (1-10000); null (the default) makes the stream ON_DEMAND.</summary>
    public int? ShardCount { get; set; }

    /// <summary>The stream's retention in hours (24-8760, default 24).</summary>
    public int StreamRetentionHours { get; set; } = 24;

    /// <summary>Firehose's buffer size in MiB (1-128, default 1: the workshop's).</summary>
    public int BufferSizeMiB { get; set; } = 1;

    /// <summary>Firehose's buffer interval in seconds (0-900, default 60: the workshop's).</summary>
    public int BufferIntervalSeconds { get; set; } = 60;

    /// <summary>The Glue database (default <c>mydatabase</c>, the workshop's).</summary>
    public string DatabaseName { get; set; } = "mydatabase";

    /// <summary>The Athena work group (default <c>retail</c>; 1-128 of letters, digits and <c>._-</c>).</summary>
    public string WorkGroupName { get; set; } = "retail";

    /// <summary>Where the work group writes query results in the lake bucket (default <c>athena-results/</c>; ends with <c>/</c>,
    /// overlaps no prefix of <see cref="Lake"/>).</summary>
    public string AthenaResultsPrefix { get; set; } = "athena-results/";

    /// <summary>Days objects under the error prefix are kept (1-3650, default 30).</summary>
    public int ErrorRetentionDays { get; set; } = 30;

    /// <summary>Days Athena results are kept (1-3650, default 7).</summary>
    public int AthenaResultsRetentionDays { get; set; } = 7;

    /// <summary>The first year partition projection serves (default 2000).</summary>
    public int ProjectionFirstYear { get; set; } = 2000;

    /// <summary>The last year partition projection serves (default 2099).</summary>
    public int ProjectionLastYear { get; set; } = 2099;

    /// <summary>Which compactor writes the Parquet table (default <see cref="RetailCompactionEngine.Parquet"/>).</summary>
    public RetailCompactionEngine CompactionEngine { get; set; } = RetailCompactionEngine.Parquet;

    /// <summary>What happens to the lake bucket when the stack is deleted (default <see cref="RemovalPolicy.RETAIN"/>: the data stays).</summary>
    public RemovalPolicy LakeRemovalPolicy { get; set; } = RemovalPolicy.RETAIN;

    /// <summary>An SNS topic the alarms notify (default none: the alarms only change state).</summary>
    public Amazon.CDK.AWS.SNS.ITopic? AlarmTopic { get; set; }

    /// <summary>How old the oldest unread record may get before the iterator-age alarm fires (1 minute to 7 days, default 5 minutes).</summary>
    public TimeSpan IteratorAgeAlarm { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Every problem, each naming the prop and its value (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        const string P = nameof(RetailPipelineProps);
        var errors = new List<string>();
        if (Lake is null) errors.Add($"{P}.{nameof(Lake)} is null.");
        else errors.AddRange(Catalog("s3://retail-validate/").Validate().Select(e => e
            .Replace($"{nameof(AthenaCatalogOptions)}.{nameof(AthenaCatalogOptions.Database)}", $"{P}.{nameof(DatabaseName)}", StringComparison.Ordinal)
            .Replace($"{nameof(AthenaCatalogOptions)}.", $"{P}.", StringComparison.Ordinal)
            .Replace($"{nameof(RetailLakeDefinition)}.", $"{P}.{nameof(Lake)}.", StringComparison.Ordinal)));
        if (StreamName is null || !Name128().IsMatch(StreamName))
            errors.Add($"{P}.{nameof(StreamName)} '{StreamName}' is not 1-128 letters, digits, '_', '.' or '-'.");
        if (DeliveryStreamName is null || DeliveryStreamName.Length > 64 || !Name128().IsMatch(DeliveryStreamName))
            errors.Add($"{P}.{nameof(DeliveryStreamName)} '{DeliveryStreamName}' is not 1-64 letters, digits, '_', '.' or '-'.");
        Range(errors, nameof(ShardCount), ShardCount, 1, 10_000, "null (ON_DEMAND) or ");
        Range(errors, nameof(StreamRetentionHours), StreamRetentionHours, 24, 8760);
        Range(errors, nameof(BufferSizeMiB), BufferSizeMiB, 1, 128);
        Range(errors, nameof(BufferIntervalSeconds), BufferIntervalSeconds, 0, 900);
        Range(errors, nameof(ErrorRetentionDays), ErrorRetentionDays, 1, 3650);
        Range(errors, nameof(AthenaResultsRetentionDays), AthenaResultsRetentionDays, 1, 3650);
        if (WorkGroupName is null || !Name128().IsMatch(WorkGroupName))
            errors.Add($"{P}.{nameof(WorkGroupName)} '{WorkGroupName}' is not 1-128 letters, digits, '_', '.' or '-'.");
        if (AthenaResultsPrefix is null || !ResultsPrefix().IsMatch(AthenaResultsPrefix))
            errors.Add($"{P}.{nameof(AthenaResultsPrefix)} '{AthenaResultsPrefix}' is not a prefix of letters, digits and !-_.*()/ ending with '/' (and not starting with one).");
        else if (Lake is not null)
            foreach (var (name, value) in new[] { (nameof(Lake.JsonPrefix), Lake.JsonPrefix), (nameof(Lake.ErrorPrefix), Lake.ErrorPrefix), (nameof(Lake.ParquetPrefix), Lake.ParquetPrefix), (nameof(Lake.ControlPrefix), Lake.ControlPrefix) })
                if (value is not null && (value.StartsWith(AthenaResultsPrefix, StringComparison.Ordinal) || AthenaResultsPrefix.StartsWith(value, StringComparison.Ordinal)))
                    errors.Add($"{P}.{nameof(AthenaResultsPrefix)} '{AthenaResultsPrefix}' and {P}.{nameof(Lake)}.{name} '{value}' must not contain one another.");
        if (IteratorAgeAlarm < TimeSpan.FromMinutes(1) || IteratorAgeAlarm > TimeSpan.FromDays(7))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{P}.{nameof(IteratorAgeAlarm)} {IteratorAgeAlarm} is not from 1 minute to 7 days."));
        if (!Enum.IsDefined(CompactionEngine)) errors.Add($"{P}.{nameof(CompactionEngine)} '{CompactionEngine}' is not a {nameof(RetailCompactionEngine)}.");
        if (LakeRemovalPolicy is not (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY or RemovalPolicy.SNAPSHOT or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE))
            errors.Add($"{P}.{nameof(LakeRemovalPolicy)} '{LakeRemovalPolicy}' is not a RemovalPolicy.");
        return errors;
    }

    /// <summary>The catalog options these props describe, with <paramref name="root"/> as the lake's location.</summary>
    internal AthenaCatalogOptions Catalog(string root) => new()
    {
        Database = DatabaseName,
        Location = root,
        Lake = Lake,
        PartitionProjection = true,
        ProjectionFirstYear = ProjectionFirstYear,
        ProjectionLastYear = ProjectionLastYear,
        ParquetPartitioning = CompactionEngine == RetailCompactionEngine.Athena ? ParquetPartitioning.CompactorRegistered : ParquetPartitioning.HourFolders,
    };

    private static void Range(List<string> errors, string name, int? value, int min, int max, string orNull = "")
    {
        if (value is { } v && (v < min || v > max))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(RetailPipelineProps)}.{name} {v} is not {orNull}from {min} to {max}."));
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex Name128();

    [GeneratedRegex(@"^[A-Za-z0-9!_.*()-][A-Za-z0-9!_.*()/-]*/$")]
    private static partial Regex ResultsPrefix();
}
