using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Reporting;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Runtime;

/// <summary>A request refused at submission, with why.</summary>
public sealed record RejectedSubmission(CapacityRequest Request, Rejection Rejection);

/// <summary>What a demo run produced: every request's events in order, the refused submissions and the summary.</summary>
public sealed record DemoResult(
    IReadOnlyList<SourcingEvent> Events,
    IReadOnlyDictionary<RequestId, IReadOnlyList<SourcingEvent>> ByRequest,
    IReadOnlyList<RejectedSubmission> Rejected,
    SourcingSummary Summary);

/// <summary>
/// Runs a fixed list of requests through the engine on a virtual clock with every provider simulated
/// from its definition, to completion. Deterministic for a seed.
/// </summary>
public static class DemoRunner
{
    public static DemoResult Run(
        ContractBook book,
        IReadOnlyList<ProviderDefinition> providers,
        BrokerPolicy policy,
        IReadOnlyList<(DateTimeOffset SubmitAt, CapacityRequest Request)> requests,
        int seed = 1)
    {
        var (origin, hours) = Horizon(providers, requests);
        var simulated = providers.Select(p => new SimulatedProvider(p, origin, hours)).ToArray();
        var start = requests.Count == 0 ? origin : requests.Min(r => r.SubmitAt);
        var broker = new VirtualBroker(new SourcingEngine(policy), book, new ProviderCatalog(providers), simulated, new VirtualClock(start), new Random(seed));
        var events = new List<SourcingEvent>();
        var rejected = new List<RejectedSubmission>();
        var summary = new SourcingSummaryBuilder();
        broker.EventRecorded = events.Add;
        broker.RequestClosed = summary.Add;
        broker.SubmissionRejected = (request, rejection) => rejected.Add(new RejectedSubmission(request, rejection));
        foreach (var (at, request) in requests.OrderBy(r => r.SubmitAt))
        {
            broker.Submit(at, request);
        }

        broker.Run();
        var byRequest = events
            .GroupBy(e => e.RequestId)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<SourcingEvent>)g.ToArray());
        return new DemoResult(events, byRequest, rejected, summary.Build());
    }

    /// <summary>From the first midnight (UTC) before anything happens to a month after the last request ends.</summary>
    public static (DateTimeOffset Origin, int Hours) Horizon(IReadOnlyList<ProviderDefinition> providers, IReadOnlyList<(DateTimeOffset SubmitAt, CapacityRequest Request)> requests)
    {
        var instants = providers.SelectMany(p => p.Capacity).Select(c => c.From)
            .Concat(requests.Select(r => r.SubmitAt))
            .Concat(requests.Select(r => r.Request.EarliestStart))
            .ToArray();
        var first = instants.Length == 0 ? DateTimeOffset.UnixEpoch : instants.Min();
        var origin = new DateTimeOffset(first.UtcDateTime.Date, TimeSpan.Zero);
        var last = requests.Count == 0 ? origin : requests.Max(r => r.Request.End);
        var hours = (int)Math.Ceiling((last - origin).TotalHours) + (24 * 30);
        return (origin, Math.Max(hours, 24));
    }
}
