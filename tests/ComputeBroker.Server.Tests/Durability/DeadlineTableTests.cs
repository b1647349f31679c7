using System.Data.Common;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Storage;
using Npgsql;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// The deadline table on each database: a write sets, moves and deletes rows and never goes back to an older stream
/// version, a claim takes due rows only and leases them, a lease keeps other claims off until it ends, a state read
/// before a newer append never overwrites its row, and a reconcile from the log adds the missing rows and moves the
/// older ones only.
/// </summary>
public abstract class DeadlineTableTests(PostgresFixture postgres)
{
    protected static readonly DateTimeOffset Now = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);
    protected static readonly CancellationToken None = CancellationToken.None;

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableFact]
    public async Task Write_SetsMovesAndDeletesARow_AndNeverGoesBackToAnOlderStreamVersion()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        var a = new RequestId("a");

        var added = await Write(table, a, Now.AddHours(1), 1);
        var submitted = await table.FindAsync(a, None);
        var older = await Write(table, a, Now.AddHours(9), 0);
        var afterOlder = await table.FindAsync(a, None);
        await Write(table, a, Now.AddHours(2), 2);
        var moved = await table.FindAsync(a, None);
        var olderDelete = await Write(table, a, null, 1);
        var afterOlderDelete = await table.FindAsync(a, None);
        var deleted = await Write(table, a, null, 3);

        Assert.Equal(1, added);
        Assert.Equal(new DeadlineRow(a, Now.AddHours(1), 1, null, null), submitted);
        Assert.Equal(0, older);
        Assert.Equal(submitted, afterOlder);
        Assert.Equal(new DeadlineRow(a, Now.AddHours(2), 2, null, null), moved);
        Assert.Equal(0, olderDelete);
        Assert.Equal(moved, afterOlderDelete);
        Assert.Equal(1, deleted);
        Assert.Null(await table.FindAsync(a, None));
        Assert.Equal(0, await table.CountAsync(None));
    }

    [SkippableFact]
    public async Task Write_ManyRowsAtOnce_SetsAndDeletesEach_AndTwoWritersAtOnceBothComplete()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        await using var other = await OpenAsync(db);
        var first = Enumerable.Range(0, 300).Select(i => new DeadlineChange(new RequestId($"r{i}"), Now.AddMinutes(i), 1)).ToArray();
        await table.WriteAsync(first, None);

        // Every tenth row deleted, the others moved, by two writers whose rows overlap, in opposite orders.
        var second = first.Select(c => c.Request.Value.EndsWith('0') ? c with { DueAt = null, StreamVersion = 2 } : c with { DueAt = Now.AddDays(1), StreamVersion = 2 }).ToArray();
        var written = await Task.WhenAll(table.WriteAsync(second, None), other.WriteAsync(second.Reverse().ToArray(), None));

        Assert.Equal(300, written.Sum());
        Assert.Equal(270, await table.CountAsync(None));
        Assert.Null(await table.FindAsync(new RequestId("r10"), None));
        Assert.Equal(new DeadlineRow(new RequestId("r11"), Now.AddDays(1), 2, null, null), await table.FindAsync(new RequestId("r11"), None));
    }

    [SkippableFact]
    public async Task Claim_TakesDueRowsOnly_LeasesThem_AndNoOtherClaimGetsThemUntilTheLeaseEnds()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        var (a, b, c) = (new RequestId("a"), new RequestId("b"), new RequestId("c"));
        await Write(table, a, Now.AddMinutes(-1), 0);
        await Write(table, b, Now, 0);
        await Write(table, c, Now.AddMinutes(1), 0);

        var first = await table.ClaimAsync(Now, Now.AddSeconds(30), "one", 10, None);
        var leased = await table.FindAsync(a, None);
        var duringLease = await table.ClaimAsync(Now.AddSeconds(29), Now.AddSeconds(59), "two", 10, None);
        var next = await table.NextDueAsync(None);
        var afterLease = await table.ClaimAsync(Now.AddSeconds(30), Now.AddSeconds(60), "two", 10, None);

        Assert.Equal([a, b], first.Select(x => x.Request));
        Assert.Equal(new DeadlineRow(a, Now.AddMinutes(-1), 0, Now.AddSeconds(30), "one"), leased);
        Assert.Empty(duringLease);
        Assert.Equal(Now.AddSeconds(30), next);
        Assert.Equal([a, b], afterLease.Select(x => x.Request));
        Assert.Equal("two", (await table.FindAsync(b, None))!.ClaimedBy);
        Assert.Null((await table.FindAsync(c, None))!.LockedUntil);

        // The request's next append rewrites its row and releases the claim.
        await Write(table, a, Now.AddHours(1), 1);
        Assert.Equal(new DeadlineRow(a, Now.AddHours(1), 1, null, null), await table.FindAsync(a, None));
    }

    [SkippableFact]
    public async Task Reschedule_FromAStateOlderThanTheRow_LeavesTheRowAlone_AndNeverCreatesOne()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        var a = new RequestId("a");
        await Write(table, a, Now, 3);
        await table.ClaimAsync(Now, Now.AddSeconds(30), "one", 10, None);

        var older = await table.RescheduleAsync(a, Now.AddHours(5), 2, None);
        var unchanged = await table.FindAsync(a, None);
        var current = await table.RescheduleAsync(a, Now.AddHours(5), 3, None);
        var rescheduled = await table.FindAsync(a, None);
        var missing = await table.RescheduleAsync(new RequestId("b"), Now, 0, None);
        var deleted = await table.RescheduleAsync(a, null, 3, None);

        Assert.False(older);
        Assert.Equal(new DeadlineRow(a, Now, 3, Now.AddSeconds(30), "one"), unchanged);
        Assert.True(current);
        Assert.Equal(new DeadlineRow(a, Now.AddHours(5), 3, null, null), rescheduled);
        Assert.False(missing);
        Assert.True(deleted);
        Assert.Equal(0, await table.CountAsync(None));
    }

    [SkippableFact]
    public async Task Reconcile_AddsTheMissingRows_MovesTheOlderOnes_AndLeavesTheRestAsTheyAre()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        var (current, stale) = (new RequestId("current"), new RequestId("stale"));
        await Write(table, current, Now.AddHours(1), 4);
        await Write(table, stale, Now.AddHours(8), 1);
        await table.ClaimAsync(Now.AddHours(9), Now.AddHours(10), "one", 10, None);
        var known = Enumerable.Range(0, 450).Select(i => new KnownDeadline(new RequestId($"r{i}"), Now.AddMinutes(i), i % 7))
            .Append(new KnownDeadline(current, Now, 4))
            .Append(new KnownDeadline(stale, Now.AddMinutes(5), 3))
            .ToArray();

        var changed = await table.ReconcileAsync(known, None);
        var again = await table.ReconcileAsync(known, None);

        Assert.Equal(451, changed);
        Assert.Equal(0, again);
        Assert.Equal(452, await table.CountAsync(None));
        Assert.Equal(new DeadlineRow(current, Now.AddHours(1), 4, Now.AddHours(10), "one"), await table.FindAsync(current, None));
        Assert.Equal(new DeadlineRow(stale, Now.AddMinutes(5), 3, null, null), await table.FindAsync(stale, None));
        Assert.Equal(new DeadlineRow(new RequestId("r449"), Now.AddMinutes(449), 449 % 7, null, null), await table.FindAsync(new RequestId("r449"), None));
    }

    protected static Task<DeadlineTable> OpenAsync(TestDatabase db) => DeadlineTable.OpenAsync(EventStoreLocation.Parse(db.Location), None);

    protected static Task<int> Write(DeadlineTable table, RequestId request, DateTimeOffset? due, long version) =>
        table.WriteAsync([new DeadlineChange(request, due, version)], None);
}

[Collection(DurableCollection.Name)]
public sealed class SqliteDeadlineTableTests(PostgresFixture postgres) : DeadlineTableTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

/// <summary>The same on PostgreSQL, and what only PostgreSQL has: claims by several connections at once, which skip each other's rows.</summary>
[Collection(DurableCollection.Name)]
public sealed class PostgresDeadlineTableTests(PostgresFixture postgres) : DeadlineTableTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);

    [SkippableFact]
    public async Task Claim_SkipsTheRowsAnotherTransactionHolds_WithoutWaitingForIt()
    {
        await using var db = await CreateDatabaseAsync();
        await using var table = await OpenAsync(db);
        var ids = Enumerable.Range(0, 10).Select(i => new RequestId($"r{i}")).ToArray();
        await table.ReconcileAsync(ids.Select(id => new KnownDeadline(id, Now, 0)).ToArray(), None);

        // Another claimer is in the middle of its statement: it holds the first five rows' locks in an open transaction.
        await using var other = new NpgsqlConnection(db.Location);
        await other.OpenAsync();
        await using var holding = await other.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT request_id FROM request_deadlines WHERE request_id IN ('r0', 'r1', 'r2', 'r3', 'r4') FOR UPDATE", other, holding))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var whileHeld = await table.ClaimAsync(Now, Now.AddSeconds(30), "two", 100, None).WaitAsync(TimeSpan.FromSeconds(10));
        await holding.RollbackAsync();
        var afterwards = await table.ClaimAsync(Now, Now.AddSeconds(30), "two", 100, None);

        Assert.Equal(ids[5..], whileHeld.Select(c => c.Request).OrderBy(r => r.Value, StringComparer.Ordinal));
        Assert.Equal(ids[..5], afterwards.Select(c => c.Request).OrderBy(r => r.Value, StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task ConcurrentClaims_FromTwoReplicasTables_NeverShareARow_AndTogetherClaimEveryDueRow()
    {
        await using var db = await CreateDatabaseAsync();
        await using var one = await OpenAsync(db);
        await using var two = await OpenAsync(db);
        var due = Enumerable.Range(0, 300).Select(i => new KnownDeadline(new RequestId($"due-{i:000}"), Now.AddSeconds(-i), 0));
        var later = Enumerable.Range(0, 20).Select(i => new KnownDeadline(new RequestId($"later-{i:00}"), Now.AddSeconds(i + 1), 0));
        await one.ReconcileAsync(due.Concat(later).ToArray(), None);

        // Three claim loops per replica, started together, each taking small batches until nothing is left.
        var loops = new[] { (one, "one"), (two, "two") }
            .SelectMany(r => Enumerable.Range(0, 3).Select(i => (Table: r.Item1, Claimer: $"{r.Item2}-{i}")))
            .Select(r => Task.Run(async () =>
            {
                var mine = new List<(DeadlineClaim Claim, string Claimer)>();
                while (true)
                {
                    var batch = await r.Table.ClaimAsync(Now, Now.AddMinutes(1), r.Claimer, 7, None);
                    if (batch.Count == 0)
                    {
                        return mine;
                    }

                    mine.AddRange(batch.Select(c => (c, r.Claimer)));
                }
            }))
            .ToArray();
        var all = (await Task.WhenAll(loops)).SelectMany(c => c).ToArray();

        Assert.Equal(300, all.Length);
        Assert.Equal(due.Select(d => d.Request.Value).Order(StringComparer.Ordinal), all.Select(c => c.Claim.Request.Value).Order(StringComparer.Ordinal));
        foreach (var (claim, claimer) in all.Take(20))
        {
            Assert.Equal(claimer, (await one.FindAsync(claim.Request, None))!.ClaimedBy);
        }
    }
}
