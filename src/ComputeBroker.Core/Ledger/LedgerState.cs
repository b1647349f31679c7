using ComputeBroker.Domain;

namespace ComputeBroker.Ledger;

/// <summary>A reported period with its adjustments applied.</summary>
public sealed record ReportedPeriod(DateTimeOffset Start, DateTimeOffset End, Money Revenue, Money Profit)
{
    public int Days => (int)(End - Start).TotalDays;
}

/// <summary>One customer's ledger: a left fold of its <see cref="LedgerEvent"/>s. Not thread-safe.</summary>
public sealed class LedgerState
{
    private readonly SortedDictionary<DateTimeOffset, ReportedPeriod> _periods = [];
    private readonly Dictionary<(AgreementId, ClauseId), Money> _accrued = [];
    private readonly Dictionary<(AgreementId, ClauseId, DateTimeOffset), Money> _accruedByPeriod = [];
    private readonly Dictionary<(AgreementId, ClauseId), TriggerFired> _fired = [];
    private readonly List<ShareAccrued> _accruals = [];

    public Currency? Currency { get; private set; }

    public IEnumerable<ReportedPeriod> Periods => _periods.Values;

    public IReadOnlyList<ShareAccrued> Accruals => _accruals;

    public IEnumerable<TriggerFired> Fired => _fired.Values;

    public int Version { get; private set; }

    public Money CumulativeRevenue => Sum(p => p.Revenue);

    public Money CumulativeProfit => Sum(p => p.Profit);

    public ReportedPeriod? Period(DateTimeOffset start) => _periods.GetValueOrDefault(start);

    public ReportedPeriod? Overlapping(DateTimeOffset start, DateTimeOffset end) =>
        _periods.Values.FirstOrDefault(p => p.Start < end && start < p.End);

    public Money Accrued(AgreementId agreement, ClauseId clause) =>
        _accrued.TryGetValue((agreement, clause), out var m) ? m : Money.Zero(Currency ?? Domain.Currency.Usd);

    public Money AccruedFor(AgreementId agreement, ClauseId clause, DateTimeOffset periodStart) =>
        _accruedByPeriod.TryGetValue((agreement, clause, periodStart), out var m) ? m : Money.Zero(Currency ?? Domain.Currency.Usd);

    /// <summary>True when the clause has an accrual for the period, even one of zero.</summary>
    public bool HasAccrual(AgreementId agreement, ClauseId clause, DateTimeOffset periodStart) =>
        _accruedByPeriod.ContainsKey((agreement, clause, periodStart));

    public TriggerFired? FiredTrigger(AgreementId agreement, ClauseId trigger) => _fired.GetValueOrDefault((agreement, trigger));

    public static LedgerState Replay(IEnumerable<LedgerEvent> events)
    {
        var state = new LedgerState();
        foreach (var e in events)
        {
            state.Apply(e);
        }

        return state;
    }

    public void Apply(LedgerEvent e)
    {
        Version++;
        switch (e)
        {
            case ReportRecorded r:
                Currency ??= r.Revenue.Currency;
                _periods[r.PeriodStart] = new ReportedPeriod(r.PeriodStart, r.PeriodEnd, r.Revenue, r.Profit);
                break;
            case ReportAdjusted a:
                var p = _periods[a.PeriodStart];
                _periods[a.PeriodStart] = p with { Revenue = p.Revenue + a.RevenueDelta, Profit = p.Profit + a.ProfitDelta };
                break;
            case ShareAccrued s:
                _accrued[(s.Agreement, s.Clause)] = Accrued(s.Agreement, s.Clause) + s.Amount;
                _accruedByPeriod[(s.Agreement, s.Clause, s.PeriodStart)] = AccruedFor(s.Agreement, s.Clause, s.PeriodStart) + s.Amount;
                _accruals.Add(s);
                break;
            case TriggerFired t:
                _fired.TryAdd((t.Agreement, t.Trigger), t);
                break;
        }
    }

    private Money Sum(Func<ReportedPeriod, Money> pick)
    {
        var total = Money.Zero(Currency ?? Domain.Currency.Usd);
        foreach (var period in _periods.Values)
        {
            total += pick(period);
        }

        return total;
    }
}
