namespace ComputeBroker.Storage;

/// <summary>
/// An append-only store of event streams with a per-stream SHA-256 hash chain.
/// </summary>
/// <remarks>
/// Guarantees, for every implementation (one compliance suite checks them all):
/// <list type="bullet">
/// <item>An append is atomic across all the streams it names: every event is committed, or none is.</item>
/// <item>Optimistic concurrency: an append commits only if every stream is at its expected version;
/// of two appends that expect the same version, exactly one commits, also across processes.</item>
/// <item>Durability: once <see cref="AppendAsync(IReadOnlyList{StreamAppend}, CancellationToken)"/> returns a committed result,
/// the events survive a process crash and restart.</item>
/// <item>Order: global positions increase in commit order, so a reader that saw position P has seen
/// every event at or before P; versions within a stream are 0, 1, 2... without gaps.</item>
/// <item>Every event's hash covers its stream, version, type, recorded-at, data and the previous
/// event's hash (<see cref="EventHash"/>), so a change to stored rows is found by <see cref="Integrity.IntegrityVerifier"/>.</item>
/// </list>
/// Instances are thread-safe; open one per process and database, and dispose it at shutdown.
/// </remarks>
public interface IEventStore : IAsyncDisposable
{
    /// <summary>The database engine, for callers adding their own rows in an append's transaction.</summary>
    StorageProvider Provider { get; }

    /// <summary>
    /// Appends to one or more streams in one transaction. Each stream may appear once. Returns the
    /// committed events in the order they were given (appends in order, each append's events in order), or the first <see cref="ConcurrencyConflict"/> found, in which case nothing was written.
    /// </summary>
    /// <exception cref="ArgumentException">An append names no events, a stream twice, or an event's JSON is malformed: a programming error.</exception>
    Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, CancellationToken cancellationToken) =>
        AppendAsync(appends, inTransaction: null, cancellationToken);

    /// <summary>
    /// As <see cref="AppendAsync(IReadOnlyList{StreamAppend}, CancellationToken)"/>, and runs
    /// <paramref name="inTransaction"/> inside the same transaction, before the commit, so a caller can write other rows
    /// (an outbox, a deadline) that commit or roll back together with the events. It runs once the versions the store
    /// can check beforehand are checked; a conflict found later (a writer racing in, or a stream the store has no head
    /// for) still makes the whole append a conflict, its rows included. If it throws, nothing is written and the
    /// exception propagates. The events may or may not be inserted yet when it runs (PostgreSQL inserts them after
    /// it, in the round trip that commits), so it must not read them. Its commands must use the transaction it is given;
    /// on PostgreSQL they should go in <see cref="AppendTransaction.Batch"/>.
    /// </summary>
    Task<AppendResult> AppendAsync(
        IReadOnlyList<StreamAppend> appends,
        Func<AppendTransaction, CancellationToken, Task>? inTransaction,
        CancellationToken cancellationToken);

    /// <summary>The events of one stream from <paramref name="fromVersion"/> on, in version order; empty if the stream does not exist.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(StreamId stream, long fromVersion, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="maxCount"/> events of all streams with position at or after <paramref name="fromPosition"/>, in global order.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken);

    /// <summary>
    /// The last event (version and hash) of every stream, sorted by stream id (ordinal), counting only
    /// events at or before <paramref name="upToPosition"/> when it is given.
    /// </summary>
    Task<IReadOnlyList<StreamHead>> StreamHeadsAsync(long? upToPosition, CancellationToken cancellationToken);

    /// <summary>The ids of the streams whose id starts with <paramref name="prefix"/> (ordinal), sorted ordinally.</summary>
    Task<IReadOnlyList<StreamId>> ListStreamsAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>The last global position and the event and stream counts, read together as one consistent snapshot.</summary>
    Task<StoreHead> HeadAsync(CancellationToken cancellationToken);
}
