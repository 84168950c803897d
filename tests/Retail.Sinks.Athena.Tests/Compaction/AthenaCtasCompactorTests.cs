using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Retail.Compaction;
using Retail.Query;
using Retail.Sinks.Athena.Tests.Fakes;
using Xunit;

namespace Retail.Sinks.Athena.Tests.Compaction;

/// <summary>
/// The CTAS compactor through the real Athena client (signed JSON 1.1 calls, polling, paging) against the strict loopback
/// Athena fake, whose statements run on a fake catalog of tables, partitions and S3 objects.
/// </summary>
public sealed class AthenaCtasCompactorTests : IAsyncLifetime
{
    private const string Json = "s3://bucket/json-data/";
    private const string Out = "s3://bucket/parquet-retail-trans/";
    private const string JsonTable = "mydatabase.retail_trans_json";
    private const string ParquetTable = "mydatabase.ctas_retail_trans_parquet";
    private static readonly DateTime Hour = new(2020, 2, 28, 2, 0, 0, DateTimeKind.Utc);

    private static readonly string[] SampleRows = File.ReadLines(Conformance.ConformanceLake.SamplePath("online_retail_2010_sample.csv")).Skip(1).Take(60).ToArray();

    private readonly FakeAthenaCatalog _catalog = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2020, 2, 28, 3, 5, 0, TimeSpan.Zero));

    private AthenaLoopbackFake _fake = null!;

    public async Task InitializeAsync()
    {
        _catalog.CreatePartitionedTable(JsonTable);
        _catalog.CreatePartitionedTable(ParquetTable);
        _fake = await AthenaLoopbackFake.StartAsync(_catalog.ExecuteAsync);
    }

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    internal static IQueryEngine Athena(AthenaLoopbackFake fake, string? database = "mydatabase") => AthenaClientFactory.CreateQueryEngine(
        new AthenaOptions { Database = database, ServiceUrl = fake.Url.ToString(), Region = "us-east-1", PollInterval = TimeSpan.FromMilliseconds(1), MaxPollInterval = TimeSpan.FromMilliseconds(2),
            OutputLocation = "s3://bucket/results/", Retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) } },
        new BasicAWSCredentials("AKIDEXAMPLE", "secret"));

    private AthenaCtasCompactor Compactor() => AthenaCtasCompactor.Create(
        new AthenaCompactorOptions { OldTableLocationPrefix = "s3://bucket/json-data", OutputPrefix = Out },
        Athena(_fake), _time);

    private static string HourPrefix(DateTime h) => $"{Json}year={h:yyyy}/month={h:MM}/day={h:dd}/hour={h:HH}/";

    private List<string> Published(DateTime h) => _catalog.RowsOf(ParquetTable, h.Year, h.Month, h.Day, h.Hour);

    [Fact]
    public async Task CompactHours_CtasFails_OnAthenaFake_ErrorNamesReasonAndHourOtherHoursContinue()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..10]);
        _catalog.PutObject(HourPrefix(Hour.AddHours(1)), SampleRows[10..15]);
        _catalog.FailWhen = s => s.QueryString.StartsWith("CREATE TABLE", StringComparison.Ordinal) && s.QueryString.Contains("hour = 2", StringComparison.Ordinal)
            ? "HIVE_BAD_DATA: Error parsing field value" : null;

        var report = await Compactor().CompactHoursAsync([Hour, Hour.AddHours(1)]);

        var failed = Assert.Single(report.Hours, h => h.Outcome == HourCompactionOutcome.Failed);
        Assert.Equal(Hour, failed.Hour);
        Assert.Contains("HIVE_BAD_DATA: Error parsing field value", failed.Error);
        Assert.Contains("2020-02-28 02:00", failed.Error);
        Assert.Empty(Published(Hour));
        Assert.Equal(SampleRows[10..15], Published(Hour.AddHours(1)));
    }

    [Fact]
    public async Task CompactHours_RerunOfCompletedHour_OnAthenaFake_UpToDateWithoutDuplicates()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..10]);
        _catalog.PutObject(HourPrefix(Hour), SampleRows[10..25]);
        var first = await Compactor().CompactHoursAsync([Hour]);
        Assert.Equal(HourCompactionOutcome.Compacted, first.Hours[0].Outcome);
        Assert.Equal(25, first.Hours[0].RowsOut);
        int ctasBefore = _catalog.CtasPartitionCounts.Count;

        _time.Advance(TimeSpan.FromHours(1));
        var again = await Compactor().CompactHoursAsync([Hour]);

        Assert.Equal(HourCompactionOutcome.UpToDate, again.Hours[0].Outcome);
        Assert.Equal(ctasBefore, _catalog.CtasPartitionCounts.Count);
        Assert.Equal(SampleRows[..25].Order(), Published(Hour).Order());
    }

    [Fact]
    public async Task CompactHours_LateObjectAdded_OnAthenaFake_RecompactedEveryRowOnce()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..20]);
        await Compactor().CompactHoursAsync([Hour]);
        _catalog.PutObject(HourPrefix(Hour), SampleRows[20..27]);

        _time.Advance(TimeSpan.FromHours(1));
        var report = await Compactor().CompactHoursAsync([Hour]);

        Assert.Equal(HourCompactionOutcome.Compacted, report.Hours[0].Outcome);
        Assert.Equal(2, report.Hours[0].SourceObjects);
        Assert.Equal(SampleRows[..27].Order(), Published(Hour).Order());
    }

    [Fact]
    public async Task CompactHours_150Hours_OnAthenaFake_SplitIntoCtasOfAtMost100Partitions()
    {
        var hours = Enumerable.Range(0, 150).Select(i => Hour.AddHours(i)).ToList();
        foreach (var (h, i) in hours.Select((h, i) => (h, i))) _catalog.PutObject(HourPrefix(h), [SampleRows[i % SampleRows.Length]]);

        var report = await Compactor().CompactHoursAsync(hours);

        Assert.Equal(150, report.Hours.Count(h => h.Outcome == HourCompactionOutcome.Compacted));
        Assert.True(_catalog.CtasPartitionCounts.Count >= 2);
        Assert.All(_catalog.CtasPartitionCounts, n => Assert.InRange(n, 1, 100));
        Assert.Equal(150, _catalog.CtasPartitionCounts.Sum());
        Assert.All(hours.Select((h, i) => (h, i)), x => Assert.Equal([SampleRows[x.i % SampleRows.Length]], Published(x.h)));
    }

    [Fact]
    public async Task CompactHours_CtasTargetNotEmpty_OnAthenaFake_FreshRunIdAndCompacted()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..8]);
        var plannedLocation = await FirstCtasLocation();
        _catalog.Objects[plannedLocation + "leftover.parquet"] = ["left over by a crashed run"];

        var report = await Compactor().CompactHoursAsync([Hour]);

        Assert.Equal(HourCompactionOutcome.Compacted, report.Hours[0].Outcome);
        Assert.Contains(_catalog.Statements, s => s.QueryString.StartsWith("CREATE TABLE", StringComparison.Ordinal) && s.QueryString.Contains(plannedLocation, StringComparison.Ordinal));
        Assert.Equal(SampleRows[..8].Order(), Published(Hour).Order());
    }

    private async Task<string> FirstCtasLocation()
    {
        // The same run on a copy of the catalog shows where the first attempt writes (the run id comes from the fixed clock).
        var probe = new FakeAthenaCatalog();
        probe.CreatePartitionedTable(JsonTable);
        probe.CreatePartitionedTable(ParquetTable);
        foreach (var o in _catalog.Objects) probe.Objects[o.Key] = o.Value;
        await using var probeFake = await AthenaLoopbackFake.StartAsync(probe.ExecuteAsync);
        await AthenaCtasCompactor.Create(new AthenaCompactorOptions { OldTableLocationPrefix = Json, OutputPrefix = Out }, Athena(probeFake), _time)
            .CompactHoursAsync([Hour]);
        var ctas = probe.Statements.Single(s => s.QueryString.StartsWith("CREATE TABLE", StringComparison.Ordinal)).QueryString;
        var start = ctas.IndexOf("external_location = '", StringComparison.Ordinal) + "external_location = '".Length;
        return ctas[start..ctas.IndexOf('\'', start)];
    }

    [Fact]
    public async Task CompactHours_CtasCountDiffers_OnAthenaFake_HourFailsNothingPublished()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..12]);
        _catalog.AnswerWhen = s => s.QueryString.StartsWith("SELECT count(*)", StringComparison.Ordinal)
            ? new FakeQueryOutcome([new FakeColumn("row_count", "bigint")], [["11"]]) : null;

        var report = await Compactor().CompactHoursAsync([Hour]);

        var hour = Assert.Single(report.Hours);
        Assert.Equal(HourCompactionOutcome.Failed, hour.Outcome);
        Assert.Contains("11 rows", hour.Error);
        Assert.Contains("12", hour.Error);
        Assert.Empty(Published(Hour));
        Assert.DoesNotContain(_catalog.Statements, s => s.QueryString.Contains("SET LOCATION", StringComparison.Ordinal));
    }

    [Fact]
    public void HourBefore_ScheduledEvent_IsThePreviousHour()
        => Assert.Equal(Hour, AthenaCtasCompactor.HourBefore(new DateTimeOffset(2020, 2, 28, 3, 5, 0, TimeSpan.Zero)));

    [Fact]
    public async Task CompactHours_ScheduledRun_OnAthenaFake_StatementsMatchGolden()
    {
        _catalog.PutObject(HourPrefix(Hour), SampleRows[..5]);
        var report = await Compactor().CompactHoursAsync([AthenaCtasCompactor.HourBefore(_time.GetUtcNow())]);
        Assert.Equal(HourCompactionOutcome.Compacted, report.Hours[0].Outcome);
        var text = string.Join(";\n\n", _catalog.Statements.Select(s => s.ExecutionParameters.Count == 0 ? s.QueryString : $"{s.QueryString}\n-- parameters: {string.Join(", ", s.ExecutionParameters)}")) + ";\n";
        AssertGolden("ctas-scheduled-2020022802.sql", text);
    }

    [Fact]
    public void PlanStatements_DryRunWithoutPrefixes_MatchesGoldenAndShowsPlaceholders()
    {
        var compactor = AthenaCtasCompactor.Create(AthenaCompactorOptions.FromEnvironment(v => v == "DRY_RUN" ? "true" : null), Athena(_fake), _time);
        var text = string.Join(";\n\n", compactor.PlanStatements([AthenaCtasCompactor.HourBefore(_time.GetUtcNow())])) + ";\n";
        Assert.Contains("s3://<bucket>/json-data/", text);
        Assert.Empty(_catalog.Statements);
        AssertGolden("ctas-dry-run-2020022802.sql", text);
    }

    internal static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        if (Environment.GetEnvironmentVariable("RETAIL_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(Environment.GetEnvironmentVariable("RETAIL_GOLDEN_DIR")!, name), actual);
            return;
        }
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }
}
