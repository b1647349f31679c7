using System.Data.Common;
using ComputeBroker.Domain;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Microsoft.Extensions.Logging;

namespace ComputeBroker.Server.Service;

/// <summary>
/// The deadline runner. Every committed append to a request's stream leaves the request's row in <see cref="DeadlineTable"/>
/// to be written (<see cref="DeadlineWriter"/>), and the runner writes what is waiting before it claims, so a claim sees
/// every deadline this process committed. The runner claims due rows with a lease and fires each with
/// <see cref="SourcingEngine.Tick"/>; the tick's append rewrites (or deletes) the row. Wake-ups: the in-memory scheduler at
/// the deadlines this process knows of, and the poll every second for the rest (written before a restart, or by another
/// replica). On PostgreSQL, where replicas share the table, each replica also sets the rows of the open requests it knows
/// of from the log every <see cref="ReconcileEvery"/>: a replica that died between a commit and its row's write leaves
/// that deadline to the others.
/// </summary>
public sealed partial class BrokerService
{
    /// <summary>Rows claimed per statement.</summary>
    private const int DeadlineBatch = 64;

    /// <summary>
    /// How long a claim keeps other runners off a row, in real time: far longer than a tick takes, and how late a deadline
    /// held by a runner that died fires. Converted to the broker's clock (<see cref="ScaledTimeProvider.OnClock"/>), so
    /// a demo clock at 3600x leases for the same real time rather than for a few milliseconds.
    /// </summary>
    private static readonly TimeSpan DeadlineLease = TimeSpan.FromSeconds(10);

    private DeadlineWriter? _deadlineWriter;

    /// <summary>How often a replica on PostgreSQL sets the open requests' rows from the log (real time); settable for tests.</summary>
    internal TimeSpan ReconcileEvery { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>UTC ticks of the earliest wake-up armed on the scheduler and not yet run; <see cref="long.MaxValue"/> when none.</summary>
    private long _armedWake = long.MaxValue;
    private int _runRequests;

    /// <summary>The durable deadline table in the event store's database; required by <see cref="StartAsync"/>. Set before it.</summary>
    public DeadlineTable? Deadlines
    {
        get;
        init
        {
            field = value;
            _deadlineWriter = value is null ? null : new DeadlineWriter(value);
        }
    }

    /// <summary>
    /// Writes the deadline rows of every append committed so far. The runner does before each claim and the service at stop;
    /// a caller that reads the table directly (a test, a tool) calls it first.
    /// </summary>
    public Task WriteDeadlinesAsync(CancellationToken ct) => _deadlineWriter?.FlushAsync(ct) ?? Task.CompletedTask;

    /// <summary>Who this process's claims name (<c>claimed_by</c>): host, process and a per-service nonce.</summary>
    public string ReplicaId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// Claims the due deadlines (in batches until none is left) and fires each once; then arms a wake-up for the next one
    /// the table holds. Runs one at a time per service: a call while a run is in progress makes that run look again, and
    /// returns at once. Never throws but for cancellation: a failure is logged and the next poll retries.
    /// </summary>
    public async Task RunDueAsync(CancellationToken ct)
    {
        if (Interlocked.Increment(ref _runRequests) > 1)
        {
            return;
        }

        try
        {
            int seen;
            do
            {
                seen = Volatile.Read(ref _runRequests);
                await FireDueAsync(ct);
            }
            while (Interlocked.Add(ref _runRequests, -seen) > 0);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Volatile.Write(ref _runRequests, 0);
        }
    }

    private async Task FireDueAsync(CancellationToken ct)
    {
        var table = Deadlines!;
        try
        {
            await WriteDeadlinesAsync(ct);
            while (true)
            {
                // The broker's clock, never the database's: deadlines are instants of the broker's clock.
                var now = _clock.GetUtcNow();
                var claimed = await table.ClaimAsync(now, now + ScaledTimeProvider.OnClock(_clock, DeadlineLease), ReplicaId, DeadlineBatch, ct);
                if (claimed.Count == 0)
                {
                    break;
                }

                // Concurrently, so that the ticks' appends share a group commit.
                await Task.WhenAll(claimed.Select(c => FireAsync(c, ct)));
                if (claimed.Count < DeadlineBatch)
                {
                    break;
                }
            }

            // The fired ticks' rows first: until they are written the table still shows their claims.
            await WriteDeadlinesAsync(ct);
            if (await table.NextDueAsync(ct) is { } next)
            {
                WakeAt(next);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogClaimFailed(ex);
        }
    }

    /// <summary>
    /// Fires one claimed deadline: the request's tick, through the same path as any decision. Internal so that tests can
    /// play a runner that stalled past its lease and fires a claim another runner has fired meanwhile.
    /// </summary>
    internal async Task FireAsync(DeadlineClaim claim, CancellationToken ct)
    {
        try
        {
            var result = await DecideAsync(claim.Request, s => Engine.Tick(s, _clock.GetUtcNow()), claim, ct, view: false);
            if (result.Rejection is { Kind: RejectionKind.NotFound })
            {
                // A row without a stream: nothing can ever fire; let it go.
                await Deadlines!.RescheduleAsync(claim.Request, null, claim.StreamVersion, ct);
            }
            else if (!result.Ok)
            {
                LogTickRefused(claim.Request, result.Rejection!.Message);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The claim's lease runs out and the deadline is claimed again.
            LogDeadlineFailed(claim.Request, ex);
        }
    }

    /// <summary>
    /// A claimed deadline whose tick appended nothing (another writer fired it first, or the row was stale): the row is set
    /// from the state the tick saw, so it is not claimed again and again; the version guard keeps a newer append's row.
    /// </summary>
    private async Task ReleaseUnchangedAsync(RequestId id, RequestState state, long version, CancellationToken ct)
    {
        await Deadlines!.RescheduleAsync(id, state.IsClosed ? null : state.NextDeadline, version, ct);
        if (state.IsClosed)
        {
            _slots.TryRemove(id, out _);
        }
    }

    /// <summary>A committed append's deadline row, to be written before the next claim.</summary>
    private void Committed(DeadlineChange? deadline)
    {
        if (deadline is not null)
        {
            _deadlineWriter?.Add(deadline);
        }
    }

    /// <summary>
    /// On PostgreSQL, every <see cref="ReconcileEvery"/>: the open requests' rows from the log, where missing or older. Called by
    /// the poll; <paramref name="last"/> is when it last ran.
    /// </summary>
    private async Task<DateTimeOffset> ReconcileDeadlinesAsync(DateTimeOffset last, CancellationToken ct)
    {
        var now = TimeProvider.System.GetUtcNow();
        if (Deadlines is not { Provider: StorageProvider.Postgres } table || now - last < ReconcileEvery)
        {
            return last;
        }

        await table.ReconcileAsync(Projection.OpenDeadlines(), ct);
        return now;
    }

    /// <summary>At stop: the rows still waiting. A failure is logged; the next start writes them from the log.</summary>
    private async Task WriteDeadlinesAtStopAsync()
    {
        try
        {
            await WriteDeadlinesAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
        {
            LogDeadlineWriteAtStopFailed(_deadlineWriter?.Pending ?? 0, ex);
        }
    }

    /// <summary>
    /// The request's deadline row as an append that leaves its stream at <paramref name="version"/> sets it; null when the
    /// service keeps no table, or when the request was already waiting for <paramref name="unchangedFrom"/> and still is: its
    /// row says so already (a quote that does not close the window), and one row write fewer per append is less work for the
    /// database. The row's version then stays at the append that set the deadline, which only makes a stale tick's
    /// release (<see cref="DeadlineTable.RescheduleAsync"/>) set the same instant again; a claimed row's tick passes null, so
    /// that its append always rewrites the row and releases the claim.
    /// </summary>
    private DeadlineChange? DeadlineOf(RequestState state, long version, DateTimeOffset? unchangedFrom = null)
    {
        // Read now: the state object goes on changing after this append.
        var due = state.IsClosed ? null : state.NextDeadline;
        return Deadlines is null || (due is not null && due == unchangedFrom) ? null : new DeadlineChange(state.Id, due, version);
    }

    /// <summary>
    /// A wake-up of the runner at <paramref name="at"/> on the scheduler: a hint, the table is the truth. Only the earliest is
    /// kept armed: a later instant is left to the run that the armed one starts, which re-arms for the table's next due row
    /// (<see cref="FireDueAsync"/>), so a busy broker holds one wake-up, not one per deadline it ever set.
    /// </summary>
    private void WakeAt(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        long armed;
        do
        {
            armed = Interlocked.Read(ref _armedWake);
            if (ticks >= armed)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _armedWake, ticks, armed) != armed);

        _scheduler.At(at, ct =>
        {
            // Disarmed before the run reads the table's next due row: an instant set meanwhile is either in that read
            // (its row committed before it was set) or arms a wake-up of its own.
            Interlocked.CompareExchange(ref _armedWake, long.MaxValue, ticks);
            return RunDueAsync(ct);
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} deadline rows at stop failed; the next start writes them from the log")]
    private partial void LogDeadlineWriteAtStopFailed(int count, Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming due deadlines failed; the next poll retries")]
    private partial void LogClaimFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Firing the deadline of request {Request} failed; it is claimed again when its lease ends")]
    private partial void LogDeadlineFailed(RequestId request, Exception ex);
}
