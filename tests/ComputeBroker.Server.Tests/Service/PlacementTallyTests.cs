using System.Globalization;
using ComputeBroker.Domain;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Tests.Service;

/// <summary>
/// A placement series built from the tally the projection keeps as events arrive is the series built from the requests
/// themselves, whatever the order of allocations, holders and cancellations: checked against a direct reading of the
/// requests (every allocation of every request not cancelled) over many seeded histories.
/// </summary>
public sealed class PlacementTallyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 7, 30, 0, TimeSpan.Zero);
    private static readonly string[] Providers = ["azure", "oracle", "coreweave", "google"];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void SeriesFromTheTally_EqualsTheSeriesReadFromTheRequests(int seed)
    {
        var random = new Random(seed);
        var history = History(random);
        var tally = new PlacementTally();
        foreach (var step in history.Steps)
        {
            step(tally);
        }

        foreach (PlacementBucket? bucket in new PlacementBucket?[] { null, PlacementBucket.Hour, PlacementBucket.Day, PlacementBucket.Week })
        {
            foreach (var limit in new[] { 1, 5, 72, 500 })
            {
                Assert.Equal(Describe(Reference(history.Requests, bucket, limit)), Describe(PlacementSeries.Build(tally, bucket, limit)));
            }
        }
    }

    [Fact]
    public void EveryRequestCancelled_LeavesNoPlacementAndNoHolder()
    {
        var tally = new PlacementTally();
        var allocation = new Allocation(new ProviderId("azure"), new GpuCount(64), PricePerGpuHour.Parse("10.00 USD"), T0, AllocationSource.Offer, T0);
        tally.AddHolder(new ProviderId("azure"));
        tally.Add(allocation);
        tally.Remove(allocation);
        tally.RemoveHolder(new ProviderId("azure"));

        var series = PlacementSeries.Build(tally, null, 72);

        Assert.Null(series.Holder);
        Assert.Empty(series.Points);
        Assert.Empty(series.Totals);
        Assert.Empty(tally.Hours);
    }

    [Fact]
    public void HoldersTied_TheFirstNamedIsTheHolder()
    {
        var tally = new PlacementTally();
        tally.AddHolder(new ProviderId("oracle"));
        tally.AddHolder(new ProviderId("azure"));
        tally.AddHolder(new ProviderId("azure"));
        tally.AddHolder(new ProviderId("oracle"));

        Assert.Equal(new ProviderId("oracle"), tally.Holder);
    }

    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (var seed = 1; seed <= 60; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    private sealed class ModelRequest
    {
        public int Order { get; init; }

        public ProviderId? Holder { get; init; }

        public List<Allocation> Allocations { get; } = [];

        public bool Cancelled { get; set; }
    }

    private sealed record ModelHistory(List<ModelRequest> Requests, List<Action<PlacementTally>> Steps);

    /// <summary>Requests named in order, each naming a holder or not, allocated over days and weeks, some cancelled after some allocations.</summary>
    private static ModelHistory History(Random random)
    {
        var requests = new List<ModelRequest>();
        var steps = new List<Action<PlacementTally>>();
        var open = new List<ModelRequest>();
        var clock = T0;
        var count = random.Next(0, 40);
        for (var i = 0; i < count || open.Count > 0; i++)
        {
            clock = clock.AddMinutes(random.Next(0, random.Next(2) == 0 ? 90 : 60 * 24 * 5));
            var choice = random.Next(10);
            if (i < count && (choice < 3 || open.Count == 0))
            {
                var request = new ModelRequest { Order = requests.Count, Holder = random.Next(3) == 0 ? null : new ProviderId(Providers[random.Next(2)]) };
                requests.Add(request);
                open.Add(request);
                if (request.Holder is { } holder)
                {
                    steps.Add(t => t.AddHolder(holder));
                }
            }
            else if (choice < 8)
            {
                var request = open[random.Next(open.Count)];
                var allocation = new Allocation(new ProviderId(Providers[random.Next(Providers.Length)]), new GpuCount(8 * random.Next(1, 64)),
                    PricePerGpuHour.Parse("10.00 USD"), clock, AllocationSource.Market, clock);
                request.Allocations.Add(allocation);
                steps.Add(t => t.Add(allocation));
            }
            else
            {
                // The request closes: placed, or cancelled (giving back what it had and no longer counting for its holder).
                var request = open[random.Next(open.Count)];
                open.Remove(request);
                if (random.Next(3) == 0)
                {
                    request.Cancelled = true;
                    var given = request.Allocations.ToArray();
                    var holder = request.Holder;
                    steps.Add(t =>
                    {
                        foreach (var allocation in given)
                        {
                            t.Remove(allocation);
                        }

                        if (holder is { } h)
                        {
                            t.RemoveHolder(h);
                        }
                    });
                }
            }
        }

        return new ModelHistory(requests, steps);
    }

    /// <summary>The series read straight from the requests: every allocation of every request not cancelled, bucket by bucket.</summary>
    private static PlacementSeries Reference(List<ModelRequest> requests, PlacementBucket? bucket, int limit)
    {
        var kept = requests.Where(r => !r.Cancelled).ToList();
        var allocations = kept.SelectMany(r => r.Allocations).ToList();

        // The holder named by most requests not cancelled; on a tie, the one named first by any request.
        var named = requests.Where(r => r.Holder is not null).Select(r => r.Holder!.Value).Distinct().ToList();
        var counts = named.Select(h => (Holder: h, Count: kept.Count(r => r.Holder == h))).Where(x => x.Count > 0).ToList();
        ProviderId? holder = counts.Count == 0 ? null : counts.First(x => x.Count == counts.Max(c => c.Count)).Holder;

        var totals = allocations.GroupBy(a => a.Provider.Value).ToDictionary(g => g.Key, g => g.Sum(a => (long)a.Gpus.Value), StringComparer.Ordinal);
        var placed = totals.Values.Sum();
        var holderTotal = holder is { } h ? totals.GetValueOrDefault(h.Value) : 0;
        var share = placed == 0 ? 0m : decimal.Round((decimal)holderTotal / placed, 4);
        var providers = totals.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key).ToArray();
        if (allocations.Count == 0)
        {
            return new PlacementSeries(bucket ?? PlacementBucket.Hour, holder, [], totals, share, []);
        }

        var first = allocations.Min(a => a.At);
        var last = allocations.Max(a => a.At);
        var chosen = bucket ?? new[] { PlacementBucket.Hour, PlacementBucket.Day, PlacementBucket.Week }
            .First(b => b == PlacementBucket.Week || Starts(first, last, b).Count() <= limit);
        var points = new List<PlacementPoint>();
        long cumulative = 0;
        long cumulativeHolder = 0;
        foreach (var start in Starts(first, last, chosen))
        {
            var gpus = allocations.Where(a => PlacementSeries.Floor(a.At, chosen) == start)
                .GroupBy(a => a.Provider.Value).ToDictionary(g => g.Key, g => g.Sum(a => (long)a.Gpus.Value), StringComparer.Ordinal);
            var total = gpus.Values.Sum();
            var holderGpus = holder is { } hid ? gpus.GetValueOrDefault(hid.Value) : 0;
            cumulative += total;
            cumulativeHolder += holderGpus;
            points.Add(new PlacementPoint(start, gpus, total, holderGpus, cumulative == 0 ? 0m : decimal.Round((decimal)cumulativeHolder / cumulative, 4)));
        }

        return new PlacementSeries(chosen, holder, providers, totals, share, points.Count > limit ? points[^limit..] : points);
    }

    private static IEnumerable<DateTimeOffset> Starts(DateTimeOffset first, DateTimeOffset last, PlacementBucket bucket)
    {
        for (var start = PlacementSeries.Floor(first, bucket); start <= last;
             start = bucket switch { PlacementBucket.Hour => start.AddHours(1), PlacementBucket.Day => start.AddDays(1), _ => start.AddDays(7) })
        {
            yield return start;
        }
    }

    /// <summary>A series as text, dictionaries in key order, so that two series compare by what they say.</summary>
    private static string Describe(PlacementSeries series)
    {
        static string Map(IReadOnlyDictionary<string, long> map) =>
            string.Join(",", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

        var lines = new List<string>
        {
            $"bucket {series.Bucket}; holder {series.Holder?.Value ?? "-"}; providers {string.Join(",", series.Providers)}; totals {Map(series.Totals)}; share {series.HolderShare.ToString(CultureInfo.InvariantCulture)}",
        };
        lines.AddRange(series.Points.Select(p =>
            $"{p.Start:O} {Map(p.Gpus)} total {p.Total} holder {p.HolderGpus} cumulative {p.CumulativeHolderShare.ToString(CultureInfo.InvariantCulture)}"));
        return string.Join("\n", lines);
    }
}
