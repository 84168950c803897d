using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Retail.Storage;

namespace Retail.Sinks.S3.Tests;

public sealed class S3LakeOptionsTests
{
    [Theory]
    [InlineData("s3://my-bucket", "my-bucket", "")]
    [InlineData("s3://my-bucket/", "my-bucket", "")]
    [InlineData("s3://my-bucket/lake", "my-bucket", "lake/")]
    [InlineData("s3://my.bucket-1/a/b/", "my.bucket-1", "a/b/")]
    [InlineData("S3://abc/x=1/y z", "abc", "x=1/y z/")]
    public void ParseUri_ValidUri_GivesBucketAndFolderPrefix(string uri, string bucket, string prefix)
    {
        Assert.Equal((bucket, prefix), S3LakeOptions.ParseUri(uri));
        var options = new S3LakeOptions().UseUri(uri);
        Assert.Equal(bucket, options.Bucket);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("my-bucket/lake", "is not an S3 URI")]
    [InlineData("https://my-bucket/lake", "is not an S3 URI")]
    [InlineData("s3://", "bucket name '' is empty")]
    [InlineData("s3:///lake", "bucket name '' is empty")]
    [InlineData("s3://My_Bucket/lake", "bucket name 'My_Bucket' may hold only")]
    [InlineData("s3://ab", "bucket name 'ab' must be 3 to 63")]
    [InlineData("s3://bucket/../etc", "key prefix '../etc'")]
    [InlineData("s3://bucket/a//b", "key prefix 'a//b'")]
    public void ParseUri_BadUri_ErrorNamesTheUriAndTheProblem(string uri, string problem)
    {
        var e = Assert.Throws<ArgumentException>(() => S3LakeOptions.ParseUri(uri));
        Assert.Contains($"'{uri}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadSettings_EachMessageNamesTheSettingAndValue()
    {
        var errors = new S3LakeOptions
        {
            Bucket = "", Prefix = "../x", ServiceUrl = "ftp://host", Region = "EU West", PartSize = 1024, MultipartThreshold = 6L << 40,
        }.Validate();

        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.Bucket ''", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.Prefix '../x'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.ServiceUrl 'ftp://host'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.Region 'EU West'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.PartSize 1024", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("S3LakeOptions.MultipartThreshold 6597069766656", StringComparison.Ordinal));
        var create = Assert.Throws<ArgumentException>(() => S3ObjectStoreFactory.Create(new S3LakeOptions { Bucket = "x" }, new AnonymousAWSCredentials()));
        Assert.Contains("S3LakeOptions.Bucket 'x'", create.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateConfig_ServiceUrl_TurnsOnCompatibleSettingsAndSdkRetriesStayOff()
    {
        var compatible = S3ObjectStoreFactory.CreateConfig(new S3LakeOptions { Bucket = "bkt", ServiceUrl = "http://127.0.0.1:9", ConfigureClient = c => c.MaxErrorRetry = 5 });
        Assert.True(compatible.ForcePathStyle);
        Assert.Equal(RequestChecksumCalculation.WHEN_REQUIRED, compatible.RequestChecksumCalculation);
        Assert.Equal(ResponseChecksumValidation.WHEN_REQUIRED, compatible.ResponseChecksumValidation);
        Assert.Equal(0, compatible.MaxErrorRetry);
        Assert.Equal("us-east-1", compatible.AuthenticationRegion);

        var overridden = S3ObjectStoreFactory.CreateConfig(new S3LakeOptions { Bucket = "bkt", ServiceUrl = "http://127.0.0.1:9", ForcePathStyle = false, RequestChecksumCalculation = RequestChecksumCalculation.WHEN_SUPPORTED });
        Assert.False(overridden.ForcePathStyle);
        Assert.Equal(RequestChecksumCalculation.WHEN_SUPPORTED, overridden.RequestChecksumCalculation);

        var aws = S3ObjectStoreFactory.CreateConfig(new S3LakeOptions { Bucket = "bkt", Region = "eu-west-1" });
        Assert.False(aws.ForcePathStyle);
        Assert.Equal("eu-west-1", aws.RegionEndpoint.SystemName);
        Assert.Equal(0, aws.MaxErrorRetry);
    }

    [Fact]
    public void AddS3Lake_BadOptions_StartFailsNamingTheSetting()
    {
        using var sp = new RetailBuilder(new ServiceCollection()).AddS3Lake(o => o.Bucket = "Bad_Bucket").Services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<S3LakeOptions>>().Value);
        Assert.Contains("S3LakeOptions.Bucket 'Bad_Bucket'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddS3Lake_NamedTwice_OneKeyedStoreWithBothCallsOptions()
    {
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddS3Lake("archive", o => o.UseUri("s3://archive-bucket/retail"))
            .AddS3Lake("archive", o => o.PartSize = 6 * 1024 * 1024);
        using var sp = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IObjectStore));
        var options = sp.GetRequiredService<IOptionsMonitor<S3LakeOptions>>().Get("archive");
        Assert.Equal(("archive-bucket", 6L * 1024 * 1024), (options.Bucket, options.PartSize));
    }
}

[Collection(S3rverCollection.Name)]
public sealed class S3DependencyInjectionTests(S3rverFixture s3rver)
{
    [Fact]
    public async Task AddS3Lake_UnnamedAndNamed_EachResolvesAStoreOnItsOwnPrefix()
    {
        // The SDK's default chain reads these (the environment comes first in it).
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
        string run = Guid.NewGuid().ToString("N");
        var services = new ServiceCollection();
        new RetailBuilder(services)
            .AddS3Lake(o => { o.UseUri($"s3://{S3rverFixture.Bucket}/di-{run}/main"); o.ServiceUrl = s3rver.ServiceUrl; })
            .AddS3Lake("archive", o => { o.UseUri($"s3://{S3rverFixture.Bucket}/di-{run}/archive"); o.ServiceUrl = s3rver.ServiceUrl; })
            .AddS3Lake(o => o.PartSize = 6 * 1024 * 1024); // a second call configures the same options; still one store (TryAdd)
        await using var sp = services.BuildServiceProvider();

        var main = sp.GetRequiredService<IObjectStore>();
        var archive = sp.GetRequiredKeyedService<IObjectStore>("archive");
        await main.PutAsync("k", "main"u8.ToArray());
        await archive.PutAsync("k", "archive"u8.ToArray());

        var root = s3rver.Store($"di-{run}");
        Assert.Equal(["archive/k", "main/k"], await root.ListAsync("").Select(o => o.Key).ToListAsync());
        Assert.Equal("archive"u8.ToArray(), await root.GetBytesAsync("archive/k"));
        Assert.Single(services, d => d.ServiceType == typeof(IObjectStore) && !d.IsKeyedService);
    }
}
