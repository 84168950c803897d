using System.Buffers;

namespace Retail.Sinks.Parquet.Format;

/// <summary>
/// The Thrift compact protocol, write side only, as much of it as Parquet's page headers and footer use:
/// structs, lists, i32/i64 (zig-zag varints), bool, binary. Field ids are written as deltas from the previous
/// field of the same struct.
/// </summary>
internal sealed class ThriftCompactWriter
{
    private const byte TypeBoolTrue = 1, TypeBoolFalse = 2, TypeI32 = 5, TypeI64 = 6, TypeBinary = 8, TypeList = 9, TypeStruct = 12;

    private readonly IBufferWriter<byte> _output;
    private readonly Stack<short> _lastFieldIds = new();
    private short _lastField;

    public ThriftCompactWriter(IBufferWriter<byte> output) => _output = output;

    public void StructBegin()
    {
        _lastFieldIds.Push(_lastField);
        _lastField = 0;
    }

    public void StructEnd()
    {
        WriteByte(0); // stop
        _lastField = _lastFieldIds.Pop();
    }

    public void I32(short id, int value)
    {
        FieldHeader(id, TypeI32);
        WriteVarint(ZigZag(value));
    }

    public void I64(short id, long value)
    {
        FieldHeader(id, TypeI64);
        WriteVarint(ZigZag(value));
    }

    public void Bool(short id, bool value) => FieldHeader(id, value ? TypeBoolTrue : TypeBoolFalse);

    public void Binary(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, TypeBinary);
        BinaryValue(value);
    }

    public void String(short id, string value) => Binary(id, System.Text.Encoding.UTF8.GetBytes(value));

    /// <summary>Begins a struct-valued field; end it with <see cref="StructEnd"/>.</summary>
    public void StructField(short id)
    {
        FieldHeader(id, TypeStruct);
        StructBegin();
    }

    /// <summary>Begins a list of structs; write each with <see cref="StructBegin"/> … <see cref="StructEnd"/>.</summary>
    public void StructListField(short id, int count)
    {
        FieldHeader(id, TypeList);
        ListHeader(count, TypeStruct);
    }

    public void I32ListField(short id, ReadOnlySpan<int> values)
    {
        FieldHeader(id, TypeList);
        ListHeader(values.Length, TypeI32);
        foreach (int v in values) WriteVarint(ZigZag(v));
    }

    public void StringListField(short id, ReadOnlySpan<string> values)
    {
        FieldHeader(id, TypeList);
        ListHeader(values.Length, TypeBinary);
        foreach (string v in values) BinaryValue(System.Text.Encoding.UTF8.GetBytes(v));
    }

    private void BinaryValue(ReadOnlySpan<byte> value)
    {
        WriteVarint((uint)value.Length);
        var span = _output.GetSpan(value.Length);
        value.CopyTo(span);
        _output.Advance(value.Length);
    }

    private void ListHeader(int count, byte elementType)
    {
        if (count < 15)
        {
            WriteByte((byte)((count << 4) | elementType));
        }
        else
        {
            WriteByte((byte)(0xF0 | elementType));
            WriteVarint((uint)count);
        }
    }

    private void FieldHeader(short id, byte type)
    {
        int delta = id - _lastField;
        if (delta is > 0 and <= 15)
        {
            WriteByte((byte)((delta << 4) | type));
        }
        else
        {
            WriteByte(type);
            WriteVarint(ZigZag((int)id));
        }
        _lastField = id;
    }

    private void WriteByte(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }

    private void WriteVarint(ulong value) => Varint.Write(_output, value);

    private static uint ZigZag(int v) => (uint)((v << 1) ^ (v >> 31));

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
}
