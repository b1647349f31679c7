using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ComputeBroker.Storage.Tests;

/// <summary>The published event hash encoding, pinned byte for byte so an auditor's own implementation agrees.</summary>
public sealed class EventHashTests
{
    private static readonly StreamId Stream = new("request-r-001");
    private static readonly DateTimeOffset At = new(2025, 3, 1, 9, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("""{"n":1}""")]
    [InlineData("""{"note":"Año fiscal — ünïcode"}""")]
    [InlineData(null)] // a document of several kilobytes, larger than the hasher's stack buffer
    public void Hash_IsSha256OverLengthPrefixedFields_AsDocumented(string? json)
    {
        json ??= "{\"document\":\"" + string.Concat(Enumerable.Repeat("clauses: first-refusal; ñ ", 400)) + "\"}";
        var prev = Convert.ToHexStringLower(SHA256.HashData("previous"u8));
        var bytes = new List<byte>();
        void Field(byte[] field)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)field.Length);
            bytes.AddRange(length);
            bytes.AddRange(field);
        }

        var version = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(version, 7);
        Field(Encoding.UTF8.GetBytes("cb-event-v1"));
        Field(Encoding.UTF8.GetBytes("request-r-001"));
        Field(version);
        Field(Encoding.UTF8.GetBytes("offer.made"));
        Field(Encoding.UTF8.GetBytes("2025-03-01T09:30:00.0000000+00:00"));
        Field(Encoding.UTF8.GetBytes(json));
        Field(Convert.FromHexString(prev));

        Assert.Equal(
            Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray())),
            EventHash.Compute(Stream, 7, "offer.made", At, json, prev));
    }

    [Fact]
    public void Genesis_IsThirtyTwoZeroBytes()
    {
        Assert.Equal(new string('0', 64), EventHash.Genesis);
    }

    [Fact]
    public void Fields_CannotRunIntoEachOther()
    {
        var a = EventHash.Compute(Stream, 0, "offer.made", At, """{"n":1}""", EventHash.Genesis);
        var b = EventHash.Compute(Stream, 0, "offer.made{", At, "\"n\":1}", EventHash.Genesis);

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Hash_DependsOnEveryField()
    {
        var other = new string('f', 64);
        var hashes = new[]
        {
            EventHash.Compute(Stream, 0, "t", At, "{}", EventHash.Genesis),
            EventHash.Compute(new StreamId("request-r-002"), 0, "t", At, "{}", EventHash.Genesis),
            EventHash.Compute(Stream, 1, "t", At, "{}", EventHash.Genesis),
            EventHash.Compute(Stream, 0, "u", At, "{}", EventHash.Genesis),
            EventHash.Compute(Stream, 0, "t", At.AddTicks(10), "{}", EventHash.Genesis),
            EventHash.Compute(Stream, 0, "t", At, "{ }", EventHash.Genesis),
            EventHash.Compute(Stream, 0, "t", At, "{}", other),
        };

        Assert.Equal(hashes.Length, hashes.Distinct().Count());
    }

    [Fact]
    public void RecordedAt_IsHashedInUtcToTheMicrosecond()
    {
        var local = At.ToOffset(TimeSpan.FromHours(-5));

        Assert.Equal(
            EventHash.Compute(Stream, 0, "t", At, "{}", EventHash.Genesis),
            EventHash.Compute(Stream, 0, "t", local.AddTicks(9), "{}", EventHash.Genesis));
        Assert.Equal("2025-03-01T09:30:00.0000010+00:00", EventHash.FormatRecordedAt(At.AddTicks(19)));
    }

    [Fact]
    public void MalformedPrevHash_IsAFormatException()
    {
        Assert.Throws<FormatException>(() => EventHash.Compute(Stream, 0, "t", At, "{}", "not-hex"));
    }
}
