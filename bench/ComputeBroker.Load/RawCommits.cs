using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ComputeBroker.Load;

/// <summary>What the database sustained doing nothing else: commits per second, and how long one commit took.</summary>
/// <remarks>The commit latencies show what the disk alone costs: a service whose every submit waits for a commit cannot answer faster.</remarks>
internal sealed record RawResult(double CommitsPerSecond, TimeSpan CommitP50, TimeSpan CommitP99, TimeSpan CommitMax);

/// <summary>
/// The database's own limit: durable single-row commits at the given concurrency, each its own transaction,
/// with the same durability settings as the event store (SQLite: WAL, synchronous=FULL; PostgreSQL: defaults).
/// </summary>
internal static class RawCommits
{
    /// <summary>Commits per second and per-commit latency; a first, unmeasured round of a tenth of the commits warms the connections and the JIT, as the service's warm-up does.</summary>
    public static async Task<RawResult> MeasureAsync(string kind, string connection, int commits, int concurrency)
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

    /// <summary>
    /// One commit at a time: what a durable commit costs when nothing waits ahead of it, the floor under any submit's latency,
    /// and how far the disk strays from it (the 99th percentile and the longest).
    /// </summary>
    public static Task<RawResult> MeasureAloneAsync(string kind, string connection, int commits) =>
        kind == "postgres" ? PostgresAsync(connection, commits, 1, create: false) : SqliteAsync(connection, commits, 1, create: false);

    private static async Task<RawResult> SqliteAsync(string path, int commits, int concurrency, bool create)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        await using (var setup = new SqliteConnection(cs))
        {
            await setup.OpenAsync();
            await Exec(setup, create ? "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);" : "PRAGMA journal_mode=WAL;");
        }

        var next = 0;
        var latencies = new double[commits];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            await using var c = new SqliteConnection(cs);
            await c.OpenAsync();
            await Exec(c, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;");
            int i;
            while ((i = Interlocked.Increment(ref next)) <= commits)
            {
                var started = Stopwatch.GetTimestamp();
                await using var tx = c.BeginTransaction(deferred: false);
                await using var insert = c.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO t(v) VALUES ('x')";
                await insert.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                latencies[i - 1] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })));
        return Result(commits / watch.Elapsed.TotalSeconds, latencies);
    }

    private static async Task<RawResult> PostgresAsync(string connection, int commits, int concurrency, bool create)
    {
        await using var source = NpgsqlDataSource.Create(connection);
        if (create)
        {
            await using var setup = source.CreateCommand("CREATE TABLE t(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)");
            await setup.ExecuteNonQueryAsync();
        }

        // Open the pool's connections first: a new server process per connection is not a commit's cost.
        var open = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => source.OpenConnectionAsync().AsTask()));
        foreach (var opened in open)
        {
            await opened.DisposeAsync();
        }

        var next = 0;
        var latencies = new double[commits];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= commits)
            {
                var started = Stopwatch.GetTimestamp();
                await using var insert = source.CreateCommand("INSERT INTO t(v) VALUES ('x')");
                await insert.ExecuteNonQueryAsync();
                latencies[i - 1] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })));
        return Result(commits / watch.Elapsed.TotalSeconds, latencies);
    }

    private static RawResult Result(double perSecond, double[] latencies)
    {
        Array.Sort(latencies);
        return new RawResult(perSecond, Percentile(latencies, 0.50), Percentile(latencies, 0.99), TimeSpan.FromMilliseconds(latencies[^1]));
    }

    /// <summary>The nearest-rank percentile of sorted milliseconds.</summary>
    public static TimeSpan Percentile(double[] sorted, double p) =>
        TimeSpan.FromMilliseconds(sorted[(int)Math.Ceiling(p * sorted.Length) - 1]);

    private static async Task Exec(SqliteConnection c, string sql)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
