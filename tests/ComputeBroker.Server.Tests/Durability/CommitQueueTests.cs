using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Tests.Infrastructure;
using ComputeBroker.Storage;

namespace ComputeBroker.Server.Tests.Durability;

/// <summary>
/// The group commit on each database, its writer on the thread pool or on its own thread: however appends are grouped, each caller gets exactly
/// its own events in the order it gave them, the committed callback sees every event once with the object it was written
/// from, and the figures count every append.
/// </summary>
public abstract class CommitQueueTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    protected PostgresFixture Postgres { get; } = postgres;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentAppends_EachCallerGetsItsOwnEventsInOrder_AfterTheCallbackHasSeenThem(bool ownThread)
    {
        await using var db = await CreateDatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db.Location, None);
        var seen = new ConcurrentBag<(RecordedEvent Event, object? Decoded)>();
        long folded = 0;
        var outOfOrder = 0;
        await using var queue = new CommitQueue(
            store,
            (events, decoded) =>
            {
                // Groups come in commit order, one after another.
                if (events[0].Position != Interlocked.Read(ref folded) + 1)
                {
                    Interlocked.Increment(ref outOfOrder);
                }

                for (var i = 0; i < events.Count; i++)
                {
                    seen.Add((events[i], decoded?[i]));
                }

                Interlocked.Exchange(ref folded, events[^1].Position);
            },
            ownThread);

        // 200 requests' first appends at once, three events each. Each caller resumes only once the callback has seen its events.
        var resumedEarly = 0;
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var decoded = Enumerable.Range(0, 3).Select(n => (object)$"r{i}-e{n}").ToArray();
            var append = new StreamAppend(new StreamId($"request-r{i}"), -1, decoded.Select(d => new EventData("test.event", $$"""{"id":"{{d}}"}""", Now)).ToArray());
            var result = await queue.AppendAsync([append], decoded, null, None);
            if (result.Events[^1].Position > Interlocked.Read(ref folded))
            {
                Interlocked.Increment(ref resumedEarly);
            }

            return result;
        })));

        Assert.Equal(0, outOfOrder);
        Assert.Equal(0, resumedEarly);

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].IsCommitted);
            Assert.Equal(Enumerable.Repeat($"request-r{i}", 3), results[i].Events.Select(e => e.Stream.Value));
            Assert.Equal([0L, 1L, 2L], results[i].Events.Select(e => e.Version));
            Assert.Equal(Enumerable.Range(0, 3).Select(n => $$"""{"id":"r{{i}}-e{{n}}"}"""), results[i].Events.Select(e => e.Json));
        }

        Assert.Equal(600, seen.Select(s => s.Event.Position).Distinct().Count());
        Assert.All(seen, s => Assert.Equal($$"""{"id":"{{s.Decoded}}"}""", s.Event.Json));
        var statistics = queue.Statistics;
        Assert.Equal(200, statistics.Appends);
        Assert.InRange(statistics.Groups, 1, 200);
        Assert.True(statistics.Busy > TimeSpan.Zero);
    }

    [SkippableFact]
    public async Task EveryCommit_IsRecordedOnTheMeter_WithItsDurationAndItsAppends()
    {
        await using var db = await CreateDatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db.Location, None);
        // A meter of this test's own: other tests' queues record on theirs.
        using var meter = new Meter($"{CommitQueue.MeterName}.Test.{Guid.NewGuid():N}");
        var durations = new ConcurrentBag<double>();
        var sizes = new ConcurrentBag<int>();
        var instruments = new ConcurrentDictionary<string, string?>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // The callbacks run on the commit writer: they only collect, the test asserts afterwards.
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            instruments[instrument.Name] = instrument.Unit;
            durations.Add(value);
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            instruments[instrument.Name] = instrument.Unit;
            sizes.Add(value);
        });
        listener.Start();

        await using (var queue = new CommitQueue(store, (_, _) => { }, meter: meter))
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => queue.AppendAsync(
                [new StreamAppend(new StreamId($"request-m{i}"), -1, [new EventData("test.event", "{}", Now)])], None)));
            var statistics = queue.Statistics;

            Assert.Equal(
                new Dictionary<string, string?> { [CommitQueue.DurationInstrument] = "s", [CommitQueue.SizeInstrument] = "{append}" },
                instruments.ToDictionary());

            // One measurement of each per commit, and between them every append.
            Assert.Equal(statistics.Groups, durations.Count);
            Assert.Equal(statistics.Groups, sizes.Count);
            Assert.Equal(50, sizes.Sum());
            Assert.All(durations, d => Assert.InRange(d, double.Epsilon, 60));
            Assert.Equal(statistics.Busy.TotalSeconds, durations.Sum(), 3);
        }
    }

    [SkippableFact]
    public async Task AGroupWithOneConflict_CommitsEachOfTheOthersOnce()
    {
        await using var db = await CreateDatabaseAsync();
        await using var store = await EventStoreFactory.OpenAsync(db.Location, None);
        await store.AppendAsync([new StreamAppend(new StreamId("request-taken"), -1, [new EventData("test.event", "{}", Now)])], None);
        await using var queue = new CommitQueue(store, (_, _) => { });

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => queue.AppendAsync(
            [new StreamAppend(new StreamId(i == 13 ? "request-taken" : $"request-r{i}"), -1, [new EventData("test.event", "{}", Now)])],
            null,
            null,
            None)));

        Assert.Single(results, r => !r.IsCommitted);
        Assert.False(results[13].IsCommitted);
        Assert.Equal(30, (await store.HeadAsync(None)).EventCount);
        Assert.Equal(29, results.Where(r => r.IsCommitted).Select(r => r.Events[0].Position).Distinct().Count());
    }
}

[Collection(DurableCollection.Name)]
public sealed class SqliteCommitQueueTests(PostgresFixture postgres) : CommitQueueTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(DurableCollection.Name)]
public sealed class PostgresCommitQueueTests(PostgresFixture postgres) : CommitQueueTests(postgres)
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => PostgresTestDatabase.CreateAsync(Postgres);
}
