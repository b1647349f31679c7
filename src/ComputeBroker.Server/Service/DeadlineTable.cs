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

/// <summary>What a committed append does to its request's row: sets the deadline (or deletes the row when <paramref name="DueAt"/> is null) at the stream version the append leaves.</summary>
public sealed record DeadlineChange(RequestId Request, DateTimeOffset? DueAt, long StreamVersion);

/// <summary>An open request's next deadline, as the log gives it, for <see cref="DeadlineTable.ReconcileAsync"/>.</summary>
public sealed record KnownDeadline(RequestId Request, DateTimeOffset DueAt, long StreamVersion);

/// <summary>
/// The durable deadline table in the event store's own database (SQLite or PostgreSQL): <c>request_deadlines</c>, one
/// row per open request that waits for a deadline (an offer's, the quote window's, a match window's, a reservation's).
/// The table is a projection of the log, as the broker's views are: the rows an append leaves are written after it commits,
/// in a transaction of their own (<see cref="WriteAsync"/>), and a row is never set back to an older stream version. A row
/// the process had no time to write is written from the log at the next start (<see cref="ReconcileAsync"/>); one left
/// behind by a closed request is claimed once, fires nothing, and is deleted. A closed request, or one with nothing to
/// wait for, has no row.
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
    /// <summary>Advisory lock key PostgreSQL writers of several rows take in turn (see <see cref="WriteAsync"/>).</summary>
    private const long WriteLock = 0x43420005; // "CB" 0005

    private readonly SideDatabase _db;

    private DeadlineTable(SideDatabase db) => _db = db;

    public StorageProvider Provider => _db.Provider;

    /// <summary>Opens the table in the database at <paramref name="location"/> (the event store's) and creates it if missing.</summary>
    public static async Task<DeadlineTable> OpenAsync(EventStoreLocation location, CancellationToken ct) =>
        new(await SideDatabase.OpenAsync(location, DeadlineSchema.Tables, ct));

    /// <summary>
    /// Writes the rows committed appends leave, in a transaction of its own: each change sets its request's row to its
    /// instant at its stream version, releasing any claim, or deletes the row when <see cref="DeadlineChange.DueAt"/> is null
    /// (closed, or nothing to wait for). A change never goes back on a newer one: a row already at a later stream version is
    /// left as it is (another replica's append, or a change written before this one arrived late). Changes are written in
    /// the order of their request ids, and writers of several rows at once take turns (on PostgreSQL an advisory lock), so
    /// that two of them can never deadlock. Returns how many rows were added, changed or deleted.
    /// </summary>
    public Task<int> WriteAsync(IReadOnlyList<DeadlineChange> changes, CancellationToken ct) => changes.Count == 0
        ? Task.FromResult(0)
        : _db.WriteAsync(async (connection, transaction) =>
        {
            var ordered = changes.OrderBy(c => c.Request.Value, StringComparer.Ordinal).ToArray();
            if (Provider == StorageProvider.Postgres)
            {
                return await WritePostgresAsync((NpgsqlConnection)connection, (NpgsqlTransaction)transaction, ordered, ct);
            }

            // SQLite runs in this process and has one writer: a prepared statement per row costs microseconds.
            await using var delete = Command(connection, transaction, "DELETE FROM request_deadlines WHERE request_id = @id AND stream_version <= @version");
            var deleteId = Add(delete, "id", string.Empty);
            var deleteVersion = Add(delete, "version", 0L);
            await using var upsert = Command(connection, transaction,
                $"INSERT INTO request_deadlines (request_id, due_at, stream_version, locked_until, claimed_by) VALUES (@id, @due, @version, NULL, NULL) {NewerOnly}");
            var upsertId = Add(upsert, "id", string.Empty);
            var upsertDue = Add(upsert, "due", string.Empty);
            var upsertVersion = Add(upsert, "version", 0L);
            var written = 0;
            foreach (var change in ordered)
            {
                if (change.DueAt is { } due)
                {
                    upsertId.Value = change.Request.Value;
                    upsertDue.Value = _db.Instant(due);
                    upsertVersion.Value = change.StreamVersion;
                    written += await upsert.ExecuteNonQueryAsync(ct);
                }
                else
                {
                    deleteId.Value = change.Request.Value;
                    deleteVersion.Value = change.StreamVersion;
                    written += await delete.ExecuteNonQueryAsync(ct);
                }
            }

            return written;
        }, ct);

    /// <summary>
    /// Sets the row of each open request the log knows of to the deadline the log gives, where the row is missing or older
    /// (an append whose row was never written: the process stopped between its commit and the write, or the database
    /// was written before the table existed), and returns how many rows were added or changed. Newer rows are left as they are.
    /// </summary>
    public Task<int> ReconcileAsync(IReadOnlyList<KnownDeadline> deadlines, CancellationToken ct) =>
        WriteAsync(deadlines.Select(d => new DeadlineChange(d.Request, d.DueAt, d.StreamVersion)).ToArray(), ct);

    /// <summary>The upsert's conflict clause: a newer stream version rewrites the row and releases its claim; an older one changes nothing.</summary>
    private const string NewerOnly =
        """
        ON CONFLICT (request_id) DO UPDATE SET due_at = excluded.due_at, stream_version = excluded.stream_version, locked_until = NULL, claimed_by = NULL
        WHERE request_deadlines.stream_version < excluded.stream_version
        """;

    private static async Task<int> WritePostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DeadlineChange[] ordered, CancellationToken ct)
    {
        // One statement per kind over arrays, whatever the number of rows.
        var deleted = ordered.Where(c => c.DueAt is null).ToArray();
        var set = ordered.Where(c => c.DueAt is not null).ToArray();
        await using var batch = new NpgsqlBatch(connection, transaction);
        var gate = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)");
        gate.Parameters.Add(new NpgsqlParameter<long> { TypedValue = WriteLock });
        batch.BatchCommands.Add(gate);
        if (deleted.Length > 0)
        {
            var delete = new NpgsqlBatchCommand(
                """
                DELETE FROM request_deadlines d USING unnest($1::text[], $2::bigint[]) AS x(request_id, stream_version)
                WHERE d.request_id = x.request_id AND d.stream_version <= x.stream_version
                """);
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = deleted.Select(c => c.Request.Value).ToArray() });
            delete.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = deleted.Select(c => c.StreamVersion).ToArray() });
            batch.BatchCommands.Add(delete);
        }

        if (set.Length > 0)
        {
            var upsert = new NpgsqlBatchCommand(
                $"""
                 INSERT INTO request_deadlines (request_id, due_at, stream_version)
                 SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[]) ORDER BY 1
                 {NewerOnly}
                 """);
            upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = set.Select(c => c.Request.Value).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = set.Select(c => c.DueAt!.Value.ToUniversalTime()).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = set.Select(c => c.StreamVersion).ToArray() });
            batch.BatchCommands.Add(upsert);
        }

        await batch.ExecuteNonQueryAsync(ct);
        var written = 0;
        for (var i = 1; i < batch.BatchCommands.Count; i++)
        {
            written += batch.BatchCommands[i].RecordsAffected;
        }

        return written;
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
