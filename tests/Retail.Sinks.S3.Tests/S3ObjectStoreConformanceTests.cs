using Retail.Core.Tests.Storage;
using Retail.Storage;

namespace Retail.Sinks.S3.Tests;

/// <summary>The object store conformance suite on the S3 store over s3rver; each test gets a fresh key prefix of the bucket.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3ObjectStoreConformanceTests(S3rverFixture s3rver) : ObjectStoreConformanceTests
{
    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult(s3rver.Store($"conformance-{Guid.NewGuid():N}/lake"));
}
