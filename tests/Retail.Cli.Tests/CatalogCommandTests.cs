using System.Collections.Concurrent;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Cli.Tests;

public sealed class CatalogCommandTests
{
    private static string Golden(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retail.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "tests", "Retail.Sinks.Athena.Tests", "Golden", name)).ReplaceLineEndings("\n");
        throw new FileNotFoundException("Retail.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task Ddl_Projection_PrintsTheGoldenStatementsWithoutAddPartition()
    {
        var result = await CliRunner.RunAsync("catalog", "ddl", "--projection", "--location", "s3://bucket/lake");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(Golden("catalog-projection.sql") + "\n", result.StdoutText);
        Assert.DoesNotContain("ADD IF NOT EXISTS", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Ddl_FromTo_PrintsTheGoldenStatementsWithEachHoursPartitions()
    {
        var result = await CliRunner.RunAsync("catalog", "ddl", "--location", "s3://bucket/lake/", "--from", "2020-02-28T02", "--to", "2020-02-28T03:59:00Z");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(Golden("catalog-partitions-2020022802-03.sql") + "\n", result.StdoutText);
    }

    [Fact]
    public async Task Ddl_WithoutProjectionOrHours_WarnsThatTheTablesReadNoHour()
    {
        var result = await CliRunner.RunAsync("catalog", "ddl", "--database", "retail");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("CREATE DATABASE IF NOT EXISTS retail;", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("LOCATION 's3://<bucket>/json-data/'", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("[WARN] no partitions", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--location", "bucket/lake")]
    [InlineData("--database", "my-db")]
    [InlineData("--from", "yesterday")]
    public async Task Ddl_BadValue_FailsNamingTheOptionAndValue(string option, string value)
    {
        var result = await CliRunner.RunAsync("catalog", "ddl", option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(option, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(value, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Ddl_CompactionEngineAthena_ParquetTableGetsNoProjection()
    {
        var result = await CliRunner.RunAsync("catalog", "ddl", "--projection", "--compaction-engine", "athena", "--location", "s3://bucket/lake");
        Assert.Equal(0, result.ExitCode);
        string parquet = result.StdoutText[result.StdoutText.IndexOf("mydatabase.ctas_retail_trans_parquet", StringComparison.Ordinal)..];
        Assert.DoesNotContain("projection", parquet, StringComparison.Ordinal);
        Assert.Contains("'projection.enabled' = 'true'", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_OnAthenaFake_RunsEveryStatementInOrderOnTheWorkGroup()
    {
        UseFakeCredentials();
        var seen = new ConcurrentQueue<string>();
        await using var fake = await AthenaLoopbackFake.StartAsync((s, _) => { seen.Enqueue(s.QueryString); return ValueTask.FromResult(FakeQueryOutcome.Ddl); });
        var ddl = await CliRunner.RunAsync("catalog", "ddl", "--projection", "--location", "s3://bucket/lake");

        var result = await CliRunner.RunAsync("catalog", "apply", "--projection", "--location", "s3://bucket/lake", "--work-group", "retail",
            "--output-location", "s3://results-bucket/athena/", "--athena-endpoint-url", fake.Url.ToString(), "--region", "us-east-1");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(ddl.StdoutText, string.Concat(seen.Select(s => s + ";\n\n")));
        Assert.All(fake.Started, s => Assert.Equal(((string?)null, "retail", "s3://results-bucket/athena/"), (s.Database, s.WorkGroup, s.OutputLocation)));
        Assert.Contains("statement 3 of 3", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("catalog applied: 3 statements", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_StatementFailsOnAthenaFake_ExitsOneNamingStatementAndReason()
    {
        UseFakeCredentials();
        await using var fake = await AthenaLoopbackFake.StartAsync((s, _) => s.QueryString.StartsWith("CREATE EXTERNAL", StringComparison.Ordinal)
            ? throw new FakeQueryFailure("AccessDeniedException: User is not authorized to perform: glue:CreateTable") : ValueTask.FromResult(FakeQueryOutcome.Ddl));
        var result = await CliRunner.RunAsync("catalog", "apply", "--location", "s3://bucket/lake", "--athena-endpoint-url", fake.Url.ToString(), "--region", "us-east-1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("catalog statement 2 of 3 (CREATE EXTERNAL TABLE IF NOT EXISTS mydatabase.retail_trans_json (", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("glue:CreateTable", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, fake.Started.Count);
    }

    [Fact]
    public async Task Apply_WithoutLocation_Refused()
    {
        var result = await CliRunner.RunAsync("catalog", "apply", "--region", "us-east-1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--location", result.Stderr, StringComparison.Ordinal);
    }

    private static void UseFakeCredentials()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
    }
}
