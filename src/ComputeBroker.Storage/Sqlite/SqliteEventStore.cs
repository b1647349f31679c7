using System.Globalization;
using Microsoft.Data.Sqlite;

namespace ComputeBroker.Storage.Sqlite;

/// <summary>
/// The event store in one SQLite file: the default, with no set-up.
/// </summary>
/// <remarks>
/// Durability: WAL journal with <c>synchronous=FULL</c>, so a committed append survives power loss,
/// not only a process crash. Writes are serialized: in-process by a semaphore (SQLite has one writer
/// anyway, and waiting on a semaphore is cheaper than spinning on SQLITE_BUSY), across processes by
/// <c>BEGIN IMMEDIATE</c> with a busy timeout. Reads run on pooled connections concurrently with
/// the writer (WAL readers see the last committed state). Thread-safe.
/// </remarks>
public sealed class SqliteEventStore : IEventStore
{
    /// <summary>How long a writer waits for another process's write lock before failing.</summary>
    private const int BusyTimeoutMilliseconds = 10_000;

    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteAppendStatements? _statements;
    private bool _disposed;

    private SqliteEventStore(string readConnectionString, SqliteConnection writer, string path)
    {
        _readConnectionString = readConnectionString;
        _writer = writer;
        Path = path;
    }

    public StorageProvider Provider => StorageProvider.Sqlite;

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (creating if needed) the store in the file at <paramref name="path"/>.</summary>
    public static Task<SqliteEventStore> OpenAsync(string path, CancellationToken cancellationToken) =>
        OpenAsync(new SqliteConnectionStringBuilder { DataSource = path }, cancellationToken);

    /// <summary>Opens (creating if needed) the store described by a SQLite connection string; applies missing migrations.</summary>
    /// <exception cref="ArgumentException">The connection string names an in-memory or read-only database.</exception>
    public static async Task<SqliteEventStore> OpenAsync(SqliteConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        var dataSource = settings.DataSource;
        if (string.IsNullOrWhiteSpace(dataSource) || dataSource == ":memory:" || settings.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException(
                "an in-memory SQLite database is not durable: give a file path such as 'broker.db'", nameof(settings));
        }

        if (settings.Mode == SqliteOpenMode.ReadOnly)
        {
            throw new ArgumentException(
                $"'{dataSource}' is opened read-only (Mode=ReadOnly) but the event store appends; remove Mode=ReadOnly", nameof(settings));
        }

        var path = System.IO.Path.GetFullPath(dataSource);
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var read = new SqliteConnectionStringBuilder(settings.ConnectionString)
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            Cache = SqliteCacheMode.Private,
        };

        // The writer lives as long as the store, unpooled, so that disposing the store closes the file.
        var write = new SqliteConnectionStringBuilder(read.ConnectionString) { Pooling = false };
        var writer = new SqliteConnection(write.ConnectionString);
        try
        {
            await writer.OpenAsync(cancellationToken);
            var journal = await ScalarAsync(writer, "PRAGMA journal_mode=WAL", cancellationToken);
            if (!string.Equals(journal as string, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"{path}: SQLite refused WAL mode (journal_mode is '{journal}'); put the file on a local file system");
            }

            await ConfigureAsync(writer, cancellationToken);
            await SqliteSchema.MigrateAsync(writer, cancellationToken);
            return new SqliteEventStore(read.ConnectionString, writer, path);
        }
        catch
        {
            await writer.DisposeAsync();
            throw;
        }
    }

    public Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, CancellationToken cancellationToken) =>
        AppendAsync(appends, inTransaction: null, cancellationToken);

    public async Task<AppendResult> AppendAsync(
        IReadOnlyList<StreamAppend> appends,
        Func<AppendTransaction, CancellationToken, Task>? inTransaction,
        CancellationToken cancellationToken)
    {
        var prepared = AppendPreparation.Prepare(appends);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // BEGIN IMMEDIATE: take the file's write lock now, so the version checks below cannot be
            // invalidated by another process before the inserts.
            await using var transaction = _writer.BeginTransaction(deferred: false);
            var committed = new List<RecordedEvent>();
            _statements ??= new SqliteAppendStatements(_writer);
            foreach (var append in prepared)
            {
                var (version, prevHash) = _statements.Head(append.Stream);
                if (version != append.ExpectedVersion)
                {
                    // Disposing the transaction rolls back the inserts already made for earlier streams.
                    return AppendResult.Conflicted(new ConcurrencyConflict(append.Stream, append.ExpectedVersion, version));
                }

                foreach (var e in append.Events)
                {
                    version++;
                    var hash = EventHash.Compute(append.Stream, version, e.Type, e.RecordedAt, e.Json, prevHash);
                    var position = _statements.Insert(append.Stream, version, e.Type, e.Json, EventHash.FormatRecordedAt(e.RecordedAt), prevHash, hash);
                    committed.Add(new RecordedEvent(position, append.Stream, version, e.Type, e.Json, e.RecordedAt, prevHash, hash));
                    prevHash = hash;
                }
            }

            if (inTransaction is not null)
            {
                await inTransaction(new AppendTransaction(transaction, null), cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();

            // Not cancellable: once the commit starts, its outcome must not be left unknown to the caller.
            await transaction.CommitAsync(CancellationToken.None);
            return AppendResult.Committed(committed);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(StreamId stream, long fromVersion, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM events WHERE stream_id = $stream AND version >= $from ORDER BY version";
        command.Parameters.AddWithValue("$stream", stream.Value);
        command.Parameters.AddWithValue("$from", Math.Max(0, fromVersion));
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAllAsync(long fromPosition, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM events WHERE position >= $from ORDER BY position LIMIT $max";
        command.Parameters.AddWithValue("$from", fromPosition);
        command.Parameters.AddWithValue("$max", maxCount);
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<StreamHead>> StreamHeadsAsync(long? upToPosition, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // SQLite documents that with a lone MAX() the bare columns come from the row holding the maximum.
        command.CommandText = "SELECT stream_id, MAX(version), hash FROM events WHERE position <= $upTo GROUP BY stream_id";
        command.Parameters.AddWithValue("$upTo", upToPosition ?? long.MaxValue);
        var heads = new List<StreamHead>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads.Add(new StreamHead(new StreamId(reader.GetString(0)), reader.GetInt64(1), reader.GetString(2)));
        }

        heads.Sort((a, b) => a.Stream.CompareTo(b.Stream));
        return heads;
    }

    public async Task<IReadOnlyList<StreamId>> ListStreamsAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // substr, not LIKE: LIKE is case-insensitive for ASCII and treats '_' and '%' as wildcards.
        command.CommandText = "SELECT DISTINCT stream_id FROM events WHERE substr(stream_id, 1, $length) = $prefix";
        command.Parameters.AddWithValue("$length", prefix.Length);
        command.Parameters.AddWithValue("$prefix", prefix);
        var streams = new List<StreamId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            streams.Add(new StreamId(reader.GetString(0)));
        }

        streams.Sort();
        return streams;
    }

    public async Task<StoreHead> HeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(position), 0), COUNT(*), COUNT(DISTINCT stream_id) FROM events";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new StoreHead(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync(CancellationToken.None);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _statements?.Dispose();
            await _writer.DisposeAsync();
            await using var connection = new SqliteConnection(_readConnectionString);

            // Close the pooled reader connections too, so the file (and its WAL) is released now.
            SqliteConnection.ClearPool(connection);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private const string Columns = "position, stream_id, version, type, data, recorded_at, prev_hash, hash";

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ConfigureAsync(connection, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ConfigureAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // Per-connection settings: pooled connections keep them, but a new one starts with the defaults.
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA foreign_keys=ON;";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<RecordedEvent>> ReadEventsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var position = reader.GetInt64(0);
            var recordedAt = reader.GetString(5);
            if (!DateTimeOffset.TryParseExact(recordedAt, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
            {
                throw new InvalidDataException($"event at position {position}: recorded_at '{recordedAt}' is not a round-trip ISO 8601 instant; the row was altered outside the broker");
            }

            events.Add(new RecordedEvent(
                position,
                new StreamId(reader.GetString(1)),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                instant,
                reader.GetString(6),
                reader.GetString(7)));
        }

        return events;
    }
}
