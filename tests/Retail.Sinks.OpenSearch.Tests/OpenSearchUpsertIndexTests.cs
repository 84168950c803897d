using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Retail.Indexing;

namespace Retail.Sinks.OpenSearch.Tests;

public class OpenSearchUpsertIndexTests
{
    [Fact]
    public async Task UpsertAsync_RequestOverDomainLimit_OnOpenSearchFake_SplitsAndIndexesEveryDocument()
    {
        // The domain accepts 64 KiB; the client is allowed 5 MiB: the domain's 413s split the request until parts fit.
        await using var fake = await OpenSearchLoopbackFake.StartAsync(maxRequestBytes: 64 * 1024);
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var docs = TestRecords.Synthetic(2000);

        var result = await index.UpsertAsync(docs);

        Assert.Equal(0, result.FailedCount);
        Assert.Equal(docs.Select(d => d.Id), result.Items.Select(i => i.Id));
        Assert.Equal(2000, fake.Documents("retail").Count);
        Assert.True(index.Stats.RequestSplits > 0);
        Assert.Contains(fake.Requests, r => r.Status == 413);
        Assert.All(fake.Requests.Where(r => r.Status == 200 && r.PathAndQuery == "/_bulk"), r => Assert.True(r.Body.Length <= 64 * 1024));
    }

    [Fact]
    public async Task UpsertAsync_OneDocumentOverDomainLimit_OnOpenSearchFake_ThatDocumentFailsPermanently()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(maxRequestBytes: 2048);
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var big = TestRecords.Glass with { Description = new string('x', 4000) };
        var docs = new IndexDocument[] { new("small-1", TestRecords.Glass), new("big", big), new("small-2", TestRecords.Postage) };

        var result = await index.UpsertAsync(docs);

        Assert.True(result.Items[0].Succeeded);
        Assert.True(result.Items[2].Succeeded);
        var failed = result.Items[1];
        Assert.Equal("big", failed.Id);
        Assert.False(failed.Retryable);
        Assert.Equal("http_413", failed.ErrorType);
        Assert.Contains("document too large for the domain's request limit", failed.Error, StringComparison.Ordinal);
        Assert.Equal(2, fake.Documents("retail").Count);
        Assert.Equal(1, index.Stats.DocumentsFailed);
    }

    [Fact]
    public async Task UpsertAsync_DocumentOverMaxRequestBytes_OnOpenSearchFake_FailsPermanentlyWithoutBeingSent()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.MaxRequestBytes = 1024));
        var big = TestRecords.Glass with { Description = new string('y', 2000) };

        var result = await index.UpsertAsync([new("a", TestRecords.Glass), new("big", big), new("b", TestRecords.Postage)]);

        Assert.Equal([true, false, true], result.Items.Select(i => i.Succeeded));
        Assert.False(result.Items[1].Retryable);
        Assert.Contains("OpenSearchOptions.MaxRequestBytes", result.Items[1].Error, StringComparison.Ordinal);
        Assert.DoesNotContain(fake.Requests, r => Encoding.UTF8.GetString(r.Body).Contains(new string('y', 2000), StringComparison.Ordinal));
        Assert.Equal(2, fake.TotalDocuments);
    }

    [Fact]
    public async Task UpsertAsync_MaxRequestDocuments_OnOpenSearchFake_SendsBoundedRequests()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.MaxRequestDocuments = 100));
        var result = await index.UpsertAsync(TestRecords.Synthetic(950));

        Assert.Equal(0, result.FailedCount);
        var bulks = fake.Requests.Where(r => r.PathAndQuery == "/_bulk").ToList();
        Assert.Equal(10, bulks.Count);
        Assert.All(bulks, b => Assert.True(Encoding.UTF8.GetString(b.Body).Count(c => c == '\n') <= 200));
        Assert.Equal(950, fake.TotalDocuments);
    }

    [Fact]
    public async Task UpsertAsync_MappingErrors_OnOpenSearchFake_PerItemPermanentWithTypeAndReason()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        fake.RejectWhen = (_, id, _) => id.EndsWith('7');
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var docs = TestRecords.Synthetic(100);

        var result = await index.UpsertAsync(docs);

        Assert.Equal(docs.Select(d => d.Id), result.Items.Select(i => i.Id));
        foreach (var item in result.Items)
        {
            if (item.Id.EndsWith('7'))
            {
                Assert.False(item.Succeeded);
                Assert.False(item.Retryable);
                Assert.StartsWith("mapper_parsing_exception: failed to parse field [Quantity]", item.Error, StringComparison.Ordinal);
                Assert.Equal("mapper_parsing_exception", item.ErrorType);
                Assert.Equal("retail", item.IndexName);
            }
            else Assert.True(item.Succeeded, item.Error);
        }
        Assert.Equal(90, fake.Documents("retail").Count);
        Assert.Equal(10, index.Stats.DocumentsFailed);
        Assert.Equal(90, index.Stats.DocumentsIndexed);
    }

    [Fact]
    public async Task UpsertAsync_CreateOfExistingId_OnOpenSearchFake_SucceedsAndCountsAlreadyIndexed()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Action = BulkAction.Create));
        var docs = TestRecords.Synthetic(50);
        Assert.Equal(0, (await index.UpsertAsync(docs.Take(20).ToList())).FailedCount);

        var again = await index.UpsertAsync(docs);

        Assert.Equal(0, again.FailedCount);
        Assert.Equal(20, index.Stats.DocumentsAlreadyIndexed);
        Assert.Equal(50, fake.Documents("retail").Count);
        Assert.Contains(fake.Requests, r => Encoding.UTF8.GetString(r.Body).StartsWith("{\"create\":", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpsertAsync_ThrottledItems_OnOpenSearchFake_RetryableThenAcceptedWhenSentAgain()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        fake.ThrottleFraction = 0.2;
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        var docs = TestRecords.Synthetic(500);

        var first = await index.UpsertAsync(docs);
        var throttled = first.Items.Where(i => !i.Succeeded).ToList();

        Assert.InRange(throttled.Count, 50, 150);
        Assert.All(throttled, i =>
        {
            Assert.True(i.Retryable);
            Assert.StartsWith("rejected_execution_exception: ", i.Error, StringComparison.Ordinal);
            Assert.Equal("rejected_execution_exception", i.ErrorType);
        });
        Assert.Equal(500 - throttled.Count, fake.Documents("retail").Count);

        var retry = docs.Where(d => throttled.Any(t => t.Id == d.Id)).ToList();
        var second = await index.UpsertAsync(retry);
        Assert.Equal(0, second.FailedCount);
        Assert.Equal(500, fake.Documents("retail").Count);
        Assert.Equal(throttled.Count, index.Stats.DocumentsRetryable);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task UpsertAsync_WholeRequestStatus_OnOpenSearchFake_EveryItemRetryable(int status)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.EnsureIndexTemplate = false));
        fake.FailRequests(status);

        var result = await index.UpsertAsync(TestRecords.Three());

        Assert.All(result.Items, i =>
        {
            Assert.True(i.Retryable);
            Assert.StartsWith($"http_{status}: ", i.Error, StringComparison.Ordinal);
            Assert.Equal($"http_{status}", i.ErrorType);
        });
        Assert.Equal(0, fake.TotalDocuments);
        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.Equal(3, fake.TotalDocuments);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    public async Task UpsertAsync_WholeRequestClientError_OnOpenSearchFake_ThrowsNonTransient(int status)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.EnsureIndexTemplate = false));
        fake.FailRequests(status);

        var e = await Assert.ThrowsAsync<OpenSearchException>(() => index.UpsertAsync(TestRecords.Three()).AsTask());

        Assert.Equal(status, e.StatusCode);
        Assert.False(FailureClassification.IsTransient(e));
    }

    [Fact]
    public async Task EnsureTemplate_Throttled_OnOpenSearchFake_ThrowsTransientAndPutsOnNextUpsert()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        fake.FailRequests(503);

        var e = await Assert.ThrowsAsync<OpenSearchException>(() => index.UpsertAsync(TestRecords.Three()).AsTask());
        Assert.True(FailureClassification.IsTransient(e));
        Assert.Contains("OpenSearchOptions.EnsureIndexTemplate", e.Message, StringComparison.Ordinal);

        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.NotNull(fake.Template("retail-template"));
    }

    [Fact]
    public async Task UpsertAsync_ConnectionRefused_EveryItemRetryable()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions
        {
            Endpoint = $"http://127.0.0.1:{port}", Auth = OpenSearchAuth.None, EnsureIndexTemplate = false,
        });

        var result = await index.UpsertAsync(TestRecords.Three());

        Assert.All(result.Items, i =>
        {
            Assert.True(i.Retryable);
            Assert.StartsWith("connection_failure: ", i.Error, StringComparison.Ordinal);
            Assert.Equal("connection_failure", i.ErrorType);
        });
    }

    [Fact]
    public async Task UpsertAsync_NoAnswerWithinRequestTimeout_EveryItemRetryableAsTimeout()
    {
        using var transport = new NeverAnswers();
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions
        {
            Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None, EnsureIndexTemplate = false, RequestTimeout = TimeSpan.FromMilliseconds(100),
        }, transport: transport);

        var result = await index.UpsertAsync(TestRecords.Three());

        Assert.All(result.Items, i =>
        {
            Assert.True(i.Retryable);
            Assert.StartsWith("timeout: ", i.Error, StringComparison.Ordinal);
            Assert.Equal("timeout", i.ErrorType);
        });
    }

    [Fact]
    public async Task UpsertAsync_CallerCancels_ThrowsOperationCanceled()
    {
        using var transport = new NeverAnswers();
        using var index = OpenSearchClientFactory.CreateIndex(new OpenSearchOptions
        {
            Endpoint = "http://127.0.0.1:9", Auth = OpenSearchAuth.None, EnsureIndexTemplate = false,
        }, transport: transport);
        using var cts = new CancellationTokenSource();
        var upsert = index.UpsertAsync(TestRecords.Three(), cts.Token).AsTask();
        await transport.Entered.Task;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upsert);
    }

    [Fact]
    public async Task UpsertAsync_BasicAuth_OnOpenSearchFake_SendsAuthorizationHeader()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("admin", "S3cret!pw"));
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "admin";
            o.Password = "S3cret!pw";
        }));

        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.Equal(3, await index.CountAsync());
        string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:S3cret!pw"));
        Assert.All(fake.Requests, r => Assert.Equal(expected, r.Headers["Authorization"]));
    }

    [Fact]
    public async Task UpsertAsync_WrongPassword_OnOpenSearchFake_ThrowsNonTransientNamingAuthWithoutPassword()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync(basicAuth: ("admin", "right-password"));
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o =>
        {
            o.Auth = OpenSearchAuth.Basic;
            o.Username = "admin";
            o.Password = "wrong-password-123";
        }));

        var e = await Assert.ThrowsAsync<OpenSearchException>(() => index.UpsertAsync(TestRecords.Three()).AsTask());

        Assert.False(e.IsTransient);
        Assert.False(FailureClassification.IsTransient(e));
        Assert.Equal(401, e.StatusCode);
        Assert.Contains("OpenSearchOptions.Auth", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-123", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, fake.TotalDocuments);
    }

    [Fact]
    public async Task UpsertAsync_Forbidden_OnOpenSearchFake_ThrowsNonTransientNamingAuth()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.EnsureIndexTemplate = false));
        fake.FailRequests(403);

        var e = await Assert.ThrowsAsync<OpenSearchException>(() => index.UpsertAsync(TestRecords.Three()).AsTask());

        Assert.False(e.IsTransient);
        Assert.Equal(403, e.StatusCode);
        Assert.Contains("OpenSearchOptions.Auth is None", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("es")]
    [InlineData("aoss")]
    public async Task UpsertAsync_SigV4_OnOpenSearchFake_SignsForTheServiceAndRegion(string service)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(
            TestRecords.Options(fake, o =>
            {
                o.Auth = OpenSearchAuth.SigV4;
                o.SigningService = service;
                o.Region = "eu-west-1";
            }),
            credentials: new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));

        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);

        Assert.All(fake.Requests, r =>
        {
            string auth = r.Headers["Authorization"];
            string date = r.Headers["X-Amz-Date"];
            Assert.StartsWith($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{date[..8]}/eu-west-1/{service}/aws4_request, SignedHeaders=", auth, StringComparison.Ordinal);
            Assert.Matches("Signature=[0-9a-f]{64}$", auth);
            Assert.DoesNotContain("wJalrXUtnFEMI", auth, StringComparison.Ordinal);
            // The payload hash the signature covers is the body's (OpenSearch Serverless requires the header).
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(r.Body)), r.Headers["X-Amz-Content-SHA256"]);
            Assert.Contains("x-amz-content-sha256", auth, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData(RefreshPolicy.None, "/_bulk")]
    [InlineData(RefreshPolicy.True, "/_bulk?refresh=true")]
    [InlineData(RefreshPolicy.WaitFor, "/_bulk?refresh=wait_for")]
    public async Task UpsertAsync_RefreshPolicy_OnOpenSearchFake_SentAsQueryParameter(RefreshPolicy refresh, string expected)
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Refresh = refresh));
        Assert.Equal(0, (await index.UpsertAsync(TestRecords.Three())).FailedCount);
        Assert.Contains(fake.Requests, r => r.PathAndQuery == expected && r.Status == 200);
    }

    [Fact]
    public async Task UpsertAsync_UpdateAction_OnOpenSearchFake_MergesOrInsertsDocuments()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Action = BulkAction.Update));
        Assert.Equal(0, (await index.UpsertAsync([new("x", TestRecords.Glass)])).FailedCount);
        Assert.Equal(0, (await index.UpsertAsync([new("x", TestRecords.Glass with { Quantity = 99 }), new("y", TestRecords.Postage)])).FailedCount);

        var docs = fake.Documents("retail");
        Assert.Equal(2, docs.Count);
        Assert.Equal(99, (int)docs["x"]["Quantity"]!);
    }

    [Fact]
    public async Task EnsureTemplate_TwoClientsManyUpserts_OnOpenSearchFake_OneTemplateEqualToGolden()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        for (int c = 0; c < 2; c++)
        {
            using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Rotation = IndexRotation.Day));
            await index.UpsertAsync(TestRecords.Three());
            await index.UpsertAsync(TestRecords.Synthetic(10, seed: (ulong)c));
            Assert.Equal(1, index.Stats.TemplatesPut);
        }

        var puts = fake.Requests.Where(r => r.Method == "PUT" && r.PathAndQuery == "/_index_template/retail-template").ToList();
        Assert.Equal(2, puts.Count); // once per client, before its first upsert; PUT of the same body is idempotent
        Assert.All(puts, p => Assert.Equal(200, p.Status));
        Assert.Equal(File.ReadAllText(TestRecords.GoldenPath("index-template-rotating.json")), fake.Template("retail-template")!.ToJsonString());

        using var http = new HttpClient { BaseAddress = fake.Url };
        string got = await http.GetStringAsync("_index_template/retail-template");
        Assert.Contains("\"name\":\"retail-template\"", got, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureTemplate_Disabled_OnOpenSearchFake_NoTemplateRequest()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.EnsureIndexTemplate = false));
        await index.UpsertAsync(TestRecords.Three());
        Assert.DoesNotContain(fake.Requests, r => r.PathAndQuery.StartsWith("/_index_template", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpsertAsync_DailyRotation_OnOpenSearchFake_EventTimeIndicesAndCountAcrossThem()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake, o => o.Rotation = IndexRotation.Day));
        var docs = new IndexDocument[]
        {
            new("a", TestRecords.Glass),
            new("b", TestRecords.Glass with { InvoiceDate = new DateTime(2010, 12, 9, 23, 59, 59) }),
            new("c", TestRecords.Glass with { InvoiceDate = new DateTime(2010, 12, 10, 0, 0, 0) }),
        };

        var result = await index.UpsertAsync(docs);
        Assert.Equal(0, result.FailedCount);

        Assert.Equal(["retail-2009-12-01", "retail-2010-12-09", "retail-2010-12-10"], fake.IndexNames);
        Assert.Equal(["retail-2009-12-01", "retail-2010-12-09", "retail-2010-12-10"], result.Items.Select(i => i.IndexName));
        Assert.Equal(3, await index.CountAsync());
        Assert.Equal("retail-*", index.IndexPattern);
        Assert.Contains(fake.Requests, r => r.PathAndQuery == "/retail-*/_count");
    }

    [Fact]
    public async Task CountAsync_IndexNotCreatedYet_OnOpenSearchFake_Zero()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        using var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        Assert.Equal(0, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_Disposed_ThrowsObjectDisposed()
    {
        await using var fake = await OpenSearchLoopbackFake.StartAsync();
        var index = OpenSearchClientFactory.CreateIndex(TestRecords.Options(fake));
        index.Dispose();
        index.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => index.UpsertAsync(TestRecords.Three()).AsTask());
    }

    /// <summary>A transport that never answers (until the request is cancelled).</summary>
    private sealed class NeverAnswers : HttpMessageHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
