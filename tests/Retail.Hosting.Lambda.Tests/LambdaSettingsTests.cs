using Microsoft.Extensions.Logging;

namespace Retail.Hosting.Lambda.Tests;

public sealed class LambdaSettingsTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["_HANDLER"] = "DeliverToS3",
        ["RETAIL_LAKE"] = "s3://retail-lake/team-a",
        ["AWS_REGION"] = "eu-west-1",
    };

    private static LambdaSettings Read(Dictionary<string, string?> env) => LambdaSettings.FromEnvironment(k => env.GetValueOrDefault(k));

    [Fact]
    public void FromEnvironment_Minimal_TakesTheDefaults()
    {
        var s = Read(Valid());
        Assert.Equal("DeliverToS3", s.Handler);
        Assert.Equal("retail-lake", s.Lake.Bucket);
        Assert.Equal("team-a/", s.Lake.Prefix);
        Assert.Equal("eu-west-1", s.Lake.Region);
        Assert.Null(s.Lake.ServiceUrl);
        Assert.Equal("delivery-lambda", s.ConsumerName);
        Assert.Null(s.DeadlineMargin);
        Assert.Equal(LogLevel.Information, s.LogLevel);
    }

    [Fact]
    public void FromEnvironment_EverySetting_IsRead()
    {
        var env = Valid();
        env["_HANDLER"] = "UpsertToES";
        env["RETAIL_S3_ENDPOINT_URL"] = "http://127.0.0.1:4569";
        env["RETAIL_DEADLINE_MARGIN_MS"] = "2500";
        env["RETAIL_CONSUMER_NAME"] = "lake-1";
        env["RETAIL_LOG_LEVEL"] = "warning";
        var s = Read(env);
        Assert.Equal("UpsertToES", s.Handler);
        Assert.Equal("http://127.0.0.1:4569", s.Lake.ServiceUrl);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), s.DeadlineMargin);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), s.MarginFor(TimeSpan.FromMinutes(5)));
        Assert.Equal("lake-1", s.ConsumerName);
        Assert.Equal(LogLevel.Warning, s.LogLevel);
    }

    [Theory]
    [InlineData(3_000, 1_000)]
    [InlineData(60_000, 6_000)]
    [InlineData(900_000, 90_000)]
    public void MarginFor_Default_IsTheLargerOfOneSecondAndATenth(int leftMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Read(Valid()).MarginFor(TimeSpan.FromMilliseconds(leftMs)));

    [Theory]
    [InlineData("_HANDLER", null, "_HANDLER is not set")]
    [InlineData("_HANDLER", "index.handler", "_HANDLER 'index.handler' is not a handler of this runtime: use one of UpsertToES, DeliverToS3")]
    [InlineData("RETAIL_LAKE", null, "RETAIL_LAKE is not set")]
    [InlineData("RETAIL_LAKE", "/tmp/lake", "RETAIL_LAKE: '/tmp/lake' is not an S3 URI")]
    [InlineData("RETAIL_LAKE", "s3://Bad_Bucket", "the bucket name 'Bad_Bucket'")]
    [InlineData("RETAIL_S3_ENDPOINT_URL", "localhost:4569", "RETAIL_S3_ENDPOINT_URL 'localhost:4569'")]
    [InlineData("RETAIL_S3_ENDPOINT_URL", "http://user:secret@127.0.0.1:1", "without credentials")]
    [InlineData("AWS_REGION", "EU West", "AWS_REGION 'EU West'")]
    [InlineData("RETAIL_DEADLINE_MARGIN_MS", "-5", "RETAIL_DEADLINE_MARGIN_MS '-5'")]
    [InlineData("RETAIL_DEADLINE_MARGIN_MS", "1s", "RETAIL_DEADLINE_MARGIN_MS '1s'")]
    [InlineData("RETAIL_CONSUMER_NAME", "a/b", "RETAIL_CONSUMER_NAME 'a/b'")]
    [InlineData("RETAIL_LOG_LEVEL", "loud", "RETAIL_LOG_LEVEL 'loud'")]
    public void FromEnvironment_MissingOrBad_ThrowsNamingTheSetting(string variable, string? value, string expected)
    {
        var env = Valid();
        env[variable] = value;
        var e = Assert.Throws<LambdaSettingException>(() => Read(env));
        Assert.Equal(variable, e.Setting);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_EndpointWithCredentials_DoesNotEchoThem()
    {
        var env = Valid();
        env["RETAIL_S3_ENDPOINT_URL"] = "http://user:very-secret@127.0.0.1:4569";
        var e = Assert.Throws<LambdaSettingException>(() => Read(env));
        Assert.Equal("RETAIL_S3_ENDPOINT_URL", e.Setting);
        Assert.DoesNotContain("very-secret", e.Message, StringComparison.Ordinal);
    }
}
