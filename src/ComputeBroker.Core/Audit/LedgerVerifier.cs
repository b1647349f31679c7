using ComputeBroker.Contracts;
using ComputeBroker.Ledger;

namespace ComputeBroker.Audit;

/// <summary>One breach found on the money side: which customer's ledger, which event, what.</summary>
public sealed record LedgerViolation(string Invariant, string Customer, int EventIndex, string EventType, string Message)
{
    public override string ToString() => $"{Invariant} ledger {Customer} event #{EventIndex} ({EventType}): {Message}";
}

/// <summary>
/// Replays a ledger and checks invariant I4 on the money side: every accrual matches what the clause owed
/// for the days it was in force (in term, not terminated, in the version in force) and for a recorded
/// period, and a trigger fired at most once, only when its metric reached the threshold of its clause,
/// terminating exactly the clause's targets.
/// </summary>
public static class LedgerVerifier
{
    public static IReadOnlyList<LedgerViolation> Verify(IEnumerable<LedgerEvent> events, ContractBook book)
    {
        // The agreements as signed: terminations are learnt from the ledger's own trigger events, in log order, so an
        // accrual is judged by what was known when it was made. A trigger fired by a late correction ends a clause from an
        // earlier instant than the accruals recorded before it; those are taken back by the accruals after it.
        book = new ContractBook(book.Agreements);
        var violations = new List<LedgerViolation>();
        var states = new Dictionary<string, LedgerState>(StringComparer.Ordinal);
        var index = -1;
        foreach (var e in events)
        {
            index++;
            if (!states.TryGetValue(e.Customer, out var state))
            {
                states[e.Customer] = state = new LedgerState();
            }

            void Report(string message) => violations.Add(new LedgerViolation("I4", e.Customer, index, e.Type, message));

            switch (e)
            {
                case ShareAccrued s when book.Find(s.Agreement) is { } agreement && state.Period(s.PeriodStart) is { } period:
                    var (raw, days, clause) = LedgerEngine.ShareFor(book, agreement, s.Clause, period);
                    if (s.DaysInForce != days)
                    {
                        Report($"clause {s.Clause} accrued for {s.DaysInForce} days of {period.Start:yyyy-MM-dd}..{period.End:yyyy-MM-dd} but was in force on {days}");
                    }

                    var owed = new Domain.Money(raw, period.Revenue.Currency).RoundToCent();
                    var total = state.AccruedFor(s.Agreement, s.Clause, s.PeriodStart) + s.Amount;
                    if (total > owed)
                    {
                        Report($"clause {s.Clause} accrued {total} for the period, more than the {owed} owed for its days in force{(clause is null ? " (it was never in force in the period)" : string.Empty)}");
                    }

                    break;
                case ShareAccrued s:
                    Report(book.Find(s.Agreement) is null
                        ? $"agreement {s.Agreement} is not known: clause {s.Clause} cannot have accrued {s.Amount} under it"
                        : $"no period starting {s.PeriodStart:yyyy-MM-dd} is recorded: clause {s.Clause} cannot have accrued {s.Amount} for it");
                    break;
                case TriggerFired t:
                    if (state.FiredTrigger(t.Agreement, t.Trigger) is not null)
                    {
                        Report($"trigger {t.Trigger} fired a second time");
                    }

                    // Judge the firing by the agreement's clause, not by the threshold and targets the event claims.
                    var trigger = book.Find(t.Agreement)?.VersionAt(t.EffectiveAt.AddTicks(-1))?.FindClause(t.Trigger) as TriggerClause;
                    if (trigger is null)
                    {
                        Report($"trigger {t.Trigger} is not a trigger of agreement {t.Agreement} in the version in force before {t.EffectiveAt:O}");
                    }
                    else if (trigger.Metric != t.Metric || !trigger.Terminates.SequenceEqual(t.Terminates))
                    {
                        Report($"trigger {t.Trigger} fired on {t.Metric} terminating [{string.Join(", ", t.Terminates)}], but the clause counts {trigger.Metric} and terminates [{string.Join(", ", trigger.Terminates)}]");
                    }

                    var threshold = trigger?.Threshold ?? t.Threshold;
                    var value = (trigger?.Metric ?? t.Metric) == TriggerMetric.CumulativeProfit ? state.CumulativeProfit : state.CumulativeRevenue;
                    if (value < threshold)
                    {
                        Report($"trigger {t.Trigger} fired at {value}, below its threshold {threshold}");
                    }

                    foreach (var termination in t.Terminations)
                    {
                        book = book.WithTermination(termination);
                    }

                    break;
            }

            state.Apply(e);
        }

        return violations;
    }
}
