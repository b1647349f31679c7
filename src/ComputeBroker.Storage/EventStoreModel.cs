namespace ComputeBroker.Storage;

/// <summary>
/// One event to append: its type (e.g. <c>offer.made</c>), its JSON (canonical, from
/// <see cref="Serialization.BrokerJson"/>), and the instant it was recorded, from the caller's clock.
/// </summary>
/// <remarks>
/// The store keeps <see cref="RecordedAt"/> in UTC to the microsecond (the precision PostgreSQL keeps),
/// so the value read back, and the one hashed, is the given instant truncated to the microsecond.
/// </remarks>
public sealed record EventData(string Type, string Json, DateTimeOffset RecordedAt);

/// <summary>
/// Events to append to one stream, if and only if the stream is at <see cref="ExpectedVersion"/>
/// (<see cref="NoStream"/> for a stream that must not exist yet). There is no "any version": every
/// writer says what it decided from, so a concurrent write is always detected.
/// </summary>
public sealed record StreamAppend(StreamId Stream, long ExpectedVersion, IReadOnlyList<EventData> Events)
{
    /// <summary>The expected version of a stream that has no events yet.</summary>
    public const long NoStream = -1;
}

/// <summary>An event as stored: where it sits globally and in its stream, and its link in the stream's hash chain.</summary>
/// <param name="Position">Global position: increases in commit order across all streams; gaps are possible.</param>
/// <param name="Version">Position within the stream: 0, 1, 2... without gaps.</param>
/// <param name="PrevHash">The <see cref="Hash"/> of the previous event in the stream (64 zeros for version 0), lowercase hex.</param>
/// <param name="Hash">SHA-256 of this event's canonical encoding (see <see cref="EventHash"/>), lowercase hex.</param>
public sealed record RecordedEvent(
    long Position,
    StreamId Stream,
    long Version,
    string Type,
    string Json,
    DateTimeOffset RecordedAt,
    string PrevHash,
    string Hash);

/// <summary>The last event of a stream: its version and hash. A digest is built from these.</summary>
public sealed record StreamHead(StreamId Stream, long Version, string Hash);

/// <summary>The whole store at one instant: the last global position and how many events and streams exist.</summary>
public sealed record StoreHead(long LastPosition, long EventCount, long StreamCount)
{
    public static readonly StoreHead Empty = new(0, 0, 0);
}

/// <summary>
/// A stream was not at the version the writer expected: someone else appended first (or the
/// stream already exists, or does not). Nothing of the append was written; re-read and decide again.
/// </summary>
/// <param name="ActualVersion">The stream's version when the append was tried; -1 when it has no events.</param>
public sealed record ConcurrencyConflict(StreamId Stream, long ExpectedVersion, long ActualVersion)
{
    public string Message =>
        (ExpectedVersion, ActualVersion) switch
        {
            (StreamAppend.NoStream, _) => $"stream '{Stream}' already exists (at version {ActualVersion}) but the append expected a new stream; nothing was written: re-read the stream and decide again",
            (_, StreamAppend.NoStream) => $"stream '{Stream}' does not exist but the append expected it at version {ExpectedVersion}; nothing was written",
            _ => $"stream '{Stream}' is at version {ActualVersion} but the append expected version {ExpectedVersion}; nothing was written: re-read the stream and decide again",
        };

    public override string ToString() => Message;
}

/// <summary>
/// The outcome of an append: either every event of every stream was committed (<see cref="Events"/>,
/// in commit order), or a <see cref="Conflict"/> and nothing was written. Never partial.
/// </summary>
public sealed record AppendResult
{
    private AppendResult(IReadOnlyList<RecordedEvent> events, ConcurrencyConflict? conflict)
    {
        Events = events;
        Conflict = conflict;
    }

    public static AppendResult Committed(IReadOnlyList<RecordedEvent> events) => new(events, null);

    public static AppendResult Conflicted(ConcurrencyConflict conflict) => new([], conflict);

    /// <summary>The committed events with their positions and hashes; empty on conflict.</summary>
    public IReadOnlyList<RecordedEvent> Events { get; }

    public ConcurrencyConflict? Conflict { get; }

    public bool IsCommitted => Conflict is null;

    /// <summary>The global position of the last committed event.</summary>
    public long LastPosition => Events.Count == 0 ? 0 : Events[^1].Position;

    /// <summary>For callers that treat a conflict as a bug: throws <see cref="ConcurrencyConflictException"/>.</summary>
    public AppendResult EnsureCommitted() =>
        Conflict is { } conflict ? throw new ConcurrencyConflictException(conflict) : this;
}

/// <summary>Thrown by <see cref="AppendResult.EnsureCommitted"/> when an append met a concurrent writer.</summary>
public sealed class ConcurrencyConflictException(ConcurrencyConflict conflict) : InvalidOperationException(conflict.Message)
{
    public ConcurrencyConflict Conflict { get; } = conflict;
}

/// <summary>Which database engine holds a store; callers that add rows in the append's transaction write SQL for it.</summary>
public enum StorageProvider
{
    Sqlite,
    Postgres,
}
