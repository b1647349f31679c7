namespace ComputeBroker.Simulation.Demand;

/// <summary>How the rate of a Poisson process changes over time.</summary>
public enum Growth
{
    /// <summary>A constant rate.</summary>
    None,

    /// <summary>rate(t) = per-day x (1 + growth-per-year x years).</summary>
    Linear,

    /// <summary>rate(t) = per-day x (1 + growth-per-year) ^ years.</summary>
    Exponential,
}

/// <summary>When requests of a demand stream arrive within a window. Immutable; sampling state lives in an <see cref="ArrivalSampler"/>.</summary>
public abstract record ArrivalProcess
{
    public const double DaysPerYear = 365.25;

    /// <summary>A fresh sampler over [<paramref name="from"/>, <paramref name="until"/>).</summary>
    public abstract ArrivalSampler Sampler(DateTimeOffset from, DateTimeOffset until);

    /// <summary>The expected number of arrivals in [<paramref name="from"/>, <paramref name="until"/>).</summary>
    public abstract double Expected(DateTimeOffset from, DateTimeOffset until);

    /// <summary>The process with <paramref name="factor"/> times as many arrivals.</summary>
    public abstract ArrivalProcess Scaled(double factor);
}

/// <summary>
/// A Poisson process whose rate starts at <see cref="PerDay"/> requests a day at the window's start and
/// grows linearly or exponentially. Arrivals are drawn exactly, by inverting the cumulative rate
/// (unit-rate exponential gaps mapped through the inverse of Λ(t) = ∫ rate), so a growing rate costs
/// nothing extra and no thinning draws are wasted.
/// </summary>
public sealed record PoissonArrivals(double PerDay, Growth Growth = Growth.None, double GrowthPerYear = 0) : ArrivalProcess
{
    public override ArrivalSampler Sampler(DateTimeOffset from, DateTimeOffset until) => new PoissonSampler(this, from, until);

    public override double Expected(DateTimeOffset from, DateTimeOffset until) =>
        until <= from ? 0 : Cumulative((until - from).TotalDays);

    public override ArrivalProcess Scaled(double factor) => this with { PerDay = PerDay * factor };

    /// <summary>Λ(t): the expected arrivals in the first <paramref name="days"/> days.</summary>
    public double Cumulative(double days)
    {
        var c = GrowthPerYear / DaysPerYear;
        switch (Growth)
        {
            case Growth.Linear when c != 0:
                // Once a falling linear rate reaches zero it stays there.
                var end = c < 0 ? Math.Min(days, -1 / c) : days;
                return PerDay * (end + (c * end * end / 2));
            case Growth.Exponential when GrowthPerYear != 0:
                var k = Math.Log(1 + GrowthPerYear) / DaysPerYear;
                return PerDay * (Math.Exp(k * days) - 1) / k;
            default:
                return PerDay * days;
        }
    }

    /// <summary>The t (days) at which Λ(t) reaches <paramref name="lambda"/>, or null when it never does.</summary>
    public double? Inverse(double lambda)
    {
        if (PerDay <= 0)
        {
            return null;
        }

        var x = lambda / PerDay;
        switch (Growth)
        {
            case Growth.Linear when GrowthPerYear != 0:
                var c = GrowthPerYear / DaysPerYear;
                var discriminant = 1 + (2 * c * x);
                return discriminant < 0 ? null : (Math.Sqrt(discriminant) - 1) / c;
            case Growth.Exponential when GrowthPerYear != 0:
                var k = Math.Log(1 + GrowthPerYear) / DaysPerYear;
                var inside = 1 + (k * x);
                return inside <= 0 ? null : Math.Log(inside) / k;
            default:
                return x;
        }
    }

    private sealed class PoissonSampler(PoissonArrivals process, DateTimeOffset from, DateTimeOffset until) : ArrivalSampler
    {
        private readonly double _windowDays = (until - from).TotalDays;
        private double _lambda;
        private bool _done;

        public override DateTimeOffset? Next(Random random)
        {
            if (_done)
            {
                return null;
            }

            _lambda += -Math.Log(1.0 - random.NextDouble());
            if (process.Inverse(_lambda) is not { } days || days >= _windowDays)
            {
                _done = true;
                return null;
            }

            // Whole seconds: instants print cleanly and stay in order (the floor is monotone).
            var at = from.AddSeconds(Math.Floor(days * 86400.0));
            if (at >= until)
            {
                _done = true;
                return null;
            }

            return at;
        }
    }
}

/// <summary>One arrival every <see cref="Every"/>, the first at the window's start: for hand-computed scenarios.</summary>
public sealed record PeriodicArrivals(TimeSpan Every) : ArrivalProcess
{
    public override ArrivalSampler Sampler(DateTimeOffset from, DateTimeOffset until) => new PeriodicSampler(Every, from, until);

    public override double Expected(DateTimeOffset from, DateTimeOffset until) =>
        until <= from ? 0 : Math.Ceiling((until - from).Ticks / (double)Every.Ticks);

    public override ArrivalProcess Scaled(double factor) =>
        this with { Every = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, (long)(Every.Ticks / factor))) };

    private sealed class PeriodicSampler(TimeSpan every, DateTimeOffset from, DateTimeOffset until) : ArrivalSampler
    {
        private DateTimeOffset _next = from;

        public override DateTimeOffset? Next(Random random)
        {
            if (_next >= until)
            {
                return null;
            }

            var at = _next;
            _next += every;
            return at;
        }
    }
}

/// <summary>Draws the arrival instants of one process in order. Not thread-safe: one per run.</summary>
public abstract class ArrivalSampler
{
    /// <summary>The next arrival, or null when the window is over.</summary>
    public abstract DateTimeOffset? Next(Random random);
}
