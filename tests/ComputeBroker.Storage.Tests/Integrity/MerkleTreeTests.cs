using ComputeBroker.Storage.Integrity;

namespace ComputeBroker.Storage.Tests.Integrity;

/// <summary>The Merkle tree agrees with RFC 6962's reference vectors, so any Certificate Transparency tool can check a digest.</summary>
public sealed class MerkleTreeTests
{
    /// <summary>The leaves and roots of the Certificate Transparency reference test vectors.</summary>
    private static readonly byte[][] Leaves =
    [
        [],
        [0x00],
        [0x10],
        [0x20, 0x21],
        [0x30, 0x31],
        [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    private static readonly string[] Roots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Root_OfTheFirstLeaves_IsRfc6962sReferenceRoot(int size)
    {
        var root = MerkleTree.Root(Leaves.Take(size).ToList());

        Assert.Equal(Roots[size], Convert.ToHexStringLower(root));
    }

    [Fact]
    public void DigestRoot_DoesNotDependOnTheOrderHeadsAreGiven_AndChangesWithAnyHead()
    {
        var a = new StreamHead(new StreamId("request-a"), 3, new string('1', 64));
        var b = new StreamHead(new StreamId("request-b"), 0, new string('2', 64));
        var c = new StreamHead(new StreamId("Request-c"), 7, new string('3', 64));

        var root = Digest.Root([a, b, c]);

        Assert.Equal(root, Digest.Root([c, b, a]));
        Assert.NotEqual(root, Digest.Root([a, b]));
        Assert.NotEqual(root, Digest.Root([a with { Version = 4 }, b, c]));
        Assert.NotEqual(root, Digest.Root([a, b with { Hash = new string('4', 64) }, c]));
    }
}
