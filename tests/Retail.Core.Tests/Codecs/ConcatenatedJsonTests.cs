using System.Text;
using Retail.Codecs;

namespace Retail.Core.Tests.Codecs;

/// <summary>
/// What real Firehose writes when the producer sends records without a trailing newline: objects concatenated with no
/// delimiter, or mixed with newline-delimited and multi-line objects.
/// </summary>
public class ConcatenatedJsonTests
{
    private static List<RetailTransaction> Records(int count) => Enumerable.Range(0, count).Select(i => new RetailTransaction
    {
        Invoice = (500000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), StockCode = "85123A",
        Description = i % 3 == 0 ? " BRACES } { AND \"QUOTES\" \\ £ " : "WHITE HEART", Quantity = i - 5,
        InvoiceDate = new DateTime(2024, 1, 1, 10, i % 60, 0), Price = 0.01m * i + 1234567890123.4567m % (i + 1),
        CustomerId = i % 4 == 0 ? "" : "17850", Country = "United Kingdom",
    }).ToList();

    /// <summary>One record's JSON without its newline.</summary>
    private static string Json(RetailTransaction r) => Encoding.UTF8.GetString(RetailJson.ToJsonLine(r)).TrimEnd('\n');

    private static (List<RetailTransaction> Records, List<(long Line, long Offset)> Positions, JsonLinesReader Reader) ReadAll(string text, RetailReaderOptions? options = null, int chunk = int.MaxValue)
    {
        var reader = new JsonLinesReader(new TrickleStream(Encoding.UTF8.GetBytes(text), chunk), options);
        var records = new List<RetailTransaction>();
        var positions = new List<(long, long)>();
        while (reader.TryRead(out var r))
        {
            records.Add(r);
            positions.Add((reader.LineNumber, reader.RecordByteOffset));
        }
        return (records, positions, reader);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(7)]
    public void Read_ConcatenatedWithoutDelimiters_EveryRecordWithItsByteOffset(int chunk)
    {
        var records = Records(40);
        var texts = records.Select(Json).ToList();
        var (read, positions, reader) = ReadAll(string.Concat(texts), chunk: chunk);
        using (reader)
        {
            Assert.Equal(records, read);
            Assert.True(reader.IsConcatenated);
            long offset = 0;
            for (int i = 0; i < texts.Count; i++)
            {
                Assert.Equal((1L, offset), positions[i]);
                offset += Encoding.UTF8.GetByteCount(texts[i]);
            }
            Assert.Equal($"line 1, byte {offset - Encoding.UTF8.GetByteCount(texts[^1])}", reader.RecordPosition);
        }
    }

    [Fact]
    public void Read_LongerThanMaxRecordBytesWithoutNewline_StillReadsEachObject()
    {
        var records = Records(60); // ~15 KB on one line, the window holds ~1 KB
        var (read, _, reader) = ReadAll(string.Concat(records.Select(Json)), new RetailReaderOptions { MaxRecordBytes = 1024 });
        using (reader)
        {
            Assert.Equal(records, read);
            Assert.Equal(0, reader.ErrorCount);
        }
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(5)]
    public void Read_MixedNewlinesConcatenationWhitespaceAndMultiLineObjects_EveryRecordInOrderOnItsLine(int chunk)
    {
        var r = Records(9);
        string multiLine = Json(r[5]).Replace(",\"", ",\r\n  \"", StringComparison.Ordinal); // 8 lines
        string text = "\uFEFF" + Json(r[0]) + "\n" + Json(r[1]) + "\r\n"   // lines 1-2: JSON lines
            + Json(r[2]) + Json(r[3]) + " \t " + Json(r[4]) + "\n"            // line 3: three objects
            + "\n" + multiLine + Json(r[6]) + "\n"                            // lines 5-12
            + "   " + Json(r[7]) + "\r\n\r\n" + Json(r[8]);                  // lines 13, 15
        var (read, positions, reader) = ReadAll(text, chunk: chunk);
        using (reader)
        {
            Assert.Equal(r, read);
            Assert.Equal([1L, 2, 3, 3, 3, 5, 12, 13, 15], positions.Select(p => p.Line));
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            // Each reported offset is where that record's text starts.
            for (int i = 2; i < r.Count; i++)
                Assert.Equal((byte)'{', bytes[positions[i].Offset]);
            Assert.Equal(Encoding.UTF8.GetByteCount("\uFEFF" + Json(r[0]) + "\n" + Json(r[1]) + "\r\n" + Json(r[2])), positions[3].Offset);
        }
    }

    [Fact]
    public void Read_JsonLines_StaysOnTheLineFastPath()
    {
        var records = Records(10);
        var (read, positions, reader) = ReadAll(string.Concat(records.Select(x => Json(x) + "\n")));
        using (reader)
        {
            Assert.Equal(records, read);
            Assert.False(reader.IsConcatenated);
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), positions.Select(p => p.Line));
            Assert.Equal("line 10", reader.RecordPosition);
        }
    }

    [Fact]
    public void Read_BadObjectAmongConcatenated_ReportedWithLineAndByteOffsetNeighboursKept()
    {
        var r = Records(3);
        string bad = Json(r[1]).Replace("\"Quantity\":-4", "\"Quantity\":\"many\"", StringComparison.Ordinal);
        Assert.NotEqual(Json(r[1]), bad);
        string text = Json(r[0]) + bad + Json(r[2]) + "\n";
        long badOffset = Encoding.UTF8.GetByteCount(Json(r[0]));

        var errors = new List<RetailRecordError>();
        var (read, _, reader) = ReadAll(text, new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        using (reader) Assert.Equal([r[0], r[2]], read);
        var error = Assert.Single(errors);
        Assert.Equal((1L, badOffset, "Quantity"), (error.LineNumber, error.ByteOffset!.Value, error.Column));
        Assert.Equal(bad, Encoding.UTF8.GetString(error.RawRecord.Span));

        using var strict = new JsonLinesReader(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        Assert.True(strict.TryRead(out _));
        var ex = Assert.Throws<RetailFormatException>(() => strict.TryRead(out _));
        Assert.StartsWith($"line 1, byte {badOffset}, column Quantity", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TextBetweenObjectsAndAnOversizedObject_AreBadRecordsAndTheRestIsRead()
    {
        var r = Records(4);
        string huge = "{\"Description\":\"" + new string('x', 3000) + "\"}";
        string text = Json(r[0]) + Json(r[1]) + "garbage\n" + Json(r[2]) + huge + Json(r[3]);
        var errors = new List<RetailRecordError>();
        var (read, _, reader) = ReadAll(text, new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add, MaxRecordBytes = 1024 });
        using (reader) Assert.Equal(r, read);
        Assert.Equal(2, errors.Count);
        Assert.Equal(("garbage", 1L), (errors[0].RawText, errors[0].LineNumber));
        Assert.Equal($"record too long ({huge.Length:N0} bytes, limit 1,024)", errors[1].Reason);
        Assert.Equal(huge.Length, errors[1].RecordBytes);
        Assert.Equal(2L, errors[1].LineNumber);
        Assert.Equal(Encoding.UTF8.GetByteCount(Json(r[0]) + Json(r[1]) + "garbage\n" + Json(r[2])), errors[1].ByteOffset);
    }

    [Fact]
    public void Read_ObjectLeftOpenAtTheEnd_IsABadRecordNotDropped()
    {
        var r = Records(2);
        string text = Json(r[0]) + Json(r[1]) + "{\"Invoice\":\"9\",";
        var errors = new List<RetailRecordError>();
        var (read, _, reader) = ReadAll(text, new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        using (reader) Assert.Equal(r, read);
        var error = Assert.Single(errors);
        Assert.Equal("{\"Invoice\":\"9\",", error.RawText);
        Assert.Contains("JSON", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ObjectFollowedByTextThatIsNotAnObject_StaysOneBadLineOnTheFastPath()
    {
        var r = Records(2);
        string bad = Json(r[0]) + " trailing";
        var errors = new List<RetailRecordError>();
        var (read, _, reader) = ReadAll(bad + "\n" + Json(r[1]) + "\n", new RetailReaderOptions { Mode = BadRecordMode.Lenient, OnError = errors.Add });
        using (reader)
        {
            Assert.Equal([r[1]], read);
            Assert.False(reader.IsConcatenated);
        }
        var error = Assert.Single(errors);
        Assert.Equal((1L, null, bad), (error.LineNumber, error.ByteOffset, error.RawText));
        Assert.Contains("'t' is invalid after a single JSON value", error.Reason, StringComparison.Ordinal);
    }

    /// <summary>A stream that returns at most <c>chunk</c> bytes a read, so objects straddle the reader's fills.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }
}
