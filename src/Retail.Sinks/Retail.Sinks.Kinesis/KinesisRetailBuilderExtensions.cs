using Amazon;
using Amazon.Runtime.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Retail.Sinks.Kinesis;
using Retail.Streaming;

namespace Retail;

/// <summary>Adds a Kinesis stream (Retail's <see cref="IRecordStream"/>) or a Firehose delivery stream to a Retail pipeline.</summary>
public static class KinesisRetailBuilderExtensions
{
    /// <summary>The HttpClient name of the Kinesis stream registered under an options name (<c>Retail.Kinesis.{name}</c>), for adding handlers to it.</summary>
    public static string KinesisHttpClientName(string? name = null) => "Retail.Kinesis." + (name ?? Options.DefaultName);

    /// <summary>The HttpClient name of the Firehose target registered under an options name (<c>Retail.Firehose.{name}</c>).</summary>
    public static string FirehoseHttpClientName(string? name = null) => "Retail.Firehose." + (name ?? Options.DefaultName);

    /// <summary>
    /// The Kinesis stream as the <see cref="IRecordStream"/> (unless one is registered already), over a signed
    /// HttpClient from <c>IHttpClientFactory</c> (<see cref="KinesisHttpClientName"/>; SigV4 with the SDK's default
    /// credential chain, no redirects, no retries). Options are validated at start-up, naming each bad setting.
    /// </summary>
    public static IRetailBuilder AddKinesisStream(this IRetailBuilder builder, Action<KinesisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddKinesis(builder.Services, Options.DefaultName, configure);
        builder.Services.TryAddSingleton(sp => CreateStream(sp, Options.DefaultName));
        return builder;
    }

    /// <summary>A named Kinesis stream: the keyed <see cref="IRecordStream"/> with key <paramref name="name"/>, with its own options and HttpClient.</summary>
    public static IRetailBuilder AddKinesisStream(this IRetailBuilder builder, string name, Action<KinesisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        AddKinesis(builder.Services, name, configure);
        builder.Services.TryAddKeyedSingleton(name, (sp, _) => CreateStream(sp, name));
        return builder;
    }

    /// <summary>
    /// A Firehose delivery stream as the <see cref="IRecordPutTarget"/> for a <see cref="StreamProducer"/> (unless one
    /// is registered already), over a signed HttpClient from <c>IHttpClientFactory</c> (<see cref="FirehoseHttpClientName"/>).
    /// </summary>
    public static IRetailBuilder AddFirehoseTarget(this IRetailBuilder builder, Action<FirehoseOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = Options.DefaultName;
        builder.Services.AddOptions<FirehoseOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FirehoseOptions>>(new OptionsListValidator<FirehoseOptions>(o => o.Validate())));
        builder.Services.AddHttpClient(FirehoseHttpClientName(name), (sp, http) => http.Timeout = sp.GetRequiredService<IOptionsMonitor<FirehoseOptions>>().Get(name).RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(Transport)
            .AddHttpMessageHandler(sp => Signer(sp.GetRequiredService<IOptionsMonitor<FirehoseOptions>>().Get(name).Region, "firehose"));
        builder.Services.TryAddSingleton<IRecordPutTarget>(sp =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<FirehoseOptions>>().Get(name);
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(FirehoseHttpClientName(name));
            return new FirehoseDeliveryStream(http, ownsClient: false, options, Logger<FirehoseDeliveryStream>(sp));
        });
        return builder;
    }

    private static void AddKinesis(IServiceCollection services, string name, Action<KinesisOptions> configure)
    {
        services.AddOptions<KinesisOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KinesisOptions>>(new OptionsListValidator<KinesisOptions>(o => o.Validate())));
        services.AddHttpClient(KinesisHttpClientName(name), (sp, http) => http.Timeout = sp.GetRequiredService<IOptionsMonitor<KinesisOptions>>().Get(name).RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(Transport)
            .AddHttpMessageHandler(sp => Signer(sp.GetRequiredService<IOptionsMonitor<KinesisOptions>>().Get(name).Region, "kinesis"));
    }

    private static IRecordStream CreateStream(IServiceProvider sp, string name)
    {
        var options = sp.GetRequiredService<IOptionsMonitor<KinesisOptions>>().Get(name);
        var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(KinesisHttpClientName(name));
        return new KinesisRecordStream(http, ownsClient: false, options, sp.GetService<TimeProvider>() ?? TimeProvider.System, Logger<KinesisRecordStream>(sp));
    }

    private static SocketsHttpHandler Transport() => new() { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None };

    private static DelegatingHandler Signer(string region, string service) => AwsHttp.CreateFactorySigner(service, region);

    private static ILogger Logger<T>(IServiceProvider sp) => sp.GetService<ILoggerFactory>()?.CreateLogger(typeof(T).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
}
