using ComputeBroker.Domain;
using ComputeBroker.Simulation.Demand;
using ComputeBroker.Simulation.Finance;

namespace ComputeBroker.Simulation.Tests;

public sealed class DemandTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(Growth.None, 0.0)]
    [InlineData(Growth.Linear, 0.5)]
    [InlineData(Growth.Linear, -0.3)]
    [InlineData(Growth.Exponential, 0.6)]
    [InlineData(Growth.Exponential, -0.5)]
    public void PoissonInverse_UndoesTheCumulativeRate(Growth growth, double perYear)
    {
        var process = new PoissonArrivals(2.0, growth, perYear);

        foreach (var days in new[] { 0.5, 10, 100, 700 })
        {
            Assert.Equal(days, process.Inverse(process.Cumulative(days))!.Value, 6);
        }
    }

    [Fact]
    public void ExponentialGrowth_MultipliesTheRateEachYear()
    {
        var process = new PoissonArrivals(1.0, Growth.Exponential, 1.0);

        var first = process.Expected(Start, Start.AddDays(365.25));
        var second = process.Expected(Start.AddDays(0), Start.AddDays(2 * 365.25)) - first;

        Assert.Equal(2.0, second / first, 6);
        Assert.Equal(365.25 / Math.Log(2), first, 6); // one request a day at the start, two by the end of the year
    }

    [Fact]
    public void PoissonSampler_DrawsAboutTheExpectedCount_InOrder_WithinTheWindow()
    {
        var process = new PoissonArrivals(20, Growth.Linear, 1.0);
        var end = Start.AddDays(365);
        var sampler = process.Sampler(Start, end);
        var random = new Random(42);
        var arrivals = new List<DateTimeOffset>();
        while (sampler.Next(random) is { } at)
        {
            arrivals.Add(at);
        }

        var expected = process.Expected(Start, end);
        Assert.InRange(arrivals.Count, expected - (5 * Math.Sqrt(expected)), expected + (5 * Math.Sqrt(expected)));
        Assert.Equal(arrivals.Order().ToArray(), arrivals);
        Assert.All(arrivals, a => Assert.True(a >= Start && a < end));
        // Rate doubles over the year: the second half holds about 1.67 times the first half's arrivals (1.75/1.25 = 1.4 to 2).
        var half = Start.AddDays(182.5);
        var ratio = arrivals.Count(a => a >= half) / (double)arrivals.Count(a => a < half);
        Assert.InRange(ratio, 1.3, 1.5);
    }

    [Fact]
    public void PeriodicArrivals_AreExact()
    {
        var sampler = new PeriodicArrivals(TimeSpan.FromDays(7)).Sampler(Start, Start.AddDays(21));

        Assert.Equal(Start, sampler.Next(new Random(1)));
        Assert.Equal(Start.AddDays(7), sampler.Next(new Random(1)));
        Assert.Equal(Start.AddDays(14), sampler.Next(new Random(1)));
        Assert.Null(sampler.Next(new Random(1)));
    }

    [Fact]
    public void LogNormalSizes_AreMultiplesOfEight_WithinBounds_AroundTheMedian()
    {
        var size = new LogNormalSize(2048, 1.0, Min: 64, Max: 16384);
        var random = new Random(7);

        var draws = Enumerable.Range(0, 5000).Select(_ => size.Sample(random, 0)).ToArray();

        Assert.All(draws, d => Assert.True(d % 8 == 0 && d >= 64 && d <= 16384, $"{d}"));
        Assert.InRange(draws.Order().ElementAt(2500), 1800, 2300);
    }

    [Fact]
    public void SizeGrowth_ScalesChoicesByTheYearsElapsed()
    {
        var size = new ChoiceSize(WeightedChoice<int>.Always(1000), GrowthPerYear: 1.0, MultipleOf: 8);

        Assert.Equal(1000, size.Sample(new Random(1), 0));
        Assert.Equal(4000, size.Sample(new Random(1), 2));
    }

    [Fact]
    public void WeightedChoice_FollowsItsWeights()
    {
        var choice = new WeightedChoice<string>([("a", 3), ("b", 1)]);
        var random = new Random(3);

        var a = Enumerable.Range(0, 8000).Count(_ => choice.Sample(random) == "a");

        Assert.InRange(a, 5800, 6200);
    }

    [Fact]
    public void Bursts_AddArrivalsOnlyInsideTheirWindow()
    {
        var stream = new GeneratedDemand("s", "acme", "training", WeightedChoice<string>.Always("H100"), [], new PeriodicArrivals(TimeSpan.FromDays(10)),
            new ChoiceSize(WeightedChoice<int>.Always(8)), WeightedChoice<int>.Always(24), TimeSpan.Zero, TimeSpan.FromDays(2), PricePerGpuHour.Parse("1.00 USD"),
            Bursts: [new Burst(Start.AddDays(30), Start.AddDays(40), 5)]);
        var cursor = stream.Open(Start, Start.AddDays(100), new Random(5));
        var all = new List<DateTimeOffset>();
        while (cursor.Next() is { } next)
        {
            all.Add(next.At);
        }

        var outside = all.Where(a => a < Start.AddDays(30) || a >= Start.AddDays(40)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => Start.AddDays(i * 10)).Where(a => a < Start.AddDays(30) || a >= Start.AddDays(40)), outside);
        Assert.InRange(all.Count - 10, 30, 75);
        Assert.Equal(all.Order().ToArray(), all);
    }

    [Fact]
    public void GeneratedRequests_StartOnTheHour_AndAreNeededWithinTheirWindow()
    {
        var stream = new GeneratedDemand("s", "acme", "training", WeightedChoice<string>.Always("H100"), ["east"], new PoissonArrivals(5),
            new ChoiceSize(WeightedChoice<int>.Always(8)), WeightedChoice<int>.Always(24), TimeSpan.FromHours(30), TimeSpan.FromDays(2), PricePerGpuHour.Parse("1.00 USD"));
        var cursor = stream.Open(Start, Start.AddDays(10), new Random(5));

        var (at, request) = cursor.Next()!.Value;

        Assert.Equal("s-1", request.Id.Value);
        Assert.Equal(0, request.EarliestStart.Ticks % TimeSpan.TicksPerHour);
        Assert.InRange(request.EarliestStart - at, TimeSpan.FromHours(30), TimeSpan.FromHours(31));
        Assert.Equal(at + TimeSpan.FromDays(2), request.NeededBy);
        Assert.Equal(["east"], request.Regions);
    }
}

public sealed class FinancialTrajectoryTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Quarters_AreCalendarQuarters_CutToTheHorizon_WithPartialRevenueProRata()
    {
        var trajectory = new FinancialTrajectory("acme", Money.Usd(9_000m), [new GrowthStep(DateTimeOffset.MinValue, 0)], 0.5, 0.5, Start);

        var quarters = trajectory.Quarters(Start, new DateTimeOffset(2025, 8, 16, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(3, quarters.Count);
        Assert.Equal(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), quarters[0].End);
        Assert.Equal(Money.Usd(9_000m), quarters[0].Revenue);
        Assert.Equal(Money.Usd(4_500m), quarters[0].Profit);
        // 2025-07-01 .. 2025-08-16 is 46 of the quarter's 92 days.
        Assert.Equal(Money.Usd(4_500m), quarters[2].Revenue);
    }

    [Fact]
    public void GrowthSteps_CompoundEachOverItsOwnYears()
    {
        var trajectory = new FinancialTrajectory("acme", Money.Usd(1_000m), [new GrowthStep(Start, 1.0), new GrowthStep(Start.AddDays(365.25), 0.5)], 0, 0, Start);

        Assert.Equal(2.0, trajectory.GrowthFactor(Start, Start.AddDays(365.25)), 9);
        Assert.Equal(3.0, trajectory.GrowthFactor(Start, Start.AddDays(2 * 365.25)), 9);
    }

    [Fact]
    public void Margin_MovesLinearlyToItsEnd_ThenStays()
    {
        var trajectory = new FinancialTrajectory("acme", Money.Usd(1m), [], -1.0, 0.5, Start.AddDays(100));

        Assert.Equal(-1.0, trajectory.MarginAt(Start, Start), 9);
        Assert.Equal(-0.25, trajectory.MarginAt(Start, Start.AddDays(50)), 9);
        Assert.Equal(0.5, trajectory.MarginAt(Start, Start.AddDays(400)), 9);
    }
}
