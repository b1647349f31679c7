using BenchmarkDotNet.Attributes;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// <see cref="ClauseResolver.Resolve"/> alone, for the scenario's request against its contract book
/// (one agreement: a first-refusal clause that applies, plus two non-placement clauses).
/// </summary>
[MemoryDiagnoser]
public class ClauseResolverBenchmarks
{
    private SourcingScenario _scenario = null!;
    private CapacityRequest _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scenario = new SourcingScenario(1);
        _request = _scenario.Requests[0];
        var (resolution, conflict) = ClauseResolver.Resolve(_scenario.Book, _request, SourcingScenario.SubmittedAt, SourcingScenario.NoWaiverUse);
        if (conflict is not null || resolution?.Route != SourcingRoute.FirstRefusal)
        {
            throw new InvalidOperationException($"scenario: expected the first-refusal route, got {resolution?.Route} {conflict?.Message}");
        }
    }

    [Benchmark]
    public ClauseResolution? Resolve() =>
        ClauseResolver.Resolve(_scenario.Book, _request, SourcingScenario.SubmittedAt, SourcingScenario.NoWaiverUse).Resolution;
}
