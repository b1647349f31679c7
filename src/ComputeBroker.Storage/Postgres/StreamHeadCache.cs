using System.Collections.Concurrent;

namespace ComputeBroker.Storage.Postgres;

/// <summary>
/// The head (last version and hash) of each stream as this process last committed it, so that an append to a stream it
/// wrote last needs no query before its insert: a request's workflow appends to its stream several times in a row, and on
/// a busy server the head query was a round trip and a third of the database's time per commit.
/// </summary>
/// <remarks>
/// An entry is used only when the append expects exactly its version, and is never trusted beyond that: if another writer
/// (another replica) has appended since, the insert of the same next version breaks the unique (stream, version)
/// constraint and the append is reported as the conflict it is, then the entry is dropped. Events are immutable, so a
/// version's hash, once committed, never changes.
/// Bounded, in two generations: when the recent one holds <see cref="Capacity"/> streams it becomes the older and the one
/// before is dropped, so a stream written within the last <see cref="Capacity"/> or so others is still known (a request's
/// workflow writes its stream within seconds) and one untouched since costs one head query. Holding every stream ever
/// written kept a few hundred bytes per request for good. Thread-safe.
/// </remarks>
internal sealed class StreamHeadCache
{
    public const int Capacity = 16_384;

    private volatile ConcurrentDictionary<string, (long Version, string Hash)> _recent = New();
    private volatile ConcurrentDictionary<string, (long Version, string Hash)> _older = New();

    /// <summary>The hash of <paramref name="stream"/>'s event at <paramref name="version"/>, if that is the last this process committed.</summary>
    public bool TryGet(StreamId stream, long version, out string hash)
    {
        // A stream in both generations has its later head in the recent one; an older head there is still the true hash of its
        // version, so either may answer for the version it holds.
        if ((_recent.TryGetValue(stream.Value, out var head) && head.Version == version)
            || (_older.TryGetValue(stream.Value, out head) && head.Version == version))
        {
            hash = head.Hash;
            return true;
        }

        hash = string.Empty;
        return false;
    }

    /// <summary>Records committed events: each stream's last one is its new head.</summary>
    public void Remember(IReadOnlyList<RecordedEvent> committed)
    {
        var recent = _recent;
        if (recent.Count + committed.Count > Capacity)
        {
            _older = recent;
            _recent = recent = New();
        }

        foreach (var e in committed)
        {
            // Two writers may finish in either order: keep the later version.
            recent.AddOrUpdate(e.Stream.Value, static (_, head) => head, static (_, old, head) => head.Version > old.Version ? head : old, (e.Version, e.Hash));
        }
    }

    /// <summary>Drops the heads of these streams: an append to them failed, or its outcome is unknown.</summary>
    public void Forget(IEnumerable<StreamAppend> appends)
    {
        foreach (var append in appends)
        {
            _recent.TryRemove(append.Stream.Value, out _);
            _older.TryRemove(append.Stream.Value, out _);
        }
    }

    /// <summary>Streams whose heads are held, in both generations.</summary>
    public int Count => _recent.Count + _older.Count;

    private static ConcurrentDictionary<string, (long Version, string Hash)> New() => new(StringComparer.Ordinal);
}
