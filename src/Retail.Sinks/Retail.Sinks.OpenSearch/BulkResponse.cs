using System.Text.Json;

namespace Retail.Sinks.OpenSearch;

/// <summary>One item of a <c>_bulk</c> response: its status, and its error's type and reason when it failed.</summary>
internal struct BulkItemOutcome
{
    public int Status;
    public string? ErrorType;
    public string? Reason;
}

/// <summary>
/// Reads a <c>_bulk</c> response (<c>{"took":…,"errors":…,"items":[{"index":{"_index":…,"_id":…,"status":201,…}},…]}</c>)
/// with <see cref="Utf8JsonReader"/>: no reflection. <c>"errors":false</c> ahead of the items means every item succeeded.
/// </summary>
internal static class BulkResponse
{
    /// <summary>
    /// Fills <paramref name="items"/> (one per document of the request, in order); returns false, with
    /// <paramref name="problem"/>, for a response that is not a <c>_bulk</c> answer for this many documents.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, Span<BulkItemOutcome> items, out string? problem)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Fail("the response is not a JSON object", out problem);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("errors"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.False)
                    {
                        items.Fill(new BulkItemOutcome { Status = 200 });
                        problem = null;
                        return true;
                    }
                }
                else if (reader.ValueTextEquals("items"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return Fail("items is not an array", out problem);
                    int i = 0;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (i >= items.Length) return Fail($"the response has more items than the request's {items.Length} documents", out problem);
                        if (!ReadItem(ref reader, ref items[i])) return Fail($"item {i} is malformed", out problem);
                        i++;
                    }
                    if (i != items.Length) return Fail($"the response has {i} items for {items.Length} documents", out problem);
                    problem = null;
                    return true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return Fail("the response has no items", out problem);
        }
        catch (JsonException e)
        {
            return Fail("the response is not valid JSON: " + e.Message, out problem);
        }
    }

    // At the item's StartObject: {"<action>":{…}}
    private static bool ReadItem(ref Utf8JsonReader reader, ref BulkItemOutcome item)
    {
        item = default;
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName) return false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out item.Status)) return false;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) item.Reason = reader.GetString();
                else if (reader.TokenType == JsonTokenType.StartObject) ReadError(ref reader, ref item);
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject) return false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject) return false;
        return item.Status != 0;
    }

    private static void ReadError(ref Utf8JsonReader reader, ref BulkItemOutcome item)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool type = reader.ValueTextEquals("type"u8), reason = reader.ValueTextEquals("reason"u8);
            reader.Read();
            if (type && reader.TokenType == JsonTokenType.String) item.ErrorType = reader.GetString();
            else if (reason && reader.TokenType == JsonTokenType.String) item.Reason = reader.GetString();
            else reader.Skip();
        }
    }

    /// <summary>The <c>error.type</c> and <c>error.reason</c> of an error response (<c>{"error":{…},"status":…}</c>), when it has them.</summary>
    public static (string? Type, string? Reason) ReadError(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, null);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) return (null, reader.GetString());
                    if (reader.TokenType != JsonTokenType.StartObject) return (null, null);
                    var item = default(BulkItemOutcome);
                    ReadError(ref reader, ref item);
                    return (item.ErrorType, item.Reason);
                }
                if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) return (null, reader.GetString());
                    continue;
                }
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return (null, null);
    }

    /// <summary>The <c>count</c> of a <c>_count</c> response.</summary>
    public static long? ReadCount(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool count = reader.ValueTextEquals("count"u8);
                reader.Read();
                if (count && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long n)) return n;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static bool Fail(string why, out string? problem)
    {
        problem = why;
        return false;
    }
}
