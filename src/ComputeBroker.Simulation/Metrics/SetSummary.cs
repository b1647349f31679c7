using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Metrics;

/// <summary>The median and the 10th and 90th percentiles of one quantity across runs. With one run all three are that run's value.</summary>
public readonly record struct Band(double P10, double P50, double P90)
{
    public static Band Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
        return sorted.Length == 0
            ? new Band(double.NaN, double.NaN, double.NaN)
            : new Band(Quantile(sorted, 0.10), Quantile(sorted, 0.50), Quantile(sorted, 0.90));
    }

    /// <summary>Linear interpolation between closest ranks (the usual "type 7" quantile), on sorted values.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 1)
        {
            return sorted[0];
        }

        var h = (sorted.Count - 1) * p;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}

/// <summary>A time series summarised across runs: one <see cref="Band"/> per month or quarter.</summary>
public sealed record SeriesBand(string Key, string Label, string Unit, double[] P10, double[] P50, double[] P90)
{
    public static SeriesBand Of(IReadOnlyList<NamedSeries> runs)
    {
        var first = runs[0];
        var length = first.Values.Length;
        var p10 = new double[length];
        var p50 = new double[length];
        var p90 = new double[length];
        for (var i = 0; i < length; i++)
        {
            var index = i;
            var band = Band.Of(runs.Select(r => r.Values[index]));
            (p10[i], p50[i], p90[i]) = (band.P10, band.P50, band.P90);
        }

        return new SeriesBand(first.Key, first.Label, first.Unit, p10, p50, p90);
    }
}

/// <summary>
/// One scenario's runs summarised for the report and the CSV files: bands for every series and total,
/// gathered in run order so the summary is the same however the runs were scheduled.
/// </summary>
public sealed class SetSummary
{
    private readonly Dictionary<string, SeriesBand> _monthly;
    private readonly Dictionary<string, SeriesBand> _quarterly;
    private readonly Dictionary<string, Band> _scalars;

    public SetSummary(SetResult set)
    {
        Set = set;
        var runs = set.Runs;
        var first = runs[0];
        Axis = first.Axis;
        Providers = first.Providers;
        Holder = first.Holder;
        MonthlyKeys = first.Monthly.Select(s => s.Key).ToArray();
        QuarterlyKeys = first.Quarterly.Select(s => s.Key).ToArray();
        _monthly = first.Monthly.ToDictionary(s => s.Key, s => SeriesBand.Of(runs.Select(r => r.MonthlySeries(s.Key)).ToArray()), StringComparer.Ordinal);
        _quarterly = first.Quarterly.ToDictionary(s => s.Key, s => SeriesBand.Of(runs.Select(r => r.QuarterlySeries(s.Key)).ToArray()), StringComparer.Ordinal);
        ScalarKeys = first.Scalars().Select(s => s.Key).ToArray();
        var perRun = runs.Select(r => r.Scalars().ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal)).ToArray();
        _scalars = ScalarKeys.ToDictionary(k => k, k => Band.Of(perRun.Select(r => r.GetValueOrDefault(k, double.NaN))), StringComparer.Ordinal);
        var fired = runs.Where(r => r.Firings.Count > 0).ToArray();
        TriggerFiredRuns = fired.Length;
        TriggerFiredAt = fired.Length == 0 ? null : fired.Select(r => r.Firings[0]).OrderBy(f => f.EffectiveAt).ElementAt((fired.Length - 1) / 2);
        ProfitTrigger = FindProfitTrigger(set.Scenario.Book, set.Scenario.Financials?.Customer);
    }

    public SetResult Set { get; }

    public Scenario Scenario => Set.Scenario;

    public string Name => Scenario.Name;

    public int Runs => Set.Runs.Count;

    public TimeAxis Axis { get; }

    public IReadOnlyList<ProviderId> Providers { get; }

    public ProviderId? Holder { get; }

    public IReadOnlyList<string> MonthlyKeys { get; }

    public IReadOnlyList<string> QuarterlyKeys { get; }

    public IReadOnlyList<string> ScalarKeys { get; }

    /// <summary>Runs in which a trigger fired.</summary>
    public int TriggerFiredRuns { get; }

    /// <summary>The median firing among the runs where one fired (lower median for an even count: an actual run's date).</summary>
    public TriggerFiring? TriggerFiredAt { get; }

    /// <summary>The cumulative-profit trigger the report draws against, with the agreement it belongs to.</summary>
    public (AgreementId Agreement, TriggerClause Clause)? ProfitTrigger { get; }

    public SeriesBand Monthly(string key) => _monthly[key];

    public SeriesBand Quarterly(string key) => _quarterly[key];

    public bool HasMonthly(string key) => _monthly.ContainsKey(key);

    public Band Scalar(string key) => _scalars.TryGetValue(key, out var band) ? band : new Band(double.NaN, double.NaN, double.NaN);

    /// <summary>The latest version's cumulative-profit trigger of the customer's agreements, if any.</summary>
    public static (AgreementId, TriggerClause)? FindProfitTrigger(ContractBook book, string? customer)
    {
        foreach (var agreement in book.Agreements)
        {
            if (customer is not null && agreement.Customer != customer)
            {
                continue;
            }

            foreach (var version in agreement.Versions.OrderByDescending(v => v.EffectiveFrom))
            {
                foreach (var clause in version.Clauses)
                {
                    if (clause is TriggerClause { Metric: TriggerMetric.CumulativeProfit } trigger)
                    {
                        return (agreement.Id, trigger);
                    }
                }
            }
        }

        return null;
    }
}
