namespace Retail.Sinks.Kinesis.Tests;

/// <summary>The stream manager (what <c>retail stream</c> runs) against kinesis-mock, which implements UpdateShardCount (kinesalite 3.3.3 does not).</summary>
[Collection(KinesisMockCollection.Name)]
public sealed class KinesisStreamManagerTests(KinesisMockFixture fixture)
{
    [Fact]
    public async Task UpdateShardCount_OneToTwo_TwoOpenShardsOnceActive()
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        string name = KinesisEmulatorFixture.FreshStreamName();
        var created = await manager.CreateStreamAsync(name, 1);
        Assert.Equal(("ACTIVE", 1), (created.Status, created.OpenShardCount));

        await manager.UpdateShardCountAsync(name, 2);

        var summary = await manager.DescribeAsync(name);
        Assert.Equal(("ACTIVE", 2), (summary.Status, summary.OpenShardCount));
        var shards = await manager.ListShardsAsync(name);
        Assert.Equal(2, shards.Count(s => s.IsOpen));
    }

    [Fact]
    public async Task CreateStream_Existing_ResourceInUseNotTransient()
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        string name = KinesisEmulatorFixture.FreshStreamName();
        await manager.CreateStreamAsync(name, 1);
        var e = await Assert.ThrowsAsync<AwsServiceException>(() => manager.CreateStreamAsync(name, 1));
        Assert.Equal("ResourceInUseException", e.ErrorCode);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task SplitShard_UnknownShard_ArgumentExceptionNamingIt()
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        string name = KinesisEmulatorFixture.FreshStreamName();
        await manager.CreateStreamAsync(name, 1);
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => manager.SplitShardAsync(name, "shardId-000000000009"));
        Assert.Contains("shardId-000000000009", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_UnknownStream_NotFound()
    {
        using var manager = KinesisTestStreams.Manager(fixture);
        var e = await Assert.ThrowsAsync<AwsServiceException>(() => manager.DescribeAsync(KinesisEmulatorFixture.FreshStreamName()));
        Assert.True(e.IsNotFound);
    }
}
