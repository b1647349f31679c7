using ComputeBroker.Storage.Postgres;

namespace ComputeBroker.Storage.Tests;

/// <summary>The PostgreSQL store's cache of the stream heads it committed: a hint used only at the exact expected version.</summary>
public sealed class StreamHeadCacheTests
{
    private static readonly StreamId R1 = new("request-r-001");
    private static readonly StreamId R2 = new("request-r-002");

    [Fact]
    public void AHead_IsGivenOnlyForTheVersionItWasCommittedAt()
    {
        var cache = new StreamHeadCache();
        cache.Remember([Event(R1, 0, "a"), Event(R1, 1, "b"), Event(R2, 0, "c")]);

        Assert.True(cache.TryGet(R1, 1, out var hash));
        Assert.Equal(Hash("b"), hash);
        Assert.False(cache.TryGet(R1, 0, out _));
        Assert.False(cache.TryGet(R1, 2, out _));
        Assert.True(cache.TryGet(R2, 0, out var other));
        Assert.Equal(Hash("c"), other);
    }

    [Fact]
    public void AnEarlierVersionRememberedLate_DoesNotReplaceALaterOne()
    {
        var cache = new StreamHeadCache();
        cache.Remember([Event(R1, 5, "later")]);
        cache.Remember([Event(R1, 4, "earlier")]);

        Assert.True(cache.TryGet(R1, 5, out var hash));
        Assert.Equal(Hash("later"), hash);
    }

    [Fact]
    public void ForgottenStreams_AreReadAgain()
    {
        var cache = new StreamHeadCache();
        cache.Remember([Event(R1, 0, "a"), Event(R2, 0, "b")]);

        cache.Forget([new StreamAppend(R1, 0, [])]);

        Assert.False(cache.TryGet(R1, 0, out _));
        Assert.True(cache.TryGet(R2, 0, out _));
    }

    [Fact]
    public void PastItsCapacity_TheOlderGenerationIsKept_AndTheOneBeforeDropped()
    {
        var cache = new StreamHeadCache();
        cache.Remember(Streams("first", StreamHeadCache.Capacity));
        Assert.Equal(StreamHeadCache.Capacity, cache.Count);

        // The recent generation is full: it becomes the older one, still answering, and the new head starts the next.
        cache.Remember([Event(R1, 3, "new")]);
        Assert.Equal(StreamHeadCache.Capacity + 1, cache.Count);
        Assert.True(cache.TryGet(R1, 3, out _));
        Assert.True(cache.TryGet(new StreamId("first-0"), 0, out _));

        // A stream of the older generation written again is known at its new version.
        cache.Remember([Event(new StreamId("first-1"), 1, "again")]);
        Assert.True(cache.TryGet(new StreamId("first-1"), 1, out var again));
        Assert.Equal(Hash("again"), again);

        // When the next generation fills up, the first is dropped: its streams cost a head query again.
        cache.Remember(Streams("second", StreamHeadCache.Capacity - 2));
        cache.Remember([Event(R2, 0, "c")]);
        Assert.False(cache.TryGet(new StreamId("first-0"), 0, out _));
        Assert.True(cache.TryGet(new StreamId("first-1"), 1, out _));
        Assert.True(cache.TryGet(R1, 3, out _));
        Assert.True(cache.TryGet(R2, 0, out _));
        Assert.Equal(StreamHeadCache.Capacity + 1, cache.Count);
    }

    [Fact]
    public void ForgottenStreams_AreDroppedFromBothGenerations()
    {
        var cache = new StreamHeadCache();
        cache.Remember([Event(R1, 0, "a")]);
        cache.Remember(Streams("filler", StreamHeadCache.Capacity));
        Assert.True(cache.TryGet(R1, 0, out _));

        cache.Forget([new StreamAppend(R1, 0, [])]);

        Assert.False(cache.TryGet(R1, 0, out _));
    }

    private static RecordedEvent[] Streams(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => Event(new StreamId($"{prefix}-{i}"), 0, "x")).ToArray();

    private static RecordedEvent Event(StreamId stream, long version, string seed) =>
        new(1, stream, version, "test.event", "{}", DateTimeOffset.UnixEpoch, EventHash.Genesis, Hash(seed));

    private static string Hash(string seed) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)));
}
