using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using ComputeBroker.Storage;

namespace ComputeBroker.Server.Service;

/// <summary>
/// Group commit: appends from concurrent decisions that arrive while a commit is running are written
/// together in the next transaction, so many decisions share one durable commit (one fsync). Each caller
/// still gets exactly its own outcome: if the combined append meets a conflict, every append in the group
/// is retried on its own, so only the one that really conflicts sees it. An append may carry writes of its own
/// (an outbox) that run in the same transaction as its events: the combined transaction runs every member's,
/// and the one-by-one fallback runs each with its own append only. Thread-safe.
/// </summary>
public sealed class CommitQueue : IAsyncDisposable
{
    private const int MaxGroup = 256;

    /// <summary>The name of the meter the broker's instruments belong to (for <c>dotnet-counters</c> or an OpenTelemetry exporter).</summary>
    public const string MeterName = "ComputeBroker";

    /// <summary>Seconds from the writer taking a group to its outcome: what every append in the group waited for once it was taken.</summary>
    public const string DurationInstrument = "computebroker.commit.duration";

    /// <summary>Appends per commit: how much the group commit batched.</summary>
    public const string SizeInstrument = "computebroker.commit.appends";

    private readonly IEventStore _store;
    private readonly Channel<Pending> _queue;
    private readonly Task _writer;
    private readonly Action<IReadOnlyList<RecordedEvent>, IReadOnlyList<object>?> _committed;
    private readonly Histogram<double>? _duration;
    private readonly Histogram<int>? _size;
    private Task _folded = Task.CompletedTask;
    private long _busyTicks;
    private long _groups;
    private long _appends;

    /// <param name="committed">
    /// Called with every committed group's events, in commit order, before the callers resume; with them, when every append of
    /// the group gave them, the objects the events were serialized from, in the same order (so the caller need not parse its own JSON).
    /// </param>
    /// <param name="meter">Where to record each commit's duration and size (<see cref="DurationInstrument"/>, <see cref="SizeInstrument"/>); none when null.</param>
    /// <param name="ownThread">
    /// The writer runs on a thread of its own instead of the thread pool, for a store whose appends complete synchronously
    /// (SQLite): every append waits for that writer, so it must not queue behind the requests it serves.
    /// </param>
    /// <remarks>
    /// One writer, so groups commit, and are folded, in the order they were taken. Several writers were measured on PostgreSQL
    /// when an append cost several round trips: since it costs one, they only contend for the append lock and come back out
    /// of order, and one writer with larger groups sustained more (docs/architecture.md, "The write path under load").
    /// </remarks>
    public CommitQueue(IEventStore store, Action<IReadOnlyList<RecordedEvent>, IReadOnlyList<object>?> committed,
        bool ownThread = false, Meter? meter = null)
    {
        _store = store;
        _duration = meter?.CreateHistogram<double>(DurationInstrument, "s", "Time from the commit writer taking a group of appends to its outcome");
        _size = meter?.CreateHistogram<int>(SizeInstrument, "{append}", "Appends committed together in one transaction");
        _committed = committed;
        _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
        _writer = ownThread
            ? Task.Factory.StartNew(WriteOnOwnThread, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.Run(WriteAsync);
    }

    /// <summary>
    /// How the writer has been used since start: commits (groups), appends they carried, and the time spent writing. Busy time
    /// close to the elapsed time means the writer, not the callers, limits throughput.
    /// </summary>
    public CommitStatistics Statistics => new(Interlocked.Read(ref _groups), Interlocked.Read(ref _appends), TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks)));

    /// <summary>Appends as one atomic unit, committed together with whatever else is queued.</summary>
    public Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, CancellationToken ct) =>
        AppendAsync(appends, null, null, ct);

    /// <summary>
    /// As <see cref="AppendAsync(IReadOnlyList{StreamAppend}, CancellationToken)"/>, and runs <paramref name="inTransaction"/>
    /// in the transaction that commits these events (see <see cref="IEventStore"/>): its rows commit if and only if the events do.
    /// <paramref name="decoded"/>, when given, holds the object each event of <paramref name="appends"/> was serialized from, in order.
    /// </summary>
    public Task<AppendResult> AppendAsync(IReadOnlyList<StreamAppend> appends, IReadOnlyList<object>? decoded, Func<AppendTransaction, CancellationToken, Task>? inTransaction, CancellationToken ct)
    {
        var pending = new Pending(appends, decoded, inTransaction, ct);
        return _queue.Writer.TryWrite(pending) ? pending.Done.Task : Task.FromException<AppendResult>(new ObjectDisposedException(nameof(CommitQueue)));
    }

    private async Task WriteAsync()
    {
        var group = new List<Pending>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            if (Take(group))
            {
                await CommitAsync(group, Stopwatch.GetTimestamp());
            }
        }
    }

    private void WriteOnOwnThread()
    {
        var group = new List<Pending>(MaxGroup);
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            if (Take(group))
            {
                // The store's append completes synchronously here; blocking this thread on it is what the thread is for.
                CommitAsync(group, Stopwatch.GetTimestamp()).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Takes the next group from the queue (skipping cancelled appends); false when there is none.</summary>
    private bool Take(List<Pending> group)
    {
        group.Clear();
        while (group.Count < MaxGroup && _queue.Reader.TryRead(out var next))
        {
            if (next.Cancellation.IsCancellationRequested)
            {
                next.Done.TrySetCanceled(next.Cancellation);
                continue;
            }

            group.Add(next);
        }

        return group.Count > 0;
    }

    /// <summary>Counts a group's commit, from <paramref name="started"/> to now; before any of its callers resumes, so that they see it counted.</summary>
    private void Count(List<Pending> group, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        Interlocked.Add(ref _busyTicks, elapsed.Ticks);
        _duration?.Record(elapsed.TotalSeconds);
        _size?.Record(group.Count);
        Interlocked.Increment(ref _groups);
        Interlocked.Add(ref _appends, group.Count);
    }

    private async Task CommitAsync(List<Pending> group, long started)
    {
        var streams = new HashSet<StreamId>();
        if (group.All(p => p.Appends.All(a => streams.Add(a.Stream))))
        {
            AppendResult? result = null;
            Exception? error = null;
            try
            {
                result = await _store.AppendAsync(group.Count == 1 ? group[0].Appends : group.SelectMany(p => p.Appends).ToArray(), WritesOf(group), CancellationToken.None);
            }
            catch (Exception ex)
            {
                error = ex;
            }

            if (result is { IsCommitted: true } combined)
            {
                // The callback and the callers' resumption run after the previous group's, off this writer, which goes on
                // to the next group meanwhile: the writer is what a busy service waits on.
                var members = group.ToArray();
                var decoded = group.All(p => p.Decoded is not null) ? group.SelectMany(p => p.Decoded!).ToArray() : null;
                Count(group, started);
                _folded = _folded.ContinueWith(_ => Resume(members, combined.Events, decoded), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                return;
            }

            if (group.Count == 1)
            {
                // Alone in its group, the conflict or the error is the caller's own: nothing to retry. It is told after every
                // group committed before it has been folded, as a committed one would be.
                await _folded;
                Count(group, started);
                Settle(group[0], result, error);
                return;
            }
        }

        // Several appends that met a conflict or an error together (or name one stream twice): one by one, so each caller
        // gets its own outcome, each in order after every group already committed.
        await _folded;
        var outcomes = new List<(Pending Pending, AppendResult? Result, Exception? Error)>(group.Count);
        foreach (var pending in group)
        {
            try
            {
                var result = await _store.AppendAsync(pending.Appends, WritesOf([pending]), CancellationToken.None);
                if (result.IsCommitted)
                {
                    _committed(result.Events, pending.Decoded);
                }

                outcomes.Add((pending, result, null));
            }
            catch (Exception ex)
            {
                outcomes.Add((pending, null, ex));
            }
        }

        Count(group, started);
        foreach (var (pending, result, error) in outcomes)
        {
            Settle(pending, result, error);
        }
    }

    /// <summary>Tells a caller its append's outcome: the store's result, or the error it threw.</summary>
    private static void Settle(Pending pending, AppendResult? result, Exception? error)
    {
        if (error is not null)
        {
            pending.Done.TrySetException(error);
        }
        else
        {
            pending.Done.TrySetResult(result!);
        }
    }

    /// <summary>Runs the committed callback for a group, then gives each caller its slice of the group's events.</summary>
    private void Resume(Pending[] members, IReadOnlyList<RecordedEvent> events, IReadOnlyList<object>? decoded)
    {
        try
        {
            _committed(events, decoded);
        }
        finally
        {
            // The store returns the events in the order they were given: each caller's are the next slice (a view over the
            // group's array, not a copy, when the store gives an array).
            var all = events as RecordedEvent[] ?? events.ToArray();
            var offset = 0;
            foreach (var pending in members)
            {
                var count = 0;
                foreach (var append in pending.Appends)
                {
                    count += append.Events.Count;
                }

                pending.Done.TrySetResult(AppendResult.Committed(new ArraySegment<RecordedEvent>(all, offset, count)));
                offset += count;
            }
        }
    }

    /// <summary>The writes that commit with these appends (the whole group, or one append retried alone): each member's own.</summary>
    private static Func<AppendTransaction, CancellationToken, Task>? WritesOf(IReadOnlyList<Pending> members)
    {
        var writes = members.Where(p => p.InTransaction is not null).Select(p => p.InTransaction!).ToArray();
        if (writes.Length == 0)
        {
            return null;
        }

        return async (transaction, token) =>
        {
            foreach (var write in writes)
            {
                await write(transaction, token);
            }
        };
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        await _folded;
    }

    private sealed record Pending(IReadOnlyList<StreamAppend> Appends, IReadOnlyList<object>? Decoded, Func<AppendTransaction, CancellationToken, Task>? InTransaction, CancellationToken Cancellation)
    {
        public TaskCompletionSource<AppendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Group commit figures: commits, the appends they carried, and the writer's busy time.</summary>
public readonly record struct CommitStatistics(long Groups, long Appends, TimeSpan Busy);
