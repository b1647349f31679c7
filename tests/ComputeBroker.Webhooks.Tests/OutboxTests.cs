using System.Data.Common;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Storage;
using ComputeBroker.Testing;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// The outbox's guarantees, run against every storage provider: rows commit with the events or not at all,
/// group commit runs each append's writes, and concurrent claims never hand out the same message twice.
/// </summary>
public abstract class OutboxTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2025-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    protected abstract Task<string> DatabaseAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [SkippableFact]
    public async Task Append_Committed_WritesItsOutboxRowsInTheSameTransaction()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);

        var result = await store.AppendAsync([Append("request-a", -1)], Write(outbox, Message("a", 1)), CancellationToken.None);

        Assert.True(result.IsCommitted);
        var rows = await outbox.ListAsync(null, null, null, 10, CancellationToken.None);
        Assert.Equal(["msg_a_1"], rows.Select(r => r.WebhookId));
        Assert.Equal(DeliveryStates.Pending, rows[0].State);
    }

    [SkippableFact]
    public async Task Append_Conflicted_WritesNoOutboxRow()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-a", -1)], CancellationToken.None);

        var result = await store.AppendAsync([Append("request-a", -1)], Write(outbox, Message("a", 1)), CancellationToken.None);

        Assert.False(result.IsCommitted);
        Assert.Empty(await outbox.ListAsync(null, null, null, 10, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Append_WhoseOutboxWriteFails_WritesNeitherEventsNorRows()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-a", -1)], Write(outbox, Message("a", 1)), CancellationToken.None);

        // The same webhook id again: the unique index refuses it, and the append with it.
        await Assert.ThrowsAnyAsync<DbException>(() => store.AppendAsync([Append("request-b", -1)], Write(outbox, Message("b", 1), Message("a", 1)), CancellationToken.None));

        Assert.Empty(await store.ReadStreamAsync(new StreamId("request-b"), 0, CancellationToken.None));
        Assert.Equal(["msg_a_1"], (await outbox.ListAsync(null, null, null, 10, CancellationToken.None)).Select(r => r.WebhookId));
    }

    [SkippableFact]
    public async Task CommitQueue_GroupWithOneConflict_CommitsTheOthersWithTheirRowsOnly()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-taken", -1)], CancellationToken.None);
        await using var queue = new CommitQueue(store, (_, _) => { });

        var appends = Enumerable.Range(0, 20).Select(i => i == 7
                ? queue.AppendAsync([Append("request-taken", -1)], null, Write(outbox, Message("taken", 1)), CancellationToken.None)
                : queue.AppendAsync([Append($"request-{i}", -1)], null, Write(outbox, Message($"{i}", 1), Message($"{i}", 2)), CancellationToken.None))
            .ToArray();
        var results = await Task.WhenAll(appends);

        Assert.False(results[7].IsCommitted);
        Assert.Equal(19, results.Count(r => r.IsCommitted));
        var ids = (await outbox.ListAsync(null, null, null, 100, CancellationToken.None)).Select(r => r.WebhookId).ToHashSet();
        Assert.Equal(38, ids.Count);
        Assert.DoesNotContain("msg_taken_1", ids);
    }

    [SkippableFact]
    public async Task Claim_ByConcurrentWorkers_HandsEachMessageOutOnce()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-a", -1)], Write(outbox, Enumerable.Range(0, 200).Select(i => Message("a", i)).ToArray()), CancellationToken.None);
        var workers = new List<WebhookOutbox>();
        for (var i = 0; i < 4; i++)
        {
            workers.Add(await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None));
        }

        try
        {
            var claims = await Task.WhenAll(workers.Select(w => Task.Run(async () =>
            {
                var mine = new List<ClaimedMessage>();
                while (true)
                {
                    var batch = await w.ClaimAsync(Now, Now.AddMinutes(1), 7, CancellationToken.None);
                    if (batch.Count == 0)
                    {
                        return mine;
                    }

                    mine.AddRange(batch);
                }
            })));

            var all = claims.SelectMany(c => c).ToArray();
            Assert.Equal(200, all.Length);
            Assert.Equal(200, all.Select(c => c.WebhookId).Distinct().Count());
            Assert.All(all, c => Assert.Equal(1, c.Attempt));
            Assert.Empty(await outbox.ClaimAsync(Now.AddSeconds(59), Now.AddMinutes(2), 10, CancellationToken.None));
            Assert.Equal(200, (await outbox.ClaimAsync(Now.AddMinutes(1), Now.AddMinutes(2), 500, CancellationToken.None)).Count(c => c.Attempt == 2));
        }
        finally
        {
            foreach (var w in workers)
            {
                await w.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task Record_AfterTheLeaseWasTakenOver_DoesNotOverwriteTheNewClaim()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-a", -1)], Write(outbox, Message("a", 1)), CancellationToken.None);
        var first = (await outbox.ClaimAsync(Now, Now.AddSeconds(40), 1, CancellationToken.None)).Single();
        var second = (await outbox.ClaimAsync(Now.AddSeconds(41), Now.AddSeconds(80), 1, CancellationToken.None)).Single();

        var stale = await outbox.RecordAsync(first, new AttemptRecord(Now.AddSeconds(45), 45000, 200, null, "delivered", DeliveryStates.Delivered, null), CancellationToken.None);
        var current = await outbox.RecordAsync(second, new AttemptRecord(Now.AddSeconds(42), 10, 500, "500", "retry", DeliveryStates.Pending, Now.AddSeconds(60)), CancellationToken.None);

        Assert.False(stale);
        Assert.True(current);
        var detail = (await outbox.FindAsync(first.Id, CancellationToken.None))!;
        Assert.Equal(DeliveryStates.Pending, detail.Delivery.State);
        Assert.Equal([1, 2], detail.Attempts.Select(a => a.Attempt));
    }

    [SkippableFact]
    public async Task DisabledEndpoint_IsNotClaimedUntilEnabled()
    {
        var db = await DatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db, CancellationToken.None);
        await using var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(db), 5, CancellationToken.None);
        await store.AppendAsync([Append("request-a", -1)], Write(outbox, Message("a", 1)), CancellationToken.None);

        await outbox.DisableEndpointAsync(new ProviderId("azure"), "410 Gone", Now, CancellationToken.None);
        var whileDisabled = await outbox.ClaimAsync(Now, Now.AddMinutes(1), 10, CancellationToken.None);
        var enabled = await outbox.EnableEndpointAsync(new ProviderId("azure"), Now, CancellationToken.None);
        var afterwards = await outbox.ClaimAsync(Now, Now.AddMinutes(1), 10, CancellationToken.None);

        Assert.Empty(whileDisabled);
        Assert.True(enabled);
        Assert.Single(afterwards);
        Assert.False(await outbox.EnableEndpointAsync(new ProviderId("azure"), Now, CancellationToken.None));
    }

    private static OutboxMessage Message(string request, int n) =>
        new(new ProviderId("azure"), $"msg_{request}_{n}", WebhookEventTypes.OfferCreated, new RequestId(request), $$"""{"type":"offer.created","n":{{n}}}""", Now);

    private static Func<AppendTransaction, CancellationToken, Task> Write(WebhookOutbox outbox, params OutboxMessage[] messages) =>
        (transaction, ct) => outbox.InsertAsync(transaction, messages, ct);

    private static StreamAppend Append(string stream, long expected) =>
        new(new StreamId(stream), expected, [new EventData("test.event", """{"x":1}""", Now)]);
}

public sealed class SqliteOutboxTests : OutboxTests, IDisposable
{
    private readonly TempFile _file = TestSecrets.TempDatabase();

    protected override Task<string> DatabaseAsync() => Task.FromResult(_file.Path);

    public void Dispose() => _file.Dispose();
}

/// <summary>The same suite on a real PostgreSQL server; under CI=true it never skips.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresOutboxTests(PostgresFixture fixture) : OutboxTests
{
    private string? _database;

    protected override async Task<string> DatabaseAsync()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        return _database ??= await fixture.Server.CreateDatabaseAsync("outbox", CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null && fixture.Server.IsExternal)
        {
            await fixture.Server.DropDatabaseAsync(_database, CancellationToken.None);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
