using System.Buffers.Binary;
using System.Text;

namespace ComputeBroker.Storage.Integrity;

/// <summary>What a digest document carries besides its root.</summary>
public enum DigestDetail
{
    /// <summary>Root and counts only: small, and enough to tell that something changed.</summary>
    RootOnly,

    /// <summary>Also every stream's head, so that a mismatch names the stream and version that changed.</summary>
    WithStreamHeads,
}

/// <summary>
/// The digest of a store: the RFC 6962 Merkle root over every stream's head (stream id, last version,
/// last hash), sorted by stream id ordinally. Since each head's hash chains its whole stream, the root
/// commits to every event; kept outside the database, it shows a deletion at a stream's tail or a
/// removed stream, which no hash chain can.
/// </summary>
/// <remarks>
/// Leaf encoding, for auditors: field("cb-head-v1") || field(UTF-8 stream id) || field(int64 big-endian
/// last version) || field(last hash, 32 bytes), where field(b) = uint32 big-endian length of b || b.
/// Thread-safe: pure functions.
/// </remarks>
public static class Digest
{
    private static readonly byte[] Tag = "cb-head-v1"u8.ToArray();

    /// <summary>The root over <paramref name="heads"/> (sorted here), lowercase hex.</summary>
    public static string Root(IEnumerable<StreamHead> heads)
    {
        var sorted = heads.OrderBy(h => h.Stream.Value, StringComparer.Ordinal).ToList();
        return Convert.ToHexStringLower(MerkleTree.Root(sorted.Select(Leaf).ToList()));
    }

    /// <summary>The canonical leaf bytes of one stream head.</summary>
    public static byte[] Leaf(StreamHead head)
    {
        var stream = Encoding.UTF8.GetBytes(head.Stream.Value);
        var hash = new byte[EventHash.Size];
        if (!EventHash.TryParse(head.Hash, hash))
        {
            // A malformed stored hash still gets a leaf (of its text), so the root differs instead of failing.
            hash = Encoding.UTF8.GetBytes(head.Hash ?? string.Empty);
        }

        using var buffer = new MemoryStream();
        Field(buffer, Tag);
        Field(buffer, stream);
        Span<byte> version = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(version, head.Version);
        Field(buffer, version);
        Field(buffer, hash);
        return buffer.ToArray();
    }

    /// <summary>
    /// Takes a digest of <paramref name="store"/> as it is now: one consistent snapshot up to its last global position.
    /// </summary>
    public static async Task<DigestDocument> CaptureAsync(IEventStore store, TimeProvider clock, DigestDetail detail, CancellationToken cancellationToken)
    {
        // Positions are assigned in commit order, so the heads up to this position are exactly the
        // events the counts describe, whatever is appended meanwhile.
        var head = await store.HeadAsync(cancellationToken);
        var heads = await store.StreamHeadsAsync(head.LastPosition, cancellationToken);
        return new DigestDocument
        {
            Root = Root(heads),
            StreamCount = heads.Count,
            EventCount = head.EventCount,
            GlobalPosition = head.LastPosition,
            CreatedAt = clock.GetUtcNow(),
            Heads = detail == DigestDetail.WithStreamHeads ? heads.Select(h => new DigestHead(h.Stream.Value, h.Version, h.Hash)).ToList() : null,
        };
    }

    private static void Field(MemoryStream buffer, ReadOnlySpan<byte> bytes)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, checked((uint)bytes.Length));
        buffer.Write(length);
        buffer.Write(bytes);
    }
}
