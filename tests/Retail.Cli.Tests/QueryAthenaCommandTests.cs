using Retail.Core.Tests;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Cli.Tests;

public sealed class QueryAthenaCommandTests
{
    private static readonly string[] WorkshopQueries =
    [
        "select invoice, stockcode, description, quantity, invoicedate, price, customer_id, country from retail_trans_json order by invoicedate, invoice, stockcode, quantity, price, description, customer_id limit 10",
        "select country, count(*) as n from retail_trans_json group by country order by country",
        "select sum(quantity * price) as revenue from ctas_retail_trans_parquet",
        "select cast(invoicedate as date) as day, cast(sum(quantity) as bigint) as quantity from ctas_retail_trans_parquet group by cast(invoicedate as date) order by day",
    ];

    private static async Task<string> DemoLakeAsync(TempDir dir)
    {
        var demo = await CliRunner.RunAsync("demo", "--input-file", SharedData.Path(SharedData.DevSample), "--partition-by", "event-time", "--lake", dir.Path);
        Assert.True(demo.ExitCode == 0, demo.Stderr);
        return dir.Path;
    }

    private static void UseFakeCredentials()
    {
        // The SDK's default chain (environment first); the same dummy keys as the other CLI tests with AWS.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
    }

    [Fact]
    public async Task Query_WorkshopQueriesOnAthenaFake_PrintTheSameAsDuckDb()
    {
        using var dir = new TempDir();
        string lake = await DemoLakeAsync(dir);
        UseFakeCredentials();
        using var executor = new DuckDbStatementExecutor(lake);
        await using var fake = await AthenaLoopbackFake.StartAsync(executor.Executor);
        foreach (string sql in WorkshopQueries)
            foreach (string format in new[] { "table", "csv", "json" })
            {
                var duck = await CliRunner.RunAsync("query", sql, "--lake", lake, "--format", format);
                var athena = await CliRunner.RunAsync("query", sql, "--engine", "athena", "--athena-endpoint-url", fake.Url.ToString(), "--region", "us-east-1",
                    "--output-location", "s3://results-bucket/athena/", "--format", format);
                Assert.True(duck.ExitCode == 0, duck.Stderr);
                Assert.True(athena.ExitCode == 0, athena.Stderr);
                Assert.Equal(duck.StdoutText, athena.StdoutText);
                Assert.Contains('\n', duck.StdoutText.TrimEnd());
            }
        Assert.All(fake.Started, s => Assert.Equal(("mydatabase", "primary", "s3://results-bucket/athena/"), (s.Database, s.WorkGroup, s.OutputLocation)));
        Assert.Equal(WorkshopQueries.Length * 3, fake.Started.Count);
    }

    [Fact]
    public async Task Query_FailedOnAthenaFake_ExitsOneWithAthenasReason()
    {
        UseFakeCredentials();
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => throw new FakeQueryFailure("TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.mydatabase.nope' does not exist"));
        var result = await CliRunner.RunAsync("query", "select * from nope", "--engine", "athena", "--athena-endpoint-url", fake.Url.ToString(), "--region", "us-east-1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.mydatabase.nope' does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_AthenaWithLake_RefusedNamingLake()
    {
        using var dir = new TempDir();
        var result = await CliRunner.RunAsync("query", "select 1", "--engine", "athena", "--lake", dir.Path, "--region", "us-east-1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--lake", result.Stderr, StringComparison.Ordinal);
    }
}
