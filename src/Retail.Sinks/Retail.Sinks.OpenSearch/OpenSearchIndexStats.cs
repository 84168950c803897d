namespace Retail.Sinks.OpenSearch;

/// <summary>Live counters of one <see cref="OpenSearchUpsertIndex"/> (the same as its <c>Retail.Sinks.OpenSearch</c> meter's, per instance).</summary>
public sealed class OpenSearchIndexStats
{
    private long _requests, _sent, _indexed, _already, _failed, _retryable, _splits, _templates;

    /// <summary><c>_bulk</c> requests sent (a request split after a 413 counts each part).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Documents sent in <c>_bulk</c> requests (a document sent again after a retryable failure counts again).</summary>
    public long DocumentsSent => Interlocked.Read(ref _sent);

    /// <summary>Documents the domain stored.</summary>
    public long DocumentsIndexed => Interlocked.Read(ref _indexed);

    /// <summary>Documents sent with <see cref="BulkAction.Create"/> whose id existed (409): counted as indexed, and here.</summary>
    public long DocumentsAlreadyIndexed => Interlocked.Read(ref _already);

    /// <summary>Documents rejected for good (a mapping error, a document larger than a request may be).</summary>
    public long DocumentsFailed => Interlocked.Read(ref _failed);

    /// <summary>Documents handed back as retryable (429, 5xx, a timeout or a lost connection).</summary>
    public long DocumentsRetryable => Interlocked.Read(ref _retryable);

    /// <summary>Requests split in two after the domain answered 413 (request too large).</summary>
    public long RequestSplits => Interlocked.Read(ref _splits);

    /// <summary>Times the index template was put.</summary>
    public long TemplatesPut => Interlocked.Read(ref _templates);

    internal void Request(int documents)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _sent, documents);
    }

    internal void Indexed(long n) => Interlocked.Add(ref _indexed, n);
    internal void AlreadyIndexed(long n) => Interlocked.Add(ref _already, n);
    internal void Failed(long n) => Interlocked.Add(ref _failed, n);
    internal void Retryable(long n) => Interlocked.Add(ref _retryable, n);
    internal void Split() => Interlocked.Increment(ref _splits);
    internal void TemplatePut() => Interlocked.Increment(ref _templates);
}
