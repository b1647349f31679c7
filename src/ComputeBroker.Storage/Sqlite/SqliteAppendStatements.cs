using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ComputeBroker.Storage.Sqlite;

/// <summary>
/// The two statements an append runs for every stream and event (read the stream's head, insert an event), prepared
/// once on the writer connection and run through SQLite's own API.
/// </summary>
/// <remarks>
/// Every append of the service passes through the single writer, so its per-event cost bounds the whole broker's
/// throughput on SQLite. Going through <see cref="SqliteCommand"/> costs a data reader, a parameter binder per
/// parameter and a statement enumeration on every execution; these statements are bound and stepped directly
/// (text bound from one reused UTF-8 buffer) and reset after each use. They run inside the transaction that the
/// writer connection has open, like any command on it. Not thread-safe: used under the store's write lock.
/// </remarks>
internal sealed class SqliteAppendStatements : IDisposable
{
    private const string HeadSql = "SELECT version, hash FROM events WHERE stream_id = ?1 ORDER BY version DESC LIMIT 1";

    private const string InsertSql =
        """
        INSERT INTO events (stream_id, version, type, data, recorded_at, prev_hash, hash)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        RETURNING position
        """;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _head;
    private readonly sqlite3_stmt _insert;
    private byte[] _text = new byte[4096];

    public SqliteAppendStatements(SqliteConnection writer)
    {
        _db = writer.Handle ?? throw new InvalidOperationException("the writer connection is not open");
        _head = Prepare(HeadSql);
        try
        {
            _insert = Prepare(InsertSql);
        }
        catch
        {
            _head.Dispose();
            throw;
        }
    }

    /// <summary>The stream's last version and hash; (-1, genesis) for a stream with no events.</summary>
    public (long Version, string Hash) Head(StreamId stream)
    {
        try
        {
            Bind(_head, 1, stream.Value);
            var rc = raw.sqlite3_step(_head);
            if (rc == raw.SQLITE_ROW)
            {
                return (raw.sqlite3_column_int64(_head, 0), raw.sqlite3_column_text(_head, 1).utf8_to_string());
            }

            Check(rc, raw.SQLITE_DONE);
            return (StreamAppend.NoStream, EventHash.Genesis);
        }
        finally
        {
            raw.sqlite3_reset(_head);
        }
    }

    /// <summary>Inserts one event and returns its global position.</summary>
    public long Insert(StreamId stream, long version, string type, string json, string recordedAt, string prevHash, string hash)
    {
        try
        {
            Bind(_insert, 1, stream.Value);
            Check(raw.sqlite3_bind_int64(_insert, 2, version), raw.SQLITE_OK);
            Bind(_insert, 3, type);
            Bind(_insert, 4, json);
            Bind(_insert, 5, recordedAt);
            Bind(_insert, 6, prevHash);
            Bind(_insert, 7, hash);
            Check(raw.sqlite3_step(_insert), raw.SQLITE_ROW);
            var position = raw.sqlite3_column_int64(_insert, 0);
            Check(raw.sqlite3_step(_insert), raw.SQLITE_DONE);
            return position;
        }
        finally
        {
            raw.sqlite3_reset(_insert);
        }
    }

    private void Bind(sqlite3_stmt statement, int index, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max > _text.Length)
        {
            _text = new byte[Math.Max(max, _text.Length * 2)];
        }

        // SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free again for the next parameter.
        var length = Encoding.UTF8.GetBytes(text, _text);
        Check(raw.sqlite3_bind_text(statement, index, _text.AsSpan(0, length)), raw.SQLITE_OK);
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return statement ?? throw new InvalidOperationException($"SQLite prepared no statement for: {sql}");
    }

    private void Check(int rc, int expected)
    {
        if (rc != expected)
        {
            // The error of a failed step (a constraint, a full disk, an I/O error) is reported as SqliteCommand would.
            SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_ROW || rc == raw.SQLITE_DONE ? raw.SQLITE_MISUSE : rc, _db);
        }
    }

    public void Dispose()
    {
        _head.Dispose();
        _insert.Dispose();
    }
}
