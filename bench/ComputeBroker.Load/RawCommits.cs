using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ComputeBroker.Load;

/// <summary>
/// The database's own limit: durable single-row commits at the given concurrency, each its own transaction,
/// with the same durability settings as the event store (SQLite: WAL, synchronous=FULL; PostgreSQL: defaults).
/// </summary>
internal static class RawCommits
{
    /// <summary>Commits per second; a first, unmeasured round of a tenth of the commits warms the connections and the JIT, as the service's warm-up does.</summary>
    public static async Task<double> MeasureAsync(string kind, string connection, int commits, int concurrency)
    {
        var warmup = Math.Max(100, commits / 10);
        if (kind == "postgres")
        {
            await PostgresAsync(connection, warmup, concurrency, create: true);
            return await PostgresAsync(connection, commits, concurrency, create: false);
        }

        await SqliteAsync(connection, warmup, concurrency, create: true);
        return await SqliteAsync(connection, commits, concurrency, create: false);
    }

    private static async Task<double> SqliteAsync(string path, int commits, int concurrency, bool create)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        await using (var setup = new SqliteConnection(cs))
        {
            await setup.OpenAsync();
            await Exec(setup, create ? "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);" : "PRAGMA journal_mode=WAL;");
        }

        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            await using var c = new SqliteConnection(cs);
            await c.OpenAsync();
            await Exec(c, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;");
            while (Interlocked.Increment(ref next) <= commits)
            {
                await using var tx = c.BeginTransaction(deferred: false);
                await using var insert = c.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO t(v) VALUES ('x')";
                await insert.ExecuteNonQueryAsync();
                await tx.CommitAsync();
            }
        })));
        return commits / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> PostgresAsync(string connection, int commits, int concurrency, bool create)
    {
        await using var source = NpgsqlDataSource.Create(connection);
        if (create)
        {
            await using var setup = source.CreateCommand("CREATE TABLE t(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)");
            await setup.ExecuteNonQueryAsync();
        }

        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= commits)
            {
                await using var insert = source.CreateCommand("INSERT INTO t(v) VALUES ('x')");
                await insert.ExecuteNonQueryAsync();
            }
        })));
        return commits / watch.Elapsed.TotalSeconds;
    }

    private static async Task Exec(SqliteConnection c, string sql)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
