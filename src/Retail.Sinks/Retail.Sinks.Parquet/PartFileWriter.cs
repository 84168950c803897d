using Parquet;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Writes one part to a local file as rows arrive, one row group at a time (memory stays at one row group plus
/// the batches its rows come from).
/// Rows are written in the order they are added: when a published part is extended, its rows first (so that the
/// committed rows are always a prefix of the file), then the new rows by source key and line. That order is
/// deterministic, and for stream-delivered data close to invoice-date order; sorting each row group by invoice
/// date was measured (1M synthetic rows in random date order): 7% smaller files but about 2.5× the encoding
/// time, from the scattered reads.
/// </summary>
internal sealed class PartFileWriter : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly ParquetWriter _writer;
    private readonly RowColumns _pending;
    private readonly int _rowGroupSize;
    private readonly List<(RowColumns Source, int Rows)> _sources = [];
    private readonly Action<RowColumns>? _released;
    private bool _disposed;

    private PartFileWriter(FileStream file, ParquetWriter writer, int rowGroupSize, Action<RowColumns>? released)
    {
        _released = released;
        _file = file;
        _writer = writer;
        _rowGroupSize = rowGroupSize;
        _pending = new RowColumns(rowGroupSize);
    }

    public string Path => _file.Name;

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Creates the file; <paramref name="released"/> gets each batch once all its rows handed to <see cref="AddAsync"/> are written.</summary>
    public static async Task<PartFileWriter> CreateAsync(string path, int rowGroupSize, Action<RowColumns>? released, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        try
        {
            var writer = await ParquetWriter.CreateAsync(RetailParquetFormat.Schema, file, RetailParquetFormat.WriterOptions(), append: false, cancellationToken).ConfigureAwait(false);
            return new PartFileWriter(file, writer, rowGroupSize, released);
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> of <paramref name="source"/>.</summary>
    public async Task AddAsync(RowColumns source, int start, int count, CancellationToken cancellationToken)
    {
        source.RowsInFlight++; // held while adding, so that a flush part-way cannot hand the batch back
        try
        {
            await AddCoreAsync(source, start, count, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release(source, 1);
        }
    }

    private void Release(RowColumns source, int rows)
    {
        source.RowsInFlight -= rows;
        if (source.RowsInFlight == 0) _released?.Invoke(source);
    }

    private async Task AddCoreAsync(RowColumns source, int start, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            int take = Math.Min(count, _rowGroupSize - _pending.Count);
            // The text stays in the source batch's blocks until the row group is written.
            _pending.AddRangeShared(source, start, take);
            source.RowsInFlight += take;
            _sources.Add((source, take));
            Rows += take;
            start += take;
            count -= take;
            if (_pending.Count == _rowGroupSize) await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FlushGroupAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;
        await RetailParquetFormat.WriteRowGroupAsync(_writer, _pending, cancellationToken).ConfigureAwait(false);
        _pending.Clear();
        foreach (var (source, rows) in _sources) Release(source, rows);
        _sources.Clear();
    }

    /// <summary>Writes the last row group and the footer; returns the file's size.</summary>
    public async Task<long> CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
        return new FileInfo(Path).Length;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            await _file.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }
}
