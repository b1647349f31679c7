using System.Globalization;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;

namespace ComputeBroker.Simulation.Demand;

/// <summary>Extra arrivals at a constant rate within a window, on top of a stream's own (a launch, a burst of training runs).</summary>
public sealed record Burst(DateTimeOffset From, DateTimeOffset Until, double PerDay);

/// <summary>A source of capacity requests over the horizon. Immutable; a run draws from it through a <see cref="DemandCursor"/>.</summary>
public abstract record DemandStream(string Id)
{
    /// <summary>Expected requests in the horizon [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public abstract double ExpectedCount(DateTimeOffset start, DateTimeOffset end);

    /// <summary>The stream with <paramref name="factor"/> times the requests (fixed lists are not scaled).</summary>
    public abstract DemandStream Scaled(double factor);

    /// <summary>The longest a request of this stream can reach past its submission (lead time and duration), to size the capacity timelines.</summary>
    public abstract TimeSpan Reach { get; }

    /// <summary>A cursor over this stream's requests in the horizon, drawing from <paramref name="random"/>.</summary>
    public abstract DemandCursor Open(DateTimeOffset start, DateTimeOffset end, Random random);
}

/// <summary>
/// Requests drawn at random: arrivals from <see cref="Arrivals"/> (plus <see cref="Bursts"/>) within
/// [<see cref="From"/>, <see cref="Until"/>) ∩ the horizon, each with an accelerator, a size and a duration
/// drawn from their distributions. Earliest start is the submission plus <see cref="LeadTime"/>, rounded
/// up to the hour; needed-by is the submission plus <see cref="NeededWithin"/>.
/// </summary>
public sealed record GeneratedDemand(
    string Id,
    string Customer,
    string WorkloadClass,
    WeightedChoice<string> Accelerators,
    IReadOnlyList<string> Regions,
    ArrivalProcess Arrivals,
    SizeDistribution Size,
    WeightedChoice<int> DurationHours,
    TimeSpan LeadTime,
    TimeSpan NeededWithin,
    PricePerGpuHour MaxPrice,
    bool AllOrNothing = false,
    DateTimeOffset? From = null,
    DateTimeOffset? Until = null,
    IReadOnlyList<Burst>? Bursts = null) : DemandStream(Id)
{
    public override TimeSpan Reach => LeadTime + TimeSpan.FromHours(1 + DurationHours.Options.Max(o => o.Value));

    public override double ExpectedCount(DateTimeOffset start, DateTimeOffset end)
    {
        var (from, until) = Window(start, end);
        var count = Arrivals.Expected(from, until);
        foreach (var burst in Bursts ?? [])
        {
            var (a, b) = (Max(burst.From, from), Min(burst.Until, until));
            count += new PoissonArrivals(burst.PerDay).Expected(a, b);
        }

        return count;
    }

    public override DemandStream Scaled(double factor) => this with
    {
        Arrivals = Arrivals.Scaled(factor),
        Bursts = Bursts?.Select(b => b with { PerDay = b.PerDay * factor }).ToArray(),
    };

    public override DemandCursor Open(DateTimeOffset start, DateTimeOffset end, Random random)
    {
        var (from, until) = Window(start, end);
        var samplers = new List<ArrivalSampler> { Arrivals.Sampler(from, until) };
        foreach (var burst in Bursts ?? [])
        {
            samplers.Add(new PoissonArrivals(burst.PerDay).Sampler(Max(burst.From, from), Min(burst.Until, until)));
        }

        return new GeneratedCursor(this, start, samplers, random);
    }

    /// <summary>Builds the request that arrives at <paramref name="at"/>, drawing its accelerator, size and duration in that order.</summary>
    internal CapacityRequest Create(DateTimeOffset at, long number, double yearsFromStart, Random random)
    {
        var accelerator = Accelerators.Sample(random);
        var gpus = Size.Sample(random, yearsFromStart);
        var hours = DurationHours.Sample(random);
        return new CapacityRequest
        {
            Id = new RequestId(string.Create(CultureInfo.InvariantCulture, $"{Id}-{number}")),
            Customer = Customer,
            WorkloadClass = WorkloadClass,
            Accelerator = accelerator,
            Gpus = new GpuCount(gpus),
            EarliestStart = CeilingHour(at + LeadTime),
            DurationHours = hours,
            Regions = Regions,
            MaxPrice = MaxPrice,
            NeededBy = at + NeededWithin,
            AllOrNothing = AllOrNothing,
        };
    }

    private (DateTimeOffset From, DateTimeOffset Until) Window(DateTimeOffset start, DateTimeOffset end) =>
        (From is { } f ? Max(f, start) : start, Until is { } u ? Min(u, end) : end);

    private static DateTimeOffset CeilingHour(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        var rest = ticks % TimeSpan.TicksPerHour;
        return rest == 0 ? at : new DateTimeOffset(ticks - rest + TimeSpan.TicksPerHour, TimeSpan.Zero);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>
    /// Merges the stream's own arrivals and its bursts in time order, one look-ahead instant per sampler.
    /// Ties go to the sampler listed first, so the order is deterministic.
    /// </summary>
    private sealed class GeneratedCursor : DemandCursor
    {
        private readonly GeneratedDemand _stream;
        private readonly DateTimeOffset _start;
        private readonly ArrivalSampler[] _samplers;
        private readonly DateTimeOffset?[] _heads;
        private readonly Random _random;
        private long _count;

        public GeneratedCursor(GeneratedDemand stream, DateTimeOffset start, List<ArrivalSampler> samplers, Random random)
        {
            _stream = stream;
            _start = start;
            _samplers = [.. samplers];
            _random = random;
            _heads = new DateTimeOffset?[_samplers.Length];
            for (var i = 0; i < _samplers.Length; i++)
            {
                _heads[i] = _samplers[i].Next(random);
            }
        }

        public override (DateTimeOffset At, CapacityRequest Request)? Next()
        {
            var best = -1;
            for (var i = 0; i < _heads.Length; i++)
            {
                if (_heads[i] is { } at && (best < 0 || at < _heads[best]!.Value))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return null;
            }

            var when = _heads[best]!.Value;
            _heads[best] = _samplers[best].Next(_random);
            var years = (when - _start).TotalDays / ArrivalProcess.DaysPerYear;
            return (when, _stream.Create(when, ++_count, years, _random));
        }
    }
}

/// <summary>A fixed list of requests, each submitted at its instant (a requests file): for hand-computed scenarios and replays.</summary>
public sealed record ScheduledDemand(string Id, IReadOnlyList<ScheduledRequest> Requests) : DemandStream(Id)
{
    public override TimeSpan Reach => Requests.Count == 0
        ? TimeSpan.Zero
        : Requests.Max(r => r.Request.End - r.SubmitAt) + TimeSpan.FromHours(1);

    public override double ExpectedCount(DateTimeOffset start, DateTimeOffset end) => Requests.Count(r => r.SubmitAt >= start && r.SubmitAt < end);

    public override DemandStream Scaled(double factor) => this;

    public override DemandCursor Open(DateTimeOffset start, DateTimeOffset end, Random random) =>
        new ListCursor(Requests.Where(r => r.SubmitAt >= start && r.SubmitAt < end).OrderBy(r => r.SubmitAt).ToArray());

    private sealed class ListCursor(ScheduledRequest[] requests) : DemandCursor
    {
        private int _next;

        public override (DateTimeOffset At, CapacityRequest Request)? Next() =>
            _next < requests.Length ? (requests[_next].SubmitAt, requests[_next++].Request) : null;
    }
}

/// <summary>Yields a stream's requests in submission order, one at a time, so a run holds only the next one. Not thread-safe.</summary>
public abstract class DemandCursor
{
    public abstract (DateTimeOffset At, CapacityRequest Request)? Next();
}
