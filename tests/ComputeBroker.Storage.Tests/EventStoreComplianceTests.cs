using ComputeBroker.Domain;
using ComputeBroker.Serialization;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage.Integrity;
using Microsoft.Extensions.Time.Testing;

namespace ComputeBroker.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IEventStore"/> must have, run against each implementation by a
/// derived class that says how to open the store and how to reach its tables behind its back.
/// </summary>
public abstract class EventStoreComplianceTests : IAsyncLifetime, IDisposable
{
    protected static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 30, 0, TimeSpan.Zero);

    protected static readonly StreamId R1 = new("request-r-001");
    protected static readonly StreamId R2 = new("request-r-002");
    protected static readonly StreamId Ledger = new("ledger-openai");

    private readonly List<IEventStore> _stores = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));

    /// <summary>A deadline for each test, so that a hang fails instead of blocking the run.</summary>
    protected CancellationToken Ct => _timeout.Token;

    /// <summary>Opens the test's store; every call opens the same database (a reopen).</summary>
    protected abstract Task<IEventStore> OpenStoreCoreAsync();

    /// <summary>Runs SQL on the store's database directly, as a tamperer would.</summary>
    protected abstract Task ExecuteSqlAsync(string sql);

    protected abstract Task<long> QueryLongAsync(string sql);

    /// <summary>The schema's migrations: each applied once, numbered from 1.</summary>
    protected abstract int SchemaVersion { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _timeout.Dispose();
        GC.SuppressFinalize(this);
    }

    protected async Task<IEventStore> OpenAsync()
    {
        var store = await OpenStoreCoreAsync();
        _stores.Add(store);
        return store;
    }

    protected static EventData Event(int n, string type = "test.happened") =>
        new(type, $$"""{"n":{{n}}}""", T0.AddSeconds(n));

    protected static StreamAppend To(StreamId stream, long expected, params int[] ns) =>
        new(stream, expected, ns.Select(n => Event(n)).ToList());

    // ---------------------------------------------------------------- append and read

    [SkippableFact]
    public async Task Append_NewStream_ReadsBackEventsWithVersionsFromZeroInOrder()
    {
        var store = await OpenAsync();

        var result = await store.AppendAsync([To(R1, StreamAppend.NoStream, 1, 2, 3)], Ct);

        Assert.True(result.IsCommitted);
        var events = await store.ReadStreamAsync(R1, 0, Ct);
        Assert.Equal([0L, 1L, 2L], events.Select(e => e.Version));
        Assert.Equal(["""{"n":1}""", """{"n":2}""", """{"n":3}"""], events.Select(e => e.Json));
        Assert.All(events, e => Assert.Equal("test.happened", e.Type));
        Assert.Equal(result.Events, events);
        Assert.True(events[0].Position < events[1].Position && events[1].Position < events[2].Position);
        Assert.Equal(result.LastPosition, events[2].Position);
    }

    [SkippableFact]
    public async Task Append_AtTheHeadVersion_ContinuesTheStream_AndReadFromVersionSkipsEarlierOnes()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R1, StreamAppend.NoStream, 1, 2)], Ct);

        var result = await store.AppendAsync([To(R1, 1, 3)], Ct);

        Assert.True(result.IsCommitted);
        var tail = await store.ReadStreamAsync(R1, 1, Ct);
        Assert.Equal([1L, 2L], tail.Select(e => e.Version));
        Assert.Empty(await store.ReadStreamAsync(new StreamId("request-unknown"), 0, Ct));
    }

    [SkippableFact]
    public async Task Append_WithStaleExpectedVersion_ReturnsConflictNamingStreamAndVersions_AndWritesNothing()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R1, StreamAppend.NoStream, 1, 2, 3)], Ct);

        var result = await store.AppendAsync([To(R1, 1, 4)], Ct);

        Assert.False(result.IsCommitted);
        Assert.Equal(new ConcurrencyConflict(R1, 1, 2), result.Conflict);
        Assert.Contains("'request-r-001' is at version 2 but the append expected version 1", result.Conflict!.Message, StringComparison.Ordinal);
        Assert.Empty(result.Events);
        Assert.Equal(3, (await store.ReadStreamAsync(R1, 0, Ct)).Count);
        Assert.Throws<ConcurrencyConflictException>(() => result.EnsureCommitted());
    }

    [SkippableFact]
    public async Task Append_NewStreamThatExists_OrExistingStreamThatDoesNot_IsAConflict()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R1, StreamAppend.NoStream, 1)], Ct);

        var again = await store.AppendAsync([To(R1, StreamAppend.NoStream, 2)], Ct);
        var missing = await store.AppendAsync([To(R2, 0, 2)], Ct);

        Assert.Equal(new ConcurrencyConflict(R1, StreamAppend.NoStream, 0), again.Conflict);
        Assert.Equal(new ConcurrencyConflict(R2, 0, StreamAppend.NoStream), missing.Conflict);
        Assert.Empty(await store.ReadStreamAsync(R2, 0, Ct));
    }

    [SkippableFact]
    public async Task ConcurrentAppends_WithTheSameExpectedVersion_ExactlyOneCommits()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R1, StreamAppend.NoStream, 0)], Ct);

        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(n =>
            Task.Run(() => store.AppendAsync([To(R1, 0, n)], Ct))));

        Assert.Single(results, r => r.IsCommitted);
        Assert.All(results.Where(r => !r.IsCommitted), r => Assert.Equal(new ConcurrencyConflict(R1, 0, 1), r.Conflict));
        Assert.Equal(2, (await store.ReadStreamAsync(R1, 0, Ct)).Count);
    }

    [SkippableFact]
    public async Task ConcurrentAppends_FromTwoOpenStores_ExactlyOneCommits()
    {
        // Two instances on one database stand for two processes: no in-process lock is shared.
        var first = await OpenAsync();
        var second = await OpenAsync();
        await first.AppendAsync([To(R1, StreamAppend.NoStream, 0)], Ct);

        var results = await Task.WhenAll(Enumerable.Range(1, 6).Select(n =>
            Task.Run(() => (n % 2 == 0 ? first : second).AppendAsync([To(R1, 0, n), To(new StreamId($"request-side-{n}"), StreamAppend.NoStream, n)], Ct))));

        var winner = Assert.Single(results, r => r.IsCommitted);
        Assert.Equal(2, (await second.ReadStreamAsync(R1, 0, Ct)).Count);
        var sideStreams = await first.ListStreamsAsync("request-side-", Ct);
        Assert.Equal([winner.Events[1].Stream], sideStreams);
    }

    [SkippableFact]
    public async Task MultiStreamAppend_CommitsEveryStreamTogether_InOneRunOfPositions()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(Ledger, StreamAppend.NoStream, 0)], Ct);

        var result = await store.AppendAsync([To(R1, StreamAppend.NoStream, 1, 2), To(Ledger, 0, 3)], Ct);

        Assert.True(result.IsCommitted);
        Assert.Equal([R1, R1, Ledger], result.Events.Select(e => e.Stream));
        Assert.Equal([0L, 1L, 1L], result.Events.Select(e => e.Version));
        Assert.Equal(result.Events, await store.ReadAllAsync(result.Events[0].Position, 10, Ct));
    }

    [SkippableFact]
    public async Task AppendsAroundAConflict_GetPositionsAsStored_AndNoneIsTakenTwice()
    {
        var store = await OpenAsync();
        var before = await store.AppendAsync([To(R1, StreamAppend.NoStream, 1, 2)], Ct);

        // The conflict is found by the database's unique (stream, version) constraint when the head is not known beforehand.
        var other = await OpenAsync();
        var conflicted = await other.AppendAsync([To(R2, StreamAppend.NoStream, 3), To(R1, StreamAppend.NoStream, 4)], Ct);
        var after = await other.AppendAsync([To(R2, StreamAppend.NoStream, 5, 6, 7), To(Ledger, StreamAppend.NoStream, 8)], Ct);

        Assert.False(conflicted.IsCommitted);
        Assert.True(after.IsCommitted);
        var all = await store.ReadAllAsync(0, 100, Ct);
        Assert.Equal([.. before.Events, .. after.Events], all);
        Assert.True(after.Events[0].Position > before.LastPosition);
        Assert.Equal(after.Events.Select(e => e.Position).Order(), after.Events.Select(e => e.Position));
        Assert.Equal(all.Count, all.Select(e => e.Position).Distinct().Count());
    }

    [SkippableFact]
    public async Task MultiStreamAppend_ConflictOnOneStream_WritesNothingOnTheOthers()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(Ledger, StreamAppend.NoStream, 0, 1)], Ct);
        var before = await store.HeadAsync(Ct);

        // The conflicting stream comes last, after the others' inserts were made in the transaction.
        var result = await store.AppendAsync([To(R1, StreamAppend.NoStream, 2), To(R2, StreamAppend.NoStream, 3), To(Ledger, 0, 4)], Ct);

        Assert.Equal(new ConcurrencyConflict(Ledger, 0, 1), result.Conflict);
        Assert.Empty(await store.ReadStreamAsync(R1, 0, Ct));
        Assert.Empty(await store.ReadStreamAsync(R2, 0, Ct));
        Assert.Equal(before, await store.HeadAsync(Ct));
        Assert.True((await store.AppendAsync([To(R1, StreamAppend.NoStream, 2)], Ct)).IsCommitted);
    }

    [SkippableFact]
    public async Task ReadAll_ReturnsEveryStreamsEventsInGlobalOrder_PageByPage()
    {
        var store = await OpenAsync();
        await SeedAsync(store);

        var all = await store.ReadAllAsync(0, 1000, Ct);
        var paged = new List<RecordedEvent>();
        for (var from = 0L; ;)
        {
            var page = await store.ReadAllAsync(from, 3, Ct);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 3);
            paged.AddRange(page);
            from = page[^1].Position + 1;
        }

        Assert.Equal(10, all.Count);
        Assert.Equal(all, paged);
        Assert.Equal(all.OrderBy(e => e.Position), all);
        Assert.Equal([R1, R1, R2, R2, R1, R1, Ledger, Ledger, R1, R2], all.Select(e => e.Stream));
    }

    [SkippableFact]
    public async Task StreamHeads_GiveEachStreamsLastVersionAndHash_SortedOrdinally_UpToAPosition()
    {
        var store = await OpenAsync();
        await SeedAsync(store);
        var all = await store.ReadAllAsync(0, 1000, Ct);

        var heads = await store.StreamHeadsAsync(null, Ct);
        var early = await store.StreamHeadsAsync(all[3].Position, Ct);

        Assert.Equal(
            [new StreamHead(Ledger, 1, all[7].Hash), new StreamHead(R1, 4, all[8].Hash), new StreamHead(R2, 2, all[9].Hash)],
            heads);
        Assert.Equal([new StreamHead(R1, 1, all[1].Hash), new StreamHead(R2, 1, all[3].Hash)], early);
    }

    [SkippableFact]
    public async Task ListStreams_ReturnsTheStreamsStartingWithThePrefix_Exactly()
    {
        var store = await OpenAsync();
        var ids = new[] { "request-a", "request-b", "Request-c", "request_x", "requestXd", "ledger-openai" };
        await store.AppendAsync(ids.Select(id => To(new StreamId(id), StreamAppend.NoStream, 1)).ToList(), Ct);

        Assert.Equal(["request-a", "request-b"], (await store.ListStreamsAsync("request-", Ct)).Select(s => s.Value));
        Assert.Equal(["request_x"], (await store.ListStreamsAsync("request_", Ct)).Select(s => s.Value));
        Assert.Equal(ids.Order(StringComparer.Ordinal), (await store.ListStreamsAsync("", Ct)).Select(s => s.Value));
        Assert.Empty(await store.ListStreamsAsync("request-%", Ct));
    }

    [SkippableFact]
    public async Task Head_CountsEventsAndStreams_AtTheLastPosition()
    {
        var store = await OpenAsync();
        Assert.Equal(StoreHead.Empty, await store.HeadAsync(Ct));

        await SeedAsync(store);

        var all = await store.ReadAllAsync(0, 1000, Ct);
        Assert.Equal(new StoreHead(all[^1].Position, 10, 3), await store.HeadAsync(Ct));
    }

    [SkippableFact]
    public async Task Reopen_AfterDispose_KeepsEveryEvent_AndContinuesTheChain()
    {
        var first = await OpenStoreCoreAsync();
        await SeedAsync(first);
        var before = await first.ReadAllAsync(0, 1000, Ct);
        await first.DisposeAsync();

        var reopened = await OpenAsync();
        var after = await reopened.ReadAllAsync(0, 1000, Ct);
        var appended = await reopened.AppendAsync([To(R1, 4, 99)], Ct);

        Assert.Equal(before, after);
        Assert.Equal(before.Last(e => e.Stream == R1).Hash, appended.Events[0].PrevHash);
        Assert.True(appended.Events[0].Position > before[^1].Position);
        Assert.True((await IntegrityVerifier.VerifyAsync(reopened, null, Ct)).Passed);
    }

    [SkippableFact]
    public async Task Open_CreatesTheSchemaOnce_AndReopeningAppliesNothing()
    {
        await (await OpenStoreCoreAsync()).DisposeAsync();
        await OpenAsync();

        Assert.Equal(SchemaVersion, await QueryLongAsync("SELECT COUNT(*) FROM schema_version"));
        Assert.Equal(SchemaVersion, await QueryLongAsync("SELECT MAX(version) FROM schema_version"));
    }

    [SkippableFact]
    public async Task Append_MalformedInput_ThrowsNamingTheProblem_AndWritesNothing()
    {
        var store = await OpenAsync();

        var twice = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync([To(R1, -1, 1), To(R1, -1, 2)], Ct));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync([new StreamAppend(R1, -1, [])], Ct));
        var json = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.AppendAsync([new StreamAppend(R1, -1, [new EventData("offer.made", "{\"n\":", T0)])], Ct));
        var none = await Assert.ThrowsAsync<ArgumentException>(() => store.AppendAsync([], Ct));

        Assert.Contains("'request-r-001' appears twice", twice.Message, StringComparison.Ordinal);
        Assert.Contains("at least one event", empty.Message, StringComparison.Ordinal);
        Assert.Contains("event 0 (offer.made) is not valid JSON", json.Message, StringComparison.Ordinal);
        Assert.Contains("at least one stream", none.Message, StringComparison.Ordinal);
        Assert.Equal(StoreHead.Empty, await store.HeadAsync(Ct));
    }

    [SkippableFact]
    public async Task RecordedAt_IsKeptInUtc_ToTheMicrosecond()
    {
        var store = await OpenAsync();
        var local = new DateTimeOffset(2025, 3, 1, 11, 30, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);

        await store.AppendAsync([new StreamAppend(R1, -1, [new EventData("test.happened", "{}", local)])], Ct);

        var stored = (await store.ReadStreamAsync(R1, 0, Ct))[0].RecordedAt;
        Assert.Equal(TimeSpan.Zero, stored.Offset);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 9, 30, 0, TimeSpan.Zero).AddTicks(1_234_560), stored);
    }

    [SkippableFact]
    public async Task DomainEvent_SerializedWithBrokerJson_ReadsBackAsTheSameBytesAndEvent()
    {
        var store = await OpenAsync();
        SourcingEvent offer = new OfferMade(new RequestId("r-001"), T0, new OfferId("r-001/1"), OfferKind.FirstRefusal,
            new ProviderId("azure"), new GpuCount(64), PricePerGpuHour.Parse("12.29 USD"), PartialAllowed: true, T0.AddDays(5));
        var json = BrokerJson.Serialize(offer);

        await store.AppendAsync([new StreamAppend(StreamId.ForRequest(offer.RequestId), -1, [new EventData(offer.Type, json, offer.At)])], Ct);

        var stored = Assert.Single(await store.ReadStreamAsync(new StreamId("request-r-001"), 0, Ct));
        Assert.Equal(json, stored.Json);
        Assert.Equal("offer.made", stored.Type);
        Assert.Equal(offer, BrokerJson.Deserialize<SourcingEvent>(stored.Json));
    }

    // ---------------------------------------------------------------- transactions shared with the caller

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Callback_RunsInTheAppendsTransaction_AndItsRowsCommitWithTheEvents(bool atOnce)
    {
        var store = await OpenAsync();
        await ExecuteSqlAsync("CREATE TABLE outbox (stream_id TEXT NOT NULL, note TEXT NOT NULL)");

        var result = await store.AppendAsync([To(R1, -1, 1)], async (append, ct) =>
        {
            await WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'submitted')", atOnce, ct);
            await WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'noted')", atOnce, ct);
        }, Ct);

        Assert.True(result.IsCommitted);
        Assert.Equal(2, await QueryLongAsync("SELECT COUNT(*) FROM outbox"));
        Assert.Equal(1, await QueryLongAsync("SELECT COUNT(*) FROM events"));
    }

    [SkippableFact]
    public async Task Callback_WhoseBatchedCommandReturnsRows_StillGetsEveryPosition()
    {
        var store = await OpenAsync();
        await store.AppendAsync([To(R2, -1, 1)], Ct);

        var result = await store.AppendAsync([To(R1, -1, 1, 2), To(R2, 0, 3)], async (append, ct) =>
        {
            await WriteAsync(append, "SELECT 1 AS a, 2 AS b, 3 AS c", atOnce: false, ct);
        }, Ct);

        Assert.True(result.IsCommitted);
        Assert.Equal([2L, 3L, 4L], result.Events.Select(e => e.Position));
        Assert.Equal(result.Events, (await store.ReadAllAsync(2, 10, Ct)).ToArray());
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Callback_ThatFailsInTheDatabase_RollsBackItsRowsAndTheEvents(bool atOnce)
    {
        var store = await OpenAsync();
        await ExecuteSqlAsync("CREATE TABLE outbox (stream_id TEXT NOT NULL, note TEXT NOT NULL)");

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => store.AppendAsync([To(R1, -1, 1), To(R2, -1, 2)], async (append, ct) =>
        {
            await WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'submitted')", atOnce, ct);
            await WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', NULL)", atOnce, ct);
        }, Ct));

        Assert.Equal(0, await QueryLongAsync("SELECT COUNT(*) FROM outbox"));
        Assert.Equal(StoreHead.Empty, await store.HeadAsync(Ct));
        Assert.True((await store.AppendAsync([To(R1, -1, 1)], Ct)).IsCommitted);
    }

    [SkippableFact]
    public async Task Callback_ThatThrows_RollsBackItsRowsAndTheEvents()
    {
        var store = await OpenAsync();
        await ExecuteSqlAsync("CREATE TABLE outbox (stream_id TEXT NOT NULL, note TEXT NOT NULL)");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendAsync([To(R1, -1, 1), To(R2, -1, 2)], async (append, ct) =>
        {
            await WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'submitted')", atOnce: true, ct);
            throw new InvalidOperationException("the outbox refused");
        }, Ct));

        Assert.Equal(0, await QueryLongAsync("SELECT COUNT(*) FROM outbox"));
        Assert.Equal(StoreHead.Empty, await store.HeadAsync(Ct));
        Assert.True((await store.AppendAsync([To(R1, -1, 1)], Ct)).IsCommitted);
    }

    [SkippableFact]
    public async Task Callback_OfAnAppendThatConflicts_WritesNothing()
    {
        var store = await OpenAsync();
        await ExecuteSqlAsync("CREATE TABLE outbox (stream_id TEXT NOT NULL, note TEXT NOT NULL)");
        await store.AppendAsync([To(R1, -1, 1)], Ct);

        // A new stream that exists: a store may find it before running the callback or only when it inserts.
        var taken = await store.AppendAsync([To(R1, -1, 2)], (append, ct) => WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'x')", atOnce: false, ct), Ct);
        var takenAmongOthers = await store.AppendAsync([To(R2, -1, 3), To(R1, -1, 2)], (append, ct) => WriteAsync(append, "INSERT INTO outbox (stream_id, note) VALUES ('request-r-001', 'y')", atOnce: true, ct), Ct);

        Assert.Equal(new ConcurrencyConflict(R1, StreamAppend.NoStream, 0), taken.Conflict);
        Assert.Equal(new ConcurrencyConflict(R1, StreamAppend.NoStream, 0), takenAmongOthers.Conflict);
        Assert.Equal(0, await QueryLongAsync("SELECT COUNT(*) FROM outbox"));
        Assert.Empty(await store.ReadStreamAsync(R2, 0, Ct));
    }

    [SkippableFact]
    public async Task Appends_FromTwoOpenStores_ToOneStream_SeeEachOthersEvents()
    {
        // Two processes taking turns on one stream: each must chain onto the other's last event, and an append that expects
        // the version it wrote itself last, after the other wrote, is a conflict.
        var first = await OpenAsync();
        var second = await OpenAsync();
        await first.AppendAsync([To(R1, -1, 1)], Ct);

        var bySecond = await second.AppendAsync([To(R1, 0, 2)], Ct);
        var staleFirst = await first.AppendAsync([To(R1, 0, 3)], Ct);
        var byFirst = await first.AppendAsync([To(R1, 1, 4)], Ct);
        var staleSecond = await second.AppendAsync([To(R1, 1, 5)], Ct);
        var bySecondAgain = await second.AppendAsync([To(R1, 2, 6)], Ct);

        Assert.True(bySecond.IsCommitted);
        Assert.Equal(new ConcurrencyConflict(R1, 0, 1), staleFirst.Conflict);
        Assert.True(byFirst.IsCommitted);
        Assert.Equal(bySecond.Events[0].Hash, byFirst.Events[0].PrevHash);
        Assert.Equal(new ConcurrencyConflict(R1, 1, 2), staleSecond.Conflict);
        Assert.Equal(byFirst.Events[0].Hash, bySecondAgain.Events[0].PrevHash);
        Assert.Equal(4, (await first.ReadStreamAsync(R1, 0, Ct)).Count);
        Assert.True((await IntegrityVerifier.VerifyAsync(first, null, Ct)).Passed);
    }

    /// <summary>Runs <paramref name="sql"/> in the append's transaction: at once, or in the store's batch where it has one.</summary>
    private static async Task WriteAsync(AppendTransaction append, string sql, bool atOnce, CancellationToken ct)
    {
        if (!atOnce && append.Batch is { } batch)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            batch.BatchCommands.Add(command);
            return;
        }

        await using var command2 = append.Transaction.Connection!.CreateCommand();
        command2.Transaction = append.Transaction;
        command2.CommandText = sql;
        await command2.ExecuteNonQueryAsync(ct);
    }

    [SkippableFact]
    public async Task Append_CancelledBeforeTheCommit_WritesNothing()
    {
        var store = await OpenAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.AppendAsync([To(R1, -1, 1)], (_, _) =>
        {
            cancel.Cancel();
            return Task.CompletedTask;
        }, cancel.Token));

        Assert.Equal(StoreHead.Empty, await store.HeadAsync(Ct));
    }

    // ---------------------------------------------------------------- hash chain and digest

    [SkippableFact]
    public async Task HashChain_StartsFromZeros_AndEveryHashRecomputesFromTheStoredRow()
    {
        var store = await OpenAsync();
        await SeedAsync(store);

        foreach (var stream in new[] { R1, R2, Ledger })
        {
            var events = await store.ReadStreamAsync(stream, 0, Ct);
            Assert.Equal(EventHash.Genesis, events[0].PrevHash);
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                Assert.Matches("^[0-9a-f]{64}$", e.Hash);
                Assert.Equal(EventHash.Compute(e.Stream, e.Version, e.Type, e.RecordedAt, e.Json, e.PrevHash), e.Hash);
                if (i > 0)
                {
                    Assert.Equal(events[i - 1].Hash, e.PrevHash);
                }
            }
        }

        var report = await IntegrityVerifier.VerifyAsync(store, null, Ct);
        Assert.True(report.Passed, string.Join('\n', report.Findings));
        Assert.Equal((3, 10), (report.StreamCount, report.EventCount));
    }

    [SkippableFact]
    public async Task Digest_IsTheSameAfterReopen_AndVerifiesAgainstTheStore()
    {
        var clock = new FakeTimeProvider(T0.AddDays(1));
        var first = await OpenStoreCoreAsync();
        await SeedAsync(first);
        var before = await Digest.CaptureAsync(first, clock, DigestDetail.WithStreamHeads, Ct);
        await first.DisposeAsync();

        var reopened = await OpenAsync();
        var after = await Digest.CaptureAsync(reopened, clock, DigestDetail.WithStreamHeads, Ct);
        var report = await IntegrityVerifier.VerifyAsync(reopened, before, Ct);

        Assert.Equal(before.ToJson(), after.ToJson());
        Assert.Equal((3L, 10L), (before.StreamCount, before.EventCount));
        Assert.Matches("^[0-9a-f]{64}$", before.Root);
        Assert.True(report.Passed, string.Join('\n', report.Findings));
        Assert.Equal(before.Root, report.Root);
    }

    [SkippableFact]
    public async Task Digest_StillMatches_AfterEventsAreAppendedLater()
    {
        var store = await OpenAsync();
        await SeedAsync(store);
        var digest = await Digest.CaptureAsync(store, new FakeTimeProvider(T0), DigestDetail.RootOnly, Ct);

        await store.AppendAsync([To(R1, 4, 50), To(new StreamId("request-r-003"), -1, 51)], Ct);

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        Assert.True(report.Passed, string.Join('\n', report.Findings));
        Assert.NotEqual(digest.Root, report.Root);
    }

    [SkippableFact]
    public async Task DigestDocument_WrittenToAFile_ReadsBackTheSame()
    {
        var store = await OpenAsync();
        await SeedAsync(store);
        var digest = await Digest.CaptureAsync(store, new FakeTimeProvider(T0), DigestDetail.WithStreamHeads, Ct);
        var path = Path.Combine(Path.GetTempPath(), $"digest-{Guid.NewGuid():N}.json");
        try
        {
            await digest.WriteAsync(path, Ct);
            var read = await DigestDocument.ReadAsync(path, Ct);

            Assert.Equal(digest.ToJson(), read.ToJson());
            Assert.Contains("\"root\": \"" + digest.Root + "\"", await File.ReadAllTextAsync(path, Ct), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---------------------------------------------------------------- tampering, each named precisely

    [SkippableFact]
    public async Task Tamper_UpdatedData_IsReportedAsModified_AtThatVersion()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync("UPDATE events SET data = '{\"n\":999}' WHERE stream_id = 'request-r-001' AND version = 2");

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.Modified, R1, 2));
    }

    [SkippableFact]
    public async Task Tamper_AHashThatIsNotHex_IsReported_NotAnError()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync($"UPDATE events SET hash = '{new string('z', 64)}' WHERE stream_id = 'request-r-001' AND version = 1");

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        Assert.False(report.Passed);
        Assert.Contains(report.Findings, f => f.Stream == R1 && f.Version == 1);
    }

    [SkippableFact]
    public async Task Tamper_RewrittenEventWithRecomputedHash_IsReportedAsChainBroken_AtTheNextVersion()
    {
        var (store, _) = await SeedWithDigestAsync();
        var target = (await store.ReadStreamAsync(R1, 2, Ct))[0];
        var forged = EventHash.Compute(R1, 2, target.Type, target.RecordedAt, """{"n":999}""", target.PrevHash);

        await ExecuteSqlAsync($"UPDATE events SET data = '{{\"n\":999}}', hash = '{forged}' WHERE stream_id = 'request-r-001' AND version = 2");

        var report = await IntegrityVerifier.VerifyAsync(store, null, Ct);
        AssertFindings(report, (IntegrityFindingKind.ChainBroken, R1, 3));
    }

    [SkippableFact]
    public async Task Tamper_DeletedMiddleEvent_IsReportedAsDeleted_AtThatVersion()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync("DELETE FROM events WHERE stream_id = 'request-r-001' AND version = 2");

        var report = await IntegrityVerifier.VerifyAsync(store, null, Ct);
        AssertFindings(report, (IntegrityFindingKind.Deleted, R1, 2));

        // Against the digest the root is unchanged (the head is intact) but the event count is one short.
        var withDigest = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(withDigest, (IntegrityFindingKind.DigestMismatch, null, null), (IntegrityFindingKind.Deleted, R1, 2));
    }

    [SkippableFact]
    public async Task Tamper_DeletedLastEventOfAStream_IsFoundOnlyByTheDigest_WhichNamesStreamAndVersion()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync("DELETE FROM events WHERE stream_id = 'request-r-001' AND version = 4");

        Assert.True((await IntegrityVerifier.VerifyAsync(store, null, Ct)).Passed, "the remaining chain is intact");
        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.DigestMismatch, null, null), (IntegrityFindingKind.Deleted, R1, 4));
    }

    [SkippableFact]
    public async Task Tamper_DeletedLastEvent_AgainstARootOnlyDigest_IsADigestMismatch()
    {
        var store = await OpenAsync();
        await SeedAsync(store);
        var digest = await Digest.CaptureAsync(store, new FakeTimeProvider(T0), DigestDetail.RootOnly, Ct);

        await ExecuteSqlAsync("DELETE FROM events WHERE stream_id = 'request-r-002' AND version = 2");

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        Assert.NotEmpty(report.Findings);
        Assert.All(report.Findings, f => Assert.Equal(IntegrityFindingKind.DigestMismatch, f.Kind));
        Assert.Contains(report.Findings, f => f.Message.Contains("9 events", StringComparison.Ordinal) && f.Message.Contains("10 events", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Tamper_RemovedWholeStream_IsFoundOnlyByTheDigest()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync("DELETE FROM events WHERE stream_id = 'ledger-openai'");

        Assert.True((await IntegrityVerifier.VerifyAsync(store, null, Ct)).Passed);
        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.DigestMismatch, null, null), (IntegrityFindingKind.Deleted, Ledger, 0));
    }

    [SkippableFact]
    public async Task Tamper_InsertedForgedEvent_IsReportedAsInserted_AtItsVersion()
    {
        var (store, digest) = await SeedWithDigestAsync();
        var forgedHash = new string('a', 64);
        var forgedPrev = new string('b', 64);

        await ExecuteSqlAsync(
            "INSERT INTO events (stream_id, version, type, data, recorded_at, prev_hash, hash) " +
            $"VALUES ('request-r-001', 5, 'allocation.made', '{{\"n\":5}}', '{EventHash.FormatRecordedAt(T0)}', '{forgedPrev}', '{forgedHash}')");

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.Inserted, R1, 5));
    }

    [SkippableFact]
    public async Task Tamper_SwappedVersionsOfTwoEvents_AreReportedAsReordered_AndNothingElse()
    {
        var (store, digest) = await SeedWithDigestAsync();

        await ExecuteSqlAsync(
            """
            UPDATE events SET version = 1000 WHERE stream_id = 'request-r-001' AND version = 1;
            UPDATE events SET version = 1 WHERE stream_id = 'request-r-001' AND version = 3;
            UPDATE events SET version = 3 WHERE stream_id = 'request-r-001' AND version = 1000;
            """);

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.Reordered, R1, 1), (IntegrityFindingKind.Reordered, R1, 3));
        Assert.All(report.Findings, f => Assert.Contains("swapped", f.Message, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Tamper_MovedRows_WithTheirVersionsAndHashes_AreReportedAsReordered_AndNothingElse()
    {
        var (store, digest) = await SeedWithDigestAsync();
        var events = await store.ReadStreamAsync(R1, 0, Ct);
        var (a, b) = (events[1], events[3]);
        static string Content(RecordedEvent e) =>
            $"type = '{e.Type}', data = '{e.Json}', recorded_at = '{EventHash.FormatRecordedAt(e.RecordedAt)}', prev_hash = '{e.PrevHash}', hash = '{e.Hash}'";

        // Each event moves, whole, to the other's global position.
        await ExecuteSqlAsync(
            $"""
            UPDATE events SET version = 1000 WHERE position = {a.Position};
            UPDATE events SET version = 1, {Content(a)} WHERE position = {b.Position};
            UPDATE events SET version = 3, {Content(b)} WHERE position = {a.Position};
            """);

        var report = await IntegrityVerifier.VerifyAsync(store, digest, Ct);
        AssertFindings(report, (IntegrityFindingKind.Reordered, R1, 1), (IntegrityFindingKind.Reordered, R1, 3));
        Assert.All(report.Findings, f => Assert.Contains("rows were moved", f.Message, StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Ten events in three streams, interleaved so that streams' positions mix.</summary>
    protected async Task SeedAsync(IEventStore store)
    {
        (await store.AppendAsync([To(R1, -1, 0, 1)], Ct)).EnsureCommitted();
        (await store.AppendAsync([To(R2, -1, 2, 3)], Ct)).EnsureCommitted();
        (await store.AppendAsync([To(R1, 1, 4, 5)], Ct)).EnsureCommitted();
        (await store.AppendAsync([To(Ledger, -1, 6, 7)], Ct)).EnsureCommitted();
        (await store.AppendAsync([To(R1, 3, 8), To(R2, 1, 9)], Ct)).EnsureCommitted();
    }

    private async Task<(IEventStore Store, DigestDocument Digest)> SeedWithDigestAsync()
    {
        var store = await OpenAsync();
        await SeedAsync(store);
        var digest = await Digest.CaptureAsync(store, new FakeTimeProvider(T0.AddHours(1)), DigestDetail.WithStreamHeads, Ct);
        Assert.True((await IntegrityVerifier.VerifyAsync(store, digest, Ct)).Passed);
        return (store, digest);
    }

    private static void AssertFindings(IntegrityReport report, params (IntegrityFindingKind Kind, StreamId? Stream, long? Version)[] expected)
    {
        var actual = report.Findings.Select(f => (f.Kind, f.Stream, f.Version)).ToList();
        Assert.True(
            expected.Order().SequenceEqual(actual.Order()),
            $"expected [{string.Join(", ", expected)}]\nfound:\n{string.Join('\n', report.Findings)}");
    }
}
