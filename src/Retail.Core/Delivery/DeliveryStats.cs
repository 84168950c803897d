namespace Retail.Delivery;

/// <summary>Live counters of a <see cref="DeliveryEngine"/> (thread-safe reads).</summary>
public sealed class DeliveryStats
{
    private long _recordsRead, _recordsDelivered, _recordsFailed, _recordsAlreadyDelivered, _objectsWritten, _errorObjectsWritten, _bytesWritten, _writeRetries, _backpressureFlushes, _observerErrors;

    /// <summary>Records read from the stream.</summary>
    public long RecordsRead => Interlocked.Read(ref _recordsRead);
    /// <summary>Records written to data objects.</summary>
    public long RecordsDelivered => Interlocked.Read(ref _recordsDelivered);
    /// <summary>Records written to the error output (could not be decoded).</summary>
    public long RecordsFailed => Interlocked.Read(ref _recordsFailed);
    /// <summary>Records re-read after a restart that were already in a written object, so skipped (no duplicates).</summary>
    public long RecordsAlreadyDelivered => Interlocked.Read(ref _recordsAlreadyDelivered);
    /// <summary>Data objects written.</summary>
    public long ObjectsWritten => Interlocked.Read(ref _objectsWritten);
    /// <summary>Error-output objects written.</summary>
    public long ErrorObjectsWritten => Interlocked.Read(ref _errorObjectsWritten);
    /// <summary>Bytes written, data and error objects.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);
    /// <summary>Object writes that failed and were retried.</summary>
    public long WriteRetries => Interlocked.Read(ref _writeRetries);

    /// <summary>Times the engine wrote its buffers early because a bounded stream was refusing producers until it checkpointed.</summary>
    public long BackpressureFlushes => Interlocked.Read(ref _backpressureFlushes);

    /// <summary>Exceptions thrown by <see cref="DeliveryEngine.ObjectWritten"/> handlers (each is logged; delivery goes on).</summary>
    public long ObserverErrors => Interlocked.Read(ref _observerErrors);

    internal void ObserverError() => Interlocked.Increment(ref _observerErrors);
    internal void BackpressureFlush() => Interlocked.Increment(ref _backpressureFlushes);
    internal void Read(long n) => Interlocked.Add(ref _recordsRead, n);
    internal void AlreadyDelivered() => Interlocked.Increment(ref _recordsAlreadyDelivered);
    internal void Retry() => Interlocked.Increment(ref _writeRetries);

    internal void Written(bool error, int records, long bytes)
    {
        if (error)
        {
            Interlocked.Increment(ref _errorObjectsWritten);
            Interlocked.Add(ref _recordsFailed, records);
        }
        else
        {
            Interlocked.Increment(ref _objectsWritten);
            Interlocked.Add(ref _recordsDelivered, records);
        }
        Interlocked.Add(ref _bytesWritten, bytes);
    }
}
