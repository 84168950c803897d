using Microsoft.Extensions.Logging;
using Retail.Storage;

namespace Retail.Sinks.Parquet;

/// <summary>
/// The compactor's view of its store: every call (list, get, head, put, delete) goes through the compactor's
/// <see cref="RetailRetryPipeline"/> (built from <see cref="ParquetCompactorOptions.Retry"/>), so transient store
/// failures (throttling, 5xx, timeouts, connection resets) are retried with jittered back-off and the rest fail the
/// hour at once. When the limits are reached the <see cref="RetryExhaustedException"/> names the operation and key.
/// </summary>
/// <remarks>
/// A put from a stream is retried only when the stream can seek (it is rewound to where it started); reads of an
/// opened object's stream are not retried (a failure there fails the hour, and the next run redoes it).
/// </remarks>
internal sealed class RetryingObjectStore(IObjectStore inner, RetailRetryPipeline retry, ILogger logger, Action storeRetried) : IObjectStore
{
    /// <summary>The store the calls go to.</summary>
    public IObjectStore Inner { get; } = inner;

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        RunAsync("put", key, ct => Inner.PutAsync(key, data, ct), cancellationToken);

    public ValueTask PutAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek) return Inner.PutAsync(key, content, cancellationToken);
        long start = content.Position;
        bool first = true;
        return RunAsync("put", key, ct =>
        {
            if (!first) content.Position = start;
            first = false;
            return Inner.PutAsync(key, content, ct);
        }, cancellationToken);
    }

    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync("get", key, ct => Inner.OpenReadAsync(key, ct), cancellationToken);

    public ValueTask<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync("head", key, ct => Inner.GetInfoAsync(key, ct), cancellationToken);

    public ValueTask<ObjectPage> ListPageAsync(string prefix, string? continuationToken = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
        RunAsync("list", prefix, ct => Inner.ListPageAsync(prefix, continuationToken, maxKeys, ct), cancellationToken);

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync("delete", key, ct => Inner.DeleteAsync(key, ct), cancellationToken);

    /// <remarks>A call that fails transiently is retried whole (deleting a key twice is harmless); the keys the store could not delete are returned.</remarks>
    public ValueTask<IReadOnlyList<ObjectDeleteError>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        RunAsync("delete", keys.Count == 1 ? keys[0] : $"{keys.Count} keys", ct => Inner.DeleteManyAsync(keys, ct), cancellationToken);

    private async ValueTask RunAsync(string operation, string key, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken)
    {
        try
        {
            await retry.ExecuteAsync(call, a => OnRetry(operation, key, a), cancellationToken).ConfigureAwait(false);
        }
        catch (RetryExhaustedException e)
        {
            throw Named(operation, key, e);
        }
    }

    private async ValueTask<T> RunAsync<T>(string operation, string key, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await retry.ExecuteAsync(call, null, a => OnRetry(operation, key, a), cancellationToken).ConfigureAwait(false);
        }
        catch (RetryExhaustedException e)
        {
            throw Named(operation, key, e);
        }
    }

    private void OnRetry(string operation, string key, RetryAttempt attempt)
    {
        storeRetried();
        Log.StoreRetry(logger, operation, key, attempt.FailedAttempt, attempt.Failure, (long)attempt.Delay.TotalMilliseconds);
    }

    private static RetryExhaustedException Named(string operation, string key, RetryExhaustedException e) =>
        new($"Store {operation} '{key}' failed: {e.Message}", e.Attempts, e.Elapsed, e.LastFailure, e.InnerException);
}
