using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComputeBroker.Storage.Integrity;

/// <summary>What kind of tampering a finding shows. The names are the ones audit reports print, also in JSON.</summary>
[JsonConverter(typeof(IntegrityFindingKindJsonConverter))]
public enum IntegrityFindingKind
{
    /// <summary><c>modified</c>: an event's stored hash does not match its contents: it was changed after it was written.</summary>
    Modified,

    /// <summary><c>chain-broken</c>: an event's prev_hash is not its predecessor's hash: the predecessor was rewritten and rehashed, or the link forged.</summary>
    ChainBroken,

    /// <summary><c>deleted</c>: a version is missing from a stream (a gap, a tail the digest recorded, or a whole stream).</summary>
    Deleted,

    /// <summary><c>inserted</c>: an event that fits the chain on neither side, a duplicate version, or events the digest does not record.</summary>
    Inserted,

    /// <summary><c>reordered</c>: a stream's versions are not in the order of their global positions: versions swapped or rows moved.</summary>
    Reordered,

    /// <summary><c>digest-mismatch</c>: the store as of the digest's position does not give the digest's root or counts.</summary>
    DigestMismatch,
}

/// <summary>One problem the verifier found, naming the stream, version and global position where it is.</summary>
/// <param name="Stream">The stream, or null for a finding about the whole store (a digest mismatch).</param>
/// <param name="Version">The version as stored (or missing), when the finding is about one event.</param>
/// <param name="Position">The global position of the row, when there is a row.</param>
public sealed record IntegrityFinding(IntegrityFindingKind Kind, StreamId? Stream, long? Version, long? Position, string Message)
{
    /// <summary>The kind as reports print it: <c>modified</c>, <c>chain-broken</c>, <c>deleted</c>, <c>inserted</c>, <c>reordered</c>, <c>digest-mismatch</c>.</summary>
    [JsonIgnore]
    public string KindName => NameOf(Kind);

    public static string NameOf(IntegrityFindingKind kind) => kind switch
    {
        IntegrityFindingKind.Modified => "modified",
        IntegrityFindingKind.ChainBroken => "chain-broken",
        IntegrityFindingKind.Deleted => "deleted",
        IntegrityFindingKind.Inserted => "inserted",
        IntegrityFindingKind.Reordered => "reordered",
        IntegrityFindingKind.DigestMismatch => "digest-mismatch",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public override string ToString()
    {
        var where = Stream is { } s ? (Version is { } v ? $"{s} v{v}" : s.ToString()) : "store";
        var at = Position is { } p ? $" (position {p})" : string.Empty;
        return $"{KindName} {where}{at}: {Message}";
    }
}

/// <summary>The result of a verification: every finding, and the digest of the store as verified.</summary>
/// <param name="Root">The Merkle root over the verified heads as of <paramref name="LastPosition"/>, for the next digest.</param>
/// <param name="DigestChecked">True when an expected digest was given and compared.</param>
public sealed record IntegrityReport(
    IReadOnlyList<IntegrityFinding> Findings,
    long StreamCount,
    long EventCount,
    long LastPosition,
    string Root,
    bool DigestChecked)
{
    /// <summary>True when nothing was found: every chain verifies and, if given, the digest matches.</summary>
    public bool Passed => Findings.Count == 0;
}

/// <summary>Writes <see cref="IntegrityFindingKind"/> as <c>chain-broken</c>, whatever options the caller serializes with.</summary>
internal sealed class IntegrityFindingKindJsonConverter() : JsonStringEnumConverter<IntegrityFindingKind>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);
