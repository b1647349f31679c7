using ComputeBroker.Storage.Integrity;
using ComputeBroker.Testing;
using Npgsql;

namespace ComputeBroker.Storage.Tests;

/// <summary>
/// The compliance suite on a real PostgreSQL server (started by <see cref="PostgresFixture"/>), one
/// database per test.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEventStoreTests(PostgresFixture fixture) : EventStoreComplianceTests
{
    private string? _database;

    /// <summary>Opened through the factory with the Npgsql key=value form.</summary>
    protected override async Task<IEventStore> OpenStoreCoreAsync() =>
        await EventStoreFactory.OpenAsync(await DatabaseAsync(), Ct);

    protected override async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(await DatabaseAsync());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    protected override int SchemaVersion => 2;

    protected override async Task<long> QueryLongAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(await DatabaseAsync());
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();

        // Our own server is deleted whole at the end; on a shared one, leave nothing behind.
        if (_database is not null && fixture.Server.IsExternal)
        {
            await fixture.Server.DropDatabaseAsync(_database, CancellationToken.None);
        }
    }

    [SkippableFact]
    public async Task Open_FromAPostgresUrl_UsesTheSameDatabase()
    {
        var settings = new NpgsqlConnectionStringBuilder(await DatabaseAsync());
        await using var store = await EventStoreFactory.OpenAsync($"postgres://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}", Ct);

        await store.AppendAsync([To(R1, -1, 1)], Ct);

        Assert.Equal(StorageProvider.Postgres, store.Provider);
        Assert.Equal(1, await QueryLongAsync("SELECT COUNT(*) FROM events"));
    }

    [SkippableFact]
    public async Task Events_RefuseAHashThatIsNotSixtyFourCharactersLong()
    {
        var store = await OpenAsync();
        var appended = (await store.AppendAsync([To(R1, -1, 1)], Ct)).Events[0];

        foreach (var (column, value) in new[] { ("hash", appended.Hash[..63]), ("prev_hash", appended.Hash + "0") })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteSqlAsync($"UPDATE events SET {column} = '{value}'"));
            Assert.Equal(column == "hash" ? "events_hash_length" : "events_prev_hash_length", refused.ConstraintName);
        }

        Assert.Equal(appended, Assert.Single(await store.ReadStreamAsync(R1, 0, Ct)));
    }

    [SkippableFact]
    public async Task Open_ADatabaseAtSchemaVersion1_MovesItToTheCurrentChecks_KeepingEveryEvent()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R1, -1, 1, 2), To(R2, -1, 3)], Ct);

        // The database as the first schema left it.
        await ExecuteSqlAsync(
            """
            ALTER TABLE events DROP CONSTRAINT events_prev_hash_length, DROP CONSTRAINT events_hash_length,
                ADD CONSTRAINT events_prev_hash_check CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
                ADD CONSTRAINT events_hash_check CHECK (hash ~ '^[0-9a-f]{64}$');
            DELETE FROM schema_version WHERE version > 1;
            """);
        var reopened = await OpenAsync();

        Assert.Equal(2, await QueryLongAsync("SELECT MAX(version) FROM schema_version"));
        Assert.Equal(2, await QueryLongAsync("SELECT COUNT(*) FROM pg_constraint WHERE conname IN ('events_hash_length', 'events_prev_hash_length')"));
        Assert.Equal(0, await QueryLongAsync("SELECT COUNT(*) FROM pg_constraint WHERE conname IN ('events_hash_check', 'events_prev_hash_check')"));
        Assert.True((await reopened.AppendAsync([To(R1, 1, 4)], Ct)).IsCommitted);
        Assert.True((await IntegrityVerifier.VerifyAsync(reopened, null, Ct)).Passed);
    }

    private async Task<string> DatabaseAsync()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        return _database ??= await fixture.Server.CreateDatabaseAsync("store", Ct);
    }
}
