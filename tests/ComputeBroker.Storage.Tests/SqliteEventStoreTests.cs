using ComputeBroker.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace ComputeBroker.Storage.Tests;

/// <summary>The compliance suite on a real SQLite file in a fresh temporary directory per test.</summary>
public sealed class SqliteEventStoreTests : EventStoreComplianceTests
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("computebroker-sqlite-");

    private string DatabasePath => Path.Combine(_directory.FullName, "broker.db");

    /// <summary>Opened through the factory with a bare path, the form users type.</summary>
    protected override async Task<IEventStore> OpenStoreCoreAsync() => await EventStoreFactory.OpenAsync(DatabasePath, Ct);

    protected override async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = await OpenDirectAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    protected override int SchemaVersion => 1;

    protected override async Task<long> QueryLongAsync(string sql)
    {
        await using var connection = await OpenDirectAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task Open_PutsTheFileInWalMode_AndAppendsRunWithSynchronousFull()
    {
        var store = await OpenAsync();
        long synchronous = -1;

        await store.AppendAsync([To(R1, -1, 1)], async (append, ct) =>
        {
            Assert.Null(append.Batch);
            var transaction = Assert.IsType<SqliteTransaction>(append.Transaction);
            await using var command = transaction.Connection!.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "PRAGMA synchronous";
            synchronous = (long)(await command.ExecuteScalarAsync(ct))!;
        }, Ct);

        Assert.Equal(2, synchronous); // 2 = FULL
        await using var connection = await OpenDirectAsync();
        await using var journal = connection.CreateCommand();
        journal.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await journal.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Open_InAMissingDirectory_CreatesIt()
    {
        var path = Path.Combine(_directory.FullName, "nested", "deeper", "broker.db");

        await using var store = await EventStoreFactory.OpenAsync($"sqlite:{path}", Ct);
        await store.AppendAsync([To(R1, -1, 1)], Ct);

        Assert.True(File.Exists(path));
        Assert.Equal(StorageProvider.Sqlite, store.Provider);
    }

    [Fact]
    public async Task Open_InMemory_IsRefused_BecauseItIsNotDurable()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SqliteEventStore.OpenAsync(new SqliteConnectionStringBuilder { DataSource = ":memory:" }, Ct));

        Assert.Contains("not durable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ADatabaseWithANewerSchema_FailsSayingToUpgrade()
    {
        await (await OpenStoreCoreAsync()).DisposeAsync();
        await ExecuteSqlAsync("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'from the future', '2030-01-01')");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => OpenStoreCoreAsync());

        Assert.Contains("schema is at version 99, newer than this broker knows (1); upgrade the broker", error.Message, StringComparison.Ordinal);
    }

    private async Task<SqliteConnection> OpenDirectAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }
}
