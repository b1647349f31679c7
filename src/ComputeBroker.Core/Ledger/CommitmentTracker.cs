using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Ledger;

/// <summary>A commitment's spend so far, what is left, and the shortfall if spend goes on at its pace so far.</summary>
public sealed record CommitmentProgress(
    AgreementId Agreement,
    ClauseId Clause,
    ProviderId Provider,
    Money Amount,
    DateTimeOffset Deadline,
    Money Spent,
    Money Remaining,
    decimal Fraction,
    Money ProjectedSpend,
    Money ProjectedShortfall);

/// <summary>
/// Spend per customer and provider from the sourcing events: each allocation costs price x GPUs x hours,
/// counted at the instant it was made; a release (cancellation) takes back the cost of the allocation it
/// gives back. A commitment counts only the spend of its agreement's customer. Not thread-safe.
/// </summary>
public sealed class CommitmentTracker
{
    private readonly Dictionary<(string Customer, ProviderId Provider), List<(DateTimeOffset At, Money Cost)>> _spend = [];
    private readonly Dictionary<RequestId, (string Customer, int Hours, List<(ProviderId Provider, PricePerGpuHour Price, GpuCount Gpus)> Allocations)> _requests = [];

    public void Apply(SourcingEvent e)
    {
        switch (e)
        {
            case RequestSubmitted s:
                _requests[s.RequestId] = (s.Request.Customer, s.Request.DurationHours, []);
                break;
            case AllocationMade m when _requests.TryGetValue(m.RequestId, out var r):
                r.Allocations.Add((m.Provider, m.Price, m.Gpus));
                Add(r.Customer, m.Provider, m.At, m.Price.Cost(m.Gpus, r.Hours));
                break;
            case AllocationReleased released when _requests.TryGetValue(released.RequestId, out var r):
                // A cancellation releases each allocation once, in order: give back the first one not yet released,
                // at its own price (the holder's offer and its match can be priced differently).
                var index = r.Allocations.FindIndex(a => a.Provider == released.Provider && a.Gpus == released.Gpus);
                if (index < 0)
                {
                    index = r.Allocations.FindIndex(a => a.Provider == released.Provider);
                }

                if (index >= 0)
                {
                    var price = r.Allocations[index].Price;
                    r.Allocations.RemoveAt(index);
                    Add(r.Customer, released.Provider, released.At, price.Cost(released.Gpus, r.Hours) * -1m);
                }

                break;
            case RequestClosed c when c.Outcome != RequestOutcome.Cancelled:
                _requests.Remove(c.RequestId);
                break;
        }
    }

    /// <summary>A customer's spend with a provider in [from, to).</summary>
    public Money Spent(string customer, ProviderId provider, Currency currency, DateTimeOffset from, DateTimeOffset to)
    {
        var total = Money.Zero(currency);
        if (_spend.TryGetValue((customer, provider), out var entries))
        {
            foreach (var (at, cost) in entries)
            {
                if (at >= from && at < to && cost.Currency == currency)
                {
                    total += cost;
                }
            }
        }

        return total;
    }

    /// <summary>Progress of every commitment clause of the versions in force at <paramref name="asOf"/>.</summary>
    public IReadOnlyList<CommitmentProgress> Progress(ContractBook book, DateTimeOffset asOf)
    {
        var result = new List<CommitmentProgress>();
        foreach (var agreement in book.Agreements)
        {
            if (agreement.VersionAt(asOf) is not { } version)
            {
                continue;
            }

            foreach (var commitment in version.Clauses.OfType<CommitmentClause>())
            {
                var start = commitment.From ?? version.EffectiveFrom;
                var end = asOf < commitment.Deadline ? asOf : commitment.Deadline;
                var spent = end > start ? Spent(agreement.Customer, commitment.Provider, commitment.Amount.Currency, start, end) : Money.Zero(commitment.Amount.Currency);
                var remaining = Money.Max(Money.Zero(spent.Currency), commitment.Amount - spent);
                var elapsed = (end - start).Ticks;
                var total = (commitment.Deadline - start).Ticks;
                var projected = elapsed <= 0 ? spent : (spent * ((decimal)total / elapsed)).RoundToCent();
                var shortfall = Money.Max(Money.Zero(spent.Currency), commitment.Amount - projected);
                var fraction = commitment.Amount.Amount == 0 ? 1m : decimal.Round(Math.Min(1m, spent.Amount / commitment.Amount.Amount), 4);
                result.Add(new CommitmentProgress(agreement.Id, commitment.Id, commitment.Provider, commitment.Amount, commitment.Deadline, spent.RoundToCent(), remaining.RoundToCent(), fraction, projected, shortfall.RoundToCent()));
            }
        }

        return result;
    }

    private void Add(string customer, ProviderId provider, DateTimeOffset at, Money cost)
    {
        if (!_spend.TryGetValue((customer, provider), out var entries))
        {
            _spend[(customer, provider)] = entries = [];
        }

        entries.Add((at, cost));
    }
}
