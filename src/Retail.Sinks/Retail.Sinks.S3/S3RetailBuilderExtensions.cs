using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Retail.Sinks.S3;
using Retail.Storage;

namespace Retail;

/// <summary>Adds an S3 lake (the <see cref="IObjectStore"/> over a bucket) to a Retail pipeline.</summary>
public static class S3RetailBuilderExtensions
{
    /// <summary>
    /// The lake in an S3 bucket as the <see cref="IObjectStore"/> (unless one is registered already). Options are
    /// validated at start-up; the messages name each bad setting and its value. Credentials come from the SDK's
    /// default chain.
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="configure">Sets the bucket (or <see cref="S3LakeOptions.UseUri"/>) and the other options.</param>
    public static IRetailBuilder AddS3Lake(this IRetailBuilder builder, Action<S3LakeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(builder.Services, Options.DefaultName, configure);
        builder.Services.TryAddSingleton<IObjectStore>(sp => S3ObjectStoreFactory.Create(sp.GetRequiredService<IOptions<S3LakeOptions>>().Value));
        return builder;
    }

    /// <summary>
    /// A named S3 lake, resolved as the keyed service <see cref="IObjectStore"/> with key <paramref name="name"/>,
    /// with its own named options, so two stores can point at two buckets. The named parts of other packages (e.g.
    /// <c>AddParquetCompactor(name, …)</c>) use the store of their own name. Calling it again with the same name
    /// configures the same store.
    /// </summary>
    /// <param name="builder">The Retail builder.</param>
    /// <param name="name">The options name and service key.</param>
    /// <param name="configure">Sets the bucket (or <see cref="S3LakeOptions.UseUri"/>) and the other options.</param>
    public static IRetailBuilder AddS3Lake(this IRetailBuilder builder, string name, Action<S3LakeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(builder.Services, name, configure);
        builder.Services.TryAddKeyedSingleton<IObjectStore>(name, (sp, _) => S3ObjectStoreFactory.Create(sp.GetRequiredService<IOptionsMonitor<S3LakeOptions>>().Get(name)));
        return builder;
    }

    private static void AddOptions(IServiceCollection services, string name, Action<S3LakeOptions> configure)
    {
        services.AddOptions<S3LakeOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3LakeOptions>>(new OptionsListValidator<S3LakeOptions>(o => o.Validate())));
    }
}
