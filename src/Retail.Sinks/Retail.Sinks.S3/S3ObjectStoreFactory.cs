using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Retail.Storage;

namespace Retail.Sinks.S3;

/// <summary>Creates S3 object stores without dependency injection (the quick start's path).</summary>
public static class S3ObjectStoreFactory
{
    /// <summary>
    /// An <see cref="IObjectStore"/> over <see cref="S3LakeOptions.Bucket"/> under <see cref="S3LakeOptions.Prefix"/>,
    /// with a client of its own configured from <paramref name="options"/> (SDK retries off).
    /// </summary>
    /// <param name="options">The validated options.</param>
    /// <param name="credentials">Credentials; null (the normal case) takes them from the SDK's default chain.</param>
    /// <exception cref="ArgumentException">An option is not valid; the message names each bad setting.</exception>
    public static IObjectStore Create(S3LakeOptions options, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        var config = CreateConfig(options);
        var client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        return new S3ObjectStore(client, options, ownsClient: true);
    }

    /// <summary>
    /// An <see cref="IObjectStore"/> over a client the caller made and keeps owning. Configure it as
    /// <see cref="CreateConfig"/> does — above all with <c>MaxErrorRetry = 0</c>, so that retries happen in one layer only.
    /// </summary>
    /// <param name="client">The S3 client.</param>
    /// <param name="options">The validated options (bucket, prefix, upload sizes, chunked encoding).</param>
    public static IObjectStore Create(IAmazonS3 client, S3LakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        return new S3ObjectStore(client, options, ownsClient: false);
    }

    /// <summary>
    /// The SDK client configuration for <paramref name="options"/>: SDK retries off (<c>MaxErrorRetry = 0</c>), the
    /// region or service URL, and for an S3-compatible <see cref="S3LakeOptions.ServiceUrl"/> path-style addressing
    /// and checksums only when required (unless set otherwise); <see cref="S3LakeOptions.ConfigureClient"/> last.
    /// </summary>
    public static AmazonS3Config CreateConfig(S3LakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool compatible = options.ServiceUrl is not null;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle ?? compatible,
        };
        if (compatible)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        if ((options.RequestChecksumCalculation ?? (compatible ? RequestChecksumCalculation.WHEN_REQUIRED : null)) is { } request)
            config.RequestChecksumCalculation = request;
        if ((options.ResponseChecksumValidation ?? (compatible ? ResponseChecksumValidation.WHEN_REQUIRED : null)) is { } response)
            config.ResponseChecksumValidation = response;
        options.ConfigureClient?.Invoke(config);
        config.MaxErrorRetry = 0; // one retry owner: Retail's pipeline
        return config;
    }

    private static void ThrowIfInvalid(S3LakeOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
    }
}
