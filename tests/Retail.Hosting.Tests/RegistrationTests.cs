using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Hosting.Tests;

/// <summary>Lake checkpoints, and one registration per <c>AddX</c> however often it is called.</summary>
public sealed class RegistrationTests : IDisposable
{
    private readonly string _lake = Path.Combine(Path.GetTempPath(), "retail-reg-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_lake)) Directory.Delete(_lake, true);
    }

    [Fact]
    public async Task AddLakeCheckpoints_StreamThatIsNotInProcess_CheckpointsUnderTheLakesControlPrefix()
    {
        var inner = new InProcessRecordStream(new InProcessStreamOptions { StreamName = "orders", ShardCount = 1 });
        inner.RegisterConsumer("delivery"); // the wrapper hides the in-process stream, so it is told who holds its records
        var services = new ServiceCollection();
        services.AddSingleton<IRecordStream>(new OtherStream(inner));
        services.AddRetail().ConfigureLake(l => l.ControlPrefix = "ctl/").AddLocalLake(o => o.Path = _lake).AddLakeCheckpoints().AddDelivery(o => o.BufferIntervalSeconds = 0);
        await using var provider = services.BuildServiceProvider();
        provider.ValidateRetailOptions();

        var checkpoints = Assert.IsType<ObjectStoreCheckpointStore>(provider.GetRequiredService<ICheckpointStore>());
        var put = await inner.PutRecordsAsync([new PutRecordsEntry("k", "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"d\",\"Quantity\":1,\"InvoiceDate\":\"2010-01-01 00:00:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}"u8.ToArray())]);
        inner.Complete();
        await provider.GetRequiredService<DeliveryEngine>().RunAsync().WaitAsync(TimeSpan.FromSeconds(60));

        string key = checkpoints.CheckpointKey("delivery", put.Records[0].ShardId!);
        Assert.Equal("ctl/checkpoints/orders/delivery/" + put.Records[0].ShardId + ".json", key);
        Assert.True(File.Exists(Path.Combine(_lake, key)), $"{key} is not in the lake");
        Assert.Equal(put.Records[0].SequenceNumber, (await checkpoints.LoadAsync("delivery", put.Records[0].ShardId!))?.SequenceNumber);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddLakeCheckpoints_WithTheInProcessStream_EitherOrder_TheStreamStaysTheCheckpointStore(bool lakeCheckpointsFirst)
    {
        var services = new ServiceCollection();
        var retail = services.AddRetail().AddLocalLake(o => o.Path = _lake);
        if (lakeCheckpointsFirst) retail.AddLakeCheckpoints().AddInProcessStream();
        else retail.AddInProcessStream().AddLakeCheckpoints();
        await using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<InProcessRecordStream>(), provider.GetRequiredService<ICheckpointStore>());
        Assert.Single(services, d => d.ServiceType == typeof(ICheckpointStore));
    }

    [Fact]
    public void AddLakeCheckpoints_CheckpointStoreRegisteredBefore_IsKept()
    {
        var mine = new InProcessRecordStream();
        var services = new ServiceCollection();
        services.AddSingleton<ICheckpointStore>(mine);
        services.AddRetail().AddLakeCheckpoints().AddLakeCheckpoints();

        var d = Assert.Single(services, d => d.ServiceType == typeof(ICheckpointStore));
        Assert.Same(mine, d.ImplementationInstance);
    }

    [Fact]
    public async Task AddEmbeddedParts_CalledTwice_OneRegistrationEachAndEveryCallsOptionsKept()
    {
        var services = new ServiceCollection();
        services.AddRetail()
            .AddLocalLake(o => o.Path = _lake).AddLocalLake(_ => { })
            .AddLocalLake("raw", o => o.Path = _lake + "-raw").AddLocalLake("raw", _ => { })
            .AddInProcessStream().AddInProcessStream()
            .AddDelivery(o => o.Prefix = "raw/year=!{timestamp:yyyy}/").AddDelivery(o => o.BufferIntervalSeconds = 5)
            .AddSpeedLayer(o => o.ConsumerName = "fast").AddSpeedLayer(o => o.MaxBatchDocuments = 7);
        await using var provider = services.BuildServiceProvider();

        foreach (var type in new[] { typeof(IObjectStore), typeof(LocalFolderObjectStore), typeof(IRecordStream), typeof(ICheckpointStore), typeof(InProcessRecordStream), typeof(DeliveryEngine), typeof(SpeedLayerEngine) })
            Assert.Single(services, d => d.ServiceType == type && !d.IsKeyedService);
        Assert.Single(services, d => d.ServiceType == typeof(IObjectStore) && d.IsKeyedService && Equals(d.ServiceKey, "raw"));
        // The lake's defaults are applied once, before the first call's changes, so the second call does not reset them.
        var delivery = provider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        Assert.Equal("raw/year=!{timestamp:yyyy}/", delivery.Prefix);
        Assert.Equal(5, delivery.BufferIntervalSeconds);
        var speed = provider.GetRequiredService<IOptions<SpeedLayerOptions>>().Value;
        Assert.Equal(("fast", 7), (speed.ConsumerName, speed.MaxBatchDocuments));
    }

    [Fact]
    public async Task AddLocalLake_NamedTwice_OneStoreWithBothCallsOptions()
    {
        var services = new ServiceCollection();
        services.AddRetail().AddLocalLake("raw", o => o.Path = "ignored").AddLocalLake("raw", o => o.Path = _lake);
        await using var provider = services.BuildServiceProvider();
        provider.ValidateRetailOptions();

        await provider.GetRequiredKeyedService<IObjectStore>("raw").PutAsync("x", new byte[] { 1 });

        Assert.True(File.Exists(Path.Combine(_lake, "x")));
        Assert.Single(services, d => d.ServiceType == typeof(IObjectStore));
    }

    /// <summary>A stream that is not the in-process one (as a Kinesis stream would be), over one.</summary>
    private sealed class OtherStream(InProcessRecordStream inner) : IRecordStream
    {
        public string StreamName => inner.StreamName;
        public ValueTask<IReadOnlyList<ShardDescription>> ListShardsAsync(CancellationToken cancellationToken = default) => inner.ListShardsAsync(cancellationToken);
        public ValueTask<PutRecordsResult> PutRecordsAsync(IReadOnlyList<PutRecordsEntry> records, CancellationToken cancellationToken = default) => inner.PutRecordsAsync(records, cancellationToken);
        public ValueTask<IShardReader> OpenShardReaderAsync(string shardId, StartPosition start, CancellationToken cancellationToken = default) => inner.OpenShardReaderAsync(shardId, start, cancellationToken);
    }
}
