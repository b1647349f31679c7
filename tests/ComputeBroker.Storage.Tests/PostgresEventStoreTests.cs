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

    private async Task<string> DatabaseAsync()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        return _database ??= await fixture.Server.CreateDatabaseAsync("store", Ct);
    }
}
