using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>MergeSmallFiles in process (JIT): the scheduled event, the hour it compacts, the engine selection, and the Parquet engine over a local folder lake.</summary>
public sealed class MergeSmallFilesTests
{
    private static readonly Dictionary<string, string?> BaseEnvironment = new()
    {
        ["_HANDLER"] = "MergeSmallFiles",
        ["RETAIL_LAKE"] = "s3://retail-lake",
    };

    private static Func<string, string?> Env(params (string Name, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?>(BaseEnvironment);
        foreach (var (k, v) in extra) env[k] = v;
        return k => env.GetValueOrDefault(k);
    }

    private static IInvocationHandler Create(IObjectStore store, Func<string, string?> env, TextWriter? log = null)
    {
        var logs = new LambdaLogging(LogLevel.Information, log ?? TextWriter.Null);
        return LambdaHandlers.Create(LambdaSettings.FromEnvironment(env), env, logs, TimeProvider.System, store);
    }

    private static LambdaInvocation Invocation(string json) =>
        new("req-1", DateTimeOffset.UtcNow.AddMinutes(5), "arn:aws:lambda:us-east-1:123456789012:function:MergeSmallFiles", null, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void ParseEventTime_ScheduledEvent_ReturnsItsTime()
    {
        var time = MergeSmallFilesHandler.ParseEventTime(Encoding.UTF8.GetBytes(CompactionLake.ScheduledEvent(new DateTimeOffset(2020, 2, 28, 3, 5, 0, TimeSpan.Zero))));
        Assert.Equal(new DateTimeOffset(2020, 2, 28, 3, 5, 0, TimeSpan.Zero), time);
    }

    [Theory]
    [InlineData("""{"version":"0","detail-type":"Scheduled Event","source":"aws.events"}""", "no \"time\"")]
    [InlineData("""{"time":null}""", "no \"time\"")]
    [InlineData("""{"time":"yesterday"}""", "\"time\" 'yesterday' is not an ISO 8601 time")]
    [InlineData("""{"time":"2020-02-30T03:05:00Z"}""", "\"time\" '2020-02-30T03:05:00Z' is not an ISO 8601 time")]
    [InlineData("""{"time":1582859100}""", "\"time\" 1582859100 is not a string")]
    [InlineData("""[1,2]""", "not an EventBridge scheduled event")]
    [InlineData("""not json""", "not an EventBridge scheduled event")]
    [InlineData("""null""", "not an EventBridge scheduled event")]
    public void ParseEventTime_MissingOrBadTime_ThrowsNamingTheFieldAndValue(string json, string expected)
    {
        var e = Assert.Throws<InvalidScheduledEventException>(() => MergeSmallFilesHandler.ParseEventTime(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2020-02-28T03:05:00Z", "2020-02-28T02:00:00")]
    [InlineData("2020-02-28T03:00:00Z", "2020-02-28T02:00:00")]
    [InlineData("2020-02-28T03:59:59.999Z", "2020-02-28T02:00:00")]
    [InlineData("2020-03-01T00:05:00Z", "2020-02-29T23:00:00")]
    [InlineData("2021-01-01T00:05:00Z", "2020-12-31T23:00:00")]
    [InlineData("2020-02-28T05:05:00+02:00", "2020-02-28T02:00:00")]
    public void HourBefore_EventTime_IsTheUtcHourBeforeTheEventsHour(string eventTime, string expected)
    {
        var hour = MergeSmallFilesHandler.HourBefore(DateTimeOffset.Parse(eventTime, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTime.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), hour);
    }

    [Theory]
    [InlineData(null, "Parquet")]
    [InlineData("", "Parquet")]
    [InlineData("parquet", "Parquet")]
    [InlineData(" Parquet ", "Parquet")]
    [InlineData("athena", "Athena")]
    [InlineData("ATHENA", "Athena")]
    public void ReadEngine_KnownValue_SelectsTheEngine(string? value, string expected) =>
        Assert.Equal(expected, MergeSmallFilesSetup.ReadEngine(Env(("COMPACTION_ENGINE", value))).ToString());

    [Theory]
    [InlineData("glue")]
    [InlineData("duckdb")]
    [InlineData("parquet,athena")]
    public void Create_UnknownCompactionEngine_IsAnInitErrorNamingTheVariableAndValue(string value)
    {
        var env = Env(("COMPACTION_ENGINE", value));
        var e = Assert.Throws<LambdaSettingException>(() => Create(new LocalFolderObjectStore(Path.GetTempPath()), env));
        Assert.Equal("COMPACTION_ENGINE", e.Setting);
        Assert.Contains($"COMPACTION_ENGINE '{value}' is not an engine", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_MergeSmallFiles_IsAHandlerOfThisRuntime()
    {
        Assert.Contains("MergeSmallFiles", LambdaSettings.Handlers);
        Assert.Equal("MergeSmallFiles", LambdaSettings.FromEnvironment(Env()).Handler);
    }

    [Fact]
    public async Task HandleAsync_ParquetOnLocalLake_CompactsTheHourBeforeOnlyAndASecondEventIsUpToDate()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var lake = await CompactionLake.WriteAsync(store);
        var handler = Create(store, Env());
        string json = CompactionLake.ScheduledEvent(lake.EventTime);

        using var first = JsonDocument.Parse(await handler.HandleAsync(Invocation(json), CancellationToken.None));
        var hour = Assert.Single(first.RootElement.GetProperty("hours").EnumerateArray());
        Assert.Equal("parquet", first.RootElement.GetProperty("engine").GetString());
        Assert.Equal($"{lake.Target:yyyy-MM-ddTHH}:00:00Z", hour.GetProperty("hour").GetString());
        Assert.Equal("Compacted", hour.GetProperty("outcome").GetString());
        Assert.Equal(lake.TargetLines.Count, hour.GetProperty("rowsIn").GetInt64());
        Assert.Equal(lake.TargetLines.Count, hour.GetProperty("rowsOut").GetInt64());
        Assert.Equal((lake.TargetLines.Count + 39) / 40, hour.GetProperty("sourceObjects").GetInt32());
        Assert.Equal(1, hour.GetProperty("filesWritten").GetInt32());
        Assert.Equal(CompactionLake.Canonical(lake.TargetLines).Order(StringComparer.Ordinal), (await CompactionLake.ParquetRowsAsJsonAsync(store, CompactionLake.ParquetPrefix(lake.Target))).Order(StringComparer.Ordinal));
        Assert.Empty(await Lake.KeysAsync(store, CompactionLake.ParquetPrefix(lake.Other)));
        var published = await Lake.KeysAsync(store, LakeLayout.ParquetPrefix);
        var stamps = await Task.WhenAll(published.Select(async k => (k, (await store.GetInfoAsync(k))!.ETag)));

        using var second = JsonDocument.Parse(await handler.HandleAsync(Invocation(json), CancellationToken.None));
        var again = Assert.Single(second.RootElement.GetProperty("hours").EnumerateArray());
        Assert.Equal("UpToDate", again.GetProperty("outcome").GetString());
        Assert.Equal(0, again.GetProperty("filesWritten").GetInt32());
        Assert.Equal(stamps, await Task.WhenAll((await Lake.KeysAsync(store, LakeLayout.ParquetPrefix)).Select(async k => (k, (await store.GetInfoAsync(k))!.ETag))));
    }

    [Fact]
    public async Task HandleAsync_ParquetHourWithABadRecord_IsAnInvocationErrorNamingTheObjectAndPublishesNothing()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var lake = await CompactionLake.WriteAsync(store);
        string bad = CompactionLake.JsonKey(lake.Target, 99);
        await store.PutAsync(bad, Encoding.UTF8.GetBytes("{\"invoice\": \"536365\", \"quantity\": \"six\"\n"));
        var handler = Create(store, Env());

        var e = await Assert.ThrowsAsync<CompactionFailedException>(() => handler.HandleAsync(Invocation(CompactionLake.ScheduledEvent(lake.EventTime)), CancellationToken.None));
        Assert.Contains($"{lake.Target:yyyy-MM-ddTHH}:00:00Z", e.Message, StringComparison.Ordinal);
        Assert.Contains(bad, e.Message, StringComparison.Ordinal);
        Assert.Empty(await Lake.KeysAsync(store, LakeLayout.ParquetPrefix));
    }

    [Fact]
    public async Task HandleAsync_EventWithoutTime_IsAnInvocationErrorAndCompactsNothing()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await CompactionLake.WriteAsync(store);
        var handler = Create(store, Env());

        var e = await Assert.ThrowsAsync<InvalidScheduledEventException>(() => handler.HandleAsync(Invocation("""{"version":"0","source":"aws.events"}"""), CancellationToken.None));
        Assert.Contains("\"time\"", e.Message, StringComparison.Ordinal);
        Assert.Empty(await Lake.KeysAsync(store, LakeLayout.ParquetPrefix));
    }
}
