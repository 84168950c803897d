using Amazon.Runtime;
using Retail.Query;
using Retail.Sinks.Athena.Tests.Fakes;

namespace Retail.Sinks.Athena.Tests.Client;

public sealed class AthenaQueryEngineTests
{
    private static readonly FakeQueryOutcome Sample = new(
        [new("invoice", "varchar"), new("quantity", "integer"), new("n", "bigint"), new("price", "decimal", 38, 4), new("invoicedate", "timestamp")],
        [["489434", "12", "3", "6.9500", "2009-12-01 07:45:00.000"], [null, null, null, null, null]]);

    private static IQueryEngine Engine(AthenaLoopbackFake fake) => AthenaClientFactory.CreateQueryEngine(
        new AthenaOptions { ServiceUrl = fake.Url.ToString(), Region = "us-east-1", PollInterval = TimeSpan.FromMilliseconds(1), MaxPollInterval = TimeSpan.FromMilliseconds(2),
            OutputLocation = "s3://bucket/results/", Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) } },
        new BasicAWSCredentials("AKIDEXAMPLE", "secret"));

    [Fact]
    public async Task QueryAsync_OnAthenaFake_ReturnsTypedValuesAndNulls()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        var result = await Engine(fake).QueryAsync("select 1");
        Assert.Equal(["invoice", "quantity", "n", "price", "invoicedate"], result.Columns);
        Assert.Equal(["VARCHAR", "INTEGER", "BIGINT", "DECIMAL(38,4)", "TIMESTAMP"], result.ColumnTypes);
        Assert.Equal(new object?[] { "489434", 12, 3L, 6.95m, new DateTime(2009, 12, 1, 7, 45, 0) }, result.Rows[0]);
        Assert.All(result.Rows[1], Assert.Null);
        Assert.Equal(2, result.Rows.Count);
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_ThrottledStartIsRetriedWithTheSameTokenAndRunsOnce()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        fake.ThrottleNext(0);
        var engine = Engine(fake);
        fake.FailNext(2);
        await engine.QueryAsync("select 1");
        Assert.Single(fake.Started);
        var tokens = fake.Tokens.ToArray();
        Assert.Single(tokens.Distinct());
        Assert.InRange(tokens[0].Length, 32, 128);
        Assert.Equal(3, fake.Calls.Count(c => c == "AmazonAthena.StartQueryExecution"));
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_FailureNamesReasonCategoryAndId()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => throw new FakeQueryFailure("SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved", 2, 1100));
        var e = await Assert.ThrowsAsync<AthenaQueryException>(() => Engine(fake).QueryAsync("select x").AsTask());
        Assert.Equal("FAILED", e.State);
        Assert.Contains("SYNTAX_ERROR: line 1:8", e.Message, StringComparison.Ordinal);
        Assert.Contains("category 2", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.QueryExecutionId, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_ReadsEveryPageOfMoreThan1000Rows()
    {
        var rows = Enumerable.Range(0, 2500).Select(i => new string?[] { i.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList();
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(new FakeQueryOutcome([new("n", "bigint")], rows)));
        var result = await Engine(fake).QueryAsync("select n");
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (object?)(long)i), result.Rows.Select(r => r[0]));
        Assert.False(result.Truncated);
        Assert.Equal(3, fake.Calls.Count(c => c == "AmazonAthena.GetQueryResults"));
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_ParametersAreExecutionParametersNotText()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        await Engine(fake).QueryAsync("select * from t where country = ? and quantity > ? and price = ?", ["O'Brien", 5, 2.5m]);
        var s = Assert.Single(fake.Started);
        Assert.Equal(["'O''Brien'", "5", "DECIMAL '2.5'"], s.ExecutionParameters);
        Assert.Equal("select * from t where country = ? and quantity > ? and price = ?", s.QueryString);
        Assert.Equal("mydatabase", s.Database);
        Assert.Equal("s3://bucket/results/", s.OutputLocation);
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_CancellationCallsStopQueryExecution()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        fake.QueuedPolls = int.MaxValue;
        using var cts = new CancellationTokenSource();
        using var transport = new CancelOnPoll(cts, new SocketsHttpHandler());
        var engine = AthenaClientFactory.CreateQueryEngine(new AthenaOptions { ServiceUrl = fake.Url.ToString(), Region = "us-east-1" },
            new BasicAWSCredentials("AKIDEXAMPLE", "secret"), transport);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.QueryAsync("select 1", cancellationToken: cts.Token).AsTask());
        Assert.Contains("AmazonAthena.StopQueryExecution", fake.Calls);
    }

    private sealed class CancelOnPoll(CancellationTokenSource cts, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Headers.GetValues("X-Amz-Target").Single() == "AmazonAthena.GetQueryExecution") await cts.CancelAsync();
            return response;
        }
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFake_PollsThroughQueuedAndRunningUntilSucceeded()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        fake.QueuedPolls = 3;
        fake.RunningPolls = 2;
        var result = await Engine(fake).QueryAsync("select 1");
        Assert.Equal(2, result.Rows.Count);
        Assert.Equal(6, fake.Calls.Count(c => c == "AmazonAthena.GetQueryExecution"));
    }

    [Fact]
    public async Task QueryAsync_OnAthenaFakeRunningBackToQueued_KeepsPollingAndReadsTheRows()
    {
        await using var fake = await AthenaLoopbackFake.StartAsync((_, _) => ValueTask.FromResult(Sample));
        fake.RequeuedPolls = 2;
        var result = await Engine(fake).QueryAsync("select 1");
        Assert.Equal(2, result.Rows.Count);
        Assert.Single(fake.Started);
        Assert.Equal(6, fake.Calls.Count(c => c == "AmazonAthena.GetQueryExecution"));
    }
}
