using System.Net;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Xunit.Sdk;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// The broker's deadline runner on the deadline table. Nobody answers (every provider is a webhook provider that only
/// the test could answer), so only deadlines move a request on: azure's first-refusal offer expires after five days,
/// the market's quote window closes four hours later with no quote, and the request closes unfulfilled. The brokers'
/// clock is a <see cref="SteppedClock"/>, so the test moves it past each deadline in one step.
/// </summary>
public abstract class DeadlineRunnerTests(PostgresFixture postgres)
{
    protected static readonly DateTimeOffset T0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    protected static readonly TimeSpan OfferWindow = TimeSpan.FromDays(5);
    protected static readonly TimeSpan QuoteWindow = TimeSpan.FromHours(4);
    protected static readonly CancellationToken None = CancellationToken.None;

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    /// <summary>The request's row once the service has written what its committed appends left.</summary>
    protected static async Task<DeadlineRow?> RowAsync(BrokerService service, RequestId request)
    {
        await service.WriteDeadlinesAsync(None);
        return await service.Deadlines!.FindAsync(request, None);
    }

    [SkippableFact]
    public async Task ARequestsRow_FollowsItsAppends_AndACancelledRequestHasNone()
    {
        await using var db = await CreateDatabaseAsync();
        await using var broker = await StartAsync(db, new SteppedClock(T0));
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);
        var id = await SubmitAsync(admin);

        var row = await RowAsync(broker.Service, new RequestId(id));
        var version = (await broker.Service.TimelineAsync(new RequestId(id), None))[^1].Version;
        await admin.PostAsync($"/v1/requests/{id}/cancel", null).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(new DeadlineRow(new RequestId(id), T0 + OfferWindow, version, null, null), row);
        Assert.Null(await RowAsync(broker.Service, new RequestId(id)));
    }

    [SkippableFact]
    public async Task AStaleRow_IsClaimedOnce_FiresNothing_AndIsSetBackToTheRequestsRealDeadline()
    {
        await using var db = await CreateDatabaseAsync();
        await using var broker = await StartAsync(db, new SteppedClock(T0));
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);
        var id = new RequestId(await SubmitAsync(admin));
        var table = broker.Service.Deadlines!;
        var before = await broker.Service.TimelineAsync(id, None);
        var version = before[^1].Version;

        // As if the row said the offer were due an hour ago: the runner claims it, the tick finds nothing due.
        await broker.Service.WriteDeadlinesAsync(None);
        Assert.True(await table.RescheduleAsync(id, T0.AddHours(-1), version, None));
        var restored = await WaitForAsync(async () => await table.FindAsync(id, None) is { } r && r.DueAt == T0 + OfferWindow ? r : null, "the stale row to be set back");

        Assert.Equal(new DeadlineRow(id, T0 + OfferWindow, version, null, null), restored);
        Assert.Equal(before.Count, (await broker.Service.TimelineAsync(id, None)).Count);
    }

    [SkippableFact]
    public async Task DeadlinesWalkTheRequestToItsClose_EachOnce_AndTheClosedRequestLeavesNoRow()
    {
        await using var db = await CreateDatabaseAsync();
        var clock = new SteppedClock(T0);
        await using var broker = await StartAsync(db, clock);
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);
        var id = new RequestId(await SubmitAsync(admin));

        clock.Advance(OfferWindow + TimeSpan.FromMinutes(1));
        await WaitForAsync(async () => await RowAsync(broker.Service, id) is { } r && r.DueAt > T0 + OfferWindow ? r : null, "the quote window's row");
        clock.Advance(QuoteWindow + TimeSpan.FromMinutes(1));
        var types = await WaitForClosedAsync(broker.Service, id);

        Assert.Single(types, t => t is OfferExpired);
        Assert.Single(types, t => t is QuoteWindowClosed);
        Assert.Single(types, t => t is RequestClosed);
        await broker.Service.WriteDeadlinesAsync(None);
        Assert.Equal(0, await broker.Service.Deadlines!.CountAsync(None));
    }

    [SkippableFact]
    public async Task AnAnswerThatLeavesTheDeadlineAsItWas_LeavesTheRowAsItWas()
    {
        await using var db = await CreateDatabaseAsync();
        await using var broker = await StartAsync(db, new SteppedClock(T0));
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);
        using var azure = broker.Client((await broker.CreateKeyAsync("provider:azure")).Key);
        using var oracle = broker.Client((await broker.CreateKeyAsync("provider:oracle")).Key);
        using var coreweave = broker.Client((await broker.CreateKeyAsync("provider:coreweave")).Key);
        var id = await SubmitAsync(admin);
        var request = new RequestId(id);
        async Task<long> HeadAsync() => (await broker.Service.TimelineAsync(request, None))[^1].Version;

        var offer = (await azure.GetAsync("/v1/offers").ExpectAsync(HttpStatusCode.OK)).Items().Single(o => o.Str("requestId") == id).Str("id");
        await azure.PostJsonAsync($"/v1/offers/{offer}/decline", new { reason = "no capacity" }).ExpectAsync(HttpStatusCode.OK);
        var market = await RowAsync(broker.Service, request);
        var marketVersion = await HeadAsync();

        // Oracle's quote leaves the window open until coreweave answers: same deadline, so the row is not rewritten.
        await oracle.PostJsonAsync($"/v1/quote-requests/{id}/quote", new { gpus = 512, price = "10.00 USD" }).ExpectAsync(HttpStatusCode.OK);
        var afterQuote = await RowAsync(broker.Service, request);
        var quoteVersion = await HeadAsync();

        // CoreWeave's decline closes the window: the award waits for oracle's reservation, a deadline of its own.
        await coreweave.PostJsonAsync($"/v1/quote-requests/{id}/decline", new { reason = "sold out" }).ExpectAsync(HttpStatusCode.OK);
        var afterClose = await RowAsync(broker.Service, request);

        Assert.Equal(new DeadlineRow(request, T0 + QuoteWindow, marketVersion, null, null), market);
        Assert.True(quoteVersion > marketVersion);
        Assert.Equal(market, afterQuote);
        Assert.NotNull(afterClose);
        Assert.Equal(await HeadAsync(), afterClose.StreamVersion);
        Assert.NotEqual(market!.DueAt, afterClose.DueAt);
    }

    [SkippableFact]
    public async Task ManyDeadlines_AreWaitedForWithOneWakeUp_AndEachFires()
    {
        await using var db = await CreateDatabaseAsync();
        var clock = new SteppedClock(T0);
        await using var broker = await StartAsync(db, clock);
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);
        var ids = new List<RequestId>();
        for (var i = 0; i < 20; i++)
        {
            // A minute apart, so that every offer has a deadline of its own.
            ids.Add(new RequestId(await SubmitAsync(admin, clock.GetUtcNow())));
            clock.Advance(TimeSpan.FromMinutes(1));
        }

        // The earliest deadline is armed; the later ones wait in the table for the run it starts.
        Assert.Equal(1, broker.Service.ScheduledWork);

        clock.Advance(OfferWindow);
        foreach (var id in ids)
        {
            var timeline = await WaitForAsync(
                async () => await broker.Service.TimelineAsync(id, None) is var events && events.Any(e => e.Event is OfferExpired) ? events : null,
                $"the offer of {id} to expire");
            Assert.Single(timeline, e => e.Event is OfferExpired);
        }
    }

    protected static Task<TestBroker> StartAsync(TestDatabase db, TimeProvider clock) =>
        TestBroker.StartAsync(new BrokerSetup(db.Location, Examples.ProvidersAnsweredByTests, clock));

    /// <summary>An inference request of openai in azure's first-refusal scope, submitted at <paramref name="at"/> (the broker's clock then; <see cref="T0"/> by default); azure is offered it first.</summary>
    protected static async Task<string> SubmitAsync(HttpClient admin, DateTimeOffset? at = null)
    {
        var now = at ?? T0;
        var id = RequestBodies.NewId("deadline");
        var created = await admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(now, id, customer: "openai", gpus: 512, neededWithin: TimeSpan.FromDays(10)))
            .ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("awaiting-offer", created.Str("state"));
        Assert.Equal(now + OfferWindow, created.GetProperty("nextDeadline").GetDateTimeOffset());
        return id;
    }

    /// <summary>The request's events, read from the log, once it is closed; fails after 30 seconds.</summary>
    protected static async Task<SourcingEvent[]> WaitForClosedAsync(BrokerService service, RequestId id) =>
        await WaitForAsync(async () =>
        {
            var events = (await service.TimelineAsync(id, None)).Select(e => e.Event).ToArray();
            return events.Any(e => e is RequestClosed) ? events : null;
        }, $"request {id} to close");

    protected static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100);
        }

        throw new XunitException($"waited 30 s for {what}");
    }
}

[Collection(DurableCollection.Name)]
public sealed class SqliteDeadlineRunnerTests(PostgresFixture postgres) : DeadlineRunnerTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

/// <summary>The same on PostgreSQL, and several replicas on one database, which only PostgreSQL serves.</summary>
[Collection(DurableCollection.Name)]
public sealed class PostgresDeadlineRunnerTests(PostgresFixture postgres) : DeadlineRunnerTests(postgres)
{
    private const int Requests = 150;
    private const int HeldByADeadReplica = 20;

    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);

    [SkippableFact]
    public async Task TwoReplicas_FireEveryDeadlineOfManyRequestsExactlyOnce_AndADeadReplicasClaimsAfterTheirLease()
    {
        await using var db = await CreateDatabaseAsync();
        var clock = new SteppedClock(T0);
        await using var replicas = await StartReplicasAsync(db, clock);
        var (one, two, adminKey) = replicas;
        using var viaOne = one.Client(adminKey);
        using var viaTwo = two.Client(adminKey);
        var ids = new List<RequestId>();
        foreach (var chunk in Enumerable.Range(0, Requests).Chunk(10))
        {
            ids.AddRange((await Task.WhenAll(chunk.Select(i => SubmitAsync(i % 2 == 0 ? viaOne : viaTwo)))).Select(id => new RequestId(id)));
        }

        await replicas.WriteDeadlinesAsync();
        Assert.Equal(Requests, await one.Service.Deadlines!.CountAsync(None));

        // A third replica claimed some offers' deadlines and died: nobody fires those until its lease ends.
        var respondBy = T0 + OfferWindow;
        await using (var dead = await DeadlineTable.OpenAsync(EventStoreLocation.Parse(db.Location), None))
        {
            Assert.Equal(HeldByADeadReplica, (await dead.ClaimAsync(respondBy, respondBy.AddHours(1), "dead", HeldByADeadReplica, None)).Count);
        }

        clock.Advance(OfferWindow + TimeSpan.FromMinutes(1));
        var expired = await WaitForAsync(async () =>
        {
            var counts = await CountAsync(one.Service, ids, e => e is OfferExpired);
            return counts.Values.Sum() >= Requests - HeldByADeadReplica ? counts : null;
        }, "the offers not held by the dead replica to expire");
        await Task.Delay(1500);
        var stillHeld = await CountAsync(one.Service, ids, e => e is OfferExpired);

        Assert.All(expired.Values, n => Assert.InRange(n, 0, 1));
        Assert.Equal(Requests - HeldByADeadReplica, stillHeld.Values.Sum());

        clock.Advance(TimeSpan.FromHours(1));
        await WaitForAsync(async () => (await CountAsync(one.Service, ids, e => e is QuotesRequested)).Values.All(n => n == 1) ? ids : null, "every request to reach the market");
        clock.Advance(QuoteWindow + TimeSpan.FromMinutes(1));
        var timelines = new Dictionary<RequestId, SourcingEvent[]>();
        foreach (var id in ids)
        {
            timelines[id] = await WaitForClosedAsync(one.Service, id);
        }

        Assert.All(timelines, t =>
        {
            Assert.Single(t.Value, e => e is OfferExpired);
            Assert.True(((OfferExpired)t.Value.Single(e => e is OfferExpired)).At >= respondBy);
            Assert.Single(t.Value, e => e is QuotesRequested);
            Assert.Single(t.Value, e => e is QuoteWindowClosed);
            Assert.Single(t.Value, e => e is RequestClosed);
        });
        await replicas.WriteDeadlinesAsync();
        Assert.Equal(0, await two.Service.Deadlines!.CountAsync(None));
    }

    [SkippableFact]
    public async Task ARowAReplicaDiedBeforeWriting_IsWrittenFromTheLogByAnotherReplica()
    {
        await using var db = await CreateDatabaseAsync();
        var clock = new SteppedClock(T0);
        await using var replicas = await StartReplicasAsync(db, clock);
        var (one, two, adminKey) = replicas;
        using var viaTwo = two.Client(adminKey);
        var id = new RequestId(await SubmitAsync(viaTwo));
        var version = (await two.Service.TimelineAsync(id, None))[^1].Version;

        // As if two had died between the submission's commit and its row's write: the table has no row for it.
        await two.Service.WriteDeadlinesAsync(None);
        await db.ExecuteAsync("DELETE FROM request_deadlines");
        one.Service.ReconcileEvery = TimeSpan.FromMilliseconds(100);
        var restored = await WaitForAsync(() => one.Service.Deadlines!.FindAsync(id, None), "replica one to write the row from the log");

        Assert.Equal(new DeadlineRow(id, T0 + OfferWindow, version, null, null), restored);
    }

    [SkippableFact]
    public async Task ARunnerThatStalledPastItsLease_FiresAfterAnotherRunnerDid_AndRecordsNothingTwice()
    {
        await using var db = await CreateDatabaseAsync();
        var clock = new SteppedClock(T0);
        await using var replicas = await StartReplicasAsync(db, clock);
        var (one, two, adminKey) = replicas;
        using var admin = one.Client(adminKey);

        // Submitted through one, which keeps the request's state as of the submission.
        var request = new RequestId(await SubmitAsync(admin));
        var respondBy = T0 + OfferWindow;
        await one.Service.WriteDeadlinesAsync(None);
        await using var table = await DeadlineTable.OpenAsync(EventStoreLocation.Parse(db.Location), None);

        // One's runner claims the offer's deadline with a ten-second lease and stalls. The brokers' clock passes the
        // deadline, not the lease: neither replica's own runner can claim the row meanwhile.
        var stalled = Assert.Single(await table.ClaimAsync(respondBy, respondBy.AddSeconds(10), "stalled", 10, None));
        clock.Advance(OfferWindow + TimeSpan.FromSeconds(5));

        // The lease runs out (as the table sees it) and two claims the row and fires it: the offer expires, the market opens.
        var taken = Assert.Single(await table.ClaimAsync(respondBy.AddSeconds(11), respondBy.AddHours(1), "second", 10, None));
        await two.Service.FireAsync(taken, None);
        var afterTwo = await two.Service.TimelineAsync(request, None);
        Assert.Single(afterTwo, e => e.Event is OfferExpired);

        // One wakes up and fires its stale claim on the state it kept: its append meets two's, it reads the log again and
        // finds nothing due, so it records nothing and leaves the row as two's append wrote it (no lease).
        await two.Service.WriteDeadlinesAsync(None);
        var rowAfterTwo = await table.FindAsync(request, None);
        var commitsBefore = one.Service.Commits;
        await one.Service.FireAsync(stalled, None);
        var afterBoth = await one.Service.TimelineAsync(request, None);
        await one.Service.WriteDeadlinesAsync(None);

        // One tried exactly one append (the expiry, decided on its stale state), and the log shows it did not commit.
        Assert.Equal(commitsBefore.Appends + 1, one.Service.Commits.Appends);

        Assert.Equal(afterTwo.Select(e => e.Version), afterBoth.Select(e => e.Version));
        Assert.Single(afterBoth, e => e.Event is OfferExpired);
        Assert.Single(afterBoth, e => e.Event is QuotesRequested);
        Assert.NotNull(rowAfterTwo);
        Assert.Equal(afterTwo[^1].Version, rowAfterTwo.StreamVersion);
        Assert.True(rowAfterTwo.DueAt > respondBy);
        Assert.Null(rowAfterTwo.LockedUntil);
        Assert.Equal(rowAfterTwo, await table.FindAsync(request, None));
    }

    /// <summary>Two brokers on one database and one clock (two replicas), with an admin key both know of.</summary>
    private static async Task<Replicas> StartReplicasAsync(TestDatabase db, TimeProvider clock)
    {
        var one = await StartAsync(db, clock);
        TestBroker? two = null;
        try
        {
            two = await StartAsync(db, clock);
            var adminKey = (await one.CreateKeyAsync("admin")).Key;
            await two.Service.CatchUpAsync(None);
            return new Replicas(one, two, adminKey);
        }
        catch
        {
            if (two is not null)
            {
                await two.DisposeAsync();
            }

            await one.DisposeAsync();
            throw;
        }
    }

    private static async Task<Dictionary<RequestId, int>> CountAsync(BrokerService service, IReadOnlyList<RequestId> ids, Func<SourcingEvent, bool> which)
    {
        var counts = new Dictionary<RequestId, int>();
        foreach (var id in ids)
        {
            counts[id] = (await service.TimelineAsync(id, None)).Count(e => which(e.Event));
        }

        return counts;
    }
}

/// <summary>Two replicas of the broker on one database; stopped in the reverse order of their start.</summary>
internal sealed record Replicas(TestBroker One, TestBroker Two, string AdminKey) : IAsyncDisposable
{
    /// <summary>Both replicas' deadline rows written, so that the table can be read.</summary>
    public async Task WriteDeadlinesAsync()
    {
        await One.Service.WriteDeadlinesAsync(CancellationToken.None);
        await Two.Service.WriteDeadlinesAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Two.DisposeAsync();
        await One.DisposeAsync();
    }
}
