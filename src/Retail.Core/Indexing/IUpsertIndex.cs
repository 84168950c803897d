namespace Retail.Indexing;

/// <summary>
/// The speed layer: a document index that records are upserted into as they stream in (the
/// workshop's <c>UpsertToES</c>). Implementations: DuckDB (embedded, Retail.Sinks.DuckDb) and OpenSearch
/// <c>_bulk</c> (Retail.Sinks.OpenSearch).
/// Items can fail one by one; the caller (Core's engine) owns retries.
/// </summary>
public interface IUpsertIndex
{
    /// <summary>Inserts or replaces each document by id.</summary>
    ValueTask<UpsertResult> UpsertAsync(IReadOnlyList<IndexDocument> documents, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes every document upserted so far durable and searchable (a sink that buffers or refreshes lazily does it
    /// here). The speed layer calls it whenever it flushes: at the end of a shard, on shutdown, and before a Lambda
    /// handler returns. The default does nothing: for an index whose upserts are durable when
    /// <see cref="UpsertAsync"/> returns (the DuckDB one).
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>How many documents the index holds.</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken = default);
}

/// <summary>A document to upsert.</summary>
/// <param name="Id">Its id (see <see cref="DocumentIds"/>).</param>
/// <param name="Record">Its content.</param>
public readonly record struct IndexDocument(string Id, RetailTransaction Record);

/// <summary>Outcome of one document of an upsert, in request order.</summary>
/// <param name="Id">The document id.</param>
/// <param name="Error">Why it failed, or null when it was stored.</param>
/// <param name="Retryable">Whether trying again may succeed (throttling, a 5xx), as opposed to a rejected document.</param>
public readonly record struct UpsertItemResult(string Id, string? Error, bool Retryable)
{
    /// <summary>True when the document was stored (or, for a create, was already there).</summary>
    public bool Succeeded => Error is null;

    /// <summary>The service's error type when it failed (OpenSearch's <c>error.type</c> such as <c>mapper_parsing_exception</c>, or e.g. <c>http_503</c>); null otherwise.</summary>
    public string? ErrorType { get; init; }

    /// <summary>The index the document was sent to (with index rotation, the rotated name); null when the index has one name.</summary>
    public string? IndexName { get; init; }
}

/// <summary>Outcome of an upsert.</summary>
/// <param name="Items">One result per document, in request order.</param>
public sealed record UpsertResult(IReadOnlyList<UpsertItemResult> Items)
{
    /// <summary>How many documents failed.</summary>
    public int FailedCount => Items.Count(i => !i.Succeeded);
}
