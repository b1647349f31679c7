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
    /// Builds the series from <paramref name="tally"/>. With no <paramref name="bucket"/>, picks the narrowest of hour, day and
    /// week that covers the placements in at most <paramref name="limit"/> buckets; the series keeps the last
    /// <paramref name="limit"/> buckets (empty ones included, so bars sit on a true time axis).
    /// </summary>
    /// <remarks>
    /// Reads the tally's hours, not the requests: its cost grows with the time the placements span, not with how many requests
    /// the broker has seen. Every bucket is a run of whole UTC hours, so the hours are all it needs.
    /// </remarks>
    public static PlacementSeries Build(PlacementTally tally, PlacementBucket? bucket, int limit)
    {
        var holderId = tally.Holder;
        var providers = tally.Totals
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .ToArray();
        var totals = providers.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var placed = providers.Sum(p => p.Value);
        var holderTotal = holderId is { } h ? totals.GetValueOrDefault(h.Value) : 0;
        var share = placed == 0 ? 0m : decimal.Round((decimal)holderTotal / placed, 4);
        var hours = tally.Hours;
        if (hours.Count == 0)
        {
            return new PlacementSeries(bucket ?? PlacementBucket.Hour, holderId, [], totals, share, []);
        }

        var first = hours.Keys[0];
        var last = hours.Keys[^1];
        var chosen = bucket ?? Choose(first, last, limit);
        var points = new List<PlacementPoint>();
        long cumulative = 0;
        long cumulativeHolder = 0;
        var hour = 0;
        for (var start = Floor(first, chosen); start <= last; start = Next(start, chosen))
        {
            var end = Next(start, chosen);
            var gpus = new Dictionary<string, long>(StringComparer.Ordinal);
            for (; hour < hours.Count && hours.Keys[hour] < end; hour++)
            {
                foreach (var (provider, count) in hours.Values[hour])
                {
                    gpus[provider] = gpus.GetValueOrDefault(provider) + count;
                }
            }

            var total = gpus.Values.Sum();
            var holderGpus = holderId is { } hid ? gpus.GetValueOrDefault(hid.Value) : 0;
            cumulative += total;
            cumulativeHolder += holderGpus;
            points.Add(new PlacementPoint(start, gpus, total, holderGpus, cumulative == 0 ? 0m : decimal.Round((decimal)cumulativeHolder / cumulative, 4)));
        }

        return new PlacementSeries(chosen, holderId, providers.Select(p => p.Key).ToArray(), totals, share, points.Count > limit ? points[^limit..] : points);
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

/// <summary>
/// What a placement series is built from, kept as events arrive: GPUs placed per provider in each UTC hour (by the instant
/// each allocation was made), the total per provider, and how many requests named each first-refusal holder. A cancelled
/// request's allocations and holder are taken out again: it gave its capacity back. Not thread-safe (the projection's lock
/// guards it).
/// </summary>
public sealed class PlacementTally
{
    private readonly SortedList<DateTimeOffset, Dictionary<string, long>> _hours = [];
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);

    // Kept in the order holders were first named, with counts that may fall back to zero, so that the holder a tie gives is
    // the same on every replica (they fold the same events in the same order).
    private readonly Dictionary<ProviderId, int> _holders = [];

    /// <summary>GPUs per provider in each hour that has any, earliest first: for <see cref="PlacementSeries.Build"/> to read, not to change.</summary>
    internal SortedList<DateTimeOffset, Dictionary<string, long>> Hours => _hours;

    /// <summary>GPUs per provider over every hour; only providers with some.</summary>
    public IReadOnlyDictionary<string, long> Totals => _totals;

    /// <summary>The first-refusal holder named by the most requests (the first named, on a tie); none when no request names one.</summary>
    public ProviderId? Holder
    {
        get
        {
            ProviderId? holder = null;
            var most = 0;
            foreach (var (provider, count) in _holders)
            {
                if (count > most)
                {
                    (holder, most) = (provider, count);
                }
            }

            return holder;
        }
    }

    public void Add(Allocation allocation) => Change(allocation.Provider.Value, allocation.At, allocation.Gpus.Value);

    public void Remove(Allocation allocation) => Change(allocation.Provider.Value, allocation.At, -allocation.Gpus.Value);

    public void AddHolder(ProviderId holder) => _holders[holder] = _holders.GetValueOrDefault(holder) + 1;

    public void RemoveHolder(ProviderId holder) => _holders[holder] = _holders.GetValueOrDefault(holder) - 1;

    /// <summary>The holder a request's clauses count for in a placement series: the first-refusal holder, when there is one.</summary>
    public static ProviderId? HolderOf(RequestState request) =>
        request.Clauses?.FirstRefusal is not null ? request.Clauses.Holder : null;

    private void Change(string provider, DateTimeOffset at, long gpus)
    {
        var hour = PlacementSeries.Floor(at, PlacementBucket.Hour);
        if (!_hours.TryGetValue(hour, out var byProvider))
        {
            _hours[hour] = byProvider = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        Adjust(byProvider, provider, gpus);
        if (byProvider.Count == 0)
        {
            _hours.Remove(hour);
        }

        Adjust(_totals, provider, gpus);
    }

    private static void Adjust(Dictionary<string, long> counts, string provider, long gpus)
    {
        var now = counts.GetValueOrDefault(provider) + gpus;
        if (now == 0)
        {
            counts.Remove(provider);
        }
        else
        {
            counts[provider] = now;
        }
    }
}
