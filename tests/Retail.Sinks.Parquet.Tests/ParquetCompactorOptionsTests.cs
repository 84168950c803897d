using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet.Tests;

public sealed class ParquetCompactorOptionsTests
{
    [Fact]
    public void Validate_Defaults_NoErrorsAndWorkshopValues()
    {
        var o = new ParquetCompactorOptions();
        Assert.Empty(o.Validate());
        Assert.Equal(("json-data/", "parquet-retail-trans/", "_retail/compaction/"), (o.SourcePrefix, o.TargetPrefix, o.ManifestPrefix));
        Assert.Equal((TimeSpan.FromMinutes(5), 1_000_000, 122_880, false), (o.Grace, o.MaxRowsPerFile, o.RowGroupSize, o.DeleteSourceAfterPublish));
        Assert.Equal(TimeSpan.FromHours(24), o.Lookback);
    }

    [Theory]
    [InlineData(nameof(ParquetCompactorOptions.MaxRowsPerFile), "(was 0)")]
    [InlineData(nameof(ParquetCompactorOptions.RowGroupSize), "(was -1)")]
    [InlineData(nameof(ParquetCompactorOptions.RowGroupSize) + "Huge", "between 1 and 1048576 (was 2000000)")]
    [InlineData(nameof(ParquetCompactorOptions.Grace), "(was -00:00:01)")]
    [InlineData(nameof(ParquetCompactorOptions.SourcePrefix), "(was 'json-data')")]
    [InlineData(nameof(ParquetCompactorOptions.TargetPrefix), "(was '/abs/')")]
    [InlineData(nameof(ParquetCompactorOptions.ManifestPrefix), "('parquet-retail-trans/_manifests/')")]
    [InlineData(nameof(ParquetCompactorOptions.MaxParallelObjects), "(was 1000)")]
    [InlineData(nameof(ParquetCompactorOptions.LockWaitTimeout), "between 00:00:00 and 1.00:00:00 (was -00:00:01)")]
    [InlineData(nameof(ParquetCompactorOptions.LeaseDuration), "between 00:00:10 and 1.00:00:00 (was 00:00:01)")]
    [InlineData(nameof(ParquetCompactorOptions.Lookback), "between 01:00:00 and 366.00:00:00 (was 00:00:00)")]
    [InlineData(nameof(ParquetCompactorOptions.Lookback) + "Partial", "whole number of hours between 01:00:00 and 366.00:00:00 (was 01:30:00)")]
    [InlineData(nameof(ParquetCompactorOptions.Lookback) + "Huge", "(was 367.00:00:00)")]
    public void Validate_BadValue_MessageNamesSettingAndValue(string setting, string value)
    {
        var o = new ParquetCompactorOptions();
        switch (setting)
        {
            case nameof(o.MaxRowsPerFile): o.MaxRowsPerFile = 0; break;
            case nameof(o.RowGroupSize): o.RowGroupSize = -1; break;
            case nameof(o.Grace): o.Grace = TimeSpan.FromSeconds(-1); break;
            case nameof(o.SourcePrefix): o.SourcePrefix = "json-data"; break;
            case nameof(o.TargetPrefix): o.TargetPrefix = "/abs/"; break;
            case nameof(o.ManifestPrefix): o.ManifestPrefix = "parquet-retail-trans/_manifests/"; break;
            case nameof(o.MaxParallelObjects): o.MaxParallelObjects = 1000; break;
            case nameof(o.LockWaitTimeout): o.LockWaitTimeout = TimeSpan.FromSeconds(-1); break;
            case nameof(o.LeaseDuration): o.LeaseDuration = TimeSpan.FromSeconds(1); break;
            case nameof(o.RowGroupSize) + "Huge": o.RowGroupSize = 2_000_000; setting = nameof(o.RowGroupSize); break;
            case nameof(o.Lookback): o.Lookback = TimeSpan.Zero; break;
            case nameof(o.Lookback) + "Partial": o.Lookback = TimeSpan.FromMinutes(90); setting = nameof(o.Lookback); break;
            case nameof(o.Lookback) + "Huge": o.Lookback = TimeSpan.FromDays(367); setting = nameof(o.Lookback); break;
        }
        string error = Assert.Single(o.Validate());
        Assert.Contains("ParquetCompactorOptions." + setting, error, StringComparison.Ordinal);
        Assert.Contains(value, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SourceInsideTarget_Rejected()
    {
        var o = new ParquetCompactorOptions { SourcePrefix = "lake/", TargetPrefix = "lake/parquet/" };
        Assert.Contains(o.Validate(), e => e.Contains("SourcePrefix", StringComparison.Ordinal) && e.Contains("TargetPrefix", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => new ParquetHourlyCompactor(new LocalFolderObjectStore(Path.GetTempPath()), new ParquetCompactorOptions { MaxRowsPerFile = -5 }));
        Assert.Contains("MaxRowsPerFile", e.Message, StringComparison.Ordinal);
        Assert.Contains("-5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_OptionsChangedAfterwards_CompactorKeepsItsCopy()
    {
        using var lake = new TestLake();
        lake.WriteObject(TestLake.Hour7, TestLake.Records(10, TestLake.Hour7));
        var options = new ParquetCompactorOptions();
        var compactor = new ParquetHourlyCompactor(lake.Store, options);
        options.TargetPrefix = "elsewhere/";
        await compactor.CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed);
        Assert.Single(lake.ParquetKeys());
    }

    [Fact]
    public async Task AddParquetCompactor_ValidOptions_ResolvesCompactorOverRegisteredStore()
    {
        using var lake = new TestLake();
        lake.WriteObject(TestLake.Hour7, TestLake.Records(10, TestLake.Hour7));
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(lake.Store);
        new RetailBuilder(services).AddParquetCompactor(o => o.MaxRowsPerFile = 4);
        using var sp = services.BuildServiceProvider(validateScopes: true);
        sp.GetRequiredService<IStartupValidator>().Validate();

        var compactor = sp.GetRequiredService<IHourlyCompactor>();
        var report = await compactor.CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed);

        Assert.IsType<ParquetHourlyCompactor>(compactor);
        Assert.Equal(3, report.FilesWritten);
        Assert.Equal(10, lake.Count());
    }

    [Fact]
    public void AddParquetCompactor_InvalidOptions_FailsAtStartWithSettingAndValue()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(new LocalFolderObjectStore(Path.GetTempPath()));
        new RetailBuilder(services).AddParquetCompactor(o => o.RowGroupSize = 0);
        using var sp = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("ParquetCompactorOptions.RowGroupSize", e.Message, StringComparison.Ordinal);
        Assert.Contains("(was 0)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddParquetCompactor_Named_TwoCompactorsTwoTables()
    {
        using var lake = new TestLake();
        lake.WriteObject(TestLake.Hour7, TestLake.Records(10, TestLake.Hour7));
        var services = new ServiceCollection();
        services.AddKeyedSingleton<IObjectStore>("a", lake.Store);
        services.AddKeyedSingleton<IObjectStore>("b", lake.Store);
        new RetailBuilder(services)
            .AddParquetCompactor("a", o => o.TargetPrefix = "table-a/")
            .AddParquetCompactor("b", o => { o.TargetPrefix = "table-b/"; o.MaxRowsPerFile = 5; });
        using var sp = services.BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        await sp.GetRequiredKeyedService<IHourlyCompactor>("a").CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed);
        await sp.GetRequiredKeyedService<IHourlyCompactor>("b").CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed);

        Assert.Single(lake.Keys("table-a/"));
        Assert.Equal(2, lake.Keys("table-b/").Count);
    }

    [Fact]
    public async Task AddParquetCompactor_Named_CompactsTheObjectStoreOfItsNameNotTheUnnamedOne()
    {
        using var main = new TestLake();
        using var archive = new TestLake();
        main.WriteObject(TestLake.Hour7, TestLake.Records(3, TestLake.Hour7));
        archive.WriteObject(TestLake.Hour7, TestLake.Records(10, TestLake.Hour7));
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(main.Store);
        services.AddKeyedSingleton<IObjectStore>("archive", archive.Store);
        new RetailBuilder(services).AddParquetCompactor().AddParquetCompactor("archive", null);
        using var sp = services.BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        var report = await sp.GetRequiredKeyedService<IHourlyCompactor>("archive").CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed);

        Assert.Equal(10, report.RowsOut);
        Assert.Equal(10, archive.Count());
        Assert.Empty(main.ParquetKeys());
        Assert.Equal(3, (await sp.GetRequiredService<IHourlyCompactor>().CompactAsync(DateTimeOffset.MaxValue, CompactionScope.AllClosed)).RowsOut);
    }

    [Fact]
    public void AddParquetCompactor_NamedWithoutAStoreOfItsName_FailsAtStartNamingTheMissingRegistration()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(new LocalFolderObjectStore(Path.GetTempPath())); // the unnamed store is not used for it
        new RetailBuilder(services).AddParquetCompactor("archive", null);
        using var sp = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        var resolving = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredKeyedService<IHourlyCompactor>("archive"));

        foreach (string message in new[] { e.Message, resolving.Message })
        {
            Assert.Contains("no IObjectStore is registered with the key 'archive'", message, StringComparison.Ordinal);
            Assert.Contains("AddLocalLake(\"archive\", …) or AddS3Lake(\"archive\", …)", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AddParquetCompactor_UnnamedWithoutAStore_FailsAtStartNamingTheMissingRegistration()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services).AddParquetCompactor();
        using var sp = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("compacts the registered IObjectStore, and none is registered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddParquetCompactor_CalledTwice_OneCompactorAndEveryCallsOptionsKept()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IObjectStore>(new LocalFolderObjectStore(Path.GetTempPath()));
        new RetailBuilder(services)
            .ConfigureLake(l => l.ParquetPrefix = "lake-table/")
            .AddParquetCompactor(o => o.TargetPrefix = "mine/").AddParquetCompactor(o => o.MaxRowsPerFile = 5)
            .AddParquetCompactor("x", o => o.MaxRowsPerFile = 6).AddParquetCompactor("x", null);
        services.AddKeyedSingleton<IObjectStore>("x", new LocalFolderObjectStore(Path.GetTempPath()));
        using var sp = services.BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        Assert.Single(services, d => d.ServiceType == typeof(IHourlyCompactor) && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(IHourlyCompactor) && d.IsKeyedService);
        var options = sp.GetRequiredService<IOptionsMonitor<ParquetCompactorOptions>>();
        Assert.Equal(("mine/", 5), (options.CurrentValue.TargetPrefix, options.CurrentValue.MaxRowsPerFile)); // the second call did not reset the first's prefix
        Assert.Equal(("lake-table/", 6), (options.Get("x").TargetPrefix, options.Get("x").MaxRowsPerFile)); // a named compactor starts from the builder's lake too
    }
}
