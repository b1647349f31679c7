using System.Net;
using System.Text.Json;
using ComputeBroker.Domain;
using ComputeBroker.Serialization;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Storage;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// The projection folded as commits come back (from the events as decided) is the projection the log gives: after a burst of concurrent submissions every
/// request is readable as soon as its submit returns, and the live projection equals one rebuilt from the log.
/// </summary>
public abstract class ProjectionConsistencyTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableFact]
    public async Task ConcurrentSubmits_AreReadableOnReturn_AndTheLiveProjectionEqualsTheLogsFold()
    {
        await using var db = await CreateDatabaseAsync();
        await using var broker = await TestBroker.StartAsync(new BrokerSetup(db.Location, Examples.ProvidersAnsweredByTests, new SteppedClock(T0)));
        using var admin = broker.Client((await broker.CreateKeyAsync("admin")).Key);

        var ids = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(async () =>
        {
            var id = RequestBodies.NewId("burst");
            await admin.PostJsonAsync("/v1/requests", RequestBodies.Capacity(T0, id, customer: "openai", gpus: 64 + i)).ExpectAsync(HttpStatusCode.Created);
            var shown = await admin.GetAsync($"/v1/requests/{id}").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal("awaiting-offer", shown.GetProperty("request").Str("state"));
            return id;
        })));
        foreach (var id in ids.Where((_, i) => i % 3 == 0))
        {
            await admin.PostAsync($"/v1/requests/{id}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        }

        var live = broker.Service.Projection;
        var rebuilt = new BrokerProjection();
        var head = await broker.Service.Store.HeadAsync(CancellationToken.None);
        for (var from = 1L; ; )
        {
            var batch = await broker.Service.Store.ReadAllAsync(from, 1000, CancellationToken.None);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var e in batch)
            {
                rebuilt.Apply(e.Position, EventCodec.Deserialize(e.Stream.Value, e.Type, e.Json));
            }

            from = batch[^1].Position + 1;
        }

        Assert.Equal(head.LastPosition, live.Position);
        Assert.Equal(rebuilt.Position, live.Position);
        Assert.Equal(rebuilt.Overview().RequestsByState, live.Overview().RequestsByState);
        Assert.Equal(rebuilt.Overview().OpenOffers, live.Overview().OpenOffers);
        Assert.Equal(100, live.Overview().RequestsByState["cancelled"]);
        foreach (var id in ids)
        {
            Assert.Equal(rebuilt.Request(new RequestId(id)), live.Request(new RequestId(id)), RequestViewComparer.Instance);
        }

        Assert.Equal(
            rebuilt.Offers(_ => true).Select(o => (o.Id, o.State)),
            live.Offers(_ => true).Select(o => (o.Id, o.State)));
        Assert.Equal(
            rebuilt.OpenDeadlines().OrderBy(d => d.Request.Value, StringComparer.Ordinal),
            live.OpenDeadlines().OrderBy(d => d.Request.Value, StringComparer.Ordinal));
        Assert.Equal(200, live.OpenDeadlines().Count);
        Assert.Equal(
            JsonSerializer.Serialize(rebuilt.Placements(null, PlacementBucket.Hour, 72), BrokerJson.Options),
            JsonSerializer.Serialize(live.Placements(null, PlacementBucket.Hour, 72), BrokerJson.Options));
    }

    /// <summary>Request views compared by value, allocations included (the record's own equality compares the list by reference).</summary>
    private sealed class RequestViewComparer : IEqualityComparer<RequestView?>
    {
        public static readonly RequestViewComparer Instance = new();

        public bool Equals(RequestView? x, RequestView? y) =>
            x is null || y is null ? x is null && y is null : x with { Allocations = [], Regions = [] } == y with { Allocations = [], Regions = [] }
                && x.Allocations.SequenceEqual(y.Allocations) && x.Regions.SequenceEqual(y.Regions);

        public int GetHashCode(RequestView? obj) => obj?.Id.GetHashCode() ?? 0;
    }
}

[Collection(DurableCollection.Name)]
public sealed class SqliteProjectionConsistencyTests(PostgresFixture postgres) : ProjectionConsistencyTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(DurableCollection.Name)]
public sealed class PostgresProjectionConsistencyTests(PostgresFixture postgres) : ProjectionConsistencyTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);
}
