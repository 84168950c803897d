using Retail.Storage;
using Retail.Streaming;

namespace Retail.Core.Tests.Streaming;

public class ObjectStoreCheckpointStoreTests
{
    [Fact]
    public async Task SaveThenLoad_RoundTripsPositionStateAndOwnerUnderTheControlPrefix()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var checkpoints = new ObjectStoreCheckpointStore(store, "retail-trans", new RetailLakeDefinition { ControlPrefix = "ops/" });
        Assert.Null(await checkpoints.LoadAsync("delivery", "shardId-000000000001"));
        Assert.Null(await checkpoints.LoadOwnerAsync("delivery"));

        var saved = new Checkpoint("49590338271490256608559692538361571095921575989136588898", "{\"json-data/a/\":\"4959\"}") { OwnerId = "o1", Generation = 3 };
        await checkpoints.SaveAsync("delivery", "shardId-000000000001", saved);
        var owner = new ConsumerOwner("o1", 3, "host", 17, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5));
        await checkpoints.SaveOwnerAsync("delivery", owner);

        var loaded = await checkpoints.LoadAsync("delivery", "shardId-000000000001");
        Assert.Equal(saved, loaded);
        Assert.Equal("o1", loaded!.OwnerId);
        Assert.Equal(3, loaded.Generation);
        Assert.Equal(owner, await checkpoints.LoadOwnerAsync("delivery"));
        Assert.Equal(["ops/checkpoints/retail-trans/delivery/_owner.json", "ops/checkpoints/retail-trans/delivery/shardId-000000000001.json"],
            await store.ListAsync("").Select(o => o.Key).ToListAsync());
        // Another stream's consumer of the same name has checkpoints of its own.
        Assert.Null(await new ObjectStoreCheckpointStore(store, "other").LoadAsync("delivery", "shardId-000000000001"));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("tab\there")]
    public void Keys_NamesThatAreNotOneKeySegment_AreRefusedSayingWhy(string name)
    {
        using var dir = new TempDir();
        var checkpoints = new ObjectStoreCheckpointStore(new LocalFolderObjectStore(dir.Path), "retail-trans");
        var e = Assert.Throws<ArgumentException>(() => checkpoints.CheckpointKey(name, "shardId-000000000000"));
        Assert.Contains($"The consumer name '{name}' cannot name a checkpoint folder", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ObjectStoreCheckpointStore(new LocalFolderObjectStore(dir.Path), name));
        Assert.Throws<ArgumentException>(() => checkpoints.CheckpointKey("delivery", "_owner"));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"sequenceNumber\":\"12a\"}")]
    public async Task Load_DamagedCheckpoint_SaysWhichObjectAndWhatToDo(string content)
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var checkpoints = new ObjectStoreCheckpointStore(store, "retail-trans");
        string key = checkpoints.CheckpointKey("delivery", "shardId-000000000000");
        await store.PutAsync(key, System.Text.Encoding.UTF8.GetBytes(content));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => checkpoints.LoadAsync("delivery", "shardId-000000000000").AsTask());
        Assert.Contains($"'{key}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_LatestSlotTornByAKilledPut_ReturnsThePreviousCheckpointAndSavingGoesOn()
    {
        // s3rver truncates an object as soon as a put of it starts: a process killed then leaves it empty.
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var checkpoints = new ObjectStoreCheckpointStore(store, "retail-trans");
        await checkpoints.SaveAsync("delivery", "shardId-000000000000", new Checkpoint("100"));
        await checkpoints.SaveAsync("delivery", "shardId-000000000000", new Checkpoint("200"));
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("o1", 4, "h", 1, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        await checkpoints.SaveOwnerAsync("delivery", new ConsumerOwner("o1", 4, "h", 1, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(10)));
        string key = checkpoints.CheckpointKey("delivery", "shardId-000000000000");
        string alt = key[..^".json".Length] + ".alt.json";
        Assert.Equal("200", (await checkpoints.LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
        await store.PutAsync(alt, ReadOnlyMemory<byte>.Empty);            // the save of "200" torn
        string ownerAlt = checkpoints.OwnerKey("delivery")[..^".json".Length] + ".alt.json";
        await store.PutAsync(ownerAlt, "{\"ownerId\":\"o1\",\"gen"u8.ToArray()); // the heartbeat torn

        var restarted = new ObjectStoreCheckpointStore(store, "retail-trans");
        Assert.Equal("100", (await restarted.LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
        var owner = await restarted.LoadOwnerAsync("delivery");
        Assert.Equal((4, DateTimeOffset.UnixEpoch), (owner!.Generation, owner.RenewedAt));
        await restarted.SaveAsync("delivery", "shardId-000000000000", new Checkpoint("300"));
        Assert.Equal("300", (await new ObjectStoreCheckpointStore(store, "retail-trans").LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
        // Saves alternate: the next one goes to the other slot, so one torn put never takes the last good checkpoint with it.
        await restarted.SaveAsync("delivery", "shardId-000000000000", new Checkpoint("400"));
        await store.PutAsync(key, ReadOnlyMemory<byte>.Empty);
        Assert.Equal("300", (await new ObjectStoreCheckpointStore(store, "retail-trans").LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
    }

    [Fact]
    public async Task Load_CheckpointWrittenBeforeSlots_IsReadAndTheNextSaveIsNewer()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        var checkpoints = new ObjectStoreCheckpointStore(store, "retail-trans");
        string key = checkpoints.CheckpointKey("delivery", "shardId-000000000000");
        await store.PutAsync(key, "{\"sequenceNumber\":\"42\",\"generation\":2}"u8.ToArray());

        Assert.Equal("42", (await checkpoints.LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
        await new ObjectStoreCheckpointStore(store, "retail-trans").SaveAsync("delivery", "shardId-000000000000", new Checkpoint("43"));
        Assert.Equal("43", (await new ObjectStoreCheckpointStore(store, "retail-trans").LoadAsync("delivery", "shardId-000000000000"))!.SequenceNumber);
    }
}
