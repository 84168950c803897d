using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using DuckDB.NET.Data;
using Perfolizer.Metrology;
using Retail.Codecs;
using Retail.Compaction;
using Retail.Sinks.Parquet;
using Retail.Storage;
using Retail.Synthetic;

namespace Retail.Benchmarks;

/// <summary>
/// The Parquet compactor beside DuckDB, over the same lake: 1,000,000 synthetic records (seed 7) in 10
/// JSON-lines objects of one hour.
/// <list type="bullet">
/// <item><c>Compact</c>: <see cref="ParquetHourlyCompactor"/> (list, parse, write, verify, publish, manifest) vs
/// DuckDB <c>COPY (SELECT … FROM read_json(…, columns=…)) TO … (FORMAT PARQUET, COMPRESSION SNAPPY)</c> with
/// <c>SET preserve_insertion_order=false</c> (DuckDB's fastest), same column names and types.</item>
/// <item><c>Query</c>: DuckDB's monthly revenue query over each one's Parquet.</item>
/// </list>
/// The <c>Output</c> column is the Parquet size each produces. The set-up checks that both outputs hold the
/// same rows (count, revenue and a filtered count).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 10)]
[Config(typeof(Config))]
public class CompactionBenchmarks
{
    /// <summary>Records in the lake.</summary>
    public const int Records = 1_000_000;

    private const int Objects = 10;
    private const string Compact = "Compact";
    private const string Query = "Query";
    private static readonly DateTime Hour = new(2010, 12, 9, 10, 0, 0);
    private static readonly string SizesFile = Path.Combine(Path.GetTempPath(), "retail-compaction-benchmarks-sizes.txt");

    private string _root = "";
    private LocalFolderObjectStore _store = null!;
    private ParquetHourlyCompactor _compactor = null!;
    private ParquetHourlyCompactor _verifyingCompactor = null!;
    private DuckDBConnection _duck = null!;
    private string _duckOutput = "";
    private string _copySql = "";

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new OutputSizeColumn());
            SummaryStyle = SummaryStyle.Default.WithSizeUnit(SizeUnit.MB);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "retail-compaction-benchmarks");
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        _store = new LocalFolderObjectStore(_root);
        var records = new SyntheticTransactionGenerator(new SyntheticOptions { Seed = 7 }).Generate(Records).ToArray();
        int perObject = Records / Objects;
        for (int i = 0; i < Objects; i++)
        {
            var ms = new MemoryStream();
            using (var writer = new JsonLinesWriter(ms, leaveOpen: true))
                for (int r = i * perObject; r < (i + 1) * perObject; r++) writer.Write(records[r]);
            string key = string.Create(CultureInfo.InvariantCulture, $"{LakeLayout.JsonPrefix}{LakeLayout.HourPartition(Hour)}retail-stream-1-2010-12-09-10-{i:00}-00-{i:0000}");
            _store.PutAsync(key, ms.ToArray()).AsTask().GetAwaiter().GetResult();
        }
        _compactor = new ParquetHourlyCompactor(_store, new ParquetCompactorOptions());
        _verifyingCompactor = new ParquetHourlyCompactor(_store, new ParquetCompactorOptions { VerifyValues = true });

        _duckOutput = Path.Combine(_root, "duckdb-out", "retail.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(_duckOutput)!);
        _duck = new DuckDBConnection("Data Source=:memory:");
        _duck.Open();
        Execute("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false; SET preserve_insertion_order=false;");
        string json = Path.Combine(_root, LakeLayout.JsonPrefix).Replace('\\', '/') + "**/*";
        _copySql = $"COPY (SELECT Invoice AS invoice, StockCode AS stockcode, Description AS description, Quantity AS quantity, " +
            $"InvoiceDate AS invoicedate, Price AS price, Customer_ID AS customer_id, Country AS country " +
            $"FROM read_json('{json}', format='newline_delimited', timestampformat='%Y-%m-%d %H:%M:%S', " +
            $"columns={{Invoice:'VARCHAR', StockCode:'VARCHAR', Description:'VARCHAR', Quantity:'INTEGER', InvoiceDate:'TIMESTAMP', " +
            $"Price:'DECIMAL(18,4)', Customer_ID:'VARCHAR', Country:'VARCHAR'}})) " +
            $"TO '{_duckOutput.Replace('\\', '/')}' (FORMAT PARQUET, COMPRESSION SNAPPY)";

        // Both outputs, checked against each other and against the records.
        ResetRetailOutput();
        var hour = _compactor.CompactHourAsync(Hour).AsTask().GetAwaiter().GetResult();
        if (hour.Outcome != HourCompactionOutcome.Compacted || hour.RowsOut != Records)
            throw new InvalidOperationException($"Retail compaction: {hour}");
        Execute(_copySql);
        decimal revenue = records.Sum(r => r.Quantity * r.Price);
        foreach (var source in new[] { RetailSource, DuckDbSource })
        {
            long count = Convert.ToInt64(Scalar($"SELECT count(*) FROM {source}"), CultureInfo.InvariantCulture);
            decimal sum = Convert.ToDecimal(Scalar($"SELECT sum(quantity * price) FROM {source}"), CultureInfo.InvariantCulture);
            long late = Convert.ToInt64(Scalar($"SELECT count(*) FROM {source} WHERE invoicedate >= TIMESTAMP '2010-12-09 12:00:00'"), CultureInfo.InvariantCulture);
            long expectedLate = records.LongCount(r => r.InvoiceDate >= new DateTime(2010, 12, 9, 12, 0, 0));
            if (count != Records || sum != revenue || late != expectedLate)
                throw new InvalidOperationException($"{source}: {count} rows, revenue {sum}, {late} late rows; expected {Records}, {revenue}, {expectedLate}.");
        }
        long ours = RetailParquetBytes();
        long theirs = new FileInfo(_duckOutput).Length;
        File.WriteAllLines(SizesFile, [$"Retail={ours}", $"DuckDb={theirs}"]);
        Console.WriteLine($"// Parquet size: Retail {ours:N0} bytes, DuckDB {theirs:N0} bytes, ratio {(double)ours / theirs:F3}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _duck?.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string RetailSource => $"read_parquet('{Path.Combine(_root, LakeLayout.ParquetPrefix).Replace('\\', '/')}**/*.parquet')";

    private string DuckDbSource => $"read_parquet('{_duckOutput.Replace('\\', '/')}')";

    private long RetailParquetBytes() => _store.ListAsync(LakeLayout.ParquetPrefix).ToBlockingEnumerable().Sum(o => o.Size);

    private void ResetRetailOutput()
    {
        foreach (var prefix in new[] { LakeLayout.ParquetPrefix, LakeLayout.ControlPrefix })
            foreach (var o in _store.ListAsync(prefix).ToBlockingEnumerable().ToList())
                _store.DeleteAsync(o.Key).AsTask().GetAwaiter().GetResult();
    }

    private void Execute(string sql)
    {
        using var cmd = _duck.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var cmd = _duck.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    // ---------------------------------------------------------------- compaction

    [IterationSetup(Targets = [nameof(Compact_Retail_ParquetHourlyCompactor), nameof(Compact_Retail_VerifyValues)])]
    public void ResetBeforeCompaction() => ResetRetailOutput();

    // Both compaction benchmarks start from no output (and so run in the same job, one invocation per iteration).
    [IterationSetup(Target = nameof(Compact_DuckDb_CopyToParquet))]
    public void ResetBeforeCopy() => File.Delete(_duckOutput);

    [Benchmark, BenchmarkCategory(Compact)]
    public long Compact_Retail_ParquetHourlyCompactor()
    {
        var hour = _compactor.CompactHourAsync(Hour).AsTask().GetAwaiter().GetResult();
        return hour.Outcome == HourCompactionOutcome.Compacted ? hour.RowsOut : throw new InvalidOperationException(hour.ToString());
    }

    /// <summary>The same with <see cref="ParquetCompactorOptions.VerifyValues"/>: every value decoded by Parquet.Net before publish.</summary>
    [Benchmark, BenchmarkCategory(Compact)]
    public long Compact_Retail_VerifyValues()
    {
        var hour = _verifyingCompactor.CompactHourAsync(Hour).AsTask().GetAwaiter().GetResult();
        return hour.Outcome == HourCompactionOutcome.Compacted ? hour.RowsOut : throw new InvalidOperationException(hour.ToString());
    }

    [Benchmark(Baseline = true), BenchmarkCategory(Compact)]
    public long Compact_DuckDb_CopyToParquet()
    {
        Execute(_copySql);
        return new FileInfo(_duckOutput).Length;
    }

    // ---------------------------------------------------------------- query

    private const string RevenueSql = "SELECT date_trunc('month', invoicedate) m, sum(price * quantity) FROM {0} " +
        "WHERE invoicedate BETWEEN TIMESTAMP '2010-01-01' AND TIMESTAMP '2010-12-31' GROUP BY 1";

    private const int QueriesPerInvoke = 10;

    [Benchmark(OperationsPerInvoke = QueriesPerInvoke), BenchmarkCategory(Query)]
    public decimal Query_DuckDb_OverRetailParquet() => RunRevenue(RetailSource);

    [Benchmark(Baseline = true, OperationsPerInvoke = QueriesPerInvoke), BenchmarkCategory(Query)]
    public decimal Query_DuckDb_OverDuckDbParquet() => RunRevenue(DuckDbSource);

    private decimal RunRevenue(string source)
    {
        decimal total = 0;
        for (int i = 0; i < QueriesPerInvoke; i++)
        {
            using var cmd = _duck.CreateCommand();
            cmd.CommandText = string.Format(CultureInfo.InvariantCulture, RevenueSql, source);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) total += reader.GetDecimal(1);
        }
        return total;
    }

    /// <summary>Size of the Parquet each compaction benchmark produces (written by the set-up).</summary>
    private sealed class OutputSizeColumn : IColumn
    {
        public string Id => nameof(OutputSizeColumn);
        public string ColumnName => "Output";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Size;
        public string Legend => "Parquet bytes the compaction produces (Retail: all parts; DuckDB: its one file)";

        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            string method = benchmarkCase.Descriptor.WorkloadMethod.Name;
            string? who = method.StartsWith("Compact_Retail", StringComparison.Ordinal) ? "Retail"
                : method.StartsWith("Compact_DuckDb", StringComparison.Ordinal) ? "DuckDb" : null;
            if (who is null || !File.Exists(SizesFile)) return "-";
            foreach (var line in File.ReadAllLines(SizesFile))
            {
                var parts = line.Split('=');
                if (parts[0] == who && long.TryParse(parts[1], CultureInfo.InvariantCulture, out long bytes))
                    return string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F2} MB ({bytes:N0} B)");
            }
            return "-";
        }
    }
}
