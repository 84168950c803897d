using System.Text.Json;
using Xunit.Abstractions;
using Retail.Sinks.S3.Tests;
using Retail.Storage;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// The published native-AOT bootstrap running MergeSmallFiles (COMPACTION_ENGINE=parquet) as Lambda runs it: Runtime API
/// fake → bootstrap → s3rver. Proves that the Parquet writer works in the AOT binary: the published file is read back.
/// </summary>
[Collection(BootstrapCollection.Name)]
public sealed class MergeSmallFilesBootstrapTests(BootstrapFixture bootstrap, S3rverFixture s3, ITestOutputHelper output)
{
    private Dictionary<string, string> Environment(LambdaRuntimeApiFake runtime, string lakePrefix, params (string, string)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = runtime.RuntimeApi,
            ["_HANDLER"] = "MergeSmallFiles",
            ["RETAIL_LAKE"] = $"s3://{S3rverFixture.Bucket}/{lakePrefix}",
            ["RETAIL_S3_ENDPOINT_URL"] = s3.ServiceUrl,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_REGION"] = "us-east-1",
        };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    private static async Task<LambdaInvocationResult> InvokeAsync(LambdaRuntimeApiFake runtime, BootstrapProcess process, string json)
    {
        string id = runtime.Enqueue(json, TimeSpan.FromMinutes(5));
        try
        {
            return await runtime.WaitForResultAsync(id, TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("The bootstrap did not answer: " + process.Output);
        }
    }

    /// <summary>Keys and ETags of what compaction publishes (parts and manifests; not the lease of the hour's lock).</summary>
    private static async Task<List<(string Key, string ETag)>> PublishedAsync(IObjectStore store)
    {
        var keys = (await Lake.KeysAsync(store, LakeLayout.ParquetPrefix)).Concat(await Lake.KeysAsync(store, LakeLayout.ControlPrefix + "compaction/"))
            .Where(k => !k.EndsWith("compaction.lock", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        var list = new List<(string, string)>();
        foreach (string k in keys) list.Add((k, (await store.GetInfoAsync(k))!.ETag));
        return list;
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_MergeSmallFilesParquet_CompactsTheHourBeforeOnS3rverAndTheSameEventAgainIsUpToDate()
    {
        string prefix = "merge-" + Guid.NewGuid().ToString("N")[..8];
        var store = s3.Store(prefix);
        var lake = await CompactionLake.WriteAsync(store);
        var jsonKeys = await Lake.KeysAsync(store, LakeLayout.JsonPrefix);
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, prefix, ("COMPACTION_ENGINE", "parquet")));
        string scheduled = CompactionLake.ScheduledEvent(lake.EventTime);

        var result = await InvokeAsync(runtime, process, scheduled);

        Assert.False(result.IsError, result.Text + process.Output);
        using (var doc = JsonDocument.Parse(result.Body))
        {
            Assert.Equal($"{lake.Target:yyyy-MM-ddTHH}:00:00Z", doc.RootElement.GetProperty("hour").GetString());
            var hour = Assert.Single(doc.RootElement.GetProperty("hours").EnumerateArray());
            Assert.Equal("Compacted", hour.GetProperty("outcome").GetString());
            Assert.Equal(lake.TargetLines.Count, hour.GetProperty("rowsIn").GetInt64());
            Assert.Equal(lake.TargetLines.Count, hour.GetProperty("rowsOut").GetInt64());
            Assert.Equal(1, hour.GetProperty("filesWritten").GetInt32());
        }
        // What the AOT binary's Parquet writer published reads back, row for row, as the hour's JSON.
        Assert.Equal(CompactionLake.Canonical(lake.TargetLines).Order(StringComparer.Ordinal),
            (await CompactionLake.ParquetRowsAsJsonAsync(store, CompactionLake.ParquetPrefix(lake.Target))).Order(StringComparer.Ordinal));
        Assert.Empty(await Lake.KeysAsync(store, CompactionLake.ParquetPrefix(lake.Other)));
        Assert.Equal(jsonKeys, await Lake.KeysAsync(store, LakeLayout.JsonPrefix)); // the JSON stays (DeleteSourceAfterPublish is off)
        var published = await PublishedAsync(store);

        var again = await InvokeAsync(runtime, process, scheduled);

        Assert.False(again.IsError, again.Text + process.Output);
        using (var doc = JsonDocument.Parse(again.Body))
        {
            var hour = Assert.Single(doc.RootElement.GetProperty("hours").EnumerateArray());
            Assert.Equal("UpToDate", hour.GetProperty("outcome").GetString());
            Assert.Equal(0, hour.GetProperty("filesWritten").GetInt32());
        }
        Assert.Equal(published, await PublishedAsync(store));
        Assert.DoesNotContain("S3RVER", process.Output, StringComparison.Ordinal);
        output.WriteLine($"retail-lambda.zip: {new FileInfo(bootstrap.Zip).Length} bytes; bootstrap: {new FileInfo(bootstrap.Bootstrap).Length} bytes");
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_MergeSmallFilesUnknownEngine_PostsAnInitErrorNamingTheVariable()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "engine", ("COMPACTION_ENGINE", "glue")));
        var error = await runtime.WaitForInitErrorAsync();
        Assert.Equal("Retail.InvalidSetting", error.ErrorType);
        using var doc = JsonDocument.Parse(error.Body);
        Assert.Contains("COMPACTION_ENGINE 'glue' is not an engine", doc.RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Bootstrap_OnRuntimeApiFake_MergeSmallFilesEventWithoutTime_IsAnInvocationErrorNamingTheField()
    {
        await using var runtime = await LambdaRuntimeApiFake.StartAsync();
        await using var process = BootstrapProcess.Start(bootstrap.Bootstrap, Environment(runtime, "notime-" + Guid.NewGuid().ToString("N")[..8]));
        var result = await InvokeAsync(runtime, process, """{"version":"0","detail-type":"Scheduled Event","source":"aws.events","time":"soon"}""");
        Assert.True(result.IsError);
        Assert.Equal("Retail.InvalidEvent", result.ErrorType);
        using var doc = JsonDocument.Parse(result.Body);
        Assert.Contains("\"time\" 'soon' is not an ISO 8601 time", doc.RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }
}
