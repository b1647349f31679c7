using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Reporting;

/// <summary>GPUs placed with one provider and their share of all placed GPUs.</summary>
public sealed record ProviderShare(ProviderId Provider, long Gpus, decimal Share);

/// <summary>
/// What a set of closed requests came to: outcomes, GPUs per provider, the first-refusal holder's
/// share, and time-to-capacity percentiles (submission to last allocation, placed GPUs only).
/// </summary>
public sealed record SourcingSummary(
    int Requests,
    IReadOnlyDictionary<RequestOutcome, int> Outcomes,
    long GpusRequested,
    long GpusPlaced,
    long GpusUnfulfilled,
    IReadOnlyList<ProviderShare> Providers,
    ProviderId? Holder,
    decimal HolderShare,
    TimeSpan? TimeToCapacityP50,
    TimeSpan? TimeToCapacityP90,
    TimeSpan? TimeToCapacityP99);

/// <summary>Accumulates closed requests into a <see cref="SourcingSummary"/>. Not thread-safe.</summary>
public sealed class SourcingSummaryBuilder
{
    private readonly Dictionary<RequestOutcome, int> _outcomes = [];
    private readonly Dictionary<ProviderId, long> _byProvider = [];
    private readonly Dictionary<ProviderId, int> _holders = [];
    private readonly List<TimeSpan> _timeToCapacity = [];
    private int _requests;
    private long _requested;
    private long _unfulfilled;

    public void Add(RequestState closed)
    {
        if (closed.Closed is not { } end)
        {
            throw new ArgumentException("Only closed requests can be summarised.", nameof(closed));
        }

        _requests++;
        _outcomes[end.Outcome] = _outcomes.GetValueOrDefault(end.Outcome) + 1;
        _requested += closed.Request!.Gpus.Value;
        _unfulfilled += end.Unfulfilled.Value;
        if (closed.Clauses?.FirstRefusal is not null && closed.Clauses.Holder is { } holder)
        {
            _holders[holder] = _holders.GetValueOrDefault(holder) + 1;
        }

        if (end.Outcome is RequestOutcome.Cancelled)
        {
            return;
        }

        var last = DateTimeOffset.MinValue;
        foreach (var allocation in closed.Allocations)
        {
            _byProvider[allocation.Provider] = _byProvider.GetValueOrDefault(allocation.Provider) + allocation.Gpus.Value;
            last = allocation.At > last ? allocation.At : last;
        }

        if (closed.Allocations.Count > 0)
        {
            _timeToCapacity.Add(last - closed.SubmittedAt);
        }
    }

    public SourcingSummary Build()
    {
        var placed = _byProvider.Values.Sum();
        var providers = _byProvider
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key.Value, StringComparer.Ordinal)
            .Select(p => new ProviderShare(p.Key, p.Value, placed == 0 ? 0 : decimal.Round((decimal)p.Value / placed, 4)))
            .ToArray();
        ProviderId? holder = _holders.Count == 0 ? null : _holders.MaxBy(h => h.Value).Key;
        var holderShare = holder is { } h && placed > 0 ? decimal.Round((decimal)_byProvider.GetValueOrDefault(h) / placed, 4) : 0m;
        _timeToCapacity.Sort();
        return new SourcingSummary(
            _requests,
            new Dictionary<RequestOutcome, int>(_outcomes),
            _requested,
            placed,
            _unfulfilled,
            providers,
            holder,
            holderShare,
            Percentile(_timeToCapacity, 0.50),
            Percentile(_timeToCapacity, 0.90),
            Percentile(_timeToCapacity, 0.99));
    }

    /// <summary>Nearest-rank percentile of a sorted list; null when empty.</summary>
    public static TimeSpan? Percentile(IReadOnlyList<TimeSpan> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
