using System.Buffers.Binary;
using Retail.Sinks.Parquet.Format;

namespace Retail.Sinks.Parquet;

/// <summary>
/// Writes one part to a local file as rows arrive, one row group at a time. A full row group is encoded (its
/// columns in parallel) while the next one fills, so memory stays at two row groups.
/// Rows are written in the order they are added: when a published part is extended, its rows first (so that the
/// committed rows are always a prefix of the file), then the new rows by source key and line. That order is
/// deterministic, and for stream-delivered data close to invoice-date order.
/// </summary>
internal sealed class PartFileWriter : IAsyncDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly FileStream _file;
    private readonly int _rowGroupSize;
    private readonly List<WrittenRowGroup> _groups = [];
    private RetailRows _pending;
    private RetailRows _spare;
    private Task<EncodedRowGroup>? _encoding;
    private long _position;
    private bool _disposed;

    private PartFileWriter(FileStream file, int rowGroupSize, bool digest)
    {
        Digests = digest ? new ColumnDigests() : null;
        _file = file;
        _rowGroupSize = rowGroupSize;
        _pending = new RetailRows(rowGroupSize);
        _spare = new RetailRows(rowGroupSize);
    }

    public string Path => _file.Name;

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Digests of the rows added, when asked for at creation.</summary>
    public ColumnDigests? Digests { get; }

    public static async Task<PartFileWriter> CreateAsync(string path, int rowGroupSize, CancellationToken cancellationToken, bool digest = false)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        try
        {
            await file.WriteAsync(Magic, cancellationToken).ConfigureAwait(false);
            return new PartFileWriter(file, rowGroupSize, digest) { _position = Magic.Length };
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds (copies) rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> of <paramref name="source"/>.</summary>
    public async Task AddAsync(RetailRows source, int start, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            int take = Math.Min(count, _rowGroupSize - _pending.Count);
            _pending.AddRange(source, start, take);
            Digests?.Add(source, start, take);
            Rows += take;
            start += take;
            count -= take;
            if (_pending.Count == _rowGroupSize) await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts encoding the pending row group after writing the one encoded before it.</summary>
    private async Task FlushGroupAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;
        await WriteEncodedAsync(cancellationToken).ConfigureAwait(false);
        var rows = _pending;
        _encoding = Task.Run(() => EncodedRowGroup.Encode(rows), cancellationToken);
        _pending = _spare;
        _pending.Clear();
        _spare = rows;
    }

    private async Task WriteEncodedAsync(CancellationToken cancellationToken)
    {
        if (_encoding is null) return;
        using var group = await _encoding.ConfigureAwait(false);
        _encoding = null;
        long groupStart = _position;
        var chunks = new List<WrittenColumnChunk>(group.Chunks.Length);
        foreach (var c in group.Chunks)
        {
            long start = _position;
            chunks.Add(new WrittenColumnChunk(c.Type, ColumnChunkEncoder.Encodings(c), c.NumValues, c.UncompressedSize, c.Bytes.Length,
                start + c.DataPageOffset, c.HasDictionary ? start + c.DictionaryPageOffset : null, c.Min, c.Max,
                ColumnChunkEncoder.DataPageEncoding(c), c.DataPages));
            await _file.WriteAsync(c.Bytes.WrittenMemory, cancellationToken).ConfigureAwait(false);
            _position += c.Bytes.Length;
        }
        _groups.Add(new WrittenRowGroup(group.Rows, groupStart, chunks));
    }

    /// <summary>Writes the last row group and the footer; returns the file's size.</summary>
    public async Task<long> CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        await WriteEncodedAsync(cancellationToken).ConfigureAwait(false);
        using (var footer = new PooledBufferWriter())
        {
            ParquetFooter.Write(footer, RetailParquetFormat.Columns, _groups, RetailParquetFormat.CreatedBy);
            int length = footer.Length;
            BinaryPrimitives.WriteInt32LittleEndian(footer.GetSpan(4), length);
            footer.Advance(4);
            footer.Write(Magic);
            await _file.WriteAsync(footer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            _position += footer.Length;
        }
        await DisposeAsync().ConfigureAwait(false);
        return _position;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (_encoding is not null)
            {
                try { (await _encoding.ConfigureAwait(false)).Dispose(); }
                catch (Exception) { /* abandoned: the failure that got us here is the one reported */ }
            }
            await _file.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A row group's eight column chunks, encoded.</summary>
    private sealed class EncodedRowGroup : IDisposable
    {
        private EncodedRowGroup(long rows, EncodedChunk[] chunks)
        {
            Rows = rows;
            Chunks = chunks;
        }

        public long Rows { get; }
        public EncodedChunk[] Chunks { get; }

        public static EncodedRowGroup Encode(RetailRows rows)
        {
            int n = rows.Count;
            var chunks = new EncodedChunk[8];
            try
            {
                Parallel.For(0, chunks.Length, i => chunks[i] = i switch
                {
                    0 => ColumnChunkEncoder.EncodeText(rows.Invoice),
                    1 => ColumnChunkEncoder.EncodeText(rows.StockCode),
                    2 => ColumnChunkEncoder.EncodeText(rows.Description),
                    3 => ColumnChunkEncoder.EncodeNumbers(rows.Quantity, n),
                    4 => ColumnChunkEncoder.EncodeNumbers(rows.InvoiceDate, n),
                    5 => ColumnChunkEncoder.EncodeNumbers(rows.Price, n),
                    6 => ColumnChunkEncoder.EncodeText(rows.CustomerId),
                    _ => ColumnChunkEncoder.EncodeText(rows.Country),
                });
            }
            catch
            {
                foreach (var c in chunks) c?.Dispose();
                throw;
            }
            return new EncodedRowGroup(n, chunks);
        }

        public void Dispose()
        {
            foreach (var c in Chunks) c.Dispose();
        }
    }
}
