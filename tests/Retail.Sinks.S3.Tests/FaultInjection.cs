using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;

namespace Retail.Sinks.S3.Tests;

/// <summary>
/// Faults at the HTTP layer, below the SDK: a handler that answers chosen requests itself (as S3 does when it
/// throttles: 503 SlowDown) and passes the others to s3rver, recording every request it saw.
/// </summary>
internal sealed class FaultInjectingHandler(Func<HttpRequestMessage, int, HttpStatusCode?> fault) : DelegatingHandler(new SocketsHttpHandler())
{
    private int _count;
    private readonly List<string> _seen = [];

    public IReadOnlyList<string> Seen
    {
        get { lock (_seen) return [.. _seen]; }
    }

    public int Faults { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _count);
        lock (_seen) _seen.Add($"{request.Method} {request.RequestUri!.PathAndQuery}");
        if (fault(request, n) is { } status)
        {
            Faults++;
            if (request.Content is not null) await request.Content.ReadAsByteArrayAsync(cancellationToken); // as a server would
            string code = status == HttpStatusCode.ServiceUnavailable ? "SlowDown" : "InternalError";
            string body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT{n}</RequestId></Error>";
            return new HttpResponseMessage(status)
            {
                RequestMessage = request,
                Content = new StringContent(body, Encoding.UTF8, "application/xml"),
            };
        }
        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>An SDK HTTP client factory that sends through this handler.</summary>
    public HttpClientFactory Factory() => new HandlerFactory(this);

    private sealed class HandlerFactory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}

internal static class FaultConfig
{
    public static Action<AmazonS3Config> Through(FaultInjectingHandler handler) => c => c.HttpClientFactory = handler.Factory();
}
