using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Retail.Delivery;
using Retail.Indexing;
using Retail.Storage;
using Retail.Streaming;

namespace Retail;

/// <summary>Where the local-folder lake lives.</summary>
public sealed class LocalLakeOptions
{
    /// <summary>The lake's root folder (default <c>./retail-lake</c>).</summary>
    public string Path { get; set; } = "retail-lake";

    /// <summary>Checks every setting; the message names the setting and the bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) return ["LocalLakeOptions.Path must not be empty."];
        if (Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0) return [$"LocalLakeOptions.Path '{Path}' has characters that are not allowed in a path."];
        if (File.Exists(Path)) return [$"LocalLakeOptions.Path '{Path}' is a file, not a folder."];
        return [];
    }
}

/// <summary>Composition of Retail's embedded defaults.</summary>
public static class RetailServiceCollectionExtensions
{
    /// <summary>Starts composing Retail: <c>services.AddRetail().AddLocalLake(…).AddDuckDbQueries(…)</c>.</summary>
    public static IRetailBuilder AddRetail(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRecordDecoder>(JsonRecordDecoder.Instance);
        return new RetailBuilder(services);
    }

    /// <summary>The embedded object store: a local folder (<see cref="LocalFolderObjectStore"/>) as the <see cref="IObjectStore"/>.</summary>
    public static IRetailBuilder AddLocalLake(this IRetailBuilder builder) => builder.AddLocalLake(_ => { });

    /// <summary>The embedded object store, configured.</summary>
    public static IRetailBuilder AddLocalLake(this IRetailBuilder builder, Action<LocalLakeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddValidated(builder.Services, Options.DefaultName, configure, o => o.Validate());
        builder.Services.TryAddSingleton<LocalFolderObjectStore>(sp => new LocalFolderObjectStore(sp.GetRequiredService<IOptions<LocalLakeOptions>>().Value.Path));
        builder.Services.TryAddSingleton<IObjectStore>(sp => sp.GetRequiredService<LocalFolderObjectStore>());
        return builder;
    }

    /// <summary>
    /// A second, named local-folder store, resolved as the keyed service <c>IObjectStore</c> with key
    /// <paramref name="name"/> (the named parts of other packages, e.g. <c>AddParquetCompactor(name, …)</c>, use the
    /// store of their own name). Calling it again with the same name configures the same store.
    /// </summary>
    public static IRetailBuilder AddLocalLake(this IRetailBuilder builder, string name, Action<LocalLakeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AddValidated(builder.Services, name, configure, o => o.Validate());
        builder.Services.TryAddKeyedSingleton<IObjectStore>(name, (sp, _) => new LocalFolderObjectStore(sp.GetRequiredService<IOptionsMonitor<LocalLakeOptions>>().Get(name).Path));
        return builder;
    }

    /// <summary>The embedded stream (<see cref="InProcessRecordStream"/>) as <see cref="IRecordStream"/> and <see cref="ICheckpointStore"/>.</summary>
    public static IRetailBuilder AddInProcessStream(this IRetailBuilder builder, Action<InProcessStreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddValidated(builder.Services, Options.DefaultName, configure ?? (_ => { }), o => o.Validate());
        builder.Services.TryAddSingleton(sp => new InProcessRecordStream(sp.GetRequiredService<IOptions<InProcessStreamOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        builder.Services.TryAddSingleton<IRecordStream>(sp => sp.GetRequiredService<InProcessRecordStream>());
        builder.Services.TryAddSingleton<ICheckpointStore>(sp => sp.GetRequiredService<InProcessRecordStream>());
        return builder;
    }

    /// <summary>
    /// Checkpoints in the lake: <see cref="ICheckpointStore"/> as an <see cref="ObjectStoreCheckpointStore"/> over the
    /// registered <see cref="IObjectStore"/>, for the registered stream's name, under the control prefix of the
    /// builder's lake definition (<c>_retail/checkpoints/&lt;stream&gt;/&lt;consumer&gt;/</c> by default), so consumers
    /// of a stream that keeps its own records (Kinesis) checkpoint into the folder or bucket of the lake.
    /// </summary>
    /// <remarks>
    /// When the registered stream is the in-process stream (<see cref="AddInProcessStream"/>), the stream stays the
    /// checkpoint store, whichever of the two is added first: its consumers' checkpoints are what release its
    /// records, and its sequence numbers do not outlive the process. A checkpoint store registered before this call
    /// is kept; calling it again changes nothing.
    /// </remarks>
    public static IRetailBuilder AddLakeCheckpoints(this IRetailBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ICheckpointStore>(sp =>
        {
            var stream = sp.GetRequiredService<IRecordStream>();
            if (stream is InProcessRecordStream inProcess) return inProcess;
            return new ObjectStoreCheckpointStore(sp.GetRequiredService<IObjectStore>(), stream.StreamName, sp.GetRequiredService<IOptions<RetailLakeDefinition>>().Value);
        });
        return builder;
    }

    /// <summary>The Firehose-style delivery engine from the <see cref="IRecordStream"/> to the <see cref="IObjectStore"/>.</summary>
    public static IRetailBuilder AddDelivery(this IRetailBuilder builder, Action<DeliveryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The builder's one lake, then the caller's changes (registered once: a second call must not reset the first's changes).
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<DeliveryOptions>, DeliveryLakeDefaults>());
        AddValidated(builder.Services, Options.DefaultName, configure ?? (_ => { }), o => o.Validate());
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DeliveryOptions>>().Value;
            RegisterConsumer(sp, options.ConsumerName);
            return new DeliveryEngine(sp.GetRequiredService<IRecordStream>(), sp.GetRequiredService<IObjectStore>(), sp.GetRequiredService<ICheckpointStore>(),
                options, sp.GetRequiredService<IRecordDecoder>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>()?.CreateLogger<DeliveryEngine>());
        });
        return builder;
    }

    /// <summary>
    /// The speed layer: upserts from the <see cref="IRecordStream"/> into the <see cref="IUpsertIndex"/>; its dead letters
    /// (records that cannot be decoded, documents the index rejects) go to the registered <see cref="IObjectStore"/>,
    /// under the error prefix of the builder's lake, when one is registered.
    /// </summary>
    public static IRetailBuilder AddSpeedLayer(this IRetailBuilder builder, Action<SpeedLayerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<SpeedLayerOptions>, SpeedLayerLakeDefaults>());
        AddValidated(builder.Services, Options.DefaultName, configure ?? (_ => { }), o => o.Validate());
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SpeedLayerOptions>>().Value;
            RegisterConsumer(sp, options.ConsumerName);
            return new SpeedLayerEngine(sp.GetRequiredService<IRecordStream>(), sp.GetRequiredService<IUpsertIndex>(), sp.GetRequiredService<ICheckpointStore>(),
                options, sp.GetRequiredService<IRecordDecoder>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>()?.CreateLogger<SpeedLayerEngine>(),
                sp.GetService<IObjectStore>());
        });
        return builder;
    }

    /// <summary>Replaces how stream records are decoded (default: one JSON object per record).</summary>
    public static IRetailBuilder UseRecordDecoder(this IRetailBuilder builder, IRecordDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(decoder);
        builder.Services.Replace(ServiceDescriptor.Singleton(decoder));
        return builder;
    }

    /// <summary>
    /// Runs every options validation registered with <c>ValidateOnStart</c> now (a generic host does
    /// this when it starts; a console app without a host calls this after building the provider).
    /// </summary>
    /// <exception cref="OptionsValidationException">A setting is invalid; the message names it.</exception>
    public static void ValidateRetailOptions(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.GetService<IStartupValidator>()?.Validate();
    }

    /// <summary>Delivery starts from the builder's one lake (<see cref="RetailLakeBuilderExtensions.ConfigureLake"/>); the caller's changes follow.</summary>
    private sealed class DeliveryLakeDefaults(IOptions<RetailLakeDefinition> lake) : IConfigureNamedOptions<DeliveryOptions>
    {
        public void Configure(DeliveryOptions options) => options.UseLake(lake.Value);

        public void Configure(string? name, DeliveryOptions options) => Configure(options);
    }

    /// <summary>The speed layer's dead letters go to the builder's one lake's error prefix; the caller's changes follow.</summary>
    private sealed class SpeedLayerLakeDefaults(IOptions<RetailLakeDefinition> lake) : IConfigureNamedOptions<SpeedLayerOptions>
    {
        public void Configure(SpeedLayerOptions options) => options.UseLake(lake.Value);

        public void Configure(string? name, SpeedLayerOptions options) => Configure(options);
    }

    private static void RegisterConsumer(IServiceProvider sp, string consumer)
    {
        if (sp.GetService<IRecordStream>() is InProcessRecordStream inProcess) inProcess.RegisterConsumer(consumer);
    }

    private static void AddValidated<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IServiceCollection services, string name, Action<TOptions> configure, Func<TOptions, IReadOnlyList<string>> validate)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<TOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new OptionsListValidator<TOptions>(validate)));
    }
}
