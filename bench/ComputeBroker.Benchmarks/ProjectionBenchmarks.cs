using BenchmarkDotNet.Attributes;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// What the broker's projection costs its readers once it has folded <see cref="Requests"/> requests, one in a hundred still
/// waiting for the holder's answer and the rest placed. The projection's lock, which every commit's fold also takes, is held
/// for each call.
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
        for (var i = 0; i < scenario.Requests.Length; i++)
        {
            events.Clear();
            scenario.Run(scenario.Requests[i], events);

            // Submitted, clauses resolved, offer made: the request waits for the holder's answer.
            foreach (var e in i % 100 == 0 ? events.Take(3) : events)
            {
                _projection.Apply(++position, e);
            }
        }

        var waiting = _projection.Overview().RequestsByState.GetValueOrDefault("awaiting-offer");
        if (waiting != (Requests + 99) / 100)
        {
            throw new InvalidOperationException($"setup: expected {(Requests + 99) / 100} requests awaiting an offer, found {waiting}");
        }
    }

    /// <summary>
    /// A placement series the projection has not built yet (a limit not asked for since its cache last held it): what every
    /// dashboard poll costs while capacity is being placed, since each allocation makes the last series stale.
    /// </summary>
    [Benchmark]
    public int PlacementSeries()
    {
        _limit = _limit % 500 + 1;
        return _projection.Placements(null, null, _limit).Points.Count;
    }

    /// <summary>The first page of the requests waiting for an offer (the dashboard's and the CLI's list of one state), newest first.</summary>
    [Benchmark]
    public int OpenRequestsPage() => _projection.Requests("awaiting-offer", null, null, 50).Items.Count;
}
