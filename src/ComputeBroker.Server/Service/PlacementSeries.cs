using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Service;

/// <summary>The width of one bar of a placements chart.</summary>
public enum PlacementBucket
{
    Hour,
    Day,
    Week,
}

/// <summary>GPUs placed in one bucket, per provider, and how many went to the first-refusal holder.</summary>
public sealed record PlacementPoint(DateTimeOffset Start, IReadOnlyDictionary<string, long> Gpus, long Total, long HolderGpus, decimal CumulativeHolderShare);

/// <summary>
/// GPUs placed per provider over time (by the instant each allocation was made, in broker time) and the
/// holder's cumulative share. Cancelled requests are left out: their allocations were given back.
/// </summary>
public sealed record PlacementSeries(
    PlacementBucket Bucket,
    ProviderId? Holder,
    IReadOnlyList<string> Providers,
    IReadOnlyDictionary<string, long> Totals,
    decimal HolderShare,
    IReadOnlyList<PlacementPoint> Points)
{
    /// <summary>
    /// Builds the series. With no <paramref name="bucket"/>, picks the narrowest of hour, day and week that
    /// covers the placements in at most <paramref name="limit"/> buckets; the series keeps the last
    /// <paramref name="limit"/> buckets (empty ones included, so bars sit on a true time axis).
    /// </summary>
    public static PlacementSeries Build(IEnumerable<RequestState> requests, PlacementBucket? bucket, int limit)
    {
        var allocations = new List<Allocation>();
        var holders = new Dictionary<ProviderId, int>();
        foreach (var request in requests)
        {
            if (request.Closed?.Outcome == RequestOutcome.Cancelled)
            {
                continue;
            }

            if (request.Clauses?.FirstRefusal is not null && request.Clauses.Holder is { } holder)
            {
                holders[holder] = holders.GetValueOrDefault(holder) + 1;
            }

            allocations.AddRange(request.Allocations);
        }

        ProviderId? holderId = holders.Count == 0 ? null : holders.MaxBy(h => h.Value).Key;
        var providers = allocations.GroupBy(a => a.Provider.Value, StringComparer.Ordinal)
            .Select(g => (Provider: g.Key, Gpus: g.Sum(a => (long)a.Gpus.Value)))
            .OrderByDescending(p => p.Gpus).ThenBy(p => p.Provider, StringComparer.Ordinal)
            .ToArray();
        var totals = providers.ToDictionary(p => p.Provider, p => p.Gpus, StringComparer.Ordinal);
        var placed = providers.Sum(p => p.Gpus);
        var holderTotal = holderId is { } h ? totals.GetValueOrDefault(h.Value) : 0;
        var share = placed == 0 ? 0m : decimal.Round((decimal)holderTotal / placed, 4);
        if (allocations.Count == 0)
        {
            return new PlacementSeries(bucket ?? PlacementBucket.Hour, holderId, [], totals, share, []);
        }

        var first = allocations.Min(a => a.At);
        var last = allocations.Max(a => a.At);
        var chosen = bucket ?? Choose(first, last, limit);
        var byBucket = allocations.GroupBy(a => Floor(a.At, chosen)).ToDictionary(g => g.Key, g => g.ToArray());
        var points = new List<PlacementPoint>();
        long cumulative = 0;
        long cumulativeHolder = 0;
        for (var start = Floor(first, chosen); start <= last; start = Next(start, chosen))
        {
            var inBucket = byBucket.GetValueOrDefault(start) ?? [];
            var gpus = inBucket.GroupBy(a => a.Provider.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(a => (long)a.Gpus.Value), StringComparer.Ordinal);
            var total = gpus.Values.Sum();
            var holderGpus = holderId is { } hid ? gpus.GetValueOrDefault(hid.Value) : 0;
            cumulative += total;
            cumulativeHolder += holderGpus;
            points.Add(new PlacementPoint(start, gpus, total, holderGpus, cumulative == 0 ? 0m : decimal.Round((decimal)cumulativeHolder / cumulative, 4)));
        }

        return new PlacementSeries(chosen, holderId, providers.Select(p => p.Provider).ToArray(), totals, share, points.Count > limit ? points[^limit..] : points);
    }

    private static PlacementBucket Choose(DateTimeOffset first, DateTimeOffset last, int limit)
    {
        foreach (var candidate in new[] { PlacementBucket.Hour, PlacementBucket.Day })
        {
            var count = 0;
            for (var start = Floor(first, candidate); start <= last && count <= limit; start = Next(start, candidate))
            {
                count++;
            }

            if (count <= limit)
            {
                return candidate;
            }
        }

        return PlacementBucket.Week;
    }

    /// <summary>The start of the bucket holding <paramref name="at"/>, in UTC; weeks start on Monday (ISO 8601).</summary>
    public static DateTimeOffset Floor(DateTimeOffset at, PlacementBucket bucket)
    {
        var utc = at.UtcDateTime;
        return bucket switch
        {
            PlacementBucket.Hour => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            PlacementBucket.Day => new DateTimeOffset(utc.Date, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Date.AddDays(-(((int)utc.DayOfWeek + 6) % 7)), TimeSpan.Zero),
        };
    }

    private static DateTimeOffset Next(DateTimeOffset start, PlacementBucket bucket) => bucket switch
    {
        PlacementBucket.Hour => start.AddHours(1),
        PlacementBucket.Day => start.AddDays(1),
        _ => start.AddDays(7),
    };
}
