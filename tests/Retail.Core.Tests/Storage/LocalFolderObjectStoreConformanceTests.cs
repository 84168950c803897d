using Retail.Storage;

namespace Retail.Core.Tests.Storage;

/// <summary>The conformance suite on the local folder store.</summary>
public sealed class LocalFolderObjectStoreConformanceTests : ObjectStoreConformanceTests, IDisposable
{
    private readonly TempDir _dir = new();
    private int _stores;

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new LocalFolderObjectStore(Path.Combine(_dir.Path, (++_stores).ToString(System.Globalization.CultureInfo.InvariantCulture))));

    public void Dispose() => _dir.Dispose();
}

/// <summary>What the local store's ETag is made of (see <see cref="LocalFolderObjectStore"/>).</summary>
public sealed class LocalFolderObjectStoreETagTests
{
    [Fact]
    public async Task GetInfo_FileChangedInPlaceOutsideTheStore_ETagIsTheNewContentsMd5()
    {
        using var dir = new TempDir();
        var store = new LocalFolderObjectStore(dir.Path);
        await store.PutAsync("h/k", "aaaa"u8.ToArray());
        string before = (await store.GetInfoAsync("h/k"))!.ETag;
        await File.WriteAllBytesAsync(store.GetPath("h/k"), "bbbb"u8.ToArray()); // same size, same inode, other bytes
        File.SetLastWriteTimeUtc(store.GetPath("h/k"), File.GetLastWriteTimeUtc(store.GetPath("h/k")).AddSeconds(1));

        var after = (await store.GetInfoAsync("h/k"))!;
        Assert.NotEqual(before, after.ETag);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("bbbb"u8)), after.ETag);
    }
}
