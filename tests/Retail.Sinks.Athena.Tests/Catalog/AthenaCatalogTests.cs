using Microsoft.Extensions.Time.Testing;
using Retail.Compaction;
using Retail.Core.Tests;
using Retail.Sinks.Athena.Tests.Compaction;
using Retail.Sinks.Athena.Tests.Fakes;
using Retail.Sinks.DuckDb;
using Retail.Storage;
using Xunit;

namespace Retail.Sinks.Athena.Tests.Catalog;

public sealed class AthenaCatalogTests
{
    private static readonly DateTime Hour = new(2020, 2, 28, 2, 0, 0, DateTimeKind.Utc);

    private static string Text(IReadOnlyList<string> statements) => string.Join(";\n\n", statements) + ";\n";

    private static AthenaCatalogOptions Options(bool projection = false) => new() { Location = "s3://bucket/lake", PartitionProjection = projection };

    [Fact]
    public void Statements_Projection_MatchGoldenAndAddNoPartition()
    {
        var statements = AthenaCatalog.Statements(Options(projection: true));
        Assert.Equal(3, statements.Count);
        Assert.DoesNotContain(statements, s => s.Contains("ADD IF NOT EXISTS", StringComparison.Ordinal) || s.Contains("PARTITION (", StringComparison.Ordinal));
        Assert.All(statements.Skip(1), s => Assert.Contains("'projection.enabled' = 'true'", s));
        Assert.Contains("'storage.location.template' = 's3://bucket/lake/json-data/year=${year}/month=${month}/day=${day}/hour=${hour}/'", statements[1]);
        Assert.Contains("'storage.location.template' = 's3://bucket/lake/parquet-retail-trans/year=${year}/month=${month}/day=${day}/hour=${hour}/'", statements[2]);
        AthenaCtasCompactorTests.AssertGolden("catalog-projection.sql", Text(statements));
    }

    [Fact]
    public void Statements_TwoHours_MatchGoldenWithPartitionsOfBothTables()
    {
        var options = Options().AddHours(Hour, Hour.AddMinutes(75));
        var statements = AthenaCatalog.Statements(options);
        Assert.Equal(5, statements.Count);
        Assert.Contains("PARTITION (year=2020, month=2, day=28, hour=3) LOCATION 's3://bucket/lake/json-data/year=2020/month=02/day=28/hour=03/'", statements[3]);
        Assert.Contains("PARTITION (year=2020, month=2, day=28, hour=2) LOCATION 's3://bucket/lake/parquet-retail-trans/year=2020/month=02/day=28/hour=02/'", statements[4]);
        AthenaCtasCompactorTests.AssertGolden("catalog-partitions-2020022802-03.sql", Text(statements));
    }

    [Fact]
    public void Statements_CtasCompactor_ParquetTableHasNeitherProjectionNorPartitions()
    {
        foreach (bool projection in new[] { true, false })
        {
            var options = Options(projection).AddHours(Hour, Hour);
            options.ParquetPartitioning = ParquetPartitioning.CompactorRegistered;
            var statements = AthenaCatalog.Statements(options);
            var parquet = statements.Single(s => s.StartsWith("CREATE EXTERNAL TABLE IF NOT EXISTS mydatabase.ctas_retail_trans_parquet", StringComparison.Ordinal));
            Assert.DoesNotContain("projection", parquet);
            Assert.DoesNotContain(statements, s => s.StartsWith("ALTER TABLE mydatabase.ctas_retail_trans_parquet", StringComparison.Ordinal));
            Assert.Equal(!projection, statements.Any(s => s.StartsWith("ALTER TABLE mydatabase.retail_trans_json", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void Statements_150Hours_SplitIntoAddPartitionStatementsOfAtMost100()
    {
        var statements = AthenaCatalog.Statements(Options().AddHours(Hour, Hour.AddHours(149)));
        var json = statements.Where(s => s.StartsWith("ALTER TABLE mydatabase.retail_trans_json ADD IF NOT EXISTS", StringComparison.Ordinal)).ToList();
        Assert.Equal([100, 50], json.Select(s => s.Split("PARTITION (").Length - 1));
        var all = json.SelectMany(s => s.Split('\n').Skip(1)).ToList();
        Assert.Equal(150, all.Distinct().Count());
        Assert.Equal(2, statements.Count(s => s.StartsWith("ALTER TABLE mydatabase.ctas_retail_trans_parquet ADD IF NOT EXISTS", StringComparison.Ordinal)));
    }

    [Fact]
    public void Statements_DeclareTheFilesRealTypesNeverFloat()
    {
        foreach (var table in AthenaCatalog.Statements(Options()).Where(s => s.StartsWith("CREATE EXTERNAL TABLE", StringComparison.Ordinal)))
        {
            Assert.Contains("\n  price decimal(18,4),\n", table);
            Assert.Contains("\n  invoicedate timestamp,\n", table);
            Assert.Contains("\n  quantity int,\n", table);
            Assert.DoesNotContain("float", table);
            Assert.DoesNotContain("double", table);
            Assert.Contains("PARTITIONED BY (year int, month int, day int, hour int)", table);
        }
    }

    [Fact]
    public async Task Columns_AreTheDuckDbViewsColumnsInTheSameOrderWithCorrespondingTypes()
    {
        using var dir = new TempDir();
        foreach (var f in LakeLayoutFolders) Directory.CreateDirectory(Path.Combine(dir.Path, f));
        await using var duck = new DuckDbQueryEngine(dir.Path);
        var ddl = AthenaCatalog.Statements(Options());
        foreach (var (table, statement) in new[] { (RetailLakeDefinition.DefaultJsonTableName, ddl[1]), (RetailLakeDefinition.DefaultParquetTableName, ddl[2]) })
        {
            var view = await duck.QueryAsync($"SELECT * FROM {table} LIMIT 0");
            var declared = statement.Split('\n').Skip(1).TakeWhile(l => l != ")").Select(l => l.Trim().TrimEnd(',').Split(' '))
                .Concat(statement.Split('\n').Single(l => l.StartsWith("PARTITIONED BY", StringComparison.Ordinal))["PARTITIONED BY (".Length..^1].Split(", ").Select(p => p.Split(' ')))
                .ToList();
            Assert.Equal(view.Columns, declared.Select(d => d[0]));
            // DuckDB widens price to DECIMAL(38,4) so that sums cannot overflow; the files (and Athena's DDL) hold DECIMAL(18,4).
            Assert.Equal(view.ColumnTypes.Select(t => t == "DECIMAL(38,4)" ? "decimal(18,4)" : AthenaCatalog.DdlType(t)), declared.Select(d => d[1]));
        }
    }

    private static readonly string[] LakeLayoutFolders = [LakeLayout.JsonPrefix, LakeLayout.ParquetPrefix, LakeLayout.ErrorPrefix, LakeLayout.ControlPrefix];

    [Theory]
    [InlineData("Database", "my-db")]
    [InlineData("Location", "bucket/lake")]
    [InlineData("Location", "s3://bucket/it's")]
    [InlineData("ProjectionFirstYear", "2100")]
    public void Statements_BadSetting_ErrorNamesSettingAndValue(string setting, string value)
    {
        var options = Options(projection: true);
        switch (setting)
        {
            case "Database": options.Database = value; break;
            case "Location": options.Location = value; break;
            default: options.ProjectionFirstYear = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
        }
        var e = Assert.Throws<ArgumentException>(() => AthenaCatalog.Statements(options));
        Assert.Contains($"AthenaCatalogOptions.{setting}", e.Message);
        Assert.Contains(value, e.Message);
    }

    [Fact]
    public void Statements_WithoutLocation_ShowPlaceholder()
        => Assert.Contains("LOCATION 's3://<bucket>/json-data/'", AthenaCatalog.Statements(new AthenaCatalogOptions())[1]);

    [Fact]
    public async Task Apply_OnAthenaFake_CreatesTablesTheCtasCompactorThenCompactsInto()
    {
        var catalog = new FakeAthenaCatalog();
        await using var fake = await AthenaLoopbackFake.StartAsync(catalog.ExecuteAsync);
        var options = Options().AddHours(Hour, Hour);
        options.ParquetPartitioning = ParquetPartitioning.CompactorRegistered;
        var progress = new List<string>();

        int n = await AthenaCatalog.ApplyAsync(options, AthenaCtasCompactorTests.Athena(fake, database: null), new SyncProgress(progress.Add));

        Assert.Equal(AthenaCatalog.Statements(options), fake.Started.Select(s => s.QueryString));
        Assert.Equal(4, n);
        Assert.Equal(4, progress.Count);
        Assert.StartsWith("statement 1 of 4: CREATE DATABASE IF NOT EXISTS mydatabase", progress[0], StringComparison.Ordinal);
        Assert.Equal("s3://bucket/lake/json-data/", catalog.TableLocations["mydatabase.retail_trans_json"]);
        Assert.Equal("s3://bucket/lake/parquet-retail-trans/", catalog.TableLocations["mydatabase.ctas_retail_trans_parquet"]);

        var rows = File.ReadLines(Conformance.ConformanceLake.SamplePath("online_retail_2010_sample.csv")).Skip(1).Take(7).ToArray();
        catalog.PutObject($"s3://bucket/lake/json-data/{CtasStatements.HourPath(Hour)}", rows);
        var report = await AthenaCtasCompactor.Create(new AthenaCompactorOptions().UseLake("s3://bucket/lake"), AthenaCtasCompactorTests.Athena(fake),
            new FakeTimeProvider(new DateTimeOffset(2020, 2, 28, 3, 5, 0, TimeSpan.Zero))).CompactHoursAsync([Hour]);
        Assert.Equal(HourCompactionOutcome.Compacted, report.Hours[0].Outcome);
        Assert.Equal(rows.Order(), catalog.RowsOf("mydatabase.ctas_retail_trans_parquet", 2020, 2, 28, 2).Order());
    }

    [Fact]
    public async Task Apply_StatementFails_OnAthenaFake_ErrorNamesStatementAndReasonAndStops()
    {
        var catalog = new FakeAthenaCatalog { FailWhen = s => s.QueryString.Contains("ctas_retail_trans_parquet", StringComparison.Ordinal) ? "AccessDeniedException: no glue:CreateTable" : null };
        await using var fake = await AthenaLoopbackFake.StartAsync(catalog.ExecuteAsync);
        var options = Options().AddHours(Hour, Hour);

        var e = await Assert.ThrowsAsync<AthenaQueryException>(async () => await AthenaCatalog.ApplyAsync(options, AthenaCtasCompactorTests.Athena(fake, database: null)));

        Assert.Contains("catalog statement 3 of 5 (CREATE EXTERNAL TABLE IF NOT EXISTS mydatabase.ctas_retail_trans_parquet (", e.Message);
        Assert.Contains("AccessDeniedException: no glue:CreateTable", e.Message);
        Assert.Equal(3, fake.Started.Count);
    }

    [Fact]
    public async Task Apply_WithTheNewDatabaseAsQueryContext_OnAthenaFake_FailsAsAthenaDoes()
    {
        // Athena refuses a QueryExecutionContext.Database that does not exist: CREATE DATABASE must run without one.
        var catalog = new FakeAthenaCatalog();
        await using var fake = await AthenaLoopbackFake.StartAsync(catalog.ExecuteAsync);
        var e = await Assert.ThrowsAsync<AthenaQueryException>(async () => await AthenaCatalog.ApplyAsync(Options(), AthenaCtasCompactorTests.Athena(fake)));
        Assert.Contains("SCHEMA_NOT_FOUND", e.Message);
    }

    [Theory]
    [InlineData("JsonPrefix", "json'data/")]
    [InlineData("ParquetPrefix", "parquet${x}/")]
    [InlineData("JsonTableName", "_json")]
    public void Statements_LakeSettingThatWouldBreakTheDdl_ErrorNamesIt(string setting, string value)
    {
        var options = Options();
        switch (setting)
        {
            case "JsonPrefix": options.Lake.JsonPrefix = value; break;
            case "ParquetPrefix": options.Lake.ParquetPrefix = value; break;
            default: options.Lake.JsonTableName = value; break;
        }
        var e = Assert.Throws<ArgumentException>(() => AthenaCatalog.Statements(options));
        Assert.Contains(setting, e.Message);
        Assert.Contains(value, e.Message);
    }

    [Fact]
    public void AddHours_LocalTime_IsConvertedToUtc()
    {
        var local = new DateTime(2020, 2, 28, 2, 30, 0, DateTimeKind.Utc).ToLocalTime();
        var options = Options().AddHours(local, local);
        Assert.Equal([Hour], options.Hours.Select(AthenaCatalogOptions.Truncate));
    }

    [Fact]
    public async Task Apply_WithoutLocation_ErrorNamesLocationAndRunsNothing()
    {
        var catalog = new FakeAthenaCatalog();
        await using var fake = await AthenaLoopbackFake.StartAsync(catalog.ExecuteAsync);
        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await AthenaCatalog.ApplyAsync(new AthenaCatalogOptions(), AthenaCtasCompactorTests.Athena(fake)));
        Assert.Contains("AthenaCatalogOptions.Location", e.Message);
        Assert.Empty(fake.Started);
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
