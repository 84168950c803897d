using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Retail.Query;

namespace Retail.Hosting.Lambda.Tests;

/// <summary>
/// MergeSmallFiles with COMPACTION_ENGINE=athena, in process, over a recording query engine. These tests need the CTAS
/// compactor (AthenaCompactorOptions.FromEnvironment, AthenaCtasCompactor.PlanStatements: helper D's work, branch ctas).
/// </summary>
public sealed class MergeSmallFilesAthenaTests
{
    private sealed class RecordingEngine : IQueryEngine
    {
        public List<string> Statements { get; } = [];

        public ValueTask<QueryResult> QueryAsync(string sql, IReadOnlyList<object?>? parameters = null, int maxRows = 10_000, CancellationToken cancellationToken = default)
        {
            lock (Statements) Statements.Add(sql);
            throw new InvalidOperationException("This test's engine runs nothing.");
        }
    }

    [Fact]
    public async Task HandleAsync_AthenaDryRun_RespondsWithTheStatementsForTheHourBeforeAndRunsNothing()
    {
        var values = new Dictionary<string, string?>
        {
            ["_HANDLER"] = "MergeSmallFiles",
            ["RETAIL_LAKE"] = "s3://retail-lake",
            ["COMPACTION_ENGINE"] = "athena",
            ["DRY_RUN"] = "true",
            ["OLD_TABLE_LOCATION_PREFIX"] = "s3://retail-lake/json-data",
            ["OUTPUT_PREFIX"] = "s3://retail-lake/parquet-retail-trans",
            ["STAGING_OUTPUT_PREFIX"] = "s3://retail-lake/athena-results",
        };
        Func<string, string?> env = k => values.GetValueOrDefault(k);
        var engine = new RecordingEngine();
        var log = new StringWriter();
        var logs = new LambdaLogging(LogLevel.Information, TextWriter.Synchronized(log));
        var compaction = MergeSmallFilesSetup.Create(LambdaSettings.FromEnvironment(env), env, () => throw new InvalidOperationException("athena needs no store"),
            new Retail.Storage.RetailLakeDefinition(), logs, TimeProvider.System, _ => engine);
        var handler = new MergeSmallFilesHandler(compaction, logs.CreateLogger("MergeSmallFiles"));
        string scheduled = """{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","time":"2020-02-28T03:05:00Z","detail":{}}""";

        using var response = JsonDocument.Parse(await handler.HandleAsync(new LambdaInvocation("r", DateTimeOffset.UtcNow.AddMinutes(5), null, null, Encoding.UTF8.GetBytes(scheduled)), CancellationToken.None));

        Assert.Empty(engine.Statements);
        Assert.True(response.RootElement.GetProperty("dryRun").GetBoolean());
        Assert.Equal("2020-02-28T02:00:00Z", response.RootElement.GetProperty("hour").GetString());
        string sql = string.Join("\n", response.RootElement.GetProperty("statements").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("year=2020/month=02/day=28/hour=02/", sql, StringComparison.Ordinal);
        Assert.Contains("PARQUET", sql, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("DRY_RUN: would run", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_AthenaBadDryRun_IsAnInitErrorNamingTheVariableAndValue()
    {
        var values = new Dictionary<string, string?>
        {
            ["_HANDLER"] = "MergeSmallFiles",
            ["RETAIL_LAKE"] = "s3://retail-lake",
            ["COMPACTION_ENGINE"] = "athena",
            ["DRY_RUN"] = "maybe",
        };
        Func<string, string?> env = k => values.GetValueOrDefault(k);
        var logs = new LambdaLogging(LogLevel.Information, TextWriter.Null);

        var e = Assert.Throws<LambdaSettingException>(() => MergeSmallFilesSetup.Create(LambdaSettings.FromEnvironment(env), env,
            () => throw new InvalidOperationException("athena needs no store"), new Retail.Storage.RetailLakeDefinition(), logs, TimeProvider.System, _ => new RecordingEngine()));

        Assert.Equal("DRY_RUN", e.Setting);
        Assert.Contains("DRY_RUN 'maybe'", e.Message, StringComparison.Ordinal);
    }
}
