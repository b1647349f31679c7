using System.Net;
using ComputeBroker.Domain;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Storage;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// Deadlines live in the database (the log, and the deadline table written from it), not in memory: a deadline that
/// passes while the broker is down fires once when it comes back, one that is still ahead fires at its time on the new
/// host, a row the broker stopped before writing is written from the log at the next start, and a database written
/// before the deadline table existed keeps its deadlines. The holder (azure) never answers (reliability 0),
/// so its first-refusal offer can only expire; the market answers within minutes of broker time. Each host gets its own
/// <see cref="ScaledTimeProvider"/>, so "five days later" takes no real time.
/// </summary>
public abstract class DeadlineRestartTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableFact]
    public async Task AnOfferWhoseDeadlinePassedWhileTheBrokerWasDown_ExpiresExactlyOnceAfterRestart_AndTheRequestIsPlacedInTheMarket()
    {
        await using var db = await CreateDatabaseAsync();
        var (adminKey, request, offer, respondBy) = await SubmitWithSilentHolderAsync(db);

        // Back an hour after respond-by, 3600x fast so the market's answers take a fraction of a second.
        await using (var second = await StartAsync(db, new ScaledTimeProvider(respondBy.AddHours(1), 3600)))
        {
            using var admin = second.Client(adminKey);
            var shown = await Polling.WaitForTerminalAsync(admin, request, TimeSpan.FromSeconds(30));

            var types = Polling.Types(shown);
            Assert.Single(types, t => t == "offer.expired");
            Assert.Single(types, t => t == "quotes.requested");
            Assert.Single(types, t => t == "request.closed");
            var expired = shown.GetProperty("timeline").EnumerateArray().Single(t => t.Str("type") == "offer.expired");
            Assert.True(expired.GetProperty("at").GetDateTimeOffset() >= respondBy, $"expired at {expired.Str("at")}, before respond-by {respondBy:O}");
            Assert.Equal(offer, expired.GetProperty("event").Str("offer"));
            Assert.True(Array.IndexOf(types, "offer.expired") < Array.IndexOf(types, "quotes.requested"), "the market is asked only after the offer expired");
            var placed = shown.GetProperty("request");
            Assert.Equal("placed", placed.Str("state"));
            Assert.All(placed.GetProperty("allocations").EnumerateArray(), a => Assert.NotEqual("azure", a.Str("provider")));
            var offers = await admin.GetAsync("/v1/offers?state=all").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal("expired", offers.Items().Single(o => o.Str("id") == offer).Str("state"));
        }

        // A third start, later still, finds nothing left to fire.
        await using (var third = await StartAsync(db, new ScaledTimeProvider(respondBy.AddDays(3), 3600)))
        {
            using var admin = third.Client(adminKey);
            var before = Polling.Types(await admin.GetAsync($"/v1/requests/{request}").ExpectAsync(HttpStatusCode.OK));
            await Task.Delay(500);
            var after = Polling.Types(await admin.GetAsync($"/v1/requests/{request}").ExpectAsync(HttpStatusCode.OK));

            Assert.Equal(before, after);
            Assert.Single(after, t => t == "offer.expired");
            var audit = await admin.PostAsync("/v1/audit/verify", null).ExpectAsync(HttpStatusCode.OK);
            Assert.True(audit.GetProperty("passed").GetBoolean(), audit.ToString());
        }
    }

    [SkippableFact]
    public async Task ADeadlineStillAheadAtRestart_FiresOnTheNewHostAtItsTime_NotBefore()
    {
        await using var db = await CreateDatabaseAsync();
        var (adminKey, request, _, respondBy) = await SubmitWithSilentHolderAsync(db);

        // Back 30 minutes of broker time before respond-by, with the clock held still until the test has looked.
        var held = new HeldClock();
        await using var second = await StartAsync(db, new ScaledTimeProvider(respondBy.AddMinutes(-30), 3600, held));
        using var admin = second.Client(adminKey);
        await Task.Delay(300);
        var early = await admin.GetAsync($"/v1/requests/{request}").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("offer.expired", Polling.Types(early));
        Assert.Equal(respondBy, early.GetProperty("request").GetProperty("nextDeadline").GetDateTimeOffset());

        // Half a real second at 3600x.
        held.Release();
        var shown = await Polling.WaitForTerminalAsync(admin, request, TimeSpan.FromSeconds(30));

        var expired = shown.GetProperty("timeline").EnumerateArray().Single(t => t.Str("type") == "offer.expired");
        Assert.True(expired.GetProperty("at").GetDateTimeOffset() >= respondBy, $"expired at {expired.Str("at")}, before respond-by {respondBy:O}");
        Assert.Single(Polling.Types(shown), t => t == "request.closed");
    }

    [SkippableFact]
    public async Task ADatabaseWrittenBeforeTheDeadlineTable_KeepsItsDeadlines_TheOfferExpiresOnceAfterTheUpgrade()
    {
        await using var db = await CreateDatabaseAsync();
        var (adminKey, request, offer, respondBy) = await SubmitWithSilentHolderAsync(db);

        // What a broker from before the deadline table leaves behind: the log alone.
        await db.ExecuteAsync("DROP TABLE request_deadlines");
        await db.ExecuteAsync("DROP TABLE deadline_schema_version");

        await using var upgraded = await StartAsync(db, new ScaledTimeProvider(respondBy.AddHours(1), 3600));
        using var admin = upgraded.Client(adminKey);
        var shown = await Polling.WaitForTerminalAsync(admin, request, TimeSpan.FromSeconds(30));

        var types = Polling.Types(shown);
        Assert.Single(types, t => t == "offer.expired");
        Assert.Single(types, t => t == "request.closed");
        Assert.Equal(offer, shown.GetProperty("timeline").EnumerateArray().Single(t => t.Str("type") == "offer.expired").GetProperty("event").Str("offer"));
    }

    [SkippableFact]
    public async Task ARowOlderThanTheLog_LeftByAStopBeforeItsWrite_IsSetFromTheLogAtRestart_AndTheOfferExpiresOnce()
    {
        await using var db = await CreateDatabaseAsync();
        var (adminKey, request, offer, respondBy) = await SubmitWithSilentHolderAsync(db);

        // As if the broker had stopped between an append's commit and its row's write: the row is a version behind the
        // log and says a month later.
        await using (var table = await DeadlineTable.OpenAsync(EventStoreLocation.Parse(db.Location), CancellationToken.None))
        {
            var row = await table.FindAsync(new RequestId(request), CancellationToken.None);
            Assert.NotNull(row);
            Assert.Equal(respondBy, row.DueAt, TimeSpan.FromMilliseconds(1));
            Assert.True(await table.RescheduleAsync(row.Request, respondBy.AddDays(30), row.StreamVersion, CancellationToken.None));
        }

        await db.ExecuteAsync("UPDATE request_deadlines SET stream_version = stream_version - 1");

        await using var restarted = await StartAsync(db, new ScaledTimeProvider(respondBy.AddHours(1), 3600));
        using var admin = restarted.Client(adminKey);
        var shown = await Polling.WaitForTerminalAsync(admin, request, TimeSpan.FromSeconds(30));

        var types = Polling.Types(shown);
        Assert.Single(types, t => t == "offer.expired");
        Assert.Single(types, t => t == "request.closed");
        Assert.Equal(offer, shown.GetProperty("timeline").EnumerateArray().Single(t => t.Str("type") == "offer.expired").GetProperty("event").Str("offer"));
    }

    /// <summary>
    /// First host, at real speed from T0: an admin key and an inference request in azure's first-refusal scope; azure
    /// never answers. Returns with the host stopped: (admin key, request id, offer id, respond-by).
    /// </summary>
    private async Task<(string AdminKey, string Request, string Offer, DateTimeOffset RespondBy)> SubmitWithSilentHolderAsync(TestDatabase db)
    {
        await using var first = await StartAsync(db, new ScaledTimeProvider(T0, 1));
        var adminKey = (await first.CreateKeyAsync("admin")).Key;
        using var admin = first.Client(adminKey);
        var id = RequestBodies.NewId("deadline");
        var created = await admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(T0, id, customer: "openai", gpus: 512, neededWithin: TimeSpan.FromDays(10)))
            .ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("awaiting-offer", created.Str("state"));
        var respondBy = created.GetProperty("nextDeadline").GetDateTimeOffset();
        Assert.Equal(created.GetProperty("submittedAt").GetDateTimeOffset().AddDays(5), respondBy);
        var offers = await admin.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK);
        var offer = offers.Items().Single(o => o.Str("requestId") == id);
        Assert.Equal("azure", offer.Str("provider"));
        return (adminKey, id, offer.Str("id"), respondBy);
    }

    [SkippableFact]
    public async Task AScaledClockStartedBeforeTheLogsLastEvent_ContinuesFromIt_SoTheLogsInstantsNeverGoBack()
    {
        await using var db = await CreateDatabaseAsync();
        var later = T0.AddDays(100);
        await using (var first = await StartAsync(db, new ScaledTimeProvider(later, 3600)))
        {
            await first.CreateKeyAsync("admin");
        }

        // A restart whose scaled clock would start 100 days earlier (the demo starts from the wall time).
        await using var second = await StartAsync(db, new ScaledTimeProvider(T0, 3600));
        await second.CreateKeyAsync("auditor");
        var events = await second.Service.Store.ReadAllAsync(0, 10_000, CancellationToken.None);

        Assert.True(second.Service.Clock.GetUtcNow() >= later, $"the clock reads {second.Service.Clock.GetUtcNow():O}, before the log's {later:O}");
        Assert.Equal(events.Select(e => e.RecordedAt).Order(), events.Select(e => e.RecordedAt));
        Assert.True(events[^1].RecordedAt >= later);
    }

    [SkippableFact]
    public async Task AScaledClockStartedAfterTheLogsLastEvent_IsLeftAsItIs()
    {
        await using var db = await CreateDatabaseAsync();
        await using (var first = await StartAsync(db, new ScaledTimeProvider(T0, 3600)))
        {
            await first.CreateKeyAsync("admin");
        }

        var held = new HeldClock();
        var clock = new ScaledTimeProvider(T0.AddDays(100), 3600, held);
        await using var second = await StartAsync(db, clock);

        Assert.Equal(T0.AddDays(100), second.Service.Clock.GetUtcNow());
    }

    private static Task<TestBroker> StartAsync(TestDatabase db, TimeProvider clock) =>
        TestBroker.StartAsync(new BrokerSetup(db.Location, Examples.ProvidersWithSilentHolder, clock));
}

[Collection(DurableCollection.Name)]
public sealed class SqliteDeadlineRestartTests(PostgresFixture postgres) : DeadlineRestartTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(DurableCollection.Name)]
public sealed class PostgresDeadlineRestartTests(PostgresFixture postgres) : DeadlineRestartTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);
}
