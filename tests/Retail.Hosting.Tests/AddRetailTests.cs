using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Delivery;
using Retail.Storage;
using Retail.Streaming;

namespace Retail.Hosting.Tests;

public class AddRetailTests
{
    [Fact]
    public void ValidateRetailOptions_BadSettings_FailAtStartNamingSettingAndValue()
    {
        var services = new ServiceCollection();
        services.AddRetail()
            .AddLocalLake(o => o.Path = "")
            .AddInProcessStream(o => o.ShardCount = 0)
            .AddDelivery(o => { o.BufferSizeMiB = 500; o.Prefix = "json-data/!{timestamp:yyyyX}/"; });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<AggregateException>(provider.ValidateRetailOptions);
        string all = string.Join(" | ", ex.InnerExceptions.Select(e => e.Message));
        Assert.Contains("LocalLakeOptions.Path must not be empty", all);
        Assert.Contains("InProcessStreamOptions.ShardCount must be 1 to 1024, got 0", all);
        Assert.Contains("DeliveryOptions.BufferSizeMiB must be 1 to 128, got 500", all);
        Assert.Contains("!{timestamp:yyyyX}", all);
    }

    [Fact]
    public async Task AddRetail_EmbeddedDefaults_ComposeAWorkingDeliveryPipeline()
    {
        string lake = Path.Combine(Path.GetTempPath(), "retail-hosting-" + Guid.NewGuid().ToString("N"));
        try
        {
            var services = new ServiceCollection();
            services.AddRetail().AddLocalLake(o => o.Path = lake).AddInProcessStream().AddDelivery();
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            var stream = provider.GetRequiredService<InProcessRecordStream>();
            var delivery = provider.GetRequiredService<DeliveryEngine>();
            Assert.Same(stream, provider.GetRequiredService<IRecordStream>());
            Assert.Same(stream, provider.GetRequiredService<ICheckpointStore>());
            var run = delivery.RunAsync();
            await stream.PutRecordsAsync([new PutRecordsEntry("k", "{\"Invoice\":\"1\",\"StockCode\":\"2\",\"Description\":\"d\",\"Quantity\":1,\"InvoiceDate\":\"2010-01-01 00:00:00\",\"Price\":1.5,\"Customer_ID\":\"\",\"Country\":\"UK\"}"u8.ToArray())]);
            stream.Complete();
            await run;
            var store = provider.GetRequiredService<IObjectStore>();
            Assert.IsType<LocalFolderObjectStore>(store);
            Assert.Single(await store.ListAsync(LakeLayout.JsonPrefix).ToListAsync());
            Assert.Equal(1, delivery.Stats.RecordsDelivered);
        }
        finally
        {
            if (Directory.Exists(lake)) Directory.Delete(lake, true);
        }
    }

    [Fact]
    public async Task AddLocalLake_Named_TwoStoresPointAtTwoFolders()
    {
        string a = Path.Combine(Path.GetTempPath(), "retail-a-" + Guid.NewGuid().ToString("N"));
        string b = Path.Combine(Path.GetTempPath(), "retail-b-" + Guid.NewGuid().ToString("N"));
        try
        {
            var services = new ServiceCollection();
            services.AddRetail().AddLocalLake("raw", o => o.Path = a).AddLocalLake("curated", o => o.Path = b);
            await using var provider = services.BuildServiceProvider();
            provider.ValidateRetailOptions();
            await provider.GetRequiredKeyedService<IObjectStore>("raw").PutAsync("x", new byte[] { 1 });
            Assert.True(File.Exists(Path.Combine(a, "x")));
            Assert.False(File.Exists(Path.Combine(b, "x")));
            Assert.Equal(b, provider.GetRequiredService<IOptionsMonitor<LocalLakeOptions>>().Get("curated").Path);
        }
        finally
        {
            foreach (var d in new[] { a, b }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
