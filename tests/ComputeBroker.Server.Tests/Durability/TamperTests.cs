using System.Net;
using System.Text.Json;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Tests.Infrastructure;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// Tampering with the stored log while the broker is stopped, found through the service: start it again and
/// <c>POST /v1/audit/verify</c>; each finding names its kind, stream and version. A deleted tail event leaves an intact
/// chain, so only a digest taken before (<c>GET /v1/audit/digest</c>) and passed back to verify catches it.
/// </summary>
public abstract class TamperTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableFact]
    public async Task AnUntouchedLog_PassesTheAuditAfterRestart_AlsoAgainstTheDigest()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);

        var audit = await VerifyAfterRestartAsync(db, seeded, seeded.Digest);

        Assert.True(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        Assert.True(audit.GetProperty("integrity").GetProperty("digestChecked").GetBoolean());
    }

    [SkippableFact]
    public async Task UpdatedEventData_IsReportedAsModified_AtItsStreamAndVersion()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);
        var stream = $"request-{seeded.Request}";
        var data = await db.ReadDataAsync(stream, 0);
        var forged = data.Replace("\"gpus\":512", "\"gpus\":5120", StringComparison.Ordinal);
        Assert.NotEqual(data, forged);

        Assert.Equal(1, await db.ExecuteAsync("UPDATE events SET data = {json} WHERE stream_id = @stream AND version = 0", ("json", forged), ("stream", stream)));

        var audit = await VerifyAfterRestartAsync(db, seeded, null);
        AssertFindings(audit, ("modified", stream, 0));
    }

    [SkippableFact]
    public async Task DeletedMiddleEvent_IsReportedAsDeleted_AtItsStreamAndVersion()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);

        Assert.Equal(1, await db.ExecuteAsync("DELETE FROM events WHERE stream_id = 'keys' AND version = 1"));

        var audit = await VerifyAfterRestartAsync(db, seeded, null);
        AssertFindings(audit, ("deleted", "keys", 1));
    }

    [SkippableFact]
    public async Task InsertedForgedEvent_IsReportedAsInserted_AtItsStreamAndVersion()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);
        var last = await db.LastVersionAsync("keys");
        var data = await db.ReadDataAsync("keys", last);
        using var json = JsonDocument.Parse(data);
        var forged = data.Replace(json.RootElement.GetProperty("id").GetString()!, "f0f0f0f0f0", StringComparison.Ordinal).Replace("\"customer:openai\"", "\"admin\"", StringComparison.Ordinal);

        // A forged admin key, appended after the last key with made-up hashes, as someone with write access to the database could.
        Assert.Equal(1, await db.ExecuteAsync(
            "INSERT INTO events (stream_id, version, type, data, recorded_at, prev_hash, hash) " +
            "SELECT stream_id, version + 1, type, {json}, recorded_at, @prev, @hash FROM events WHERE stream_id = 'keys' AND version = @last",
            ("json", forged), ("prev", new string('b', 64)), ("hash", new string('a', 64)), ("last", last)));

        var audit = await VerifyAfterRestartAsync(db, seeded, null);
        AssertFindings(audit, ("inserted", "keys", last + 1));
    }

    [SkippableFact]
    public async Task SwappedVersions_AreReportedAsReordered_AtBothVersions()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);
        var stream = $"request-{seeded.Request}";

        await db.ExecuteAsync("UPDATE events SET version = 1000 WHERE stream_id = @s AND version = 1", ("s", stream));
        await db.ExecuteAsync("UPDATE events SET version = 1 WHERE stream_id = @s AND version = 2", ("s", stream));
        await db.ExecuteAsync("UPDATE events SET version = 2 WHERE stream_id = @s AND version = 1000", ("s", stream));

        var audit = await VerifyAfterRestartAsync(db, seeded, null);
        AssertFindings(audit, ("reordered", stream, 1), ("reordered", stream, 2));
    }

    [SkippableFact]
    public async Task DeletedTailEvent_PassesTheChainCheck_ButNotTheDigestTakenBefore()
    {
        await using var db = await CreateDatabaseAsync();
        var seeded = await SeedAsync(db);
        var last = await db.LastVersionAsync("keys");

        Assert.Equal(1, await db.ExecuteAsync("DELETE FROM events WHERE stream_id = 'keys' AND version = @v", ("v", last)));

        var withoutDigest = await VerifyAfterRestartAsync(db, seeded, null);
        Assert.Empty(withoutDigest.GetProperty("integrity").GetProperty("findings").EnumerateArray());
        var withDigest = await VerifyAfterRestartAsync(db, seeded, seeded.Digest);
        Assert.False(withDigest.GetProperty("passed").GetBoolean());
        var findings = withDigest.GetProperty("integrity").GetProperty("findings").EnumerateArray().ToArray();
        Assert.NotEmpty(findings);
        Assert.All(findings, f => Assert.Equal("digest-mismatch", f.Str("kind")));
    }

    private static void AssertFindings(JsonElement audit, params (string Kind, string Stream, long Version)[] expected)
    {
        Assert.False(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        var integrity = audit.GetProperty("integrity");
        Assert.False(integrity.GetProperty("passed").GetBoolean());
        var actual = integrity.GetProperty("findings").EnumerateArray()
            .Select(f => (f.Str("kind"), f.Str("stream"), f.GetProperty("version").GetInt64()))
            .Order()
            .ToArray();
        Assert.True(expected.Order().SequenceEqual(actual), $"expected [{string.Join(", ", expected)}], found:\n{integrity.GetProperty("findings")}");
    }

    /// <summary>
    /// A log with some history: an admin key and two more keys (the keys stream has versions 0, 1, 2), and a request of
    /// 512 GPUs placed by the simulated providers at 3600x. The digest is taken over HTTP before the host stops.
    /// </summary>
    private static async Task<Seeded> SeedAsync(TestDatabase db)
    {
        await using var broker = await TestBroker.StartAsync(new BrokerSetup(db.Location, Examples.FastProviders, new ScaledTimeProvider(T0, 3600)));
        var adminKey = (await broker.CreateKeyAsync("admin")).Key;
        await broker.CreateKeyAsync("auditor");
        await broker.CreateKeyAsync("customer:openai");
        using var admin = broker.Client(adminKey);
        var request = (await admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(broker.Service.Clock.GetUtcNow(), RequestBodies.NewId("tamper"), customer: "openai", gpus: 512))
            .ExpectAsync(HttpStatusCode.Created)).Str("id");
        await Polling.WaitForTerminalAsync(admin, request, TimeSpan.FromSeconds(30));
        var digest = await admin.GetAsync("/v1/audit/digest").ExpectAsync(HttpStatusCode.OK);
        var audit = await admin.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);
        Assert.True(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        return new Seeded(adminKey, request, digest.GetRawText());
    }

    private static async Task<JsonElement> VerifyAfterRestartAsync(TestDatabase db, Seeded seeded, string? digest)
    {
        await using var broker = await TestBroker.StartAsync(new BrokerSetup(db.Location, Examples.FastProviders, new ScaledTimeProvider(T0.AddDays(1), 1)));
        using var admin = broker.Client(seeded.AdminKey);
        var audit = digest is null
            ? await admin.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK)
            : await admin.PostRawAsync("/v1/audit/verify", digest).ExpectAsync(HttpStatusCode.OK);
        var last = await admin.GetAsync("/v1/audit/last").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(audit.GetProperty("passed").GetBoolean(), last.GetProperty("passed").GetBoolean());
        return audit;
    }

    private sealed record Seeded(string AdminKey, string Request, string Digest);
}

[Collection(DurableCollection.Name)]
public sealed class SqliteTamperTests(PostgresFixture postgres) : TamperTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(DurableCollection.Name)]
public sealed class PostgresTamperTests(PostgresFixture postgres) : TamperTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);
}
