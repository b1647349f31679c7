using BenchmarkDotNet.Attributes;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// Requests decided per second through the full sourcing workflow, in memory, on one thread, against
/// the bare event fold of the same events as a baseline. Each invocation handles
/// <see cref="Requests"/> requests, and <c>OperationsPerInvoke</c> makes every reported figure
/// per request.
/// </summary>
[MemoryDiagnoser]
public class SourcingBenchmarks
{
    /// <summary>Requests per invocation; a constant because <c>OperationsPerInvoke</c> must be one.</summary>
    public const int Requests = 10_000;

    private SourcingScenario _scenario = null!;
    private CapacityRequest[] _requests = null!;
    private SourcingEvent[][] _recorded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scenario = new SourcingScenario(Requests);
        _scenario.Verify();
        _requests = _scenario.Requests;

        // The fold baseline replays exactly the events the workflow decides for the same requests.
        _recorded = new SourcingEvent[Requests][];
        var events = new List<SourcingEvent>(SourcingScenario.EventsPerRequest);
        for (var i = 0; i < Requests; i++)
        {
            events.Clear();
            _scenario.Run(_requests[i], events);
            _recorded[i] = [.. events];
        }
    }

    /// <summary>
    /// Submit → holder accepts part → four quotes (window closes, four awards) → four confirmations → closed.
    /// Includes creating each request's <see cref="RequestState"/>, as the engine's caller must.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public long Workflow()
    {
        var scenario = _scenario;
        long placed = 0;
        foreach (var request in _requests)
        {
            placed += scenario.Run(request).Allocated.Value;
        }

        return placed;
    }

    /// <summary>The bare fold: a new <see cref="RequestState"/> and <see cref="RequestState.Apply"/> over the recorded events.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public long Fold()
    {
        long placed = 0;
        foreach (var events in _recorded)
        {
            var state = new RequestState();
            foreach (var e in events)
            {
                state.Apply(e);
            }

            placed += state.Allocated.Value;
        }

        return placed;
    }
}
