using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Ledger;

/// <summary>The result of a ledger decision: new events, or a rejection that changed nothing.</summary>
public sealed record LedgerDecision(IReadOnlyList<LedgerEvent> Events, Rejection? Rejection)
{
    public bool IsRejected => Rejection is not null;

    public static LedgerDecision Reject(RejectionKind kind, string message, params FieldError[] errors) => new([], new Rejection(kind, message, errors));
}

/// <summary>
/// The money side as a pure decider. Recording a report (or an adjustment) accrues revenue share for
/// every revenue-share clause of the customer's agreements, pro rata to the whole days of the period the
/// clause was in force (in term, not terminated, in the version in force that day), up to its cap, rounded
/// per period to the cent half-even; then evaluates triggers on the cumulative metrics: a trigger that
/// reaches its threshold fires once, effective at the end of the period, terminating its target clauses.
/// Applies the events it returns to the given state.
/// </summary>
public static class LedgerEngine
{
    public static LedgerDecision RecordReport(LedgerState state, ContractBook book, string customer, DateTimeOffset start, DateTimeOffset end, Money revenue, Money profit, DateTimeOffset now)
    {
        if (PeriodError(start, end) is { } periodError)
        {
            return periodError;
        }

        if (revenue.Currency != profit.Currency)
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, $"profit: {profit} is not in {revenue.Currency}, the revenue's currency; one currency per report", new FieldError("profit", $"must be in {revenue.Currency}"));
        }

        if (state.Currency is { } currency && revenue.Currency != currency)
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, $"revenue: the ledger of {customer} is kept in {currency}; report in {currency}", new FieldError("revenue", $"must be in {currency}"));
        }

        if (state.Overlapping(start, end) is { } existing)
        {
            return LedgerDecision.Reject(RejectionKind.Conflict, $"the period {existing.Start:yyyy-MM-dd} to {existing.End:yyyy-MM-dd} is already recorded for {customer}; record a correction as an adjustment, never a second report");
        }

        if (CurrencyConflict(book, customer, revenue.Currency) is { } conflict)
        {
            return conflict;
        }

        var events = new List<LedgerEvent>();
        Emit(state, events, new ReportRecorded(customer, now, start, end, revenue, profit));
        Accrue(state, book, customer, state.Period(start)!, now, events);
        if (FireTriggers(state, book, customer, end, now, events) is { Count: > 0 } fired)
        {
            // Periods reported before this one but lying after it lose what a trigger it fired has ended.
            AccrueLaterPeriods(state, book, customer, end, fired, now, events);
        }

        return new LedgerDecision(events, null);
    }

    public static LedgerDecision Adjust(LedgerState state, ContractBook book, string customer, DateTimeOffset periodStart, Money revenueDelta, Money profitDelta, string reason, DateTimeOffset now)
    {
        if (state.Period(periodStart) is not { } period)
        {
            return LedgerDecision.Reject(RejectionKind.NotFound, $"no period starting {periodStart:yyyy-MM-dd} is recorded for {customer}; adjust a recorded period", new FieldError("period-start", "must be the start of a recorded period"));
        }

        if (revenueDelta.Currency != period.Revenue.Currency || profitDelta.Currency != period.Revenue.Currency)
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, $"adjustments must be in {period.Revenue.Currency}, the period's currency", new FieldError("revenue-delta", $"must be in {period.Revenue.Currency}"));
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, "reason: say why the period is corrected", new FieldError("reason", "is required"));
        }

        var events = new List<LedgerEvent>();
        Emit(state, events, new ReportAdjusted(customer, now, periodStart, revenueDelta, profitDelta, reason));
        Accrue(state, book, customer, state.Period(periodStart)!, now, events);

        // Room under a cap that the correction freed (or took) is settled with the later periods, in order, under any
        // termination the correction itself fires (at the end of this period, so this period accrues in full).
        AccrueLaterPeriods(state, book, customer, period.End, FireTriggers(state, book, customer, period.End, now, events), now, events);
        return new LedgerDecision(events, null);
    }

    /// <summary>
    /// Accrues again, in order, every recorded period that ends after <paramref name="after"/>, under the terminations
    /// <paramref name="fired"/> make (at <paramref name="after"/>, the end of the period that fired them). A trigger that
    /// fires at the end of a period before later recorded ones (a correction to an early period, or a period reported out of
    /// order) ends its targets from then: a revenue share it ended gives back what it had accrued for the later days (a
    /// negative accrual), and room under a cap is settled as for any correction.
    /// </summary>
    private static void AccrueLaterPeriods(LedgerState state, ContractBook book, string customer, DateTimeOffset after, IReadOnlyList<TriggerFired> fired, DateTimeOffset now, List<LedgerEvent> events)
    {
        var terminated = fired.SelectMany(f => f.Terminations).Aggregate(book, (b, t) => b.WithTermination(t));
        foreach (var later in state.Periods.Where(p => p.End > after).OrderBy(p => p.Start).ToArray())
        {
            Accrue(state, terminated, customer, later, now, events);
        }
    }

    /// <summary>
    /// The share a clause owes for a period as of now, before the cap: the sum over the period's days
    /// on which the clause was in force of rate x basis, divided once by the days in period, never negative.
    /// The sum is exact and there is one division, so an exact half cent stays exact for the rounding rule.
    /// Returns the raw amount, the days in force, and the clause of the last day in force (for rate and cap).
    /// </summary>
    public static (decimal Raw, int DaysInForce, RevenueShareClause? Clause) ShareFor(ContractBook book, Agreement agreement, ClauseId clauseId, ReportedPeriod period)
    {
        var days = period.Days;
        decimal shareDays = 0;
        var inForce = 0;
        RevenueShareClause? last = null;
        for (var d = 0; d < days; d++)
        {
            var day = period.Start.AddDays(d);
            if (agreement.VersionAt(day)?.FindClause(clauseId) is RevenueShareClause clause && book.InForce(agreement.Id, clause, day))
            {
                inForce++;
                last = clause;
                var basis = clause.Basis == RevenueShareBasis.Revenue ? period.Revenue.Amount : period.Profit.Amount;
                shareDays += clause.Rate * basis;
            }
        }

        return (Math.Max(0m, shareDays / days), inForce, last);
    }

    private static void Accrue(LedgerState state, ContractBook book, string customer, ReportedPeriod period, DateTimeOffset now, List<LedgerEvent> events)
    {
        var currency = period.Revenue.Currency;
        foreach (var agreement in book.Agreements.Where(a => a.Customer == customer))
        {
            var clauseIds = agreement.Versions.SelectMany(v => v.Clauses).OfType<RevenueShareClause>().Select(c => c.Id).Distinct().ToArray();
            foreach (var clauseId in clauseIds)
            {
                var (raw, daysInForce, clause) = ShareFor(book, agreement, clauseId, period);
                var before = state.AccruedFor(agreement.Id, clauseId, period.Start);
                if (clause is null && before.Amount == 0)
                {
                    continue;
                }

                // A clause in force on none of the period's days (terminated, or out of its term) still names its parties
                // and terms in the agreement: what it gives back goes on the same statement as what it accrued.
                var terms = clause ?? agreement.Versions.SelectMany(v => v.Clauses).OfType<RevenueShareClause>().Last(c => c.Id == clauseId);

                // The cap applies to everything accrued by the clause, other periods included.
                var otherPeriods = state.Accrued(agreement.Id, clauseId) - before;
                var cap = terms.Cap;
                var owed = new Money(raw, currency);
                if (cap is { } c)
                {
                    owed = Money.Min(owed, Money.Max(Money.Zero(currency), c - otherPeriods));
                }

                var amount = owed.RoundToCent() - before;
                if (amount.Amount == 0 && state.HasAccrual(agreement.Id, clauseId, period.Start))
                {
                    continue;
                }

                var cumulative = state.Accrued(agreement.Id, clauseId) + amount;
                Emit(state, events, new ShareAccrued(
                    customer, now, agreement.Id, clauseId, terms.Payer, terms.Payee,
                    period.Start, period.End, daysInForce, period.Days,
                    terms.Basis == RevenueShareBasis.Profit ? period.Profit : period.Revenue,
                    terms.Rate, amount, cumulative, cap is { } k ? k - cumulative : null));
            }
        }
    }

    private static List<TriggerFired> FireTriggers(LedgerState state, ContractBook book, string customer, DateTimeOffset periodEnd, DateTimeOffset now, List<LedgerEvent> events)
    {
        var fired = new List<TriggerFired>();
        // A trigger counts if it is in force during the period: just before its end.
        var during = periodEnd.AddTicks(-1);
        foreach (var agreement in book.Agreements.Where(a => a.Customer == customer))
        {
            if (agreement.VersionAt(during) is not { } version)
            {
                continue;
            }

            foreach (var trigger in version.Clauses.OfType<TriggerClause>())
            {
                if (state.FiredTrigger(agreement.Id, trigger.Id) is not null || !book.InForce(agreement.Id, trigger, during))
                {
                    continue;
                }

                var value = trigger.Metric == TriggerMetric.CumulativeProfit ? state.CumulativeProfit : state.CumulativeRevenue;
                if (value >= trigger.Threshold)
                {
                    var firing = new TriggerFired(customer, now, agreement.Id, trigger.Id, trigger.Metric, value, trigger.Threshold, periodEnd, trigger.Terminates);
                    Emit(state, events, firing);
                    fired.Add(firing);
                }
            }
        }

        return fired;
    }

    private static LedgerDecision? PeriodError(DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start)
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, $"period: the end {end:yyyy-MM-dd} must be after the start {start:yyyy-MM-dd}", new FieldError("period-end", "must be after period-start"));
        }

        if (start.TimeOfDay != TimeSpan.Zero || end.TimeOfDay != TimeSpan.Zero || start.Offset != TimeSpan.Zero || end.Offset != TimeSpan.Zero)
        {
            return LedgerDecision.Reject(RejectionKind.Invalid, "period: periods run from midnight UTC to midnight UTC (write dates such as 2025-01-01)", new FieldError("period-start", "must be a date"));
        }

        return null;
    }

    private static LedgerDecision? CurrencyConflict(ContractBook book, string customer, Currency currency)
    {
        foreach (var agreement in book.Agreements.Where(a => a.Customer == customer))
        {
            foreach (var clause in agreement.Versions.SelectMany(v => v.Clauses))
            {
                var other = clause switch
                {
                    TriggerClause t => t.Threshold.Currency,
                    RevenueShareClause { Cap: { } cap } => cap.Currency,
                    _ => currency,
                };
                if (other != currency)
                {
                    return LedgerDecision.Reject(RejectionKind.Invalid, $"revenue: agreement {agreement.Id} clause {clause.Id} counts in {other}; report in {other} (amounts are never converted)", new FieldError("revenue", $"must be in {other}"));
                }
            }
        }

        return null;
    }

    private static void Emit(LedgerState state, List<LedgerEvent> events, LedgerEvent e)
    {
        state.Apply(e);
        events.Add(e);
    }
}
