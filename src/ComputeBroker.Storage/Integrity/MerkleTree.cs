using System.Security.Cryptography;

namespace ComputeBroker.Storage.Integrity;

/// <summary>
/// The Merkle tree hash of RFC 6962 (Certificate Transparency), section 2.1: leaf = SHA-256(0x00 || leaf),
/// node = SHA-256(0x01 || left || right), split at the largest power of two smaller than the leaf count;
/// the hash of no leaves is SHA-256 of the empty string. Any CT library computes the same root.
/// </summary>
/// <remarks>Thread-safe: pure functions.</remarks>
public static class MerkleTree
{
    /// <summary>The tree hash over <paramref name="leaves"/> (the leaf data, not yet hashed), in order.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        var hashes = new byte[leaves.Count][];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = LeafHash(leaves[i]);
        }

        return Subtree(hashes, 0, hashes.Length);
    }

    public static byte[] LeafHash(ReadOnlySpan<byte> leaf)
    {
        var buffer = new byte[leaf.Length + 1];
        leaf.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + left.Length + right.Length];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + left.Length)..]);
        return SHA256.HashData(buffer);
    }

    private static byte[] Subtree(byte[][] hashes, int start, int count)
    {
        if (count == 1)
        {
            return hashes[start];
        }

        var split = LargestPowerOfTwoBelow(count);
        return NodeHash(Subtree(hashes, start, split), Subtree(hashes, start + split, count - split));
    }

    /// <summary>The largest power of two strictly smaller than <paramref name="n"/> (n &gt; 1).</summary>
    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}
