using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Retail.Benchmarks;

/// <summary>Throughput column: <see cref="CodecBenchmarks.Records"/> divided by the mean time of one operation.</summary>
internal sealed class RecordsPerSecondColumn : IColumn
{
    public string Id => nameof(RecordsPerSecondColumn);
    public string ColumnName => "Records/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Records per second: {CodecBenchmarks.Records:N0} / Mean";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || stats.Mean <= 0) return "NA";
        double perSecond = CodecBenchmarks.Records / (stats.Mean / 1e9);
        return perSecond.ToString("N0", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
