using System.Data;
using System.Data.Common;
using System.Globalization;
using ComputeBroker.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace ComputeBroker.Server.Service;

/// <summary>
/// The event store's database opened a second time, for the broker's own tables beside the log (the webhook outbox,
/// the deadline table): pooled connections, write transactions, instants stored alike by every table, and numbered
/// migrations. The tables' rows that must commit with events are written on the event store's own transaction
/// instead (<see cref="IEventStore.AppendAsync(IReadOnlyList{StreamAppend}, Func{DbTransaction, CancellationToken, Task}?, CancellationToken)"/>),
/// with the same <see cref="Command"/> and <see cref="Add"/>. Thread-safe.
/// </summary>
internal sealed class SideDatabase : IAsyncDisposable
{
    private readonly string? _sqlite;
    private readonly NpgsqlDataSource? _postgres;

    private SideDatabase(StorageProvider provider, string? sqlite, NpgsqlDataSource? postgres)
    {
        Provider = provider;
        _sqlite = sqlite;
        _postgres = postgres;
    }

    public StorageProvider Provider { get; }

    /// <summary>Opens the database at <paramref name="location"/> (the event store's) and applies <paramref name="schema"/>'s missing migrations.</summary>
    public static async Task<SideDatabase> OpenAsync(EventStoreLocation location, SideSchema schema, CancellationToken ct)
    {
        SideDatabase db;
        if (location.Provider == StorageProvider.Sqlite)
        {
            var settings = new SqliteConnectionStringBuilder(location.ConnectionString);
            settings.DataSource = Path.GetFullPath(settings.DataSource);
            settings.Pooling = true;
            db = new SideDatabase(StorageProvider.Sqlite, settings.ConnectionString, null);
        }
        else
        {
            db = new SideDatabase(StorageProvider.Postgres, null, NpgsqlDataSource.Create(location.ConnectionString));
        }

        try
        {
            await db.MigrateAsync(schema, ct);
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(ct);
        }

        var connection = new SqliteConnection(_sqlite);
        try
        {
            await connection.OpenAsync(ct);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";
            await pragma.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> in a write transaction of its own and commits it.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);

        // SQLite: BEGIN IMMEDIATE takes the file's write lock at once (the busy timeout waits for the event store's writer).
        await using var transaction = connection is SqliteConnection sqlite
            ? (DbTransaction)sqlite.BeginTransaction(deferred: false)
            : await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(CancellationToken.None);
        return result;
    }

    /// <summary>SQLite stores instants as round-trip text in UTC (which sorts as time does); PostgreSQL as timestamptz.</summary>
    public object Instant(DateTimeOffset at) =>
        Provider == StorageProvider.Postgres ? at.ToUniversalTime() : at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ReadInstant(DbDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        var value = reader.GetValue(ordinal);
        return value switch
        {
            DateTimeOffset dto => dto,
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            string text => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.None),
            _ => throw new InvalidDataException($"a stored instant has the unexpected type {value.GetType().Name}"),
        };
    }

    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <param name="nullType">The PostgreSQL type of a null value: an untyped null is 'unknown' to PostgreSQL, which cannot compare it with 'IS NULL OR column = @p'.</param>
    public static DbParameter Add(DbCommand command, string name, object? value, NpgsqlDbType nullType = NpgsqlDbType.Text)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (value is null && parameter is NpgsqlParameter npgsql)
        {
            npgsql.NpgsqlDbType = nullType;
        }

        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>
    /// Applies the migrations that <c>{family}_schema_version</c> does not record yet, in one transaction; on PostgreSQL
    /// under the schema's advisory lock, so replicas starting together migrate once.
    /// </summary>
    private async Task MigrateAsync(SideSchema schema, CancellationToken ct)
    {
        var migrations = Provider == StorageProvider.Postgres ? schema.Postgres : schema.Sqlite;
        var versions = $"{schema.Family}_schema_version";
        await WriteAsync(async (connection, transaction) =>
        {
            if (Provider == StorageProvider.Postgres)
            {
                await using var gate = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@lock)");
                Add(gate, "lock", schema.MigrationLock);
                await gate.ExecuteNonQueryAsync(ct);
            }

            await using (var create = Command(connection, transaction, Provider == StorageProvider.Postgres
                ? $"CREATE TABLE IF NOT EXISTS {versions} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
                : $"CREATE TABLE IF NOT EXISTS {versions} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT;"))
            {
                await create.ExecuteNonQueryAsync(ct);
            }

            long current;
            await using (var query = Command(connection, transaction, $"SELECT COALESCE(MAX(version), 0) FROM {versions}"))
            {
                current = Convert.ToInt64(await query.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            }

            if (current > migrations[^1].Version)
            {
                throw new InvalidOperationException($"the {schema.What} schema is at version {current}, newer than this broker knows ({migrations[^1].Version}); upgrade the broker");
            }

            foreach (var (version, sql) in migrations.Where(m => m.Version > current))
            {
                await using var apply = Command(connection, transaction, sql + $"\nINSERT INTO {versions} (version) VALUES (@version);");
                Add(apply, "version", version);
                await apply.ExecuteNonQueryAsync(ct);
            }

            return 0;
        }, ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        else if (_sqlite is not null)
        {
            await using var connection = new SqliteConnection(_sqlite);
            SqliteConnection.ClearPool(connection);
        }
    }
}

/// <summary>
/// A family of side tables: its migrations per engine (append-only: a shipped migration is never edited), recorded in
/// <c>{Family}_schema_version</c>, and the advisory lock key its PostgreSQL migrations hold.
/// </summary>
/// <param name="What">The tables' name for people, in the error a newer schema gives.</param>
internal sealed record SideSchema(string Family, long MigrationLock, string What, IReadOnlyList<(int Version, string Sql)> Sqlite, IReadOnlyList<(int Version, string Sql)> Postgres);
