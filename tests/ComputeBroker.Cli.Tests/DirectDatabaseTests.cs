using Microsoft.Data.Sqlite;

namespace ComputeBroker.Cli.Tests;

/// <summary>The verbs that work on the database with no server: the first admin key, and the audit.</summary>
public sealed class DirectDatabaseTests : IDisposable
{
    private readonly string _directory = BrokerServer.NewDirectory();

    public void Dispose() => BrokerServer.DeleteDirectory(_directory);

    private static Task<CliResult> RunInAsync(string directory, params string[] args) =>
        BrokerProcess.RunAsync(new Dictionary<string, string?>(), directory, args);

    [Fact]
    public async Task KeysCreateWithDb_OnANewDatabase_MakesTheFirstAdminKey_ThatTheServerThenAccepts()
    {
        var directory = _directory;

        var created = await RunInAsync(directory, "keys", "create", "--role", "admin", "--note", "first admin", "--db", "broker.db");
        var key = created.Stdout.Split('\n').Single(l => l.StartsWith("cbk_", StringComparison.Ordinal)).Trim();
        await using var server = await BrokerServer.StartAsync(directory);
        var list = await server.RunAsAsync(key, "keys", "list");
        var bootstrap = await server.RunAsync("keys", "list");

        Assert.Equal(0, created.ExitCode);
        Assert.Contains("created key", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("shown this once", created.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("first admin", list.Stdout, StringComparison.Ordinal);
        // The database already had an admin, so BROKER_ADMIN_KEY was not registered: only the CLI's key works.
        Assert.Equal(1, bootstrap.ExitCode);
        Assert.Contains("401", bootstrap.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysCreateWithDb_Json_PrintsTheKeyRecord_AndRevokeWithDbRevokesItOnce()
    {
        var directory = _directory;

        var created = (await RunInAsync(directory, "keys", "create", "--role", "provider:azure", "--db", "broker.db", "--json")).Json();
        var id = created.GetProperty("id").GetString()!;
        var revoked = await RunInAsync(directory, "keys", "revoke", id, "--db", "broker.db");
        var again = await RunInAsync(directory, "keys", "revoke", id, "--db", "broker.db");

        Assert.Equal("provider:azure", created.GetProperty("role").GetString());
        Assert.StartsWith($"cbk_{id}_", created.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"no active key {id}", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerifyWithDb_PassesOnACleanLog_AndFailsNamingTheStreamAfterARowIsChanged()
    {
        var directory = _directory;
        await using (var server = await BrokerServer.StartAsync(directory))
        {
            var file = server.WriteFile("tamper.yaml", RequestFiles.Of(RequestFiles.Request("r-tamper-1")));
            Assert.Equal(0, (await server.RunAsync("requests", "submit", file)).ExitCode);
        }

        var clean = await RunInAsync(directory, "audit", "verify", "--db", "broker.db");
        var digest = await RunInAsync(directory, "audit", "digest", "--db", "broker.db", "--out", "digest.json");
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "broker.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE events SET data = replace(data, '\"gpus\":4096', '\"gpus\":40960') WHERE stream_id = 'request-r-tamper-1' AND version = 0";
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        var tampered = await RunInAsync(directory, "audit", "verify", "--db", "broker.db");
        var json = await RunInAsync(directory, "audit", "verify", "--db", "broker.db", "--digest", "digest.json", "--json");

        Assert.Equal(0, clean.ExitCode);
        Assert.StartsWith("passed", clean.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, digest.ExitCode);
        Assert.Equal(1, tampered.ExitCode);
        Assert.StartsWith("FAILED", tampered.Stdout, StringComparison.Ordinal);
        Assert.Contains(tampered.Stdout.Split('\n'), l => l.Contains("modified", StringComparison.Ordinal) && l.Contains("request-r-tamper-1", StringComparison.Ordinal));
        Assert.Equal(1, json.ExitCode);
        var result = json.Json();
        Assert.False(result.GetProperty("passed").GetBoolean());
        var findings = result.GetProperty("integrity").GetProperty("findings").EnumerateArray().ToArray();
        Assert.Contains(findings, f => f.GetProperty("kind").GetString() == "modified" && f.GetProperty("stream").GetString() == "request-r-tamper-1" && f.GetProperty("version").GetInt64() == 0);
        // The digest commits to each stream's head hash; the changed row kept its stored hash, so the chain check names it, not the digest.
        Assert.True(result.GetProperty("integrity").GetProperty("digestChecked").GetBoolean());
    }
}
