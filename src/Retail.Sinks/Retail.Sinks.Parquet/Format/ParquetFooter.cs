namespace Retail.Sinks.Parquet.Format;

/// <summary>A column of the file's flat schema: every column is required (never null).</summary>
internal sealed record ParquetColumn(string Name, ParquetType Type, ParquetColumnKind Kind, int Precision = 0, int Scale = 0);

/// <summary>The logical type written for a column.</summary>
internal enum ParquetColumnKind
{
    /// <summary>UTF-8 text (<c>STRING</c>).</summary>
    Text,

    /// <summary>A plain 32-bit integer.</summary>
    Int32,

    /// <summary>A timestamp in milliseconds, not adjusted to UTC (Parquet's local timestamp).</summary>
    TimestampMillis,

    /// <summary>A decimal stored as an unscaled integer.</summary>
    Decimal,
}

/// <summary>What the footer records about a written row group.</summary>
internal sealed record WrittenRowGroup(long Rows, long FileOffset, IReadOnlyList<WrittenColumnChunk> Columns)
{
    public long UncompressedSize => Columns.Sum(c => c.UncompressedSize);
    public long CompressedSize => Columns.Sum(c => c.CompressedSize);
}

/// <summary>A column chunk's place in the file and its metadata.</summary>
internal sealed record WrittenColumnChunk(ParquetType Type, int[] Encodings, long NumValues, long UncompressedSize, long CompressedSize,
    long DataPageOffset, long? DictionaryPageOffset, byte[]? Min, byte[]? Max, int DataPageEncoding, int DataPages);

/// <summary>Writes a Parquet footer (<c>FileMetaData</c>, Thrift compact) for a flat schema of required columns.</summary>
internal static class ParquetFooter
{
    private const int CodecSnappy = 1;
    private const int PageTypeData = 0, PageTypeDictionary = 2, EncodingPlain = 0;
    private const int RepetitionRequired = 0;
    private const int ConvertedUtf8 = 0, ConvertedDecimal = 5, ConvertedTimestampMillis = 9, ConvertedInt32 = 17;

    public static void Write(PooledBufferWriter output, IReadOnlyList<ParquetColumn> schema, IReadOnlyList<WrittenRowGroup> groups, string createdBy)
    {
        var t = new ThriftCompactWriter(output);
        t.StructBegin();
        t.I32(1, 1); // version
        t.StructListField(2, schema.Count + 1);
        t.StructBegin(); // the root
        t.String(4, "schema");
        t.I32(5, schema.Count);
        t.StructEnd();
        foreach (var c in schema) WriteSchemaElement(t, c);
        t.I64(3, groups.Sum(g => g.Rows));
        t.StructListField(4, groups.Count);
        foreach (var g in groups)
        {
            t.StructBegin();
            t.StructListField(1, g.Columns.Count);
            for (int i = 0; i < g.Columns.Count; i++) WriteColumnChunk(t, schema[i], g.Columns[i]);
            t.I64(2, g.UncompressedSize);
            t.I64(3, g.Rows);
            t.I64(5, g.FileOffset);
            t.I64(6, g.CompressedSize);
            t.StructEnd();
        }
        t.String(6, createdBy);
        // Column orders: min/max follow each type's defined order (signed numbers, unsigned bytes for text).
        t.StructListField(7, schema.Count);
        foreach (var _ in schema)
        {
            t.StructBegin();
            t.StructField(1); // TYPE_ORDER
            t.StructEnd();
            t.StructEnd();
        }
        t.StructEnd();
    }

    private static void WriteSchemaElement(ThriftCompactWriter t, ParquetColumn c)
    {
        t.StructBegin();
        t.I32(1, (int)c.Type);
        t.I32(3, RepetitionRequired);
        t.String(4, c.Name);
        switch (c.Kind)
        {
            case ParquetColumnKind.Text:
                t.I32(6, ConvertedUtf8);
                t.StructField(10);
                t.StructField(1); // STRING
                t.StructEnd();
                t.StructEnd();
                break;
            case ParquetColumnKind.Decimal:
                t.I32(6, ConvertedDecimal);
                t.I32(7, c.Scale);
                t.I32(8, c.Precision);
                t.StructField(10);
                t.StructField(5); // DECIMAL
                t.I32(1, c.Scale);
                t.I32(2, c.Precision);
                t.StructEnd();
                t.StructEnd();
                break;
            case ParquetColumnKind.TimestampMillis:
                // The converted type too, as DuckDB writes it, for readers that predate logical types (Hive, older
                // Presto); the logical type says the values are wall-clock times, not UTC instants.
                t.I32(6, ConvertedTimestampMillis);
                t.StructField(10);
                t.StructField(8); // TIMESTAMP
                t.Bool(1, false); // isAdjustedToUTC
                t.StructField(2); // unit
                t.StructField(1); // MILLIS
                t.StructEnd();
                t.StructEnd();
                t.StructEnd();
                t.StructEnd();
                break;
            case ParquetColumnKind.Int32:
                t.I32(6, ConvertedInt32);
                break;
        }
        t.StructEnd();
    }

    private static void WriteColumnChunk(ThriftCompactWriter t, ParquetColumn column, WrittenColumnChunk c)
    {
        t.StructBegin();
        t.I64(2, 0); // file_offset: deprecated; 0 as the format asks (the metadata is only in the footer)
        t.StructField(3);
        t.I32(1, (int)c.Type);
        t.I32ListField(2, c.Encodings);
        t.StringListField(3, [column.Name]);
        t.I32(4, CodecSnappy);
        t.I64(5, c.NumValues);
        t.I64(6, c.UncompressedSize);
        t.I64(7, c.CompressedSize);
        t.I64(9, c.DataPageOffset);
        if (c.DictionaryPageOffset is { } dictionary) t.I64(11, dictionary);
        t.StructField(12);
        if (c.Type != ParquetType.ByteArray && c.Min is not null && c.Max is not null)
        {
            // The deprecated fields too, for older readers: for signed numbers they mean the same.
            t.Binary(1, c.Max);
            t.Binary(2, c.Min);
        }
        t.I64(3, 0); // null_count
        if (c.Min is not null && c.Max is not null)
        {
            t.Binary(5, c.Max);
            t.Binary(6, c.Min);
        }
        t.StructEnd();
        // Page encoding stats: they tell readers (parquet-mr, Trino) that every data page is dictionary-encoded,
        // so they may prune on the dictionary.
        t.StructListField(13, c.DictionaryPageOffset is null ? 1 : 2);
        if (c.DictionaryPageOffset is not null) WritePageEncodingStats(t, PageTypeDictionary, EncodingPlain, 1);
        WritePageEncodingStats(t, PageTypeData, c.DataPageEncoding, c.DataPages);
        t.StructEnd();
        t.StructEnd();
    }

    private static void WritePageEncodingStats(ThriftCompactWriter t, int pageType, int encoding, int count)
    {
        t.StructBegin();
        t.I32(1, pageType);
        t.I32(2, encoding);
        t.I32(3, count);
        t.StructEnd();
    }
}
