using Npgsql;

namespace ComputeBroker.Storage.Postgres;

/// <summary>The PostgreSQL schema, as numbered migrations applied once each and recorded in <c>schema_version</c>.</summary>
internal static class PostgresSchema
{
    /// <summary>Advisory lock key held while migrating, so that replicas starting together migrate once.</summary>
    private const long MigrationLock = 0x43420001; // "CB" 0001

    /// <summary>Append-only: a migration, once shipped, is never edited; changes are new migrations.</summary>
    public static readonly IReadOnlyList<(int Version, string Description, string Sql)> Migrations =
    [
        (1, "events table with per-stream hash chain",
            """
            CREATE TABLE events (
                position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                stream_id   text        NOT NULL,
                version     bigint      NOT NULL CHECK (version >= 0),
                type        text        NOT NULL,
                data        json        NOT NULL, -- json, not jsonb: it keeps the exact text that was hashed
                recorded_at timestamptz NOT NULL, -- microseconds, as hashed
                prev_hash   text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
                hash        text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
                -- Detects two writers appending the same version, whatever process they run in.
                CONSTRAINT events_stream_version UNIQUE (stream_id, version)
            );
            """),
        (2, "hash columns checked for length only, as on SQLite",
            // The regular-expression checks were more than half of the insert's time, and every append inserts under the
            // append lock. The digits themselves are checked where it matters: audit verify recomputes every hash.
            """
            ALTER TABLE events
                DROP CONSTRAINT events_prev_hash_check,
                DROP CONSTRAINT events_hash_check,
                ADD CONSTRAINT events_prev_hash_length CHECK (octet_length(prev_hash) = 64),
                ADD CONSTRAINT events_hash_length CHECK (octet_length(hash) = 64);
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(@lock);
            CREATE TABLE IF NOT EXISTS schema_version (
                version     integer PRIMARY KEY,
                description text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("lock", MigrationLock);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        int current;
        await using (var query = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version", connection, transaction))
        {
            current = (int)(await query.ExecuteScalarAsync(cancellationToken))!;
        }

        if (current > LatestVersion)
        {
            throw new InvalidOperationException(
                $"database '{connection.Database}': the schema is at version {current}, newer than this broker knows ({LatestVersion}); upgrade the broker");
        }

        foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
        {
            await using var apply = new NpgsqlCommand(sql + "\nINSERT INTO schema_version (version, description) VALUES (@version, @description);", connection, transaction);
            apply.Parameters.AddWithValue("version", version);
            apply.Parameters.AddWithValue("description", description);
            await apply.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
