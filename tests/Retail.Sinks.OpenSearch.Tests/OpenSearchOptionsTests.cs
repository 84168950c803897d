using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

public class OpenSearchOptionsTests
{
    private static OpenSearchOptions Valid() => new() { Endpoint = "https://search-x.us-east-1.es.amazonaws.com", Region = "us-east-1" };

    [Fact]
    public void Validate_Defaults_ValidWithEndpoint()
    {
        var o = Valid();
        Assert.Empty(o.Validate());
        Assert.Equal(5 * 1024 * 1024, o.MaxRequestBytes);
        Assert.Equal("retail", o.Index);
        Assert.Equal(OpenSearchAuth.SigV4, o.Auth);
        Assert.Equal("es", o.SigningService);
        Assert.Equal(RefreshPolicy.None, o.Refresh);
        Assert.True(o.IsoDates);
        Assert.True(o.EnsureIndexTemplate);
    }

    [Fact]
    public void Validate_NoEndpoint_NamesEndpoint()
    {
        Assert.Contains(new OpenSearchOptions().Validate(), e => e.StartsWith("OpenSearchOptions.Endpoint", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(OpenSearchOptions.MaxRequestBytes), "10485761")]
    [InlineData(nameof(OpenSearchOptions.MaxRequestBytes), "100")]
    [InlineData(nameof(OpenSearchOptions.MaxRequestDocuments), "0")]
    [InlineData(nameof(OpenSearchOptions.SigningService), "opensearch")]
    [InlineData(nameof(OpenSearchOptions.Region), "Mars")]
    [InlineData(nameof(OpenSearchOptions.Index), "UPPER")]
    [InlineData(nameof(OpenSearchOptions.Endpoint), "ftp://host")]
    [InlineData(nameof(OpenSearchOptions.RequestTimeout), "0")]
    public void Validate_BadValue_MessageNamesSettingAndValue(string setting, string value)
    {
        var o = Valid();
        switch (setting)
        {
            case nameof(OpenSearchOptions.MaxRequestBytes): o.MaxRequestBytes = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case nameof(OpenSearchOptions.MaxRequestDocuments): o.MaxRequestDocuments = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case nameof(OpenSearchOptions.SigningService): o.SigningService = value; break;
            case nameof(OpenSearchOptions.Region): o.Region = value; break;
            case nameof(OpenSearchOptions.Index): o.Index = value; break;
            case nameof(OpenSearchOptions.Endpoint): o.Endpoint = value; break;
            case nameof(OpenSearchOptions.RequestTimeout): o.RequestTimeout = TimeSpan.Zero; break;
        }
        var error = Assert.Single(o.Validate());
        Assert.StartsWith("OpenSearchOptions." + setting, error, StringComparison.Ordinal);
        if (setting != nameof(OpenSearchOptions.RequestTimeout)) Assert.Contains(value, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BasicWithoutCredentials_NamesBoth()
    {
        var o = Valid();
        o.Auth = OpenSearchAuth.Basic;
        var errors = o.Validate();
        Assert.Contains(errors, e => e.StartsWith("OpenSearchOptions.Username", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("OpenSearchOptions.Password", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_BadValues_PasswordNeverInMessages()
    {
        var o = new OpenSearchOptions { Endpoint = "ftp://x", Auth = OpenSearchAuth.Basic, Username = "a:b", Password = "hunter2-secret", MaxRequestBytes = 1 };
        Assert.All(o.Validate(), e => Assert.DoesNotContain("hunter2-secret", e, StringComparison.Ordinal));
    }

    [Fact]
    public void CreateIndex_InvalidOptions_ArgumentExceptionNamingEachSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => OpenSearchClientFactory.CreateIndex(new OpenSearchOptions { MaxRequestDocuments = 0 }));
        Assert.Contains("OpenSearchOptions.Endpoint", e.Message, StringComparison.Ordinal);
        Assert.Contains("OpenSearchOptions.MaxRequestDocuments", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateIndex_OptionsChangedLater_IndexKeepsItsCopy()
    {
        var o = Valid();
        o.Auth = OpenSearchAuth.None;
        using var index = OpenSearchClientFactory.CreateIndex(o);
        o.Index = "other";
        Assert.Equal("retail", index.IndexPattern);
    }

    [Fact]
    public async Task AddOpenSearchUpsert_OnOpenSearchFake_ResolvesWorkingIndexAndTheSameInstanceAsSpeedLayerView()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var services = new ServiceCollection();
        new TestRetailBuilder(services).AddOpenSearchUpsert(o =>
        {
            o.Endpoint = fake.Url.ToString();
            o.Auth = OpenSearchAuth.None;
        });
        await using var sp = services.BuildServiceProvider();
        var index = sp.GetRequiredService<IUpsertIndex>();

        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.Equal(3, await index.CountAsync());
        // The dashboard's live view reads the same index.
        var view = sp.GetRequiredService<ISpeedLayerView>();
        Assert.Same(index, view);
        Assert.Equal(3, (await view.HistogramAsync(new SpeedLayerHistogramRequest())).Documents);
    }

    [Fact]
    public async Task AddOpenSearchUpsert_SigV4_OnOpenSearchFake_EveryRequestSignedThroughTheFactoryPipeline()
    {
        // SigV4 is the default: the signer sits in IHttpClientFactory's pipeline, with the SDK's default credential chain
        // (the environment's keys here; every test of this process that sets them sets the same dummy ones).
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "AKIDRETAILTEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "retail-test-secret");
        string keyId = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")!;
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var services = new ServiceCollection();
        new TestRetailBuilder(services).AddOpenSearchUpsert(o =>
        {
            o.Endpoint = fake.Url.ToString();
            o.Region = "eu-west-1";
        });
        await using var sp = services.BuildServiceProvider();
        var index = sp.GetRequiredService<IUpsertIndex>();

        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.Equal(3, await index.CountAsync());
        Assert.NotEmpty(fake.Requests);
        Assert.All(fake.Requests, r => Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={keyId}/", r.Headers["Authorization"], StringComparison.Ordinal));
        Assert.All(fake.Requests, r => Assert.Contains("/eu-west-1/es/aws4_request", r.Headers["Authorization"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddOpenSearchUpsert_Named_OnOpenSearchFake_KeyedIndexWithItsOwnOptions()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var services = new ServiceCollection();
        new TestRetailBuilder(services)
            .AddOpenSearchUpsert("a", o => { o.Endpoint = fake.Url.ToString(); o.Auth = OpenSearchAuth.None; o.Index = "alpha"; })
            .AddOpenSearchUpsert("b", o => { o.Endpoint = fake.Url.ToString(); o.Auth = OpenSearchAuth.None; o.Index = "beta"; });
        await using var sp = services.BuildServiceProvider();

        await sp.GetRequiredKeyedService<IUpsertIndex>("a").UpsertAsync(TestRecords.Three());
        await sp.GetRequiredKeyedService<IUpsertIndex>("b").UpsertAsync([new("z", TestRecords.Glass)]);

        Assert.Equal(3, fake.Documents("alpha").Count);
        Assert.Single(fake.Documents("beta"));
        Assert.Same(sp.GetRequiredKeyedService<IUpsertIndex>("a"), sp.GetRequiredKeyedService<ISpeedLayerView>("a"));
        Assert.Null(sp.GetService<IUpsertIndex>());
    }

    [Fact]
    public void AddOpenSearchUpsert_InvalidOptions_StartupValidationNamesSetting()
    {
        var services = new ServiceCollection();
        new TestRetailBuilder(services).AddOpenSearchUpsert(o => o.MaxRequestBytes = 20 * 1024 * 1024);
        using var sp = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("OpenSearchOptions.MaxRequestBytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("OpenSearchOptions.Endpoint", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>The builder AddRetail() (Retail.Hosting) returns, without referencing the hosting package: a sink's extension needs only IRetailBuilder.</summary>
internal sealed class TestRetailBuilder(IServiceCollection services) : IRetailBuilder
{
    public IServiceCollection Services { get; } = services;
}
