using ComputeBroker.Audit;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Simulation.Scenarios;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Tests;

/// <summary>
/// The shipped scenarios run in full, with every event kept: the audit verifier replays them (I1 to I4),
/// GPUs are conserved, capacity is never exceeded at any hour, and nothing is kept per finished request.
/// </summary>
public sealed class EngineInvariantTests
{
    public static TheoryData<string, int> Scenarios => new()
    {
        { "examples/scenarios/default.yaml", 0 },
        { "examples/scenarios/profit-trigger.yaml", 0 },
        { "examples/scenarios/response-window.yaml", 0 },
        { "examples/scenarios/response-window.yaml", 1 },
        { "examples/scenarios/january-2025-terms.yaml", 0 },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void EverySimulatedRequest_PassesTheAuditVerifier(string file, int variant)
    {
        var scenario = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example(file))).Variants[variant];
        var events = new List<SourcingEvent>();

        var result = SimulationRun.Execute(scenario, 3, new RunOptions { OnEvent = events.Add });

        var report = AuditVerifier.Verify(events, result.FinalBook);
        Assert.True(report.Passed, string.Join("\n", report.Violations.Take(20)));
        Assert.Equal(result.Totals.Requests - result.Totals.Rejected, report.RequestsChecked);
        Assert.True(report.RequestsChecked > 1000, "the scenario should exercise the engine with many requests");
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void GpusDemanded_EqualPlacedPlusUnfulfilled_InTotalAndEveryMonth(string file, int variant)
    {
        var scenario = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example(file))).Variants[variant];
        long requested = 0, allocated = 0, unfulfilled = 0;

        var result = SimulationRun.Execute(scenario, 5, new RunOptions
        {
            OnClosed = s =>
            {
                requested += s.Request!.Gpus.Value;
                allocated += s.Closed!.Allocated.Value;
                unfulfilled += s.Closed.Unfulfilled.Value;
            },
        });

        var t = result.Totals;
        Assert.Equal(t.GpusDemanded, t.GpusPlaced + t.GpusUnfulfilled);
        Assert.Equal(requested, allocated + unfulfilled);
        Assert.Equal(allocated, t.GpusPlaced);
        Assert.Equal(t.GpusPlaced, result.PlacedByProvider.Values.Sum());
        var demanded = result.MonthlySeries("gpus_demanded").Values;
        var placed = result.MonthlySeries("gpus_placed").Values;
        var short_ = result.MonthlySeries("gpus_unfulfilled").Values;
        for (var m = 0; m < demanded.Length; m++)
        {
            Assert.Equal(demanded[m], placed[m] + short_[m]);
        }
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void CapacityPerProviderAndAccelerator_IsNeverExceeded_AtAnyHour(string file, int variant)
    {
        var scenario = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example(file))).Variants[variant];
        var origin = scenario.Start;
        var hours = (int)(scenario.End - origin).TotalHours + (24 * 400);
        var usage = new Dictionary<(ProviderId, string), long[]>();

        SimulationRun.Execute(scenario, 7, new RunOptions
        {
            OnClosed = s =>
            {
                foreach (var a in s.Allocations)
                {
                    var key = (a.Provider, s.Request!.Accelerator);
                    if (!usage.TryGetValue(key, out var delta))
                    {
                        usage[key] = delta = new long[hours + 1];
                    }

                    var from = (int)(s.Request.EarliestStart - origin).TotalHours;
                    delta[from] += a.Gpus.Value;
                    delta[from + s.Request.DurationHours] -= a.Gpus.Value;
                }
            },
        });

        Assert.NotEmpty(usage);
        foreach (var ((provider, accelerator), delta) in usage)
        {
            var changes = scenario.Providers.Single(p => p.Id == provider).Capacity.Where(c => c.Accelerator == accelerator).ToArray();
            long used = 0;
            for (var h = 0; h < hours; h++)
            {
                used += delta[h];
                if (used == 0)
                {
                    continue;
                }

                var at = origin.AddHours(h);
                var capacity = changes.Sum(c => c.ContributionAt(at));
                Assert.True(used <= capacity, $"{provider} {accelerator} at {at:O}: {used} GPUs in use, capacity {capacity}");
            }
        }
    }

    [Fact]
    public void TinyWorld_CapacityIsFullyUsedButNeverExceeded_WhenDemandOutgrowsIt()
    {
        // Two 80-GPU requests a day against azure's 100 (one pool): the second each day gets only 20 from azure.
        var scenario = Worlds.Tiny(Worlds.Weekly(80).Replace("every: P7D", "every: PT12H", StringComparison.Ordinal));
        var inUse = new Dictionary<DateTimeOffset, int>();

        SimulationRun.Execute(scenario, 1, new RunOptions
        {
            OnClosed = s =>
            {
                foreach (var a in s.Allocations.Where(a => a.Provider == new ProviderId("azure")))
                {
                    for (var h = 0; h < s.Request!.DurationHours; h++)
                    {
                        var at = s.Request.EarliestStart.AddHours(h);
                        inUse[at] = inUse.GetValueOrDefault(at) + a.Gpus.Value;
                    }
                }
            },
        });

        Assert.Equal(100, inUse.Values.Max());
        Assert.All(inUse.Values, v => Assert.True(v <= 100));
    }

    [Fact]
    public void CompleteRun_KeepsNothingPerFinishedRequest()
    {
        var result = SimulationRun.Execute(Worlds.Default(), 2);

        Assert.Equal(0, result.OpenRequestsAtEnd);
        Assert.Equal(0, result.TrackedRequestsAtEnd);
        Assert.True(result.Totals.Requests > 5000);
    }

    [Fact]
    public void DefaultScenario_ExercisesEveryFirstRefusalAnswerAndTheAmendment()
    {
        var events = new List<SourcingEvent>();
        var result = SimulationRun.Execute(Worlds.Default(), 1, new RunOptions { OnEvent = events.Add });

        var t = result.Totals;
        Assert.True(t.HolderAccepted > 0 && t.HolderPartial > 0 && t.HolderDeclined > 0 && t.HolderExpired > 0, $"{t.HolderAccepted}/{t.HolderPartial}/{t.HolderDeclined}/{t.HolderExpired}");
        var amendment = new DateTimeOffset(2025, 10, 28, 0, 0, 0, TimeSpan.Zero);
        var resolved = events.OfType<ClausesResolved>().ToArray();
        Assert.Contains(resolved, r => r.At < amendment && r.Route == Contracts.SourcingRoute.FirstRefusal);
        Assert.DoesNotContain(resolved, r => r.At >= amendment && r.Route == Contracts.SourcingRoute.FirstRefusal);
        Assert.Contains(resolved, r => r.Route == Contracts.SourcingRoute.Waived);
        Assert.Contains(resolved, r => r.Route == Contracts.SourcingRoute.Exclusive);
    }
}
