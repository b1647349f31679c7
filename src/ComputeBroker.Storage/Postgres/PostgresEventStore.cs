using Npgsql;
using NpgsqlTypes;

namespace ComputeBroker.Storage.Postgres;

/// <summary>
/// The event store in a PostgreSQL database, for production and for several broker replicas sharing one database.
/// </summary>
/// <remarks>
/// Appends from every process take one transaction-scoped advisory lock before they insert, held to the
/// commit, so global positions are assigned in commit order (a reader that saw position P never later
/// finds a new event below P, which digests and catch-up readers rely on). Versions are checked against
/// the heads read before the lock (or remembered from this store's own commits), and the unique
/// (stream_id, version) constraint makes the check exact: a writer that appended to the stream in between
/// makes the insert fail, and the append is reported as a conflict. An append is one round trip: see
/// <see cref="AppendAsync(IReadOnlyList{StreamAppend}, Func{AppendTransaction, CancellationToken, Task}?, CancellationToken)"/>.
/// Thread-safe; connections come from an <see cref="NpgsqlDataSource"/> pool.
/// </remarks>
public sealed class PostgresEventStore : IEventStore
{
    /// <summary>Advisory lock key that serializes appends across processes ("CB" 0002).</summary>
    private const long AppendLock = 0x43420002;

    private const string UniqueViolation = "23505";

    private const string Columns = "position, stream_id, version, type, data, recorded_at, prev_hash, hash";

    private readonly NpgsqlDataSource _dataSource;

    private readonly StreamHeadCache _heads = new();

    private PostgresEventStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public StorageProvider Provider => StorageProvider.Postgres;

    /// <summary>Opens the store in the database of <paramref name="connectionString"/> (Npgsql key=value form) and applies missing migrations.</summary>
    public static async Task<PostgresEventStore> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        // The store sends the same few statements over and over: prepared, the server parses and plans each once per
        // connection instead of on every append (the load command measured 8 % more workflows per second). A connection
        // string that sets Max Auto Prepare keeps its own value.
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 32;
            settings.AutoPrepareMinUsages = 2;
        }

        var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
        try
        {
            await PostgresSchema.MigrateAsync(dataSource, cancellationToken);
            return new PostgresEventStore(dataSource);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    public Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, CancellationToken cancellationToken) =>
        AppendAsync(appends, inTransaction: null, cancellationToken);

    public async Task<AppendResult> AppendAsync(
        IReadOnlyList<StreamAppend> appends,
        Func<AppendTransaction, CancellationToken, Task>? inTransaction,
        CancellationToken cancellationToken)
    {
        var prepared = AppendPreparation.Prepare(appends);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var committedHere = false;
        try
        {
            // Usually one round trip however many streams and events the append carries (a group commit can carry hundreds):
            // the lock, every event and the commit in one batch, with the heads this store last wrote (see StreamHeadCache),
            // and a head query first only for streams it has not. The lock orders positions by commit and is held only while
            // the server inserts and commits: a writer that appends to one of these streams meanwhile makes the insert break
            // the unique (stream, version) constraint, which is reported as the conflict it is.
            var heads = await HeadsAsync(connection, transaction, prepared, cancellationToken);
            if (FirstConflict(prepared, heads) is { } conflict)
            {
                await transaction.RollbackAsync(cancellationToken);
                return AppendResult.Conflicted(conflict);
            }

            var pending = new List<RecordedEvent>();
            foreach (var append in prepared)
            {
                var (version, prevHash) = Head(heads, append.Stream);
                foreach (var e in append.Events)
                {
                    version++;
                    var hash = EventHash.Compute(append.Stream, version, e.Type, e.RecordedAt, e.Json, prevHash);
                    pending.Add(new RecordedEvent(0, append.Stream, version, e.Type, e.Json, e.RecordedAt, prevHash, hash));
                    prevHash = hash;
                }
            }

            // The caller's rows go in the same batch, before the lock, which serializes every append of every replica.
            await using var batch = new NpgsqlBatch(connection, transaction);
            if (inTransaction is not null)
            {
                await inTransaction(new AppendTransaction(transaction, batch), cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var committed = await LockInsertAndCommitAsync(batch, pending);
            committedHere = true;
            _heads.Remember(committed);
            return AppendResult.Committed(committed);
        }
        catch (PostgresException e) when (e.SqlState == UniqueViolation && e.ConstraintName == "events_stream_version")
        {
            // Another writer appended to one of these streams after its head was read (or cached); the transaction is
            // aborted. The stream it took is one whose head has now moved past what this append expected.
            await transaction.RollbackAsync(CancellationToken.None);
            var now = await ReadHeadsAsync(connection, null, prepared.Select(a => a.Stream.Value).ToArray(), cancellationToken);
            var last = prepared[^1];
            return AppendResult.Conflicted(FirstConflict(prepared, now) ?? new ConcurrencyConflict(last.Stream, last.ExpectedVersion, Head(now, last.Stream).Version));
        }
        finally
        {
            if (!committedHere)
            {
                // A conflict, a failure, or a cancellation perhaps after the commit was sent: the cached heads of these
                // streams may be wrong, so they are read again next time.
                _heads.Forget(prepared);
            }
        }
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(StreamId stream, long fromVersion, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream.Value });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Math.Max(0, fromVersion) });
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await using var command = _dataSource.CreateCommand($"SELECT {Columns} FROM events WHERE position >= $1 ORDER BY position LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromPosition });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<StreamHead>> StreamHeadsAsync(long? upToPosition, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT DISTINCT ON (stream_id) stream_id, version, hash FROM events WHERE position <= $1 ORDER BY stream_id, version DESC");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = upToPosition ?? long.MaxValue });
        var heads = new List<StreamHead>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads.Add(new StreamHead(new StreamId(reader.GetString(0)), reader.GetInt64(1), reader.GetString(2)));
        }

        // The database's collation may not be ordinal; digests need one order everywhere.
        heads.Sort((a, b) => a.Stream.CompareTo(b.Stream));
        return heads;
    }

    public async Task<IReadOnlyList<StreamId>> ListStreamsAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await using var command = _dataSource.CreateCommand("SELECT DISTINCT stream_id FROM events WHERE starts_with(stream_id, $1)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix });
        var streams = new List<StreamId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            streams.Add(new StreamId(reader.GetString(0)));
        }

        streams.Sort();
        return streams;
    }

    public async Task<StoreHead> HeadAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT COALESCE(MAX(position), 0), COUNT(*), COUNT(DISTINCT stream_id) FROM events");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new StoreHead(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>
    /// Every named stream's head (last version and hash): a new stream's is known, a stream this store last wrote at the
    /// expected version is in the cache, and the rest are read in one query.
    /// </summary>
    private async Task<Dictionary<string, (long Version, string Hash)>> HeadsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<StreamAppend> appends, CancellationToken cancellationToken)
    {
        var heads = new Dictionary<string, (long, string)>(appends.Count, StringComparer.Ordinal);
        List<string>? unknown = null;
        foreach (var append in appends)
        {
            if (append.ExpectedVersion == StreamAppend.NoStream)
            {
                // Absent from the dictionary is "no stream" (see Head); if it exists after all, the insert of version 0 conflicts.
                continue;
            }

            if (_heads.TryGet(append.Stream, append.ExpectedVersion, out var hash))
            {
                heads[append.Stream.Value] = (append.ExpectedVersion, hash);
            }
            else
            {
                (unknown ??= []).Add(append.Stream.Value);
            }
        }

        if (unknown is not null)
        {
            foreach (var (stream, head) in await ReadHeadsAsync(connection, transaction, unknown.ToArray(), cancellationToken))
            {
                heads[stream] = head;
            }
        }

        return heads;
    }

    /// <summary>The heads of <paramref name="streams"/> as the database has them, in one query (streams with no events are absent).</summary>
    private static async Task<Dictionary<string, (long Version, string Hash)>> ReadHeadsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string[] streams, CancellationToken cancellationToken)
    {
        // One backward index probe per stream rather than every version of every stream.
        await using var command = new NpgsqlCommand(
            """
            SELECT s.stream_id, h.version, h.hash
            FROM unnest($1::text[]) AS s(stream_id)
            CROSS JOIN LATERAL (SELECT version, hash FROM events e WHERE e.stream_id = s.stream_id ORDER BY version DESC LIMIT 1) h
            """,
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
        var heads = new Dictionary<string, (long, string)>(streams.Length, StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2));
        }

        return heads;
    }

    /// <summary>
    /// Completes <paramref name="batch"/> (which may hold the caller's commands) with the append lock, the insert of every event
    /// in one statement and the commit, and sends it: one round trip. The lock is held to the commit, so global positions increase
    /// in commit order; positions are assigned in the order of <paramref name="events"/>. Returns the events with their positions.
    /// </summary>
    private static async Task<IReadOnlyList<RecordedEvent>> LockInsertAndCommitAsync(NpgsqlBatch batch, List<RecordedEvent> events)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)") { Parameters = { new NpgsqlParameter<long> { TypedValue = AppendLock } } });
        var insert = new NpgsqlBatchCommand(
            """
            INSERT INTO events (stream_id, version, type, data, recorded_at, prev_hash, hash)
            SELECT stream_id, version, type, data, recorded_at, prev_hash, hash
            FROM unnest($1::text[], $2::bigint[], $3::text[], $4::json[], $5::timestamptz[], $6::text[], $7::text[])
                WITH ORDINALITY AS e(stream_id, version, type, data, recorded_at, prev_hash, hash, n)
            ORDER BY n
            RETURNING stream_id, version, position AS appended_position
            """);
        batch.BatchCommands.Add(insert);
        // One array per column, filled in one pass over the events.
        var n = events.Count;
        var streams = new string[n];
        var versions = new long[n];
        var types = new string[n];
        var json = new string[n];
        var recordedAt = new DateTimeOffset[n];
        var prevHashes = new string[n];
        var hashes = new string[n];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            streams[i] = e.Stream.Value;
            versions[i] = e.Version;
            types[i] = e.Type;
            json[i] = e.Json;
            recordedAt[i] = e.RecordedAt;
            prevHashes[i] = e.PrevHash;
            hashes[i] = e.Hash;
        }

        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
        insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = versions });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = json, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = recordedAt });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = prevHashes });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = hashes });

        // The commit rides in the same round trip: between the insert and the commit the lock is not held waiting on this
        // process to be scheduled and send it.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));

        // Not cancellable: once the commit is sent, its outcome must not be left unknown to the caller. RETURNING does not
        // promise an order: each position is matched to its event by (stream, version), which is unique. The caller's commands
        // may return rows of their own: the insert's are found by their column's name.
        var positions = new Dictionary<(string, long), long>(events.Count);
        await using (var reader = await batch.ExecuteReaderAsync(CancellationToken.None))
        {
            do
            {
                if (reader.FieldCount == 3 && reader.GetName(2) == "appended_position")
                {
                    while (await reader.ReadAsync(CancellationToken.None))
                    {
                        positions[(reader.GetString(0), reader.GetInt64(1))] = reader.GetInt64(2);
                    }
                }
            }
            while (await reader.NextResultAsync(CancellationToken.None));
        }

        var committed = new RecordedEvent[n];
        for (var i = 0; i < n; i++)
        {
            committed[i] = events[i] with { Position = positions[(streams[i], versions[i])] };
        }

        return committed;
    }

    /// <summary>A stream's head as <see cref="ReadHeadsAsync"/> gave it; (-1, genesis) for a stream with no events.</summary>
    private static (long Version, string Hash) Head(Dictionary<string, (long Version, string Hash)> heads, StreamId stream) =>
        heads.TryGetValue(stream.Value, out var head) ? head : (StreamAppend.NoStream, EventHash.Genesis);

    /// <summary>The first append whose stream is not at the version it expects, if any.</summary>
    private static ConcurrencyConflict? FirstConflict(IReadOnlyList<StreamAppend> appends, Dictionary<string, (long Version, string Hash)> heads) =>
        appends.Select(a => (Append: a, Actual: Head(heads, a.Stream).Version))
            .Where(x => x.Actual != x.Append.ExpectedVersion)
            .Select(x => new ConcurrencyConflict(x.Append.Stream, x.Append.ExpectedVersion, x.Actual))
            .FirstOrDefault();

    private static async Task<IReadOnlyList<RecordedEvent>> ReadEventsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RecordedEvent(
                reader.GetInt64(0),
                new StreamId(reader.GetString(1)),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetString(6),
                reader.GetString(7)));
        }

        return events;
    }
}
