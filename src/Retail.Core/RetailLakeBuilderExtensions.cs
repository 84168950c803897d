using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Retail.Storage;

namespace Retail;

/// <summary>Configures the one <see cref="RetailLakeDefinition"/> that every part registered by the builder reads.</summary>
public static class RetailLakeBuilderExtensions
{
    /// <summary>
    /// Configures the lake (table names, prefixes) once: delivery, the compactor and the query engines registered by
    /// Retail's builder start from it (their own <c>configure</c> callbacks run after, and may still override a part's
    /// setting). The definition is validated on start.
    /// </summary>
    public static IRetailBuilder ConfigureLake(this IRetailBuilder builder, Action<RetailLakeDefinition> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<RetailLakeDefinition>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RetailLakeDefinition>>(new OptionsListValidator<RetailLakeDefinition>(l => l.Validate())));
        return builder;
    }
}
