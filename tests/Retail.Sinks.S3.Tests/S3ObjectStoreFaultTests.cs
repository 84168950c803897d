using System.Net;
using System.Text;
using Amazon.Runtime;
using Retail.Storage;

namespace Retail.Sinks.S3.Tests;

/// <summary>Failures of S3 (injected at the HTTP layer, or real ones from s3rver) and how the store surfaces them.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3ObjectStoreFaultTests(S3rverFixture s3rver)
{
    private static string NewPrefix() => $"faults-{Guid.NewGuid():N}";

    [Fact]
    public async Task OpenRead_Answered503SlowDown_ThrowsOneTransientErrorNamingTheOperationWithoutSdkRetries()
    {
        using var handler = new FaultInjectingHandler((r, _) => r.Method == HttpMethod.Get ? HttpStatusCode.ServiceUnavailable : null);
        var store = s3rver.Store(NewPrefix(), FaultConfig.Through(handler));
        await store.PutAsync("k.json", "{}"u8.ToArray());

        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.OpenReadAsync("k.json"));

        Assert.True(e.IsTransient);
        Assert.Equal("SlowDown", e.ErrorCode);
        Assert.Equal(503, e.StatusCode);
        Assert.Equal("GetObject", e.Operation);
        Assert.Equal("k.json", e.Key);
        Assert.Contains("GetObject", e.Message, StringComparison.Ordinal);
        Assert.Contains("k.json", e.Message, StringComparison.Ordinal);
        Assert.True(FailureClassification.IsTransient(e));
        Assert.False(FailureClassification.IsPermanent(e, out _));
        Assert.Equal(1, handler.Seen.Count(s => s.StartsWith("GET ", StringComparison.Ordinal))); // MaxErrorRetry = 0: one layer retries, not the SDK
    }

    [Fact]
    public async Task Put_EveryFifthRequestThrottled_ThoseFailTransientlyTheRestSucceedAndARetrySucceeds()
    {
        using var handler = new FaultInjectingHandler((_, n) => n % 5 == 0 ? HttpStatusCode.ServiceUnavailable : null);
        string prefix = NewPrefix();
        var store = s3rver.Store(prefix, FaultConfig.Through(handler));
        int transient = 0;
        for (int i = 0; i < 20; i++)
        {
            string key = $"obj-{i:00}";
            byte[] data = Encoding.UTF8.GetBytes(key);
            try
            {
                await store.PutAsync(key, data);
            }
            catch (ObjectStoreException e) when (FailureClassification.IsTransient(e))
            {
                transient++;
                await store.PutAsync(key, data); // what the retry pipeline will do
            }
        }

        Assert.Equal(handler.Faults, transient);
        Assert.True(transient >= 4, $"only {transient} throttled puts");
        var listed = await s3rver.Store(prefix).ListAsync("").ToListAsync(); // without faults
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"obj-{i:00}"), listed.Select(o => o.Key));
    }

    [Fact]
    public async Task PutMultipart_SecondPartFails_AbortsTheUploadAndLeavesNoObject()
    {
        using var handler = new FaultInjectingHandler((r, _) =>
            r.Method == HttpMethod.Put && r.RequestUri!.Query.Contains("partNumber=2", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : null);
        var store = s3rver.Store(NewPrefix(), FaultConfig.Through(handler));
        var data = new byte[17 * 1024 * 1024]; // above the 16 MiB threshold: parts of 8 MiB
        new Random(3).NextBytes(data);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.PutAsync("big.bin", new MemoryStream(data)));

        Assert.Equal("UploadPart", e.Operation);
        Assert.True(e.IsTransient);
        Assert.Contains(handler.Seen, s => s.StartsWith("DELETE ", StringComparison.Ordinal) && s.Contains("uploadId=", StringComparison.Ordinal));
        Assert.DoesNotContain(handler.Seen, s => s.StartsWith("POST ", StringComparison.Ordinal) && s.Contains("uploadId=", StringComparison.Ordinal)); // never completed
        Assert.Null(await store.GetInfoAsync("big.bin"));
    }

    [Fact]
    public async Task AnyOperation_BucketMissing_PermanentErrorNamingTheBucket()
    {
        var store = S3ObjectStoreFactory.Create(new S3LakeOptions { Bucket = "no-such-bucket-here", ServiceUrl = s3rver.ServiceUrl }, S3rverFixture.Credentials);

        var put = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.PutAsync("a/b.json", "{}"u8.ToArray()));
        var list = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.ListPageAsync("a/"));

        foreach (var e in new[] { put, list })
        {
            Assert.Contains("'no-such-bucket-here' does not exist", e.Message, StringComparison.Ordinal);
            Assert.False(e.IsTransient);
            Assert.Equal("NoSuchBucket", e.ErrorCode);
            Assert.True(FailureClassification.IsPermanent(e, out string? cause));
            Assert.Contains("no-such-bucket-here", cause, StringComparison.Ordinal);
        }
        Assert.Contains("PutObject", put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_CredentialsRefused_AccessDeniedNamingTheKeyAndTheOperation()
    {
        var store = S3ObjectStoreFactory.Create(s3rver.Options(NewPrefix()), new BasicAWSCredentials("NOT-S3RVER", "wrong"));

        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.PutAsync("secret/k.json", "{}"u8.ToArray()));

        Assert.StartsWith("Access denied: PutObject on s3://retail-test/faults-", e.Message, StringComparison.Ordinal);
        Assert.Contains("/secret/k.json", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal); // no secret in messages
        Assert.Equal(403, e.StatusCode);
        Assert.False(FailureClassification.IsTransient(e));
        Assert.True(FailureClassification.IsPermanent(e, out _));
    }
}
