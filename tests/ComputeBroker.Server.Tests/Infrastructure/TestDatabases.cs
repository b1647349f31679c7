using System.Data.Common;
using ComputeBroker.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>
/// A database for one test, on SQLite (a file) or on the fixture's PostgreSQL server (a database of its own), with
/// direct SQL access for tampering with the stored rows while the broker is stopped.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    /// <summary>What <c>--db</c> (and <see cref="Hosting.ServeOptions.Database"/>) is given.</summary>
    public abstract string Location { get; }

    public abstract string Engine { get; }

    /// <summary>A SQL expression for a JSON text parameter (PostgreSQL stores data as json).</summary>
    protected abstract string JsonParameter(string name);

    protected abstract DbConnection Connect();

    public async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql.Replace("{json}", JsonParameter("json"), StringComparison.Ordinal);
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return await command.ExecuteNonQueryAsync();
    }

    public async Task<string> ReadDataAsync(string stream, long version)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM events WHERE stream_id = @stream AND version = @version";
        Add(command, "stream", stream);
        Add(command, "version", version);
        return (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"no event {stream} v{version}");
    }

    public async Task<long> LastVersionAsync(string stream)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM events WHERE stream_id = @stream";
        Add(command, "stream", stream);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public abstract ValueTask DisposeAsync();

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly TempDirectory _directory = new("sqlite");

    public override string Location => _directory.File("broker.db");

    public override string Engine => "sqlite";

    protected override string JsonParameter(string name) => "@" + name;

    protected override DbConnection Connect() => new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Location, Pooling = false }.ConnectionString);

    public override ValueTask DisposeAsync()
    {
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresTestDatabase : TestDatabase
{
    private readonly PostgresServer _server;
    private readonly string _connectionString;

    private PostgresTestDatabase(PostgresServer server, string connectionString)
    {
        _server = server;
        _connectionString = connectionString;
    }

    public override string Location => _connectionString;

    public override string Engine => "postgres";

    public static async Task<PostgresTestDatabase> CreateAsync(PostgresServer server) =>
        new(server, await server.CreateDatabaseAsync("broker", CancellationToken.None));

    /// <summary>A fresh database on the fixture's server; the test is skipped when no server could start (never under CI).</summary>
    public static async Task<TestDatabase> CreateAsync(PostgresFixture postgres)
    {
        Skip.If(postgres.SkipReason is not null, postgres.SkipReason);
        return await CreateAsync(postgres.Server);
    }

    protected override string JsonParameter(string name) => $"CAST(@{name} AS json)";

    protected override DbConnection Connect() => new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString);

    public override async ValueTask DisposeAsync()
    {
        // Our own server is deleted whole at the end; on a shared one, leave nothing behind.
        if (_server.IsExternal)
        {
            await _server.DropDatabaseAsync(_connectionString, CancellationToken.None);
        }
    }
}

/// <summary>
/// One PostgreSQL server for the durability tests; each test makes its own database. When no server can be had,
/// initialization fails (and with it every PostgreSQL test) unless <see cref="PostgresServer"/> allows a skip
/// (never under CI=true), in which case <see cref="SkipReason"/> is set.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public string? SkipReason { get; private set; }

    public PostgresServer Server => _server ?? throw new InvalidOperationException(SkipReason ?? "the PostgreSQL server is not started");

    public async Task InitializeAsync()
    {
        try
        {
            _server = await PostgresServer.StartAsync(CancellationToken.None);
        }
        catch (PostgresUnavailableException e) when (e.SkipReason is not null)
        {
            SkipReason = e.SkipReason;
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The durability tests (restarts, tampering, crashes) on both stores. They run one at a time, after the parallel API
/// tests: they start child processes and kill them, and a quiet machine keeps their bounded waits meaningful.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DurableCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "durable";
}
