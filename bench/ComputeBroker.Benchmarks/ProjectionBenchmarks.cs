using BenchmarkDotNet.Attributes;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// What a placement series costs the broker's projection once it has folded <see cref="Requests"/> placed requests: each
/// call asks for a series not built yet (as every dashboard poll does while capacity is being placed, since each allocation
/// makes the last one stale), and the projection's lock, which every commit's fold also takes, is held while it is built.
/// </summary>
[MemoryDiagnoser]
public class ProjectionBenchmarks
{
    private BrokerProjection _projection = null!;
    private int _limit;

    [Params(10_000, 100_000)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var scenario = new SourcingScenario(Requests);
        _projection = new BrokerProjection();
        var events = new List<SourcingEvent>(SourcingScenario.EventsPerRequest);
        long position = 0;
        foreach (var request in scenario.Requests)
        {
            events.Clear();
            scenario.Run(request, events);
            foreach (var e in events)
            {
                _projection.Apply(++position, e);
            }
        }
    }

    /// <summary>A series the projection has not built yet: a limit not asked for since its cache last held it.</summary>
    [Benchmark]
    public int PlacementSeries()
    {
        _limit = _limit % 500 + 1;
        return _projection.Placements(null, null, _limit).Points.Count;
    }
}
