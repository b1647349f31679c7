using Microsoft.Data.Sqlite;

namespace ComputeBroker.Storage.Sqlite;

/// <summary>The SQLite schema, as numbered migrations applied once each and recorded in <c>schema_version</c>.</summary>
internal static class SqliteSchema
{
    /// <summary>Append-only: a migration, once shipped, is never edited; changes are new migrations.</summary>
    public static readonly IReadOnlyList<(int Version, string Description, string Sql)> Migrations =
    [
        (1, "events table with per-stream hash chain",
            """
            CREATE TABLE events (
                position    INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: a deleted tail position is never reused
                stream_id   TEXT    NOT NULL,
                version     INTEGER NOT NULL CHECK (version >= 0),
                type        TEXT    NOT NULL,
                data        TEXT    NOT NULL,                  -- the JSON text exactly as hashed
                recorded_at TEXT    NOT NULL,                  -- UTC, round-trip format 'O', exactly as hashed
                prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
                hash        TEXT    NOT NULL CHECK (length(hash) = 64),
                CONSTRAINT events_stream_version UNIQUE (stream_id, version)
            ) STRICT;
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies the missing migrations in one write transaction; safe to run from several processes at once.</summary>
    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate.
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var create = connection.CreateCommand())
        {
            create.Transaction = transaction;
            create.CommandText =
                """
                CREATE TABLE IF NOT EXISTS schema_version (
                    version     INTEGER PRIMARY KEY,
                    description TEXT NOT NULL,
                    applied_at  TEXT NOT NULL
                ) STRICT;
                """;
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        long current;
        await using (var query = connection.CreateCommand())
        {
            query.Transaction = transaction;
            query.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
            current = (long)(await query.ExecuteScalarAsync(cancellationToken))!;
        }

        if (current > LatestVersion)
        {
            throw new InvalidOperationException(
                $"{connection.DataSource}: the database schema is at version {current}, newer than this broker knows ({LatestVersion}); upgrade the broker, or restore a backup made for this version");
        }

        foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
        {
            await using var apply = connection.CreateCommand();
            apply.Transaction = transaction;
            apply.CommandText = sql + "\nINSERT INTO schema_version (version, description, applied_at) VALUES ($version, $description, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));";
            apply.Parameters.AddWithValue("$version", version);
            apply.Parameters.AddWithValue("$description", description);
            await apply.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
