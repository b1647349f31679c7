namespace ComputeBroker.Simulation.Demand;

/// <summary>A discrete choice among values with relative weights (they need not sum to 1). Immutable.</summary>
public sealed class WeightedChoice<T>
{
    private readonly T[] _values;
    private readonly double[] _cumulative;

    public WeightedChoice(IReadOnlyList<(T Value, double Weight)> options)
    {
        if (options.Count == 0)
        {
            throw new ArgumentException("A weighted choice needs at least one option.", nameof(options));
        }

        _values = new T[options.Count];
        _cumulative = new double[options.Count];
        var total = 0.0;
        for (var i = 0; i < options.Count; i++)
        {
            if (!(options[i].Weight > 0) || double.IsInfinity(options[i].Weight))
            {
                throw new ArgumentException($"Weight {options[i].Weight} of option {options[i].Value} is not a positive number.", nameof(options));
            }

            total += options[i].Weight;
            _values[i] = options[i].Value;
            _cumulative[i] = total;
        }

        Options = options.ToArray();
    }

    /// <summary>A choice that always gives <paramref name="value"/> and draws nothing from the generator.</summary>
    public static WeightedChoice<T> Always(T value) => new([(value, 1.0)]);

    public IReadOnlyList<(T Value, double Weight)> Options { get; }

    public bool IsSingle => _values.Length == 1;

    /// <summary>Draws one value. A single option draws nothing, so adding a constant never shifts the other draws.</summary>
    public T Sample(Random random)
    {
        if (_values.Length == 1)
        {
            return _values[0];
        }

        var u = random.NextDouble() * _cumulative[^1];
        for (var i = 0; i < _cumulative.Length - 1; i++)
        {
            if (u < _cumulative[i])
            {
                return _values[i];
            }
        }

        return _values[^1];
    }

    /// <summary>The weighted mean, for expectations.</summary>
    public double Mean(Func<T, double> value)
    {
        var sum = 0.0;
        var previous = 0.0;
        for (var i = 0; i < _values.Length; i++)
        {
            sum += value(_values[i]) * (_cumulative[i] - previous);
            previous = _cumulative[i];
        }

        return sum / _cumulative[^1];
    }
}

/// <summary>Draws from the standard normal distribution (Box–Muller, one pair of uniforms per draw: simple and deterministic).</summary>
internal static class Gaussian
{
    public static double Next(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>
/// How many GPUs a request asks for. Sizes grow by <see cref="GrowthPerYear"/> (compounded) from the
/// horizon's start; a grown or log-normal size is rounded to a multiple of <see cref="MultipleOf"/> and
/// kept within [<see cref="Min"/>, <see cref="Max"/>].
/// </summary>
public abstract record SizeDistribution(double GrowthPerYear, int MultipleOf, int Min, int Max)
{
    public int Sample(Random random, double yearsFromStart)
    {
        var raw = Draw(random);
        if (GrowthPerYear == 0 && this is ChoiceSize)
        {
            return (int)raw;
        }

        var grown = GrowthPerYear == 0 ? raw : raw * Math.Pow(1 + GrowthPerYear, yearsFromStart);
        var rounded = Math.Round(grown / MultipleOf, MidpointRounding.AwayFromZero) * MultipleOf;
        return (int)Math.Clamp(rounded, Min, Max);
    }

    /// <summary>The expected size at the horizon's start, for the report's notes.</summary>
    public abstract double Mean();

    protected abstract double Draw(Random random);
}

/// <summary>Sizes drawn from a list of weighted values, e.g. 8 GPUs 40%, 1024 GPUs 10%.</summary>
public sealed record ChoiceSize(WeightedChoice<int> Choices, double GrowthPerYear = 0, int MultipleOf = 8, int Min = 1, int Max = int.MaxValue)
    : SizeDistribution(GrowthPerYear, MultipleOf, Min, Max)
{
    public override double Mean() => Choices.Mean(v => v);

    protected override double Draw(Random random) => Choices.Sample(random);
}

/// <summary>Log-normal sizes: the median and the spread (sigma of the underlying normal), rounded to a multiple of GPUs.</summary>
public sealed record LogNormalSize(double Median, double Sigma, double GrowthPerYear = 0, int MultipleOf = 8, int Min = 8, int Max = int.MaxValue)
    : SizeDistribution(GrowthPerYear, MultipleOf, Min, Max)
{
    public override double Mean() => Median * Math.Exp(Sigma * Sigma / 2);

    protected override double Draw(Random random) => Median * Math.Exp(Sigma * Gaussian.Next(random));
}
