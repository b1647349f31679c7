using System.Globalization;
using System.Text;
using ComputeBroker.Domain;
using ComputeBroker.Storage;
using Npgsql;
using static ComputeBroker.Server.Service.SideDatabase;

namespace ComputeBroker.Server.Service;

/// <summary>A request's deadline as stored: when it is due, the request stream's version it was computed at, and the claim on it, if any.</summary>
public sealed record DeadlineRow(RequestId Request, DateTimeOffset DueAt, long StreamVersion, DateTimeOffset? LockedUntil, string? ClaimedBy);

/// <summary>A deadline claimed for firing: no other runner claims it until the lease ends.</summary>
public sealed record DeadlineClaim(RequestId Request, DateTimeOffset DueAt, long StreamVersion);

/// <summary>What an append does to its request's row: sets the deadline (or deletes the row when <paramref name="DueAt"/> is null) at the stream version the append leaves.</summary>
public sealed record DeadlineChange(RequestId Request, DateTimeOffset? DueAt, long StreamVersion);

/// <summary>An open request's next deadline, as the log gives it, for <see cref="DeadlineTable.BackfillAsync"/>.</summary>
public sealed record KnownDeadline(RequestId Request, DateTimeOffset DueAt, long StreamVersion);

/// <summary>
/// The durable deadline table in the event store's own database (SQLite or PostgreSQL): <c>request_deadlines</c>, one
/// row per open request that waits for a deadline (an offer's, the quote window's, a match window's, a reservation's).
/// The row is written in the transaction of every append to the request's stream (<see cref="SaveAsync"/>), so it
/// always says what the log says; a closed request, or one with nothing to wait for, has no row.
/// </summary>
/// <remarks>
/// Claiming takes due rows with a lease, in one statement: on PostgreSQL the candidates are locked
/// <c>FOR UPDATE SKIP LOCKED</c>, so replicas claiming at once never get the same row and never wait for each other;
/// on SQLite the file's single writer serializes claims. A runner that dies holding a claim leaves the row to be
/// claimed again when its lease ends. The claim only decides who tries first: that a deadline is recorded once rests
/// on the append's expected stream version. Thread-safe.
/// </remarks>
public sealed class DeadlineTable : IAsyncDisposable
{
    /// <summary>Rows per statement in a backfill: well under both engines' limits on parameters.</summary>
    private const int BackfillChunk = 200;

    private readonly SideDatabase _db;

    private DeadlineTable(SideDatabase db) => _db = db;

    public StorageProvider Provider => _db.Provider;

    /// <summary>Opens the table in the database at <paramref name="location"/> (the event store's) and creates it if missing.</summary>
    public static async Task<DeadlineTable> OpenAsync(EventStoreLocation location, CancellationToken ct) =>
        new(await SideDatabase.OpenAsync(location, DeadlineSchema.Tables, ct));

    /// <summary>
    /// Inside an append's transaction: sets the request's row to <paramref name="dueAt"/> at <paramref name="streamVersion"/>
    /// (the version the append leaves the stream at), releasing any claim, or deletes it when <paramref name="dueAt"/> is null
    /// (closed, or nothing to wait for). One statement, so a group commit of many appends stays cheap.
    /// </summary>
    public Task SaveAsync(AppendTransaction transaction, RequestId request, DateTimeOffset? dueAt, long streamVersion, CancellationToken ct) =>
        SaveAsync(transaction, [new DeadlineChange(request, dueAt, streamVersion)], ct);

    /// <summary>
    /// As <see cref="SaveAsync(AppendTransaction, RequestId, DateTimeOffset?, long, CancellationToken)"/> for the appends of a
    /// whole group commit, one request each. On PostgreSQL every change is at most two statements over arrays (a delete and an
    /// upsert), whatever the group's size, sent with the events' insert and the commit in one round trip.
    /// </summary>
    public async Task SaveAsync(AppendTransaction append, IReadOnlyList<DeadlineChange> changes, CancellationToken ct)
    {
        if (changes.Count == 0)
        {
            return;
        }

        const string Upsert =
            """
            ON CONFLICT (request_id) DO UPDATE SET due_at = excluded.due_at, stream_version = excluded.stream_version, locked_until = NULL, claimed_by = NULL
            """;
        var transaction = append.Transaction;
        var connection = transaction.Connection!;
        if (Provider == StorageProvider.Postgres)
        {
            var batch = append.Batch ?? throw new ArgumentException("a PostgreSQL append gives its batch", nameof(append));
            var deleted = changes.Where(c => c.DueAt is null).Select(c => c.Request.Value).ToArray();
            var set = changes.Where(c => c.DueAt is not null).ToArray();
            if (deleted.Length > 0)
            {
                var delete = new NpgsqlBatchCommand("DELETE FROM request_deadlines WHERE request_id = ANY($1)");
                delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = deleted });
                batch.BatchCommands.Add(delete);
            }

            if (set.Length > 0)
            {
                var upsert = new NpgsqlBatchCommand(
                    $"""
                     INSERT INTO request_deadlines (request_id, due_at, stream_version)
                     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[])
                     {Upsert}
                     """);
                upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = set.Select(c => c.Request.Value).ToArray() });
                upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = set.Select(c => c.DueAt!.Value.ToUniversalTime()).ToArray() });
                upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = set.Select(c => c.StreamVersion).ToArray() });
                batch.BatchCommands.Add(upsert);
            }

            return;
        }

        // SQLite runs in this process: a prepared statement per row costs microseconds.
        await using var deleteOne = Command(connection, transaction, "DELETE FROM request_deadlines WHERE request_id = @id");
        var deleteId = Add(deleteOne, "id", string.Empty);
        await using var upsertOne = Command(connection, transaction,
            $"INSERT INTO request_deadlines (request_id, due_at, stream_version, locked_until, claimed_by) VALUES (@id, @due, @version, NULL, NULL) {Upsert}");
        var upsertId = Add(upsertOne, "id", string.Empty);
        var upsertDue = Add(upsertOne, "due", string.Empty);
        var upsertVersion = Add(upsertOne, "version", 0L);
        foreach (var change in changes)
        {
            if (change.DueAt is { } due)
            {
                upsertId.Value = change.Request.Value;
                upsertDue.Value = _db.Instant(due);
                upsertVersion.Value = change.StreamVersion;
                await upsertOne.ExecuteNonQueryAsync(ct);
            }
            else
            {
                deleteId.Value = change.Request.Value;
                await deleteOne.ExecuteNonQueryAsync(ct);
            }
        }
    }

    /// <summary>
    /// Claims up to <paramref name="max"/> rows due at <paramref name="now"/> that no lease holds, earliest first, leased to
    /// <paramref name="claimer"/> until <paramref name="leaseUntil"/>.
    /// </summary>
    public async Task<IReadOnlyList<DeadlineClaim>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, string claimer, int max, CancellationToken ct)
    {
        const string due = "due_at <= @now AND (locked_until IS NULL OR locked_until <= @now) ORDER BY due_at LIMIT @max";
        var sql = Provider == StorageProvider.Postgres
            ? $"""
               WITH due AS (SELECT request_id FROM request_deadlines WHERE {due} FOR UPDATE SKIP LOCKED)
               UPDATE request_deadlines d SET locked_until = @lease, claimed_by = @claimer
               FROM due WHERE d.request_id = due.request_id
               RETURNING d.request_id, d.due_at, d.stream_version
               """
            : $"""
               UPDATE request_deadlines SET locked_until = @lease, claimed_by = @claimer
               WHERE request_id IN (SELECT request_id FROM request_deadlines WHERE {due})
               RETURNING request_id, due_at, stream_version
               """;
        return await _db.WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, sql);
            Add(command, "now", _db.Instant(now));
            Add(command, "lease", _db.Instant(leaseUntil));
            Add(command, "claimer", claimer);
            Add(command, "max", max);
            var claimed = new List<DeadlineClaim>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                claimed.Add(new DeadlineClaim(new RequestId(reader.GetString(0)), ReadInstant(reader, 1)!.Value, Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)));
            }

            return (IReadOnlyList<DeadlineClaim>)claimed.OrderBy(c => c.DueAt).ThenBy(c => c.Request.Value, StringComparer.Ordinal).ToArray();
        }, ct);
    }

    /// <summary>
    /// Outside an append: sets the row from the request's state at <paramref name="streamVersion"/> (a claim whose firing
    /// found nothing due), releasing the claim, or deletes it when <paramref name="dueAt"/> is null. Only a row computed
    /// at that version or before is changed, so a state read before another writer's append never overwrites its row;
    /// a missing row stays missing (the request's appends write it). False when nothing was changed.
    /// </summary>
    public Task<bool> RescheduleAsync(RequestId request, DateTimeOffset? dueAt, long streamVersion, CancellationToken ct) =>
        _db.WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, dueAt is null
                ? "DELETE FROM request_deadlines WHERE request_id = @id AND stream_version <= @version"
                : "UPDATE request_deadlines SET due_at = @due, stream_version = @version, locked_until = NULL, claimed_by = NULL WHERE request_id = @id AND stream_version <= @version");
            Add(command, "id", request.Value);
            Add(command, "version", streamVersion);
            if (dueAt is { } due)
            {
                Add(command, "due", _db.Instant(due));
            }

            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, ct);

    /// <summary>
    /// Adds a row for each deadline that has none, in one transaction, and returns how many were added: a database
    /// written before the table existed keeps its deadlines. Rows that exist are left as they are (the appends keep them).
    /// </summary>
    public Task<int> BackfillAsync(IReadOnlyList<KnownDeadline> deadlines, CancellationToken ct) => deadlines.Count == 0
        ? Task.FromResult(0)
        : _db.WriteAsync(async (connection, transaction) =>
        {
            if (Provider == StorageProvider.Postgres)
            {
                // Appends write rows in whatever order their group holds; so that inserting many rows here cannot deadlock
                // with one of them, the backfill waits for the appends writing rows and holds off new ones until it commits.
                await using var gate = Command(connection, transaction, "LOCK TABLE request_deadlines IN SHARE ROW EXCLUSIVE MODE");
                await gate.ExecuteNonQueryAsync(ct);
            }

            var added = 0;
            foreach (var chunk in deadlines.Chunk(BackfillChunk))
            {
                var sql = new StringBuilder("INSERT INTO request_deadlines (request_id, due_at, stream_version) VALUES ");
                await using var insert = Command(connection, transaction, "");
                for (var i = 0; i < chunk.Length; i++)
                {
                    sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(@id{i}, @due{i}, @version{i})");
                    Add(insert, $"id{i}", chunk[i].Request.Value);
                    Add(insert, $"due{i}", _db.Instant(chunk[i].DueAt));
                    Add(insert, $"version{i}", chunk[i].StreamVersion);
                }

                insert.CommandText = sql.Append(" ON CONFLICT (request_id) DO NOTHING").ToString();
                added += await insert.ExecuteNonQueryAsync(ct);
            }

            return added;
        }, ct);

    /// <summary>The earliest instant a row can be claimed (its due time, or the end of the lease that holds it), if any.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT MIN(CASE WHEN locked_until > due_at THEN locked_until ELSE due_at END) FROM request_deadlines");
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadInstant(reader, 0) : null;
    }

    /// <summary>The request's row, or null when it has none (closed, or nothing to wait for).</summary>
    public async Task<DeadlineRow?> FindAsync(RequestId request, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT request_id, due_at, stream_version, locked_until, claimed_by FROM request_deadlines WHERE request_id = @id");
        Add(command, "id", request.Value);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new DeadlineRow(new RequestId(reader.GetString(0)), ReadInstant(reader, 1)!.Value, Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                ReadInstant(reader, 3), reader.IsDBNull(4) ? null : reader.GetString(4))
            : null;
    }

    /// <summary>How many requests have a row.</summary>
    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT COUNT(*) FROM request_deadlines");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}

/// <summary>The deadline table, as append-only numbered migrations per database engine.</summary>
internal static class DeadlineSchema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Sqlite =
    [
        (1, """
            CREATE TABLE request_deadlines (
                request_id     TEXT    PRIMARY KEY,
                due_at         TEXT    NOT NULL,   -- round-trip UTC text, which sorts as time does
                stream_version INTEGER NOT NULL,   -- the request stream's version the deadline was computed at
                locked_until   TEXT,               -- the lease of the runner that claimed it
                claimed_by     TEXT                -- which runner (replica) holds the lease
            ) STRICT;
            CREATE INDEX request_deadlines_due ON request_deadlines (due_at);
            """),
    ];

    public static readonly IReadOnlyList<(int Version, string Sql)> Postgres =
    [
        (1, """
            CREATE TABLE request_deadlines (
                request_id     text        PRIMARY KEY,
                due_at         timestamptz NOT NULL,
                stream_version bigint      NOT NULL,
                locked_until   timestamptz,
                claimed_by     text
            );
            CREATE INDEX request_deadlines_due ON request_deadlines (due_at);
            """),
    ];

    // After the migrations: static fields are initialized in the order they are written.
    public static readonly SideSchema Tables = new("deadline", 0x43420004 /* "CB" 0004 */, "deadline table", Sqlite, Postgres);
}
