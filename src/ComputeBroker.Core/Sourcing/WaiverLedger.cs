using ComputeBroker.Domain;

namespace ComputeBroker.Sourcing;

/// <summary>
/// How much of each waiver's GPU budget is spoken for: a projection of the sourcing events.
/// A waived request holds its whole size against the budget while in flight; when it closes, the
/// unfulfilled part is given back, so the budget counts exactly the GPUs placed under the waiver.
/// Not thread-safe.
/// </summary>
public sealed class WaiverLedger
{
    private readonly Dictionary<(AgreementId, ClauseId), int> _used = [];
    private readonly Dictionary<RequestId, (AgreementId, ClauseId)> _open = [];

    public int Used(AgreementId agreement, ClauseId clause) => _used.GetValueOrDefault((agreement, clause));

    public void Apply(SourcingEvent e)
    {
        switch (e)
        {
            case ClausesResolved { Waiver: { } waiver } c:
                var key = (waiver.Version.Agreement, waiver.Clause);
                _used[key] = Used(key.Agreement, key.Clause) + c.WaiverGpus.Value;
                _open[c.RequestId] = key;
                break;
            case RequestClosed closed when _open.Remove(closed.RequestId, out var held):
                _used[held] -= closed.Unfulfilled.Value;
                break;
        }
    }
}
