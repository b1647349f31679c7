using ComputeBroker.Domain;

namespace ComputeBroker.Server.Service;

/// <summary>
/// The deadline rows of committed appends, waiting to be written to <see cref="DeadlineTable"/>: the latest change per request,
/// so that a request that opened and closed between two writes costs the table nothing. Written by the deadline runner
/// before every claim (so a claim sees every row this process committed before it) and at shutdown; what a crash loses
/// is written from the log at the next start. Thread-safe.
/// </summary>
/// <remarks>
/// Writing the rows in the append's own transaction made every group commit carry them: on PostgreSQL about a quarter of
/// the commit's time at full load, under the append lock that every writer waits for (docs/architecture.md).
/// </remarks>
internal sealed class DeadlineWriter(DeadlineTable table) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private Dictionary<RequestId, DeadlineChange> _pending = [];

    /// <summary>Changes waiting to be written.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Adds a committed append's change; an older one of the same request (by stream version) is dropped.</summary>
    public void Add(DeadlineChange change)
    {
        lock (_gate)
        {
            AddNewer(_pending, change);
        }
    }

    /// <summary>
    /// Writes every change added before the call, in one transaction. On failure the changes wait for the next call (unless a
    /// newer one came meanwhile) and the error is thrown.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            Dictionary<RequestId, DeadlineChange> batch;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    return;
                }

                batch = _pending;
                _pending = [];
            }

            try
            {
                await table.WriteAsync(batch.Values.ToArray(), ct);
            }
            catch
            {
                lock (_gate)
                {
                    foreach (var change in batch.Values)
                    {
                        AddNewer(_pending, change);
                    }
                }

                throw;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private static void AddNewer(Dictionary<RequestId, DeadlineChange> pending, DeadlineChange change)
    {
        if (!pending.TryGetValue(change.Request, out var known) || known.StreamVersion < change.StreamVersion)
        {
            pending[change.Request] = change;
        }
    }

    public void Dispose() => _writing.Dispose();
}
