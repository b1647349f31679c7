using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Runtime;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Runtime;

/// <summary>A submission or cancellation to play on the virtual clock.</summary>
public sealed record Submission(DateTimeOffset At, CapacityRequest Request, DateTimeOffset? CancelAt = null);

/// <summary>
/// One complete run of a <see cref="VirtualBroker"/> over simulated providers, with everything it
/// reported kept for assertions: the event log, each request's final live state, and the rejections.
/// </summary>
public sealed class BrokerRun
{
    public const int HorizonHours = 24 * 14;

    private BrokerRun(VirtualBroker broker, IReadOnlyDictionary<ProviderId, SimulatedProvider> simulated, ContractBook book, IReadOnlyList<Submission> submissions)
    {
        Broker = broker;
        Simulated = simulated;
        Book = book;
        Submissions = submissions;
    }

    public VirtualBroker Broker { get; }

    public IReadOnlyDictionary<ProviderId, SimulatedProvider> Simulated { get; }

    public ContractBook Book { get; }

    public IReadOnlyList<Submission> Submissions { get; }

    public List<SourcingEvent> Events { get; } = [];

    /// <summary>Every final state the broker reported, in closing order (a request reported twice appears twice).</summary>
    public List<RequestState> ClosedStates { get; } = [];

    public List<(CapacityRequest Request, Rejection Rejection)> Rejected { get; } = [];

    public static BrokerRun Execute(ContractBook book, IReadOnlyList<ProviderDefinition> providers, IReadOnlyList<Submission> submissions, int seed, BrokerPolicy? policy = null)
    {
        var simulated = providers
            .Where(p => p.Connector == ConnectorKind.Simulated)
            .Select(p => new SimulatedProvider(p, A.T0, HorizonHours))
            .ToDictionary(p => p.Id);
        var broker = new VirtualBroker(new SourcingEngine(policy ?? BrokerPolicy.Default), book, new ProviderCatalog(providers), simulated.Values, new VirtualClock(A.T0), new Random(seed));
        var run = new BrokerRun(broker, simulated, book, submissions);
        broker.EventRecorded = run.Events.Add;
        broker.RequestClosed = run.ClosedStates.Add;
        broker.SubmissionRejected = (request, rejection) => run.Rejected.Add((request, rejection));
        foreach (var submission in submissions)
        {
            broker.Submit(submission.At, submission.Request);
            if (submission.CancelAt is { } cancelAt)
            {
                broker.Cancel(cancelAt, submission.Request.Id, "cancelled by the customer");
            }
        }

        broker.Run();
        return run;
    }

    public IEnumerable<SourcingEvent> EventsOf(RequestId id) => Events.Where(e => e.RequestId == id);

    public IReadOnlyList<string> Describe() => Events.Select(A.Describe).ToArray();
}
