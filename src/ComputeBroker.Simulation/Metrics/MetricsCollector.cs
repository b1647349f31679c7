using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Simulation.Finance;
using ComputeBroker.Simulation.Output;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Metrics;

/// <summary>How the first-refusal holder answered a request's offer.</summary>
public enum HolderAnswer
{
    None,
    Accepted,
    Partial,
    Declined,
    Expired,
}

/// <summary>
/// Folds a run's events and closed requests into bounded series and histograms, and streams each request's
/// outcome to CSV as it closes, so memory follows the requests in flight, not the finished ones.
/// Conventions: request counts, GPUs and waits are bucketed by the request's submission month or quarter
/// (so that demanded = placed + unfulfilled holds per bucket); spend by the allocation's month; money by the
/// reported quarter. Not thread-safe: one per run.
/// </summary>
public sealed class MetricsCollector
{
    private readonly TimeAxis _axis;
    private readonly ProviderId[] _providers;
    private readonly Dictionary<ProviderId, int> _providerIndex;
    private readonly int _holderIndex;
    private readonly Dictionary<RequestId, HolderOffer> _holderOffers = [];
    private readonly RequestOutcomeWriter? _csv;

    private readonly double[] _mRequests;
    private readonly double[] _mDemanded;
    private readonly double[] _mPlaced;
    private readonly double[] _mUnfulfilled;
    private readonly double[][] _mPlacedBy;
    private readonly double[][] _mSpendBy;

    private readonly double[][] _qHolder;
    private readonly DurationHistogram[] _qTtc;
    private readonly DurationHistogram[] _qDelay;
    private readonly double[] _qRevenue;
    private readonly double[] _qProfit;
    private readonly double[] _qCumProfit;
    private readonly double[] _qShare;
    private readonly double[] _qCumShare;

    private readonly DurationHistogram _ttc = new();
    private readonly DurationHistogram _delay = new();
    private readonly long[] _placedBy;
    private readonly decimal[] _spendBy;
    private readonly List<CommitmentTracker> _commitments = [];
    private readonly List<TriggerFiring> _firings = [];
    private long _requests;
    private long _placed;
    private long _partial;
    private long _unfulfilled;
    private long _cancelled;
    private long _rejected;
    private long _gpusDemanded;
    private long _gpusPlaced;
    private long _gpusUnfulfilled;
    private long _frRequests;
    private readonly long[] _holderAnswers = new long[5];
    private long _events;
    private decimal _revenueShare;
    private decimal _cumulativeProfit;
    private decimal _cumulativeRevenue;
    private string _currency = "USD";

    public MetricsCollector(TimeAxis axis, IReadOnlyList<ProviderId> providers, ProviderId? holder, ContractBook book, TextWriter? requestsCsv)
    {
        _axis = axis;
        _providers = [.. providers];
        _providerIndex = [];
        for (var i = 0; i < _providers.Length; i++)
        {
            _providerIndex[_providers[i]] = i;
        }

        Holder = holder;
        _holderIndex = holder is { } h && _providerIndex.TryGetValue(h, out var index) ? index : -1;
        _csv = requestsCsv is null ? null : new RequestOutcomeWriter(requestsCsv);
        var months = axis.Months;
        var quarters = axis.Quarters;
        _mRequests = new double[months];
        _mDemanded = new double[months];
        _mPlaced = new double[months];
        _mUnfulfilled = new double[months];
        _mPlacedBy = _providers.Select(_ => new double[months]).ToArray();
        _mSpendBy = _providers.Select(_ => new double[months]).ToArray();
        _qHolder = Enumerable.Range(0, 5).Select(_ => new double[quarters]).ToArray();
        _qTtc = Enumerable.Range(0, quarters).Select(_ => new DurationHistogram()).ToArray();
        _qDelay = Enumerable.Range(0, quarters).Select(_ => new DurationHistogram()).ToArray();
        _qRevenue = Filled(quarters);
        _qProfit = Filled(quarters);
        _qCumProfit = Filled(quarters);
        _qShare = Filled(quarters);
        _qCumShare = Filled(quarters);
        _placedBy = new long[_providers.Length];
        _spendBy = new decimal[_providers.Length];
        foreach (var commitment in CommitmentClauses(book))
        {
            if (_providerIndex.TryGetValue(commitment.Clause.Provider, out var p))
            {
                _commitments.Add(new CommitmentTracker(commitment.Agreement, commitment.Clause, commitment.Start, p, months));
            }
        }
    }

    public ProviderId? Holder { get; }

    public long Events => _events;

    /// <summary>Every sourcing event of the run, in order: follows the first-refusal holder's offer of each request.</summary>
    public void OnEvent(SourcingEvent e)
    {
        _events++;
        switch (e)
        {
            case OfferMade { Kind: OfferKind.FirstRefusal } o:
                _holderOffers[o.RequestId] = new HolderOffer(o.Offer, o.Gpus.Value);
                break;
            case OfferAccepted a when Open(a.RequestId, a.Offer) is { } h:
                h.Answer = a.Gpus.Value == h.Gpus ? HolderAnswer.Accepted : HolderAnswer.Partial;
                h.ClosedAt = a.At;
                break;
            case OfferDeclined d when Open(d.RequestId, d.Offer) is { } h:
                h.Answer = HolderAnswer.Declined;
                h.ClosedAt = d.At;
                break;
            case OfferExpired x when Open(x.RequestId, x.Offer) is { } h:
                h.Answer = HolderAnswer.Expired;
                h.ClosedAt = x.At;
                break;
            case QuotesRequested q when _holderOffers.TryGetValue(q.RequestId, out var h) && h.Answer != HolderAnswer.None:
                h.WentToMarket = true;
                break;
        }
    }

    /// <summary>A request reached its terminal state.</summary>
    public void OnClosed(RequestState state)
    {
        var request = state.Request!;
        var closed = state.Closed!;
        var month = _axis.MonthOf(state.SubmittedAt);
        var quarter = _axis.QuarterOf(state.SubmittedAt);
        var gpus = request.Gpus.Value;
        _requests++;
        _mRequests[month]++;
        _gpusDemanded += gpus;
        _mDemanded[month] += gpus;
        switch (closed.Outcome)
        {
            case RequestOutcome.Placed:
                _placed++;
                break;
            case RequestOutcome.PartiallyPlaced:
                _partial++;
                break;
            case RequestOutcome.Unfulfilled:
                _unfulfilled++;
                break;
            default:
                _cancelled++;
                break;
        }

        var allocated = closed.Allocated.Value;
        var unfulfilled = closed.Unfulfilled.Value;
        _gpusPlaced += allocated;
        _mPlaced[month] += allocated;
        _gpusUnfulfilled += unfulfilled;
        _mUnfulfilled[month] += unfulfilled;

        var cost = 0m;
        var last = DateTimeOffset.MinValue;
        if (closed.Outcome != RequestOutcome.Cancelled)
        {
            var allocations = state.Allocations;
            for (var i = 0; i < allocations.Count; i++)
            {
                var allocation = allocations[i];
                var p = _providerIndex[allocation.Provider];
                var g = allocation.Gpus.Value;
                _placedBy[p] += g;
                _mPlacedBy[p][month] += g;
                var spend = allocation.Price.PerHour.Amount * g * request.DurationHours;
                cost += spend;
                _spendBy[p] += spend;
                _mSpendBy[p][_axis.MonthOf(allocation.At)] += (double)spend;
                foreach (var commitment in _commitments)
                {
                    commitment.Add(p, allocation.At, spend, _axis);
                }

                if (allocation.At > last)
                {
                    last = allocation.At;
                }
            }
        }

        TimeSpan? ttc = null;
        if (last != DateTimeOffset.MinValue)
        {
            ttc = last - state.SubmittedAt;
            _ttc.Add(ttc.Value);
            _qTtc[quarter].Add(ttc.Value);
        }

        var answer = HolderAnswer.None;
        TimeSpan? delay = null;
        if (_holderOffers.Remove(state.Id, out var holder))
        {
            _frRequests++;
            answer = holder.Answer;
            _holderAnswers[(int)answer]++;
            if (answer != HolderAnswer.None)
            {
                _qHolder[(int)answer][quarter]++;
            }

            if (holder.WentToMarket)
            {
                delay = holder.ClosedAt - state.SubmittedAt;
                _delay.Add(delay.Value);
                _qDelay[quarter].Add(delay.Value);
            }
        }

        _csv?.Write(state, answer, ttc, delay, cost);
    }

    /// <summary>A submission the engine refused: counted as demanded and unfulfilled, with the reason in the CSV.</summary>
    public void OnRejected(CapacityRequest request, Rejection rejection, DateTimeOffset at)
    {
        var month = _axis.MonthOf(at);
        var gpus = request.Gpus.Value;
        _requests++;
        _rejected++;
        _mRequests[month]++;
        _gpusDemanded += gpus;
        _mDemanded[month] += gpus;
        _gpusUnfulfilled += gpus;
        _mUnfulfilled[month] += gpus;
        _csv?.WriteRejected(request, at, rejection);
    }

    /// <summary>A quarter's report was recorded in the ledger with these events.</summary>
    public void OnReport(QuarterReport report, IReadOnlyList<LedgerEvent> events, LedgerState ledger)
    {
        var quarter = _axis.QuarterOf(report.Start);
        _currency = report.Revenue.Currency.Code;
        _cumulativeProfit = ledger.CumulativeProfit.Amount;
        _cumulativeRevenue = ledger.CumulativeRevenue.Amount;
        _qRevenue[quarter] = Add(_qRevenue[quarter], (double)report.Revenue.Amount);
        _qProfit[quarter] = Add(_qProfit[quarter], (double)report.Profit.Amount);
        _qCumProfit[quarter] = (double)_cumulativeProfit;
        var share = 0m;
        foreach (var e in events)
        {
            switch (e)
            {
                case ShareAccrued s:
                    share += s.Amount.Amount;
                    break;
                case TriggerFired t:
                    _firings.Add(new TriggerFiring(t.Agreement, t.Trigger, t.EffectiveAt, t.Value, t.Threshold, t.Terminates));
                    break;
            }
        }

        _revenueShare += share;
        _qShare[quarter] = Add(_qShare[quarter], (double)share);
        _qCumShare[quarter] = (double)_revenueShare;
    }

    public RunResult Build(int seed, ContractBook finalBook, long scheduledActions, int openRequests, double meanPending)
    {
        _csv?.Flush();
        var months = _axis.Months;
        var holderShare = new double[months];
        for (var m = 0; m < months; m++)
        {
            holderShare[m] = _holderIndex < 0 || _mPlaced[m] == 0 ? double.NaN : _mPlacedBy[_holderIndex][m] / _mPlaced[m];
        }

        var monthly = new List<NamedSeries>
        {
            new("requests", "requests submitted", "requests", _mRequests),
            new("gpus_demanded", "GPUs demanded", "GPUs", _mDemanded),
            new("gpus_placed", "GPUs placed", "GPUs", _mPlaced),
            new("gpus_unfulfilled", "GPUs unfulfilled", "GPUs", _mUnfulfilled),
            new("holder_share", "holder's share of GPUs placed", "share", holderShare),
        };
        for (var p = 0; p < _providers.Length; p++)
        {
            monthly.Add(new($"placed_{_providers[p]}", $"GPUs placed with {_providers[p]}", "GPUs", _mPlacedBy[p]));
        }

        for (var p = 0; p < _providers.Length; p++)
        {
            monthly.Add(new($"spend_{_providers[p]}", $"spend with {_providers[p]}", _currency, _mSpendBy[p]));
        }

        foreach (var c in _commitments)
        {
            monthly.Add(new(c.Info().Key, $"cumulative spend toward {c.Agreement}:{c.Clause.Id}", _currency, c.Cumulative()));
        }

        var quarterly = new List<NamedSeries>
        {
            new("fr_accepted", "holder accepted all", "requests", _qHolder[(int)HolderAnswer.Accepted]),
            new("fr_partial", "holder accepted part", "requests", _qHolder[(int)HolderAnswer.Partial]),
            new("fr_declined", "holder declined", "requests", _qHolder[(int)HolderAnswer.Declined]),
            new("fr_expired", "offer expired", "requests", _qHolder[(int)HolderAnswer.Expired]),
            new("ttc_p50_hours", "time to capacity p50", "hours", _qTtc.Select(h => h.PercentileHours(0.50)).ToArray()),
            new("ttc_p90_hours", "time to capacity p90", "hours", _qTtc.Select(h => h.PercentileHours(0.90)).ToArray()),
            new("ttc_p99_hours", "time to capacity p99", "hours", _qTtc.Select(h => h.PercentileHours(0.99)).ToArray()),
            new("window_delay_p50_hours", "delay the response window adds, p50", "hours", _qDelay.Select(h => h.PercentileHours(0.50)).ToArray()),
            new("window_delay_p90_hours", "delay the response window adds, p90", "hours", _qDelay.Select(h => h.PercentileHours(0.90)).ToArray()),
            new("revenue", "revenue", _currency, _qRevenue),
            new("profit", "profit", _currency, _qProfit),
            new("cumulative_profit", "cumulative profit", _currency, _qCumProfit),
            new("revenue_share", "revenue share accrued", _currency, _qShare),
            new("cumulative_revenue_share", "cumulative revenue share", _currency, _qCumShare),
        };

        var totals = new RunTotals
        {
            Requests = _requests,
            Placed = _placed,
            PartiallyPlaced = _partial,
            Unfulfilled = _unfulfilled,
            Cancelled = _cancelled,
            Rejected = _rejected,
            GpusDemanded = _gpusDemanded,
            GpusPlaced = _gpusPlaced,
            GpusUnfulfilled = _gpusUnfulfilled,
            HolderShare = _holderIndex < 0 || _gpusPlaced == 0 ? double.NaN : (double)_placedBy[_holderIndex] / _gpusPlaced,
            TimeToCapacityP50Hours = _ttc.PercentileHours(0.50),
            TimeToCapacityP90Hours = _ttc.PercentileHours(0.90),
            TimeToCapacityP99Hours = _ttc.PercentileHours(0.99),
            FirstRefusalRequests = _frRequests,
            HolderAccepted = _holderAnswers[(int)HolderAnswer.Accepted],
            HolderPartial = _holderAnswers[(int)HolderAnswer.Partial],
            HolderDeclined = _holderAnswers[(int)HolderAnswer.Declined],
            HolderExpired = _holderAnswers[(int)HolderAnswer.Expired],
            WindowDelayed = _delay.Count,
            WindowDelayP50Hours = _delay.PercentileHours(0.50),
            WindowDelayP90Hours = _delay.PercentileHours(0.90),
            WindowDelayMeanHours = _delay.MeanHours,
            RevenueShare = _revenueShare,
            CumulativeProfit = _cumulativeProfit,
            CumulativeRevenue = _cumulativeRevenue,
            Currency = _currency,
        };

        return new RunResult
        {
            Seed = seed,
            Axis = _axis,
            Providers = _providers,
            Holder = Holder,
            Totals = totals,
            Monthly = monthly,
            Quarterly = quarterly,
            PlacedByProvider = _providers.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => _placedBy[x.i]),
            SpendByProvider = _providers.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => _spendBy[x.i]),
            Firings = _firings,
            Commitments = _commitments.Select(c => c.Info()).ToArray(),
            FinalBook = finalBook,
            ScheduledActions = scheduledActions,
            Events = _events,
            OpenRequestsAtEnd = openRequests,
            MeanPendingActions = meanPending,
            TrackedRequestsAtEnd = _holderOffers.Count,
        };
    }

    /// <summary>Every commitment clause of the agreements (the latest version's terms for each id), with the instant its spend starts counting.</summary>
    public static IReadOnlyList<(AgreementId Agreement, CommitmentClause Clause, DateTimeOffset Start)> CommitmentClauses(ContractBook book)
    {
        var found = new List<(AgreementId, CommitmentClause, DateTimeOffset)>();
        foreach (var agreement in book.Agreements)
        {
            var seen = new Dictionary<ClauseId, int>();
            foreach (var version in agreement.Versions.OrderBy(v => v.EffectiveFrom))
            {
                foreach (var clause in version.Clauses.OfType<CommitmentClause>())
                {
                    // A later version's terms win, but the spend keeps counting from the clause's first appearance.
                    if (seen.TryGetValue(clause.Id, out var at))
                    {
                        found[at] = (agreement.Id, clause, found[at].Item3);
                    }
                    else
                    {
                        seen[clause.Id] = found.Count;
                        found.Add((agreement.Id, clause, clause.From ?? version.EffectiveFrom));
                    }
                }
            }
        }

        return found;
    }

    private HolderOffer? Open(RequestId request, OfferId offer) =>
        _holderOffers.TryGetValue(request, out var h) && h.Offer == offer && h.Answer == HolderAnswer.None ? h : null;

    private static double[] Filled(int length)
    {
        var values = new double[length];
        Array.Fill(values, double.NaN);
        return values;
    }

    private static double Add(double current, double value) => double.IsNaN(current) ? value : current + value;

    private sealed class HolderOffer(OfferId offer, int gpus)
    {
        public OfferId Offer { get; } = offer;

        public int Gpus { get; } = gpus;

        public HolderAnswer Answer { get; set; }

        public DateTimeOffset ClosedAt { get; set; }

        public bool WentToMarket { get; set; }
    }

    private sealed class CommitmentTracker(AgreementId agreement, CommitmentClause clause, DateTimeOffset start, int provider, int months)
    {
        private readonly double[] _monthly = new double[months];
        private decimal _spent;

        public AgreementId Agreement { get; } = agreement;

        public CommitmentClause Clause { get; } = clause;

        public void Add(int p, DateTimeOffset at, decimal spend, TimeAxis axis)
        {
            if (p != provider || at < start || at >= Clause.Deadline)
            {
                return;
            }

            _spent += spend;
            _monthly[axis.MonthOf(at)] += (double)spend;
        }

        public double[] Cumulative()
        {
            var values = new double[_monthly.Length];
            var sum = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += _monthly[i];
                values[i] = sum;
            }

            return values;
        }

        public CommitmentInfo Info() =>
            new(Agreement, Clause.Id, Clause.Provider, Clause.Amount, start, Clause.Deadline, new Money(decimal.Round(_spent, 2), Clause.Amount.Currency));
    }
}
