using System.Data.Common;
using ComputeBroker.Storage.Postgres;
using ComputeBroker.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ComputeBroker.Storage;

/// <summary>
/// Where an event store lives, parsed from the one string a user gives (<c>--db</c>, <c>BROKER_DB</c>):
/// <list type="bullet">
/// <item>a file path, <c>sqlite:PATH</c>, or a SQLite connection string (<c>Data Source=broker.db</c>): SQLite;</item>
/// <item><c>postgres://user:password@host:port/database?sslmode=require</c> or an Npgsql connection
/// string (<c>Host=...;Database=...</c>): PostgreSQL.</item>
/// </list>
/// </summary>
public sealed record EventStoreLocation(StorageProvider Provider, string ConnectionString)
{
    private const string Examples =
        "give a SQLite file path (broker.db, sqlite:/var/lib/broker/broker.db, Data Source=broker.db) " +
        "or a PostgreSQL connection string (postgres://user@host:5432/broker or Host=db;Database=broker;Username=broker)";

    /// <summary>Parses <paramref name="db"/>; on failure <paramref name="error"/> says what is wrong and how to write it. Never echoes a password.</summary>
    public static bool TryParse(string? db, out EventStoreLocation location, out string error)
    {
        location = null!;
        error = string.Empty;
        var text = db?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            error = $"no database given: {Examples}";
            return false;
        }

        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return TryParsePostgresUri(text, out location, out error);
        }

        if (text.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = text["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..]; // sqlite:///var/lib/broker.db, the URL form
            }

            return TrySqlitePath(path, text, out location, out error);
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            var scheme = text[..text.IndexOf("://", StringComparison.Ordinal)];
            error = $"'{scheme}://...' is not a supported database: {Examples}";
            return false;
        }

        if (text.Contains('=', StringComparison.Ordinal))
        {
            return TryParseKeyValue(text, out location, out error);
        }

        return TrySqlitePath(text, text, out location, out error);
    }

    /// <summary>Parses <paramref name="db"/> or throws <see cref="ArgumentException"/> with the message of <see cref="TryParse"/>.</summary>
    public static EventStoreLocation Parse(string? db) =>
        TryParse(db, out var location, out var error) ? location : throw new ArgumentException(error, nameof(db));

    /// <summary>The location with any password replaced by <c>***</c>, for logs and errors.</summary>
    public override string ToString()
    {
        if (Provider == StorageProvider.Sqlite)
        {
            return $"sqlite:{new SqliteConnectionStringBuilder(ConnectionString).DataSource}";
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (!string.IsNullOrEmpty(builder.Password))
        {
            builder.Password = "***";
        }

        return $"postgres:{builder.ConnectionString}";
    }

    private static bool TrySqlitePath(string path, string original, out EventStoreLocation location, out string error)
    {
        location = null!;
        if (string.IsNullOrWhiteSpace(path))
        {
            error = $"'{original}' names no file: {Examples}";
            return false;
        }

        if (path == ":memory:")
        {
            error = "an in-memory SQLite database is not durable: give a file path such as broker.db";
            return false;
        }

        error = string.Empty;
        location = new(StorageProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = path }.ConnectionString);
        return true;
    }

    private static bool TryParseKeyValue(string text, out EventStoreLocation location, out string error)
    {
        location = null!;
        DbConnectionStringBuilder keys;
        try
        {
            keys = new DbConnectionStringBuilder { ConnectionString = text };
        }
        catch (ArgumentException)
        {
            error = $"the database setting is neither a path nor a well-formed key=value connection string: {Examples}";
            return false;
        }

        static bool Has(DbConnectionStringBuilder b, params string[] names) => names.Any(b.ContainsKey);

        if (Has(keys, "Host", "Server"))
        {
            try
            {
                location = new(StorageProvider.Postgres, new NpgsqlConnectionStringBuilder(text).ConnectionString);
                error = string.Empty;
                return true;
            }
            catch (ArgumentException e)
            {
                error = $"the PostgreSQL connection string is not valid ({e.Message}); write it as Host=db;Database=broker;Username=broker";
                return false;
            }
        }

        if (Has(keys, "Data Source", "DataSource", "Filename"))
        {
            try
            {
                var builder = new SqliteConnectionStringBuilder(text);
                if (!TrySqlitePath(builder.DataSource, text, out location, out error))
                {
                    return false;
                }

                location = new(StorageProvider.Sqlite, builder.ConnectionString);
                return true;
            }
            catch (ArgumentException e)
            {
                error = $"the SQLite connection string is not valid ({e.Message}); write it as Data Source=broker.db";
                return false;
            }
        }

        var given = string.Join(", ", keys.Keys.Cast<string>());
        error = $"the connection string has keys {given} but neither Host= (PostgreSQL) nor Data Source= (SQLite): {Examples}; " +
            "a file path that contains '=' is written sqlite:PATH";
        return false;
    }

    private static bool TryParsePostgresUri(string text, out EventStoreLocation location, out string error)
    {
        location = null!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"the PostgreSQL URL is malformed; write it as postgres://user:password@host:5432/database";
            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0)
        {
            error = $"the PostgreSQL URL names no database; add it after the host: postgres://user@{uri.Host}/broker";
            return false;
        }

        builder.Database = database;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            try
            {
                builder[key switch
                {
                    "sslmode" => "SSL Mode",
                    "application_name" => "Application Name",
                    "connect_timeout" => "Timeout",
                    _ => key,
                }] = value;
            }
            catch (ArgumentException)
            {
                error = $"the PostgreSQL URL has an unknown parameter '{key}'; supported: sslmode, application_name, connect_timeout, or any Npgsql keyword";
                return false;
            }
        }

        location = new(StorageProvider.Postgres, builder.ConnectionString);
        error = string.Empty;
        return true;
    }
}

/// <summary>Opens the event store a location string names, creating its schema if needed.</summary>
public static class EventStoreFactory
{
    /// <summary>Opens the store at <paramref name="db"/> (see <see cref="EventStoreLocation"/> for the accepted forms).</summary>
    /// <exception cref="ArgumentException"><paramref name="db"/> is not a database location; the message says how to write one.</exception>
    public static Task<IEventStore> OpenAsync(string db, CancellationToken cancellationToken) =>
        OpenAsync(EventStoreLocation.Parse(db), cancellationToken);

    public static async Task<IEventStore> OpenAsync(EventStoreLocation location, CancellationToken cancellationToken) =>
        location.Provider switch
        {
            StorageProvider.Sqlite => await SqliteEventStore.OpenAsync(new SqliteConnectionStringBuilder(location.ConnectionString), cancellationToken),
            StorageProvider.Postgres => await PostgresEventStore.OpenAsync(location.ConnectionString, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(location), location.Provider, "unknown storage provider"),
        };
}
