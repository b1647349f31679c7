using Microsoft.Data.Sqlite;
using Npgsql;

namespace ComputeBroker.Storage.Tests;

/// <summary>The one database string users give: every accepted form, and a clear error naming the fix for the rest.</summary>
public sealed class EventStoreLocationTests
{
    [Theory]
    [InlineData("broker.db", "broker.db")]
    [InlineData("./data/broker.db", "./data/broker.db")]
    [InlineData("/var/lib/broker/broker.db", "/var/lib/broker/broker.db")]
    [InlineData("sqlite:/var/lib/broker/broker.db", "/var/lib/broker/broker.db")]
    [InlineData("sqlite:///var/lib/broker/broker.db", "/var/lib/broker/broker.db")]
    [InlineData("sqlite:odd=name.db", "odd=name.db")]
    [InlineData("Data Source=broker.db;Default Timeout=5", "broker.db")]
    [InlineData("Filename=broker.db", "broker.db")]
    public void SqliteForms_AreRecognised(string db, string file)
    {
        var location = EventStoreLocation.Parse(db);

        Assert.Equal(StorageProvider.Sqlite, location.Provider);
        Assert.Equal(file, new SqliteConnectionStringBuilder(location.ConnectionString).DataSource);
    }

    [Fact]
    public void PostgresUrl_IsTranslatedToAnNpgsqlConnectionString_AndPrintedWithoutItsPassword()
    {
        var location = EventStoreLocation.Parse("postgres://broker:s%40cret@db.internal:6543/ledger?sslmode=require&application_name=broker");

        var settings = new NpgsqlConnectionStringBuilder(location.ConnectionString);
        Assert.Equal(StorageProvider.Postgres, location.Provider);
        Assert.Equal(("db.internal", 6543, "broker", "s@cret", "ledger", SslMode.Require, "broker"),
            (settings.Host, settings.Port, settings.Username, settings.Password, settings.Database, settings.SslMode, settings.ApplicationName));
        Assert.DoesNotContain("s@cret", location.ToString(), StringComparison.Ordinal);
        Assert.Contains("Password=***", location.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Database=broker;Username=broker")]
    [InlineData("Server=db;Database=broker")]
    [InlineData("postgresql://db/broker")]
    public void PostgresForms_AreRecognised(string db)
    {
        Assert.Equal(StorageProvider.Postgres, EventStoreLocation.Parse(db).Provider);
    }

    [Theory]
    [InlineData("", "no database given")]
    [InlineData("   ", "no database given")]
    [InlineData("mysql://db/broker", "'mysql://...' is not a supported database")]
    [InlineData("postgres://db.internal", "names no database; add it after the host: postgres://user@db.internal/broker")]
    [InlineData("postgres://db/broker?colour=blue", "unknown parameter 'colour'")]
    [InlineData(":memory:", "in-memory SQLite database is not durable")]
    [InlineData("sqlite:", "names no file")]
    [InlineData("Colour=blue;Size=large", "neither Host= (PostgreSQL) nor Data Source= (SQLite)")]
    public void BadStrings_GiveAnErrorThatSaysHowToWriteOne(string db, string expected)
    {
        Assert.False(EventStoreLocation.TryParse(db, out _, out var error));

        Assert.Contains(expected, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<ArgumentException>(() => EventStoreLocation.Parse(db));
        Assert.Contains(expected, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadPostgresUrl_NeverEchoesThePassword()
    {
        Assert.False(EventStoreLocation.TryParse("postgres://broker:hunter2@db.internal", out _, out var error));

        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }
}
