using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Simulation.Metrics;

/// <summary>A time series of one run: one value per month or quarter of the horizon. NaN means "no data in that bucket".</summary>
public sealed record NamedSeries(string Key, string Label, string Unit, double[] Values);

/// <summary>A trigger that fired during a run: when (the end of the reported period) and what it terminated.</summary>
public sealed record TriggerFiring(AgreementId Agreement, ClauseId Trigger, DateTimeOffset EffectiveAt, Money Value, Money Threshold, IReadOnlyList<ClauseId> Terminates);

/// <summary>A spend commitment followed by a run: the clause, and the spend counted from <see cref="Start"/> until its deadline.</summary>
public sealed record CommitmentInfo(AgreementId Agreement, ClauseId Clause, ProviderId Provider, Money Amount, DateTimeOffset Start, DateTimeOffset Deadline, Money Spent)
{
    public double Fraction => Amount.Amount == 0 ? 1 : (double)(Spent.Amount / Amount.Amount);

    public string Key => $"commitment_{Agreement}_{Clause}";
}

/// <summary>The totals of one run. GPUs demanded = placed + unfulfilled always holds (rejected submissions count as unfulfilled).</summary>
public sealed record RunTotals
{
    public long Requests { get; init; }

    public long Placed { get; init; }

    public long PartiallyPlaced { get; init; }

    public long Unfulfilled { get; init; }

    public long Cancelled { get; init; }

    /// <summary>Submissions the engine refused (invalid, or clauses in conflict); their GPUs count as unfulfilled.</summary>
    public long Rejected { get; init; }

    public long GpusDemanded { get; init; }

    public long GpusPlaced { get; init; }

    public long GpusUnfulfilled { get; init; }

    public double HolderShare { get; init; }

    public double TimeToCapacityP50Hours { get; init; }

    public double TimeToCapacityP90Hours { get; init; }

    public double TimeToCapacityP99Hours { get; init; }

    public long FirstRefusalRequests { get; init; }

    public long HolderAccepted { get; init; }

    public long HolderPartial { get; init; }

    public long HolderDeclined { get; init; }

    public long HolderExpired { get; init; }

    /// <summary>First-refusal requests that went on to the market after the holder's answer or expiry.</summary>
    public long WindowDelayed { get; init; }

    public double WindowDelayP50Hours { get; init; }

    public double WindowDelayP90Hours { get; init; }

    public double WindowDelayMeanHours { get; init; }

    public decimal RevenueShare { get; init; }

    public decimal CumulativeProfit { get; init; }

    public decimal CumulativeRevenue { get; init; }

    public string Currency { get; init; } = "USD";
}

/// <summary>
/// What one run produced, small enough to keep for every run of a Monte Carlo: totals, monthly and
/// quarterly series, trigger firings and commitment progress. Requests themselves went to the CSV as they closed.
/// </summary>
public sealed record RunResult
{
    public required int Seed { get; init; }

    public required TimeAxis Axis { get; init; }

    public required IReadOnlyList<ProviderId> Providers { get; init; }

    public ProviderId? Holder { get; init; }

    public required RunTotals Totals { get; init; }

    /// <summary>Per month (by submission month for request counts and GPUs; by allocation month for spend).</summary>
    public required IReadOnlyList<NamedSeries> Monthly { get; init; }

    /// <summary>Per quarter (by submission quarter for outcomes and waits; the reported quarter for money).</summary>
    public required IReadOnlyList<NamedSeries> Quarterly { get; init; }

    public required IReadOnlyDictionary<ProviderId, long> PlacedByProvider { get; init; }

    public required IReadOnlyDictionary<ProviderId, decimal> SpendByProvider { get; init; }

    public required IReadOnlyList<TriggerFiring> Firings { get; init; }

    public required IReadOnlyList<CommitmentInfo> Commitments { get; init; }

    /// <summary>The agreements as they stood at the end: with every termination a trigger recorded.</summary>
    public required ContractBook FinalBook { get; init; }

    /// <summary>Timed actions the run's event queue handled (for the benchmark's queue baseline).</summary>
    public long ScheduledActions { get; init; }

    /// <summary>The mean number of timed actions waiting in the event queue, sampled once a virtual week.</summary>
    public double MeanPendingActions { get; init; }

    /// <summary>Sourcing events decided in the run.</summary>
    public long Events { get; init; }

    /// <summary>The most requests in flight at once (sampled once a virtual week): what memory follows.</summary>
    public int PeakOpenRequests { get; init; }

    /// <summary>The longest the event queue got (sampled once a virtual week).</summary>
    public int PeakPendingActions { get; init; }

    /// <summary>Requests still open in the broker when the run ended: 0 after a complete run.</summary>
    public int OpenRequestsAtEnd { get; init; }

    /// <summary>Per-request entries the metrics still held when the run ended: 0, since they are dropped as requests close.</summary>
    public int TrackedRequestsAtEnd { get; init; }

    public NamedSeries MonthlySeries(string key) => Monthly.First(s => s.Key == key);

    public NamedSeries QuarterlySeries(string key) => Quarterly.First(s => s.Key == key);

    /// <summary>The run's scalar results by name, in a fixed order: the rows of runs.csv and what Monte Carlo bands summarise.</summary>
    public IReadOnlyList<(string Key, double Value)> Scalars()
    {
        var t = Totals;
        var list = new List<(string, double)>
        {
            ("requests", t.Requests),
            ("placed", t.Placed),
            ("partially_placed", t.PartiallyPlaced),
            ("unfulfilled", t.Unfulfilled),
            ("rejected", t.Rejected),
            ("gpus_demanded", t.GpusDemanded),
            ("gpus_placed", t.GpusPlaced),
            ("gpus_unfulfilled", t.GpusUnfulfilled),
            ("holder_share", t.HolderShare),
            ("ttc_p50_hours", t.TimeToCapacityP50Hours),
            ("ttc_p90_hours", t.TimeToCapacityP90Hours),
            ("ttc_p99_hours", t.TimeToCapacityP99Hours),
            ("fr_requests", t.FirstRefusalRequests),
            ("fr_accepted", t.HolderAccepted),
            ("fr_partial", t.HolderPartial),
            ("fr_declined", t.HolderDeclined),
            ("fr_expired", t.HolderExpired),
            ("window_delayed_requests", t.WindowDelayed),
            ("window_delay_p50_hours", t.WindowDelayP50Hours),
            ("window_delay_p90_hours", t.WindowDelayP90Hours),
            ("window_delay_mean_hours", t.WindowDelayMeanHours),
            ("revenue_share", (double)t.RevenueShare),
            ("cumulative_revenue", (double)t.CumulativeRevenue),
            ("cumulative_profit", (double)t.CumulativeProfit),
            ("trigger_fired", Firings.Count > 0 ? 1 : 0),
            ("trigger_fired_at_year", Firings.Count > 0 ? YearOf(Firings[0].EffectiveAt) : double.NaN),
        };
        foreach (var provider in Providers)
        {
            list.Add(($"gpus_placed_{provider}", PlacedByProvider.GetValueOrDefault(provider)));
        }

        foreach (var provider in Providers)
        {
            list.Add(($"spend_{provider}", (double)SpendByProvider.GetValueOrDefault(provider)));
        }

        foreach (var commitment in Commitments)
        {
            list.Add(($"{commitment.Key}_fraction", commitment.Fraction));
        }

        return list;
    }

    /// <summary>An instant as a fractional calendar year (2029.75 is the start of Q4 2029), for bands over dates.</summary>
    public static double YearOf(DateTimeOffset at)
    {
        var year = new DateTimeOffset(at.Year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return at.Year + ((at - year).TotalDays / (year.AddYears(1) - year).TotalDays);
    }
}
