using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Providers;

/// <summary>
/// A provider answered by an inventory model inside the broker: capacity per accelerator and region
/// over time (<see cref="CapacityTimeline"/>), its list prices, and its <see cref="AnswerPolicy"/>.
/// Capacity is never promised twice: accepting an offer or confirming a reservation takes the GPUs
/// from the timeline at once, and a quote is only an indication (a later reservation may fail).
/// Randomness (latency, silence, reservation failures) comes from the caller's seeded generator.
/// Not thread-safe.
/// </summary>
public sealed class SimulatedProvider
{
    private readonly Dictionary<(string Accelerator, string Region), CapacityTimeline> _pools = [];

    // The pools of each accelerator, in the order _pools enumerates them (first appearance in the definition),
    // so that picking the best pool looks only at the request's accelerator and breaks ties as before.
    private readonly Dictionary<string, (string Region, CapacityTimeline Pool)[]> _byAccelerator = new(StringComparer.Ordinal);
    private readonly Dictionary<RequestId, List<Hold>> _holds = [];
    private readonly DateTimeOffset _origin;
    private readonly int _hours;

    public SimulatedProvider(ProviderDefinition definition, DateTimeOffset origin, int hours)
    {
        Definition = definition;
        _origin = origin;
        _hours = hours;
        foreach (var group in definition.Capacity.GroupBy(c => (c.Accelerator, c.Region)))
        {
            var changes = group.ToArray();
            _pools[group.Key] = new CapacityTimeline(origin, hours, at => CapacityAt(changes, at));
        }

        foreach (var group in _pools.GroupBy(p => p.Key.Accelerator, StringComparer.Ordinal))
        {
            _byAccelerator[group.Key] = group.Select(p => (p.Key.Region, p.Value)).ToArray();
        }
    }

    public ProviderDefinition Definition { get; }

    /// <summary>The sum of the changes' contributions at an instant; a loop, not LINQ: it runs for every hour of every pool.</summary>
    private static long CapacityAt(CapacityChange[] changes, DateTimeOffset at)
    {
        long total = 0;
        foreach (var change in changes)
        {
            total += change.ContributionAt(at);
        }

        return total;
    }

    public ProviderId Id => Definition.Id;

    /// <summary>How long the provider takes to answer: uniform between the policy's bounds, to the second.</summary>
    public TimeSpan NextLatency(Random random)
    {
        var policy = Definition.Policy;
        var span = (long)(policy.MaxLatency - policy.MinLatency).TotalSeconds;
        return policy.MinLatency + TimeSpan.FromSeconds(span <= 0 ? 0 : random.NextInt64(span + 1));
    }

    /// <summary>Whether the provider answers this message at all (its reliability); silence lets the deadline decide.</summary>
    public bool Answers(Random random) => Definition.Policy.Reliability >= 1.0 || random.NextDouble() < Definition.Policy.Reliability;

    /// <summary>The most GPUs free in any one region the request allows, over the request's whole interval.</summary>
    public int Free(CapacityRequest request) => BestPool(request).Free;

    /// <summary>Accepts what is free (all, or part where allowed and the policy accepts part), taking it at once; else declines.</summary>
    public OfferAnswer AnswerOffer(OfferMade offer, CapacityRequest request)
    {
        if (DeclinesClass(request))
        {
            return new OfferAnswer.Decline($"{Id} does not serve workload class {request.WorkloadClass}");
        }

        var (pool, free) = BestPool(request);
        var take = Math.Min(free, offer.Gpus.Value);
        if (pool is null || take == 0 || (take < offer.Gpus.Value && !(offer.PartialAllowed && Definition.Policy.AcceptPartial)))
        {
            return new OfferAnswer.Decline(free == 0 ? "no free capacity" : $"only {free} GPUs free");
        }

        Take(request, pool, take);
        return new OfferAnswer.Accept(new GpuCount(take));
    }

    /// <summary>Quotes what is free at the list price, or declines. A quote holds nothing.</summary>
    public QuoteAnswer Quote(CapacityRequest request, GpuCount wanted, DateTimeOffset now, TimeSpan validity)
    {
        if (DeclinesClass(request))
        {
            return new QuoteAnswer.Decline($"{Id} does not serve workload class {request.WorkloadClass}");
        }

        var price = Definition.ListPrice(request);
        var free = Math.Min(Free(request), wanted.Value);
        return price is null || free == 0
            ? new QuoteAnswer.Decline(price is null ? $"{Id} does not sell {request.Accelerator} in the requested regions" : "no free capacity")
            : new QuoteAnswer.Quote(new GpuCount(free), price.Value, request.EarliestStart, now + validity);
    }

    /// <summary>Confirms a reservation if the GPUs are still free (and the policy's failure draw allows), taking them.</summary>
    public bool Reserve(CapacityRequest request, GpuCount gpus, Random random)
    {
        var failureRate = Definition.Policy.ReservationFailureRate;
        if (failureRate > 0 && random.NextDouble() < failureRate)
        {
            return false;
        }

        var (pool, free) = BestPool(request);
        if (pool is null || free < gpus.Value)
        {
            return false;
        }

        Take(request, pool, gpus.Value);
        return true;
    }

    /// <summary>Gives back everything held for the request (on cancellation, or an answer the engine refused).</summary>
    public void Release(RequestId request, GpuCount? gpus = null)
    {
        if (!_holds.TryGetValue(request, out var holds))
        {
            return;
        }

        var left = gpus?.Value ?? int.MaxValue;
        for (var i = holds.Count - 1; i >= 0 && left > 0; i--)
        {
            var hold = holds[i];
            var give = Math.Min(left, hold.Gpus);
            hold.Pool.Release(hold.Start, hold.Hours, give);
            left -= give;
            if (give == hold.Gpus)
            {
                holds.RemoveAt(i);
            }
            else
            {
                holds[i] = hold with { Gpus = hold.Gpus - give };
            }
        }

        if (holds.Count == 0)
        {
            _holds.Remove(request);
        }
    }

    /// <summary>Forgets the holds of a finished request (they stay taken in the timeline).</summary>
    public void Forget(RequestId request) => _holds.Remove(request);

    /// <summary>GPUs free at one hour in one pool; for tests and reports.</summary>
    public int FreeAt(string accelerator, string region, DateTimeOffset at) =>
        _pools.TryGetValue((accelerator, region), out var pool) ? pool.Free(at, 1) : 0;

    private bool DeclinesClass(CapacityRequest request) =>
        Definition.Policy.DeclineClasses.Contains(request.WorkloadClass, StringComparer.Ordinal);

    private (CapacityTimeline? Pool, int Free) BestPool(CapacityRequest request)
    {
        CapacityTimeline? best = null;
        var bestFree = 0;
        if (!_byAccelerator.TryGetValue(request.Accelerator, out var pools))
        {
            return (null, 0);
        }

        foreach (var (region, pool) in pools)
        {
            if (!request.AllowsRegion(region))
            {
                continue;
            }

            var free = pool.Free(request.EarliestStart, request.DurationHours);
            if (best is null || free > bestFree)
            {
                best = pool;
                bestFree = free;
            }
        }

        return (best, bestFree);
    }

    private void Take(CapacityRequest request, CapacityTimeline pool, int gpus)
    {
        if (!pool.TryReserve(request.EarliestStart, request.DurationHours, gpus))
        {
            throw new InvalidOperationException("Capacity checked free was not free: the timeline changed under a single-threaded caller.");
        }

        if (!_holds.TryGetValue(request.Id, out var holds))
        {
            _holds[request.Id] = holds = [];
        }

        holds.Add(new Hold(pool, request.EarliestStart, request.DurationHours, gpus));
    }

    private sealed record Hold(CapacityTimeline Pool, DateTimeOffset Start, int Hours, int Gpus);
}
