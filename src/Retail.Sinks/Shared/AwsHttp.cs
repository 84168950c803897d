using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Retail.Sinks.Shared;

/// <summary>The signed HTTP pipeline of the thin AWS clients (one source file, compiled into each AWS sink package as an internal type, as OpenTelemetry links its src/Shared files): SigV4 (AWSSDK.Core) over a transport without redirects or retries.</summary>
internal static class AwsHttp
{
    public static string DefaultRegion() =>
        Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r
        : Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is { Length: > 0 } d ? d
        : "us-east-1";

    public static Uri Endpoint(string service, string region, string? serviceUrl) =>
        serviceUrl is not null ? new Uri(serviceUrl, UriKind.Absolute) : new Uri($"https://{service}.{region}.amazonaws.com/");

    /// <summary>
    /// An <see cref="HttpClient"/> that signs every request for <paramref name="service"/> in <paramref name="region"/>.
    /// <paramref name="transport"/> (for tests: a fault injector over a real handler) sits below the signer, so every
    /// attempt is signed afresh; the default transport follows no redirects (a redirected hop would go unsigned).
    /// </summary>
    public static HttpClient CreateClient(string service, string region, AWSCredentials? credentials, HttpMessageHandler? transport, TimeSpan timeout)
    {
        transport = transport is null ? null : new Borrowed(transport);
        transport ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        var signer = new SigV4SigningHandler(credentials ?? DefaultCredentials(), RegionEndpoint.GetBySystemName(region), service, transport);
        return new HttpClient(signer, disposeHandler: true) { Timeout = timeout };
    }

    /// <summary>The SDK's default credential chain, resolved at the first request.</summary>
    public static AWSCredentials DefaultCredentials() => new DefaultChainCredentials();

    /// <summary>
    /// A SigV4 signer for an <c>IHttpClientFactory</c> pipeline (<c>AddHttpMessageHandler</c>), which refuses a handler
    /// that already has an inner handler — and <see cref="SigV4SigningHandler"/> always makes itself one. This handler has
    /// none of its own: it signs with a <see cref="SigV4SigningHandler"/> whose inner handler hands the signed request
    /// back to this handler's inner handler (the factory's transport).
    /// </summary>
    public static DelegatingHandler CreateFactorySigner(string service, string region, AWSCredentials? credentials = null) =>
        new FactorySigner(credentials ?? DefaultCredentials(), RegionEndpoint.GetBySystemName(region), service);

    private sealed class FactorySigner : DelegatingHandler
    {
        private readonly HttpMessageInvoker _signer;

        public FactorySigner(AWSCredentials credentials, RegionEndpoint region, string service) =>
            _signer = new HttpMessageInvoker(new SigV4SigningHandler(credentials, region, service, new Forward(this)), disposeHandler: true);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            _signer.SendAsync(request, cancellationToken);

        private Task<HttpResponseMessage> SendSignedAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _signer.Dispose();
            base.Dispose(disposing);
        }

        /// <summary>The signer's inner handler: the signed request goes on down the factory's pipeline.</summary>
        private sealed class Forward(FactorySigner outer) : HttpMessageHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
                outer.SendSignedAsync(request, cancellationToken);
        }
    }

    /// <summary>A caller's handler: used, never disposed (the caller keeps owning it, and may share it between clients).</summary>
    private sealed class Borrowed(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // Not base.Dispose: that would dispose the caller's handler.
        }
    }

    public static void ValidateName(List<string> errors, string setting, string? name, int maxLength)
    {
        if (string.IsNullOrEmpty(name)) errors.Add($"{setting} must be set.");
        else if (name.Length > maxLength || name.AsSpan().ContainsAnyExcept(NameChars))
            errors.Add($"{setting} must be 1 to {maxLength} characters of a-z, A-Z, 0-9, '_', '.' and '-', got '{name}'.");
    }

    public static void ValidateEndpoint(List<string> errors, string options, string? region, string? serviceUrl)
    {
        if (string.IsNullOrWhiteSpace(region) || region.AsSpan().ContainsAnyExcept(RegionChars))
            errors.Add($"{options}.Region must be a region name such as us-east-1, got '{region}'.");
        if (serviceUrl is not null && (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(u.UserInfo)))
            errors.Add($"{options}.ServiceUrl must be an http:// or https:// URL without credentials in it, got '{serviceUrl}'.");
    }

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

    private static readonly System.Buffers.SearchValues<char> RegionChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    /// <summary>The SDK's default credential chain, resolved at the first request (so a client can be built before credentials exist) and cached by the resolver.</summary>
    private sealed class DefaultChainCredentials : AWSCredentials
    {
        private readonly Lazy<DefaultAWSCredentialsIdentityResolver> _resolver = new(() => new DefaultAWSCredentialsIdentityResolver());

        public override ImmutableCredentials GetCredentials() => _resolver.Value.ResolveIdentity(null).GetCredentials();

        public override async Task<ImmutableCredentials> GetCredentialsAsync()
        {
            var identity = await _resolver.Value.ResolveIdentityAsync(null, CancellationToken.None).ConfigureAwait(false);
            return await identity.GetCredentialsAsync().ConfigureAwait(false);
        }
    }
}
