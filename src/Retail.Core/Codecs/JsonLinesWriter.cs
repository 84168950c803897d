using System.Buffers;
using System.Text.Json;

namespace Retail.Codecs;

/// <summary>Writes records as JSON lines (one object, then <c>\n</c>) to a stream, through one reused buffer.</summary>
public sealed class JsonLinesWriter : IDisposable, IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;
    private const int FlushThreshold = 60 * 1024;

    /// <summary>Writes to <paramref name="stream"/>, which is disposed with the writer unless <paramref name="leaveOpen"/>.</summary>
    public JsonLinesWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _json = new Utf8JsonWriter(_buffer, RetailJson.WriterOptions);
    }

    /// <summary>Records written so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Appends one record.</summary>
    public void Write(RetailTransaction record)
    {
        WriteTo(_json, _buffer, record);
        RecordCount++;
        if (_buffer.WrittenCount >= FlushThreshold) Drain();
    }

    /// <summary>Appends one record as a JSON line to <paramref name="output"/>, reusing <paramref name="json"/> (which must write to <paramref name="output"/>).</summary>
    internal static void WriteTo(Utf8JsonWriter json, IBufferWriter<byte> output, RetailTransaction record)
    {
        json.Reset(output);
        RetailJson.Write(json, record);
        json.Flush();
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>Writes buffered bytes to the stream and flushes it.</summary>
    public void Flush()
    {
        Drain();
        _stream.Flush();
    }

    private void Drain()
    {
        if (_buffer.WrittenCount == 0) return;
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    /// <summary>Flushes and disposes.</summary>
    public void Dispose()
    {
        Flush();
        _json.Dispose();
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <summary>Flushes and disposes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_buffer.WrittenCount > 0) await _stream.WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
        _buffer.ResetWrittenCount();
        await _stream.FlushAsync().ConfigureAwait(false);
        await _json.DisposeAsync().ConfigureAwait(false);
        if (!_leaveOpen) await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
