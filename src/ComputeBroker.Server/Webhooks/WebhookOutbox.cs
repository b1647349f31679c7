using System.Data.Common;
using System.Globalization;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Storage;
using Npgsql;
using NpgsqlTypes;
using static ComputeBroker.Server.Service.SideDatabase;

namespace ComputeBroker.Server.Webhooks;

/// <summary>A webhook as the delivery log shows it.</summary>
public sealed record DeliveryView(
    long Id,
    ProviderId Provider,
    string WebhookId,
    string Type,
    RequestId? RequestId,
    string State,
    int Attempts,
    DateTimeOffset? NextAttemptAt,
    int? LastStatus,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt);

/// <summary>One attempt to deliver a webhook: when, how long, the HTTP status or the error, and what followed.</summary>
public sealed record DeliveryAttemptView(int Attempt, DateTimeOffset AttemptedAt, long DurationMs, int? Status, string? Error, string Outcome, DateTimeOffset? NextAttemptAt);

/// <summary>A webhook with its body and every attempt.</summary>
public sealed record DeliveryDetailView(DeliveryView Delivery, string Payload, IReadOnlyList<DeliveryAttemptView> Attempts);

/// <summary>Whether a provider's endpoint receives webhooks; a 410 Gone answer disables it until an admin enables it.</summary>
public sealed record EndpointState(ProviderId Provider, DateTimeOffset? DisabledAt, string? DisabledReason)
{
    public bool Enabled => DisabledAt is null;
}

/// <summary>A webhook claimed for one delivery attempt: no other worker sends it until the lease runs out.</summary>
public sealed record ClaimedMessage(long Id, ProviderId Provider, string WebhookId, string Type, string Payload, int Attempt, int GiveUpAfter);

/// <summary>The outcome of one attempt, as recorded: the new state of the message and the log line.</summary>
public sealed record AttemptRecord(DateTimeOffset AttemptedAt, long DurationMs, int? Status, string? Error, string Outcome, string NewState, DateTimeOffset? NextAttemptAt);

/// <summary>The states of an outbox row.</summary>
public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    public static IReadOnlyList<string> All { get; } = [Pending, Sending, Delivered, Failed];
}

/// <summary>
/// The durable webhook outbox in the event store's own database (SQLite or PostgreSQL): <c>webhook_outbox</c>
/// (one row per webhook, written in the same transaction as the events it tells of, see <see cref="InsertAsync"/>),
/// <c>webhook_deliveries</c> (one row per attempt) and <c>webhook_endpoints</c> (disabled endpoints).
/// </summary>
/// <remarks>
/// Claiming marks due rows <c>sending</c> with a lease, in one statement: on PostgreSQL the candidates are
/// locked <c>FOR UPDATE SKIP LOCKED</c>, so replicas claiming at once never get the same row; on SQLite the
/// file's single writer serializes claims. A worker that dies mid-attempt leaves the row to be claimed again
/// when its lease ends (at least once). A result is recorded only by the claim that holds the row, so a worker
/// whose lease ran out cannot overwrite a newer attempt. Thread-safe.
/// </remarks>
public sealed class WebhookOutbox : IAsyncDisposable
{
    private readonly SideDatabase _db;

    private WebhookOutbox(SideDatabase db, int maxAttempts)
    {
        _db = db;
        MaxAttempts = maxAttempts;
    }

    public StorageProvider Provider => _db.Provider;

    /// <summary>Attempts a new message (or a redelivered one) gets before it is marked failed.</summary>
    public int MaxAttempts { get; }

    /// <summary>Opens the outbox in the database at <paramref name="location"/> and creates its tables if missing.</summary>
    public static async Task<WebhookOutbox> OpenAsync(EventStoreLocation location, int maxAttempts, CancellationToken ct) =>
        new WebhookOutbox(await SideDatabase.OpenAsync(location, WebhookSchema.Tables, ct), maxAttempts);

    /// <summary>
    /// Inserts messages inside an event store append's transaction (<see cref="IEventStore.AppendAsync(IReadOnlyList{StreamAppend}, Func{AppendTransaction, CancellationToken, Task}?, CancellationToken)"/>),
    /// so they commit if and only if the events do. On PostgreSQL they are one statement in the batch that inserts the events.
    /// </summary>
    public async Task InsertAsync(AppendTransaction append, IReadOnlyList<OutboxMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0)
        {
            return;
        }

        if (Provider == StorageProvider.Postgres)
        {
            var batch = append.Batch ?? throw new ArgumentException("a PostgreSQL append gives its batch", nameof(append));
            var insert = new NpgsqlBatchCommand(
                """
                INSERT INTO webhook_outbox (provider, webhook_id, type, request_id, payload, attempts, give_up_after, next_attempt_at, state, created_at)
                SELECT provider, webhook_id, type, request_id, payload, 0, $6, created_at, 'pending', created_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $7::timestamptz[])
                    WITH ORDINALITY AS m(provider, webhook_id, type, request_id, payload, created_at, n)
                ORDER BY n
                """);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = messages.Select(m => m.Provider.Value).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = messages.Select(m => m.WebhookId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = messages.Select(m => m.Type).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = messages.Select(m => m.Request?.Value).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = messages.Select(m => m.Payload).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxAttempts });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = messages.Select(m => m.CreatedAt.ToUniversalTime()).ToArray() });
            batch.BatchCommands.Add(insert);
            return;
        }

        foreach (var m in messages)
        {
            await using var command = Command(append.Transaction.Connection!, append.Transaction,
                """
                INSERT INTO webhook_outbox (provider, webhook_id, type, request_id, payload, attempts, give_up_after, next_attempt_at, state, created_at)
                VALUES (@provider, @webhook_id, @type, @request_id, @payload, 0, @give_up_after, @created_at, 'pending', @created_at)
                """);
            Add(command, "provider", m.Provider.Value);
            Add(command, "webhook_id", m.WebhookId);
            Add(command, "type", m.Type);
            Add(command, "request_id", m.Request?.Value);
            Add(command, "payload", m.Payload);
            Add(command, "give_up_after", MaxAttempts);
            Add(command, "created_at", _db.Instant(m.CreatedAt));
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Claims up to <paramref name="max"/> due messages of enabled endpoints for one attempt each, leased until <paramref name="leaseUntil"/>.</summary>
    public async Task<IReadOnlyList<ClaimedMessage>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken ct)
    {
        const string due =
            """
            ((state = 'pending' AND next_attempt_at <= @now) OR (state = 'sending' AND locked_until <= @now))
            AND provider NOT IN (SELECT provider FROM webhook_endpoints WHERE disabled_at IS NOT NULL)
            ORDER BY next_attempt_at, id LIMIT @max
            """;
        var sql = Provider == StorageProvider.Postgres
            ? $"""
               WITH due AS (SELECT id FROM webhook_outbox WHERE {due} FOR UPDATE SKIP LOCKED)
               UPDATE webhook_outbox o SET state = 'sending', attempts = o.attempts + 1, locked_until = @lease
               FROM due WHERE o.id = due.id
               RETURNING o.id, o.provider, o.webhook_id, o.type, o.payload, o.attempts, o.give_up_after
               """
            : $"""
               UPDATE webhook_outbox SET state = 'sending', attempts = attempts + 1, locked_until = @lease
               WHERE id IN (SELECT id FROM webhook_outbox WHERE {due})
               RETURNING id, provider, webhook_id, type, payload, attempts, give_up_after
               """;
        return await _db.WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, sql);
            Add(command, "now", _db.Instant(now));
            Add(command, "lease", _db.Instant(leaseUntil));
            Add(command, "max", max);
            var claimed = new List<ClaimedMessage>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                claimed.Add(new ClaimedMessage(reader.GetInt64(0), new ProviderId(reader.GetString(1)), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture)));
            }

            return (IReadOnlyList<ClaimedMessage>)claimed.OrderBy(c => c.Id).ToArray();
        }, ct);
    }

    /// <summary>Logs the attempt and moves the message on, if this claim still holds it; returns false when another claim took over.</summary>
    public Task<bool> RecordAsync(ClaimedMessage message, AttemptRecord record, CancellationToken ct) =>
        _db.WriteAsync(async (connection, transaction) =>
        {
            await using (var log = Command(connection, transaction,
                """
                INSERT INTO webhook_deliveries (outbox_id, provider, webhook_id, attempt, attempted_at, duration_ms, status, error, outcome, next_attempt_at)
                VALUES (@id, @provider, @webhook_id, @attempt, @at, @duration, @status, @error, @outcome, @next)
                """))
            {
                Add(log, "id", message.Id);
                Add(log, "provider", message.Provider.Value);
                Add(log, "webhook_id", message.WebhookId);
                Add(log, "attempt", message.Attempt);
                Add(log, "at", _db.Instant(record.AttemptedAt));
                Add(log, "duration", record.DurationMs);
                Add(log, "status", record.Status);
                Add(log, "error", record.Error);
                Add(log, "outcome", record.Outcome);
                Add(log, "next", record.NextAttemptAt is { } n ? _db.Instant(n) : null);
                await log.ExecuteNonQueryAsync(ct);
            }

            await using var update = Command(connection, transaction,
                """
                UPDATE webhook_outbox SET state = @state, next_attempt_at = COALESCE(@next, next_attempt_at), locked_until = NULL,
                    last_status = @status, last_error = @error, delivered_at = CASE WHEN @state = 'delivered' THEN @at ELSE delivered_at END
                WHERE id = @id AND attempts = @attempt AND state = 'sending'
                """);
            Add(update, "state", record.NewState);
            Add(update, "next", record.NextAttemptAt is { } next ? _db.Instant(next) : null);
            Add(update, "status", record.Status);
            Add(update, "error", record.Error);
            Add(update, "at", _db.Instant(record.AttemptedAt));
            Add(update, "id", message.Id);
            Add(update, "attempt", message.Attempt);
            return await update.ExecuteNonQueryAsync(ct) == 1;
        }, ct);

    /// <summary>Queues a message again now with a fresh round of attempts (whatever its state, unless an attempt is in flight).</summary>
    public Task<bool> RedeliverAsync(long id, DateTimeOffset now, CancellationToken ct) =>
        _db.WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction,
                "UPDATE webhook_outbox SET state = 'pending', next_attempt_at = @now, give_up_after = attempts + @max, locked_until = NULL WHERE id = @id AND state <> 'sending'");
            Add(command, "now", _db.Instant(now));
            Add(command, "max", MaxAttempts);
            Add(command, "id", id);
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, ct);

    public Task DisableEndpointAsync(ProviderId provider, string reason, DateTimeOffset now, CancellationToken ct) =>
        _db.WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction,
                """
                INSERT INTO webhook_endpoints (provider, disabled_at, disabled_reason) VALUES (@provider, @at, @reason)
                ON CONFLICT (provider) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason
                """);
            Add(command, "provider", provider.Value);
            Add(command, "at", _db.Instant(now));
            Add(command, "reason", reason);
            return await command.ExecuteNonQueryAsync(ct);
        }, ct);

    /// <summary>Enables a disabled endpoint; its waiting messages become due at once. False when it was not disabled.</summary>
    public Task<bool> EnableEndpointAsync(ProviderId provider, DateTimeOffset now, CancellationToken ct) =>
        _db.WriteAsync(async (connection, transaction) =>
        {
            await using var enable = Command(connection, transaction,
                "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL WHERE provider = @provider AND disabled_at IS NOT NULL");
            Add(enable, "provider", provider.Value);
            if (await enable.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }

            await using var due = Command(connection, transaction, "UPDATE webhook_outbox SET next_attempt_at = @now WHERE provider = @provider AND state = 'pending' AND next_attempt_at > @now");
            Add(due, "now", _db.Instant(now));
            Add(due, "provider", provider.Value);
            await due.ExecuteNonQueryAsync(ct);
            return true;
        }, ct);

    public async Task<IReadOnlyList<EndpointState>> EndpointStatesAsync(CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT provider, disabled_at, disabled_reason FROM webhook_endpoints ORDER BY provider");
        var states = new List<EndpointState>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            states.Add(new EndpointState(new ProviderId(reader.GetString(0)), ReadInstant(reader, 1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return states;
    }

    /// <summary>Messages newest first, filtered, up to <paramref name="limit"/> with ids below <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<DeliveryView>> ListAsync(string? provider, string? state, long? before, int limit, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null,
            $"""
             SELECT {ViewColumns} FROM webhook_outbox
             WHERE (@provider IS NULL OR provider = @provider) AND (@state IS NULL OR state = @state) AND id < @before
             ORDER BY id DESC LIMIT @limit
             """);
        Add(command, "provider", provider);
        Add(command, "state", state);
        Add(command, "before", before ?? long.MaxValue);
        Add(command, "limit", limit);
        return await ReadViewsAsync(command, ct);
    }

    public async Task<DeliveryDetailView?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        DeliveryView view;
        string payload;
        await using (var command = Command(connection, null, $"SELECT {ViewColumns}, payload FROM webhook_outbox WHERE id = @id"))
        {
            Add(command, "id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }

            view = ReadView(reader);
            payload = reader.GetString(12);
        }

        await using var attempts = Command(connection, null,
            "SELECT attempt, attempted_at, duration_ms, status, error, outcome, next_attempt_at FROM webhook_deliveries WHERE outbox_id = @id ORDER BY id");
        Add(attempts, "id", id);
        var list = new List<DeliveryAttemptView>();
        await using (var reader = await attempts.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                list.Add(new DeliveryAttemptView(
                    Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture), ReadInstant(reader, 1)!.Value, Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                    reader.IsDBNull(3) ? null : Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), ReadInstant(reader, 6)));
            }
        }

        return new DeliveryDetailView(view, payload, list);
    }

    /// <summary>The earliest instant a pending message of an enabled endpoint is due, if any: how long the worker may sleep.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = Command(connection, null,
            """
            SELECT MIN(CASE WHEN state = 'pending' THEN next_attempt_at ELSE locked_until END) FROM webhook_outbox
            WHERE state IN ('pending', 'sending') AND provider NOT IN (SELECT provider FROM webhook_endpoints WHERE disabled_at IS NOT NULL)
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadInstant(reader, 0) : null;
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    private const string ViewColumns = "id, provider, webhook_id, type, request_id, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";

    private static async Task<IReadOnlyList<DeliveryView>> ReadViewsAsync(DbCommand command, CancellationToken ct)
    {
        var views = new List<DeliveryView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            views.Add(ReadView(reader));
        }

        return views;
    }

    private static DeliveryView ReadView(DbDataReader r)
    {
        var state = r.GetString(5);
        return new DeliveryView(
            r.GetInt64(0), new ProviderId(r.GetString(1)), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : new RequestId(r.GetString(4)), state,
            Convert.ToInt32(r.GetValue(6), CultureInfo.InvariantCulture),
            state is DeliveryStates.Pending or DeliveryStates.Sending ? ReadInstant(r, 7) : null,
            r.IsDBNull(8) ? null : Convert.ToInt32(r.GetValue(8), CultureInfo.InvariantCulture), r.IsDBNull(9) ? null : r.GetString(9),
            ReadInstant(r, 10)!.Value, ReadInstant(r, 11));
    }

    /// <summary>Types the nulls the outbox's statements compare (see <see cref="SideDatabase.Add"/>).</summary>
    private static DbParameter Add(DbCommand command, string name, object? value) =>
        SideDatabase.Add(command, name, value, name is "status" or "attempt" ? NpgsqlDbType.Integer : name == "next" ? NpgsqlDbType.TimestampTz : NpgsqlDbType.Text);
}

/// <summary>The outbox tables, as append-only numbered migrations per database engine.</summary>
internal static class WebhookSchema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Sqlite =
    [
        (1, """
            CREATE TABLE webhook_outbox (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                provider        TEXT    NOT NULL,
                webhook_id      TEXT    NOT NULL UNIQUE,           -- the webhook-id header, the same on every attempt
                type            TEXT    NOT NULL,
                request_id      TEXT,
                payload         TEXT    NOT NULL,                  -- the exact body that is signed and sent
                attempts        INTEGER NOT NULL DEFAULT 0,
                give_up_after   INTEGER NOT NULL,                  -- failed once attempts reaches this (a redelivery raises it)
                next_attempt_at TEXT    NOT NULL,
                state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
                locked_until    TEXT,                              -- the lease of the claim that is sending it
                last_status     INTEGER,
                last_error      TEXT,
                created_at      TEXT    NOT NULL,
                delivered_at    TEXT
            ) STRICT;
            CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
            CREATE INDEX webhook_outbox_provider ON webhook_outbox (provider, id);
            CREATE TABLE webhook_deliveries (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                outbox_id       INTEGER NOT NULL REFERENCES webhook_outbox (id),
                provider        TEXT    NOT NULL,
                webhook_id      TEXT    NOT NULL,
                attempt         INTEGER NOT NULL,
                attempted_at    TEXT    NOT NULL,
                duration_ms     INTEGER NOT NULL,
                status          INTEGER,
                error           TEXT,
                outcome         TEXT    NOT NULL,
                next_attempt_at TEXT
            ) STRICT;
            CREATE INDEX webhook_deliveries_outbox ON webhook_deliveries (outbox_id, id);
            CREATE TABLE webhook_endpoints (
                provider        TEXT PRIMARY KEY,
                disabled_at     TEXT,
                disabled_reason TEXT
            ) STRICT;
            """),
    ];

    public static readonly IReadOnlyList<(int Version, string Sql)> Postgres =
    [
        (1, """
            CREATE TABLE webhook_outbox (
                id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                provider        text        NOT NULL,
                webhook_id      text        NOT NULL UNIQUE,
                type            text        NOT NULL,
                request_id      text,
                payload         text        NOT NULL,
                attempts        integer     NOT NULL DEFAULT 0,
                give_up_after   integer     NOT NULL,
                next_attempt_at timestamptz NOT NULL,
                state           text        NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
                locked_until    timestamptz,
                last_status     integer,
                last_error      text,
                created_at      timestamptz NOT NULL,
                delivered_at    timestamptz
            );
            CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
            CREATE INDEX webhook_outbox_provider ON webhook_outbox (provider, id);
            CREATE TABLE webhook_deliveries (
                id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                outbox_id       bigint      NOT NULL REFERENCES webhook_outbox (id),
                provider        text        NOT NULL,
                webhook_id      text        NOT NULL,
                attempt         integer     NOT NULL,
                attempted_at    timestamptz NOT NULL,
                duration_ms     bigint      NOT NULL,
                status          integer,
                error           text,
                outcome         text        NOT NULL,
                next_attempt_at timestamptz
            );
            CREATE INDEX webhook_deliveries_outbox ON webhook_deliveries (outbox_id, id);
            CREATE TABLE webhook_endpoints (
                provider        text PRIMARY KEY,
                disabled_at     timestamptz,
                disabled_reason text
            );
            """),
    ];

    // After the migrations: static fields are initialized in the order they are written.
    public static readonly SideSchema Tables = new("webhook", 0x43420003 /* "CB" 0003 */, "webhook outbox", Sqlite, Postgres);
}
