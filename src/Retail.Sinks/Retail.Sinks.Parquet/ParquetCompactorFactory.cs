using Microsoft.Extensions.Logging;
using Retail.Compaction;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Creates the Parquet compactor without dependency injection (with it: <c>AddParquetCompactor</c>): the workshop's
/// MergeSmallFiles done right — idempotent, verified before it publishes, published atomically, late objects
/// picked up.
/// </summary>
public static class ParquetCompactorFactory
{
    /// <summary>A compactor over <paramref name="store"/>.</summary>
    /// <param name="store">The data lake.</param>
    /// <param name="options">Settings (copied: later changes to the instance do not affect the compactor); default <see cref="ParquetCompactorOptions"/>'s.</param>
    /// <param name="timeProvider">The clock (default <see cref="TimeProvider.System"/>).</param>
    /// <param name="logger">Where to log (default none).</param>
    /// <exception cref="ArgumentException">The options are not valid; the message names each bad setting and its value.</exception>
    public static IHourlyCompactor Create(IObjectStore store, ParquetCompactorOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null) =>
        new ParquetHourlyCompactor(store, options ?? new ParquetCompactorOptions(), timeProvider, logger);
}
