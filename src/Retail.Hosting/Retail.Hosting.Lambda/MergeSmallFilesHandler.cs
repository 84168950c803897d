using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Retail.Compaction;
using Retail.Query;
using Retail.Sinks.Athena;
using Retail.Sinks.Parquet;
using Retail.Storage;

namespace Retail.Hosting.Lambda;

/// <summary>The event is not an EventBridge event with a usable <c>time</c>: an invocation error naming the field and value.</summary>
internal sealed class InvalidScheduledEventException(string message) : Exception(message);

/// <summary>At least one hour failed: an invocation error (EventBridge/Lambda retry it) with each hour's reason.</summary>
internal sealed class CompactionFailedException(string message) : Exception(message);

/// <summary>Which compactor MergeSmallFiles runs (<c>COMPACTION_ENGINE</c>).</summary>
internal enum CompactionEngine
{
    /// <summary>Retail's own Parquet compactor over the lake (the default).</summary>
    Parquet,
    /// <summary>The Athena CTAS compactor (the workshop's MergeSmallFiles, done right).</summary>
    Athena,
}

/// <summary>The compaction behind MergeSmallFiles: the hour before a scheduled event's time.</summary>
internal interface IScheduledCompaction
{
    string Engine { get; }

    /// <summary>Compacts <paramref name="hour"/> (and, where the engine does it naturally, late objects of its window).</summary>
    Task<MergeSmallFilesResponse> RunAsync(DateTimeOffset eventTime, DateTime hour, CancellationToken cancellationToken);
}

/// <summary>
/// MergeSmallFiles: an EventBridge scheduled event (<c>cron(5 * * * ? *)</c>, hourly at :05) compacts the hour before
/// the event's hour (03:05 → hour 02). The response reports each hour's outcome, rows and files; a failed hour
/// makes the invocation an error with the reason, so the invocation is retried.
/// </summary>
internal sealed partial class MergeSmallFilesHandler(IScheduledCompaction compaction, ILogger logger) : IInvocationHandler
{
    public const string EngineVariable = "COMPACTION_ENGINE";

    public async Task<byte[]> HandleAsync(LambdaInvocation invocation, CancellationToken cancellationToken)
    {
        var eventTime = ParseEventTime(invocation.Payload);
        var hour = HourBefore(eventTime);
        LogStart(logger, compaction.Engine, eventTime, hour);
        var response = await compaction.RunAsync(eventTime, hour, cancellationToken).ConfigureAwait(false);
        foreach (var h in response.Hours)
            LogHour(logger, h.Hour, h.Outcome, h.SourceObjects, h.RowsIn, h.RowsOut, h.FilesWritten, h.BytesWritten, h.Error ?? "");
        var failed = response.Hours.Where(h => h.Outcome == nameof(HourCompactionOutcome.Failed)).ToList();
        if (failed.Count > 0)
            throw new CompactionFailedException($"{failed.Count} of {response.Hours.Count} hours failed ({compaction.Engine}); nothing of them was published: "
                + string.Join("; ", failed.Select(h => $"{h.Hour}: {h.Error}")));
        return JsonSerializer.SerializeToUtf8Bytes(response, MergeSmallFilesJsonContext.Default.MergeSmallFilesResponse);
    }

    /// <summary>The hour a run at <paramref name="eventTime"/> compacts: the whole hour before the event's hour, in UTC.</summary>
    public static DateTime HourBefore(DateTimeOffset eventTime)
    {
        var utc = eventTime.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc).AddHours(-1);
    }

    /// <summary>The <c>time</c> of an EventBridge event.</summary>
    /// <exception cref="InvalidScheduledEventException">The payload is not such an event, or its <c>time</c> is missing or not a time.</exception>
    public static DateTimeOffset ParseEventTime(ReadOnlyMemory<byte> payload)
    {
        ScheduledEventTime? e;
        try
        {
            e = JsonSerializer.Deserialize(payload.Span, MergeSmallFilesJsonContext.Default.ScheduledEventTime);
        }
        catch (JsonException ex)
        {
            throw new InvalidScheduledEventException($"The event is not an EventBridge scheduled event (a JSON object with \"time\"): {ex.Message}");
        }
        if (e is null)
            throw new InvalidScheduledEventException("The event is not an EventBridge scheduled event: it is JSON null.");
        if (e.Time is not { } time)
            throw new InvalidScheduledEventException("The event has no \"time\": MergeSmallFiles needs an EventBridge scheduled event (\"time\": \"2020-02-28T03:05:00Z\").");
        if (time.ValueKind != JsonValueKind.String)
            throw new InvalidScheduledEventException($"The event's \"time\" {time.GetRawText()} is not a string: it must be an ISO 8601 UTC time such as \"2020-02-28T03:05:00Z\".");
        string text = time.GetString()!;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || !text.Contains('T', StringComparison.Ordinal))
            throw new InvalidScheduledEventException($"The event's \"time\" '{text}' is not an ISO 8601 time such as \"2020-02-28T03:05:00Z\".");
        return parsed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MergeSmallFiles ({Engine}): event time {EventTime:O}, compacting hour {Hour:yyyy-MM-dd HH}:00")]
    private static partial void LogStart(ILogger logger, string engine, DateTimeOffset eventTime, DateTime hour);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hour {Hour}: {Outcome}, {SourceObjects} source objects, rows in {RowsIn}, rows out {RowsOut}, {Files} files, {Bytes} bytes {Error}")]
    private static partial void LogHour(ILogger logger, string hour, string outcome, int sourceObjects, long rowsIn, long rowsOut, int files, long bytes, string error);
}

/// <summary>Parquet: Retail's own compactor over the lake. The hour is compacted as closed, then the lookback pass picks up late objects.</summary>
internal sealed class ParquetScheduledCompaction(IHourlyCompactor compactor) : IScheduledCompaction
{
    public string Engine => "parquet";

    public async Task<MergeSmallFilesResponse> RunAsync(DateTimeOffset eventTime, DateTime hour, CancellationToken cancellationToken)
    {
        var target = await compactor.CompactHourAsync(hour, cancellationToken).ConfigureAwait(false);
        // Late objects of earlier hours of the window (the hour itself is up to date by now, so it is reported once).
        var window = await compactor.CompactAsync(eventTime, CompactionScope.Lookback, null, cancellationToken).ConfigureAwait(false);
        var hours = new List<HourCompaction> { target };
        hours.AddRange(window.Hours.Where(h => h.Hour != hour
            && h.Outcome is not (HourCompactionOutcome.UpToDate or HourCompactionOutcome.NotClosed)));
        return MergeSmallFilesResponse.From(Engine, eventTime, hour, hours, dryRun: false, statements: null);
    }
}

/// <summary>Athena: the CTAS compactor over the hour; with DRY_RUN the statements are logged and nothing runs.</summary>
internal sealed partial class AthenaScheduledCompaction(AthenaCtasCompactor compactor, bool dryRun, ILogger logger) : IScheduledCompaction
{
    public string Engine => "athena";

    public async Task<MergeSmallFilesResponse> RunAsync(DateTimeOffset eventTime, DateTime hour, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            var statements = compactor.PlanStatements([hour]);
            foreach (string s in statements) LogStatement(logger, s);
            return MergeSmallFilesResponse.From(Engine, eventTime, hour, [], dryRun: true, statements: [.. statements]);
        }
        var report = await compactor.CompactHoursAsync([hour], null, cancellationToken).ConfigureAwait(false);
        return MergeSmallFilesResponse.From(Engine, eventTime, hour, report.Hours, dryRun: false, statements: null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "DRY_RUN: would run {Statement}")]
    private static partial void LogStatement(ILogger logger, string statement);
}

/// <summary>Builds MergeSmallFiles from the environment.</summary>
internal static class MergeSmallFilesSetup
{
    /// <summary>COMPACTION_ENGINE: parquet (default) or athena.</summary>
    /// <exception cref="LambdaSettingException">Any other value.</exception>
    public static CompactionEngine ReadEngine(Func<string, string?> env)
    {
        string? value = env(MergeSmallFilesHandler.EngineVariable);
        if (string.IsNullOrWhiteSpace(value)) return CompactionEngine.Parquet;
        return value.Trim().ToLowerInvariant() switch
        {
            "parquet" => CompactionEngine.Parquet,
            "athena" => CompactionEngine.Athena,
            _ => throw new LambdaSettingException(MergeSmallFilesHandler.EngineVariable, $"{MergeSmallFilesHandler.EngineVariable} '{value}' is not an engine: use parquet (Retail's Parquet compactor, the default) or athena (the Athena CTAS compactor)."),
        };
    }

    public static IScheduledCompaction Create(LambdaSettings settings, Func<string, string?> env, Func<IObjectStore> store, RetailLakeDefinition lake, ILoggerFactory logs, TimeProvider time,
        Func<AthenaOptions, IQueryEngine>? athenaEngine = null)
    {
        var logger = logs.CreateLogger(LambdaSettings.MergeSmallFiles);
        switch (ReadEngine(env))
        {
            case CompactionEngine.Athena:
            {
                AthenaCompactorOptions options;
                try
                {
                    options = AthenaCompactorOptions.FromEnvironment(env);
                }
                catch (AthenaCompactorSettingsException e)
                {
                    throw new LambdaSettingException(e.Variable, e.Message);
                }
                var athena = new AthenaOptions
                {
                    WorkGroup = options.WorkGroup,
                    OutputLocation = options.StagingOutputPrefix,
                    Database = options.OldDatabase,
                };
                if (settings.Lake.Region is { Length: > 0 } region) athena.Region = region;
                if (env("RETAIL_ATHENA_ENDPOINT_URL") is { Length: > 0 } url) athena.ServiceUrl = url.Trim();
                var engine = (athenaEngine ?? (o => AthenaClientFactory.CreateQueryEngine(o, timeProvider: time, loggerFactory: logs)))(athena);
                return new AthenaScheduledCompaction(AthenaCtasCompactor.Create(options, engine, time, logs), options.DryRun, logger);
            }
            default:
            {
                var options = new ParquetCompactorOptions().UseLake(lake);
                options.LocalTempPath = Path.GetTempPath(); // /tmp: the only writable folder of a Lambda sandbox
                IHourlyCompactor compactor;
                try
                {
                    compactor = ParquetCompactorFactory.Create(store(), options, time, logs.CreateLogger("Retail.Sinks.Parquet"));
                }
                catch (ArgumentException e)
                {
                    throw new LambdaSettingException("RETAIL_LAKE", $"The Parquet compactor's settings are not valid: {e.Message}");
                }
                return new ParquetScheduledCompaction(compactor);
            }
        }
    }
}

/// <summary>The <c>time</c> of an EventBridge event, kept raw so that a bad value is reported as written.</summary>
internal sealed record ScheduledEventTime([property: JsonPropertyName("time")] JsonElement? Time);

/// <summary>MergeSmallFiles' response.</summary>
internal sealed record MergeSmallFilesResponse(
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("eventTime")] string EventTime,
    [property: JsonPropertyName("hour")] string Hour,
    [property: JsonPropertyName("dryRun")] bool DryRun,
    [property: JsonPropertyName("hours")] List<MergeSmallFilesHour> Hours,
    [property: JsonPropertyName("rowsIn")] long RowsIn,
    [property: JsonPropertyName("rowsOut")] long RowsOut,
    [property: JsonPropertyName("filesWritten")] int FilesWritten,
    [property: JsonPropertyName("failedHours")] int FailedHours,
    [property: JsonPropertyName("statements")] List<string>? Statements)
{
    public static string HourText(DateTime hour) => hour.ToString("yyyy-MM-dd'T'HH':00:00Z'", CultureInfo.InvariantCulture);

    public static MergeSmallFilesResponse From(string engine, DateTimeOffset eventTime, DateTime hour, IReadOnlyList<HourCompaction> hours, bool dryRun, List<string>? statements)
    {
        var list = hours.Select(h => new MergeSmallFilesHour(HourText(h.Hour), h.Outcome.ToString(), h.SourceObjects, h.RowsIn, h.RowsOut, h.FilesWritten, h.BytesWritten, h.Error)).ToList();
        return new MergeSmallFilesResponse(engine, eventTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture), HourText(hour), dryRun, list,
            hours.Sum(h => h.RowsIn), hours.Sum(h => h.RowsOut), hours.Sum(h => h.FilesWritten), hours.Count(h => h.Outcome == HourCompactionOutcome.Failed), statements);
    }
}

/// <summary>One hour of a <see cref="MergeSmallFilesResponse"/>.</summary>
internal sealed record MergeSmallFilesHour(
    [property: JsonPropertyName("hour")] string Hour,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("sourceObjects")] int SourceObjects,
    [property: JsonPropertyName("rowsIn")] long RowsIn,
    [property: JsonPropertyName("rowsOut")] long RowsOut,
    [property: JsonPropertyName("filesWritten")] int FilesWritten,
    [property: JsonPropertyName("bytesWritten")] long BytesWritten,
    [property: JsonPropertyName("error")] string? Error);

[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScheduledEventTime))]
[JsonSerializable(typeof(MergeSmallFilesResponse))]
internal sealed partial class MergeSmallFilesJsonContext : JsonSerializerContext;
