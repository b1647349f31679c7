using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ComputeBroker.Storage;

/// <summary>
/// The hash that chains a stream's events. Published so that an auditor can recompute it without this code:
/// <code>
/// hash = SHA-256( field("cb-event-v1") || field(UTF-8 stream id) || field(int64 big-endian version)
///               || field(UTF-8 type) || field(UTF-8 recorded-at) || field(UTF-8 data) || field(prev_hash, 32 bytes) )
/// field(b) = uint32 big-endian length of b || b
/// </code>
/// recorded-at is the instant in UTC, truncated to the microsecond, formatted with .NET's round-trip
/// format "O" (<c>2025-03-01T09:30:00.1234560+00:00</c>); prev_hash of version 0 is 32 zero bytes.
/// The length prefixes keep fields from running into each other ("ab"+"c" differs from "a"+"bc"), and the
/// leading tag names the encoding so that a later version can change it without ambiguity.
/// </summary>
/// <remarks>Thread-safe: pure functions.</remarks>
public static class EventHash
{
    /// <summary>Bytes in a hash.</summary>
    public const int Size = 32;

    private static readonly byte[] Tag = "cb-event-v1"u8.ToArray();

    /// <summary>The prev_hash of a stream's first event: 32 zero bytes, in hex.</summary>
    public static string Genesis { get; } = new('0', Size * 2);

    /// <summary>
    /// The instant as the store keeps it: UTC, truncated to the microsecond (PostgreSQL's precision),
    /// so the instant hashed at append is the one read back.
    /// </summary>
    public static DateTimeOffset NormalizeRecordedAt(DateTimeOffset instant) =>
        new(instant.UtcTicks - (instant.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>The text of recorded-at that is hashed (and that SQLite stores).</summary>
    public static string FormatRecordedAt(DateTimeOffset instant) =>
        NormalizeRecordedAt(instant).ToString("O", CultureInfo.InvariantCulture);

    /// <summary>Computes an event's hash, lowercase hex. <paramref name="prevHash"/> is 64 hex digits.</summary>
    /// <exception cref="FormatException"><paramref name="prevHash"/> is not 32 bytes of hex.</exception>
    public static string Compute(StreamId stream, long version, string type, DateTimeOffset recordedAt, string json, string prevHash)
    {
        Span<byte> prev = stackalloc byte[Size];
        if (!TryParse(prevHash, prev))
        {
            throw new FormatException($"prev_hash '{prevHash}' is not {Size * 2} hex digits");
        }

        return Compute(stream, version, type, recordedAt, json, prev);
    }

    /// <summary>Computes an event's hash from the previous hash's bytes, lowercase hex.</summary>
    public static string Compute(StreamId stream, long version, string type, DateTimeOffset recordedAt, string json, ReadOnlySpan<byte> prevHash)
    {
        if (prevHash.Length != Size)
        {
            throw new ArgumentException($"a prev_hash has {Size} bytes, not {prevHash.Length}", nameof(prevHash));
        }

        // One buffer holding the whole encoding, hashed in one call: every event of every append is hashed on the store's
        // single writer, so this avoids an allocation per field and the incremental hasher's per-call cost.
        Span<byte> recorded = stackalloc byte[40];
        if (!NormalizeRecordedAt(recordedAt).TryFormat(recorded, out var recordedLength, "O", CultureInfo.InvariantCulture))
        {
            throw new FormatException($"recorded-at {recordedAt:O} does not fit the hashed encoding");
        }

        var length = Field(Tag.Length) + Field(Encoding.UTF8.GetByteCount(stream.Value)) + Field(8) + Field(Encoding.UTF8.GetByteCount(type))
            + Field(recordedLength) + Field(Encoding.UTF8.GetByteCount(json)) + Field(Size);
        var rented = length <= 1024 ? null : ArrayPool<byte>.Shared.Rent(length);
        var buffer = rented is null ? stackalloc byte[1024] : rented.AsSpan();
        try
        {
            var at = 0;
            at = Write(buffer, at, Tag);
            at = Write(buffer, at, stream.Value);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], 8);
            BinaryPrimitives.WriteInt64BigEndian(buffer[(at + 4)..], version);
            at += Field(8);
            at = Write(buffer, at, type);
            at = Write(buffer, at, recorded[..recordedLength]);
            at = Write(buffer, at, json);
            at = Write(buffer, at, prevHash);
            Span<byte> hash = stackalloc byte[Size];
            SHA256.HashData(buffer[..at], hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static int Field(int bytes) => 4 + bytes;

    private static int Write(Span<byte> buffer, int at, ReadOnlySpan<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], checked((uint)bytes.Length));
        bytes.CopyTo(buffer[(at + 4)..]);
        return at + Field(bytes.Length);
    }

    private static int Write(Span<byte> buffer, int at, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, buffer[(at + 4)..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], checked((uint)written));
        return at + Field(written);
    }

    /// <summary>Parses 64 hex digits into <paramref name="destination"/>; false for anything else.</summary>
    public static bool TryParse(string? hex, Span<byte> destination) =>
        hex is { Length: Size * 2 }
        && destination.Length == Size
        && Convert.FromHexString(hex, destination, out _, out var written) == System.Buffers.OperationStatus.Done
        && written == Size;
}
