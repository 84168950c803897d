using System.Security.Cryptography;
using System.Text;

namespace Retail.Indexing;

/// <summary>How the speed layer names documents.</summary>
public enum DocumentIdMode
{
    /// <summary>
    /// The default: the record's position in the stream (stream, shard, sequence number), hashed to
    /// 128 bits. Every streamed record is its own document, so nothing is overwritten — not even the
    /// data set's genuinely repeated rows — while a re-delivery of the same record (at-least-once)
    /// upserts the same document instead of duplicating it.
    /// </summary>
    SourcePosition,

    /// <summary>
    /// The workshop's business key (the REQUIRED_FIELDS values joined with <c>:</c>, by default
    /// <c>Invoice:StockCode:Customer_ID</c>) hashed with SHA-256 in full: upsert semantics by key,
    /// without the workshop's 32-bit truncation.
    /// </summary>
    BusinessKey,

    /// <summary>
    /// Compatibility with the workshop's <c>UpsertToES</c>: <c>md5(key)[:8]</c>, 32 bits. Ids collide
    /// (about even odds by ~77,000 documents) and distinct rows silently overwrite each other; use it
    /// only to match an index the workshop built.
    /// </summary>
    WorkshopMd5Prefix,
}

/// <summary>Computes document ids for the speed layer.</summary>
public static class DocumentIds
{
    /// <summary>The workshop's REQUIRED_FIELDS default, which is also the business key.</summary>
    public static IReadOnlyList<string> DefaultKeyFields { get; } = [RetailFields.Invoice, RetailFields.StockCode, RetailFields.CustomerId];

    /// <summary>The id of <paramref name="record"/>, read at <paramref name="sequenceNumber"/> of <paramref name="shardId"/>.</summary>
    /// <param name="mode">How ids are made.</param>
    /// <param name="record">The record.</param>
    /// <param name="streamName">The stream it was read from (for <see cref="DocumentIdMode.SourcePosition"/>).</param>
    /// <param name="shardId">Its shard.</param>
    /// <param name="sequenceNumber">Its sequence number.</param>
    /// <param name="keyFields">Fields of the business key (default <see cref="DefaultKeyFields"/>).</param>
    public static string Compute(DocumentIdMode mode, RetailTransaction record, string streamName, string shardId, string sequenceNumber, IReadOnlyList<string>? keyFields = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        switch (mode)
        {
            case DocumentIdMode.SourcePosition:
                return Hex(SHA256.HashData(Encoding.UTF8.GetBytes($"{streamName}/{shardId}/{sequenceNumber}")), 16);
            case DocumentIdMode.BusinessKey:
                return Hex(SHA256.HashData(Encoding.UTF8.GetBytes(BusinessKey(record, keyFields))), 32);
            case DocumentIdMode.WorkshopMd5Prefix:
#pragma warning disable CA5351 // MD5 is the workshop's id scheme, kept for compatibility only; not used for security.
                return Hex(MD5.HashData(Encoding.UTF8.GetBytes(BusinessKey(record, keyFields))), 4);
#pragma warning restore CA5351
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown DocumentIdMode.");
        }
    }

    /// <summary>The business key: the values of <paramref name="keyFields"/> joined with <c>:</c> (the workshop's format).</summary>
    public static string BusinessKey(RetailTransaction record, IReadOnlyList<string>? keyFields = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        keyFields ??= DefaultKeyFields;
        return string.Join(':', keyFields.Select(f => RetailFieldAccess.GetText(record, f)));
    }

    private static string Hex(byte[] hash, int bytes) => Convert.ToHexStringLower(hash.AsSpan(0, bytes));
}
