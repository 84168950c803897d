using Microsoft.Extensions.DependencyInjection;

namespace Retail;

/// <summary>
/// Composes a Retail pipeline in a service collection: <c>services.AddRetail().AddLocalLake(…)…</c>.
/// Every package adds its <c>AddX</c> extension methods to this interface, in this namespace.
/// </summary>
public interface IRetailBuilder
{
    /// <summary>The service collection being composed.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The default <see cref="IRetailBuilder"/>.</summary>
/// <param name="services">The service collection to compose into.</param>
public sealed class RetailBuilder(IServiceCollection services) : IRetailBuilder
{
    /// <inheritdoc />
    public IServiceCollection Services { get; } = services ?? throw new ArgumentNullException(nameof(services));
}
