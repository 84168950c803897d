using System.Globalization;
using Retail.Codecs;
using Retail.Core.Tests;
using Retail.Storage;

namespace Retail.Sinks.Athena.Tests.Conformance;

/// <summary>
/// A lake of the shared dev sample's real rows: one JSON lines object per InvoiceDate hour (as Firehose writes them) and
/// its hours compacted into Parquet by the real Parquet compactor; shared by the engine conformance tests.
/// </summary>
public sealed class ConformanceLake : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>Builds the lake.</summary>
    public ConformanceLake()
    {
        using (var reader = OnlineRetailReader.Open(SamplePath("online_retail_II_dev_sample.csv")))
            while (reader.TryRead(out var record)) Records.Add(record);
        var store = new LocalFolderObjectStore(LakePath);
        foreach (var hour in Records.GroupBy(r => new DateTime(r.InvoiceDate.Year, r.InvoiceDate.Month, r.InvoiceDate.Day, r.InvoiceDate.Hour, 0, 0)))
        {
            string key = LakeLayout.JsonPrefix + LakeLayout.HourPartition(hour.Key)
                + string.Create(CultureInfo.InvariantCulture, $"retail-trans-1-{hour.Min(r => r.InvoiceDate):yyyy-MM-dd-HH-mm-ss}-0");
            using var buffer = new MemoryStream();
            using (var writer = new JsonLinesWriter(buffer, leaveOpen: true))
                foreach (var r in hour) writer.Write(r);
            store.PutAsync(key, buffer.ToArray()).AsTask().GetAwaiter().GetResult();
        }
        var report = Retail.Sinks.Parquet.ParquetCompactorFactory.Create(store)
            .CompactAsync(DateTimeOffset.UtcNow, Retail.Compaction.CompactionScope.All).AsTask().GetAwaiter().GetResult();
        if (report.FailedHours > 0) throw new InvalidOperationException("Compaction failed: " + string.Join("; ", report.Hours.Where(h => h.Error is not null).Select(h => h.Error)));
    }

    /// <summary>The lake folder.</summary>
    public string LakePath => _dir.Path;

    /// <summary>Every record in the lake (each table holds all of them).</summary>
    public List<RetailTransaction> Records { get; } = [];

    internal static string SamplePath(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{fileName} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Removes the lake.</summary>
    public void Dispose() => _dir.Dispose();
}
