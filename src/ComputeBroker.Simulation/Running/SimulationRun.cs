using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Providers;
using ComputeBroker.Runtime;
using ComputeBroker.Simulation.Demand;
using ComputeBroker.Simulation.Finance;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Scenarios;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Running;

/// <summary>What a run writes and whom it tells as it goes. Every hook is optional.</summary>
public sealed record RunOptions
{
    /// <summary>Where each request's outcome row goes as it closes; null writes none.</summary>
    public TextWriter? RequestsCsv { get; init; }

    /// <summary>Every sourcing event, in order (tests feed them to the audit verifier).</summary>
    public Action<SourcingEvent>? OnEvent { get; init; }

    /// <summary>Every closed request's final state.</summary>
    public Action<RequestState>? OnClosed { get; init; }

    /// <summary>The fraction of the horizon done, from 0 to 1, every few virtual days.</summary>
    public Action<double>? Progress { get; init; }

    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// One run of a scenario on a virtual clock: the <see cref="VirtualBroker"/> decides every request with the
/// same engine as the service, simulated providers answer from their capacity timelines, demand arrives
/// from the scenario's generators (one pending arrival per stream, drawn when the previous one fires), and
/// the customer's quarterly reports go into the ledger at each quarter's end, where a trigger that fires
/// terminates its clauses in the broker's book from the period's end. Deterministic: the same scenario and
/// seed give the same events, metrics and CSV bytes. Randomness is split so that variants compare fairly:
/// the broker's latencies and failures come from <c>Random(seed)</c>, each demand stream from its own
/// generator seeded from the seed and the stream's position, and revenue noise from another; so two
/// variants run with one seed see the same demand.
/// </summary>
public static class SimulationRun
{
    private static readonly TimeSpan ProgressStep = TimeSpan.FromDays(7);

    public static RunResult Execute(Scenario scenario, int seed, RunOptions? options = null)
    {
        options ??= new RunOptions();
        var start = scenario.Start;
        var end = scenario.End;
        var origin = new DateTimeOffset(start.UtcDateTime.Date, TimeSpan.Zero);
        var reach = scenario.Demand.Count == 0 ? TimeSpan.Zero : scenario.Demand.Max(d => d.Reach);
        var hours = (int)Math.Ceiling((end - origin + reach + TimeSpan.FromDays(30)).TotalHours);
        var simulated = scenario.Providers.Select(p => new SimulatedProvider(p, origin, hours)).ToArray();
        var catalog = new ProviderCatalog(scenario.Providers);
        var broker = new VirtualBroker(new SourcingEngine(scenario.Policy), scenario.Book, catalog, simulated, new VirtualClock(start), new Random(seed));
        var axis = new TimeAxis(start, end);
        var metrics = new MetricsCollector(axis, catalog.All.Select(p => p.Id).ToArray(), scenario.Holder(), scenario.Book, options.RequestsCsv);

        var onEvent = options.OnEvent;
        broker.EventRecorded = onEvent is null ? metrics.OnEvent : e =>
        {
            metrics.OnEvent(e);
            onEvent(e);
        };
        var onClosed = options.OnClosed;
        broker.RequestClosed = onClosed is null ? metrics.OnClosed : s =>
        {
            metrics.OnClosed(s);
            onClosed(s);
        };
        broker.SubmissionRejected = (request, rejection) => metrics.OnRejected(request, rejection, broker.Clock.GetUtcNow());

        // Reports first: at a quarter's end the report (and a trigger it fires) comes before any submission at that instant.
        ScheduleReports(scenario, seed, broker, metrics);
        for (var i = 0; i < scenario.Demand.Count; i++)
        {
            var cursor = scenario.Demand[i].Open(start, end, new Random(StreamSeed(seed, i)));
            ScheduleNext(broker, cursor);
        }

        var span = (end - start).Ticks;
        long pendingSum = 0;
        var samples = 0;
        var peakOpen = 0;
        var peakPending = 0;
        for (var at = start + ProgressStep; at < end; at += ProgressStep)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            broker.Run(at);
            pendingSum += broker.PendingActions;
            samples++;
            peakOpen = Math.Max(peakOpen, broker.OpenRequests);
            peakPending = Math.Max(peakPending, broker.PendingActions);
            options.Progress?.Invoke((double)(at - start).Ticks / span);
        }

        broker.Run();
        options.Progress?.Invoke(1.0);
        return metrics.Build(seed, broker.Book, broker.ScheduledActions, broker.OpenRequests, samples == 0 ? 0 : (double)pendingSum / samples) with { PeakOpenRequests = peakOpen, PeakPendingActions = peakPending };
    }

    /// <summary>The seed of demand stream <paramref name="index"/>: fixed for a run seed, different per stream.</summary>
    public static int StreamSeed(int seed, int index) => unchecked((seed * 1_000_003) + ((index + 1) * 7_919));

    private static void ScheduleNext(VirtualBroker broker, DemandCursor cursor)
    {
        if (cursor.Next() is not { } next)
        {
            return;
        }

        var (at, request) = next;
        broker.Schedule(at, () =>
        {
            broker.SubmitNow(request);
            ScheduleNext(broker, cursor);
        });
    }

    private static void ScheduleReports(Scenario scenario, int seed, VirtualBroker broker, MetricsCollector metrics)
    {
        if (scenario.Financials is not { } financials)
        {
            return;
        }

        var ledger = new LedgerState();
        var noise = new Random(unchecked((seed * 31) + 17));
        foreach (var quarter in financials.Quarters(scenario.Start, scenario.End, noise))
        {
            broker.Schedule(quarter.End, () =>
            {
                var decision = LedgerEngine.RecordReport(ledger, broker.Book, financials.Customer, quarter.Start, quarter.End, quarter.Revenue, quarter.Profit, broker.Clock.GetUtcNow());
                if (decision.Rejection is { } rejection)
                {
                    throw new InvalidOperationException($"The ledger refused the simulated report for {quarter.Start:yyyy-MM-dd}..{quarter.End:yyyy-MM-dd}: {rejection.Message}");
                }

                foreach (var fired in decision.Events.OfType<TriggerFired>())
                {
                    foreach (var termination in fired.Terminations)
                    {
                        broker.Book = broker.Book.WithTermination(termination);
                    }
                }

                metrics.OnReport(quarter, decision.Events, ledger);
            });
        }
    }
}
