using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Runtime;

/// <summary>
/// Drives the <see cref="SourcingEngine"/> on a virtual clock with simulated providers and no I/O:
/// a discrete-event loop where submissions, provider answers (after their latency) and deadlines are
/// timed actions run in time order (ties in scheduling order, so a run is deterministic for a seed).
/// The demo and the simulator use it; the durable service drives the same engine with a wall clock.
/// A closed request's state is dropped, so memory follows the requests in flight, not the finished ones;
/// for the same reason request ids must be unique over the run (a second submission of an id still in
/// flight is refused, one of a closed id is not detected). The durable service enforces uniqueness in the log.
/// Not thread-safe: one broker per thread.
/// </summary>
public sealed class VirtualBroker
{
    // Keyed by UTC ticks rather than DateTimeOffset: the same order (instants compare by UTC time), cheaper to compare.
    private readonly PriorityQueue<Action, (long UtcTicks, long Seq)> _queue = new();
    private readonly Dictionary<RequestId, Tracked> _open = [];
    private readonly Dictionary<ProviderId, SimulatedProvider> _simulated;
    private readonly SimulatedProvider[] _providers;
    private readonly WaiverLedger _waivers = new();
    private readonly Func<AgreementId, ClauseId, int> _waiverUsed;
    private long _seq;

    public VirtualBroker(SourcingEngine engine, ContractBook book, ProviderCatalog catalog, IEnumerable<SimulatedProvider> simulated, VirtualClock clock, Random random)
    {
        Engine = engine;
        Book = book;
        Catalog = catalog;
        Clock = clock;
        Random = random;
        _simulated = simulated.ToDictionary(p => p.Id);
        _providers = [.. _simulated.Values];
        _waiverUsed = _waivers.Used;
    }

    public SourcingEngine Engine { get; }

    /// <summary>The agreements in force; replaced when an agreement is amended or a trigger fires.</summary>
    public ContractBook Book { get; set; }

    public ProviderCatalog Catalog { get; }

    public VirtualClock Clock { get; }

    public Random Random { get; }

    public WaiverLedger Waivers => _waivers;

    /// <summary>Called with every event, in order, as it is decided.</summary>
    public Action<SourcingEvent>? EventRecorded { get; set; }

    /// <summary>Called once per request when it reaches its terminal state, with its final state.</summary>
    public Action<RequestState>? RequestClosed { get; set; }

    /// <summary>Called when a submission is refused (invalid request or clause conflict); nothing was recorded.</summary>
    public Action<CapacityRequest, Rejection>? SubmissionRejected { get; set; }

    public int OpenRequests => _open.Count;

    public int PendingActions => _queue.Count;

    /// <summary>Timed actions scheduled since the broker was made (submissions, answers, deadlines): the event queue's workload.</summary>
    public long ScheduledActions => _seq;

    public SimulatedProvider? Simulated(ProviderId id) => _simulated.GetValueOrDefault(id);

    /// <summary>Runs <paramref name="action"/> when the virtual clock reaches <paramref name="at"/>.</summary>
    public void Schedule(DateTimeOffset at, Action action)
    {
        var now = Clock.GetUtcNow();
        _queue.Enqueue(action, ((at < now ? now : at).UtcTicks, _seq++));
    }

    public void Submit(DateTimeOffset at, CapacityRequest request) => Schedule(at, () => SubmitNow(request));

    public void Cancel(DateTimeOffset at, RequestId id, string reason) => Schedule(at, () =>
    {
        if (_open.TryGetValue(id, out var tracked))
        {
            Record(tracked, Engine.Cancel(tracked.State, reason, Clock.GetUtcNow()));
        }
    });

    /// <summary>Runs timed actions in order until none is left or the next one lies after <paramref name="until"/>.</summary>
    public void Run(DateTimeOffset? until = null)
    {
        var limit = until?.UtcTicks ?? long.MaxValue;
        while (_queue.TryPeek(out _, out var key) && key.UtcTicks <= limit)
        {
            var action = _queue.Dequeue();
            Clock.AdvanceTo(new DateTimeOffset(key.UtcTicks, TimeSpan.Zero));
            action();
        }

        if (until is { } end && end > Clock.GetUtcNow())
        {
            Clock.AdvanceTo(end);
        }
    }

    /// <summary>
    /// Submits at the current virtual instant, from inside a timed action: a generator that draws the next
    /// arrival when the previous one fires saves a queue entry per request over <see cref="Submit"/>.
    /// </summary>
    public void SubmitNow(CapacityRequest request)
    {
        if (_open.ContainsKey(request.Id))
        {
            SubmissionRejected?.Invoke(request, new Rejection(RejectionKind.Conflict, $"request {request.Id} is already in flight"));
            return;
        }

        var tracked = new Tracked(new RequestState());
        var decision = Engine.Submit(tracked.State, request, Clock.GetUtcNow(), Book, Catalog, _waiverUsed);
        if (decision.Rejection is { } rejection)
        {
            SubmissionRejected?.Invoke(request, rejection);
            return;
        }

        _open[request.Id] = tracked;
        Record(tracked, decision);
    }

    private void Record(Tracked tracked, Decision decision)
    {
        var state = tracked.State;
        var events = decision.Events;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            _waivers.Apply(e);
            EventRecorded?.Invoke(e);
            React(tracked, e);
        }

        if (state.IsClosed)
        {
            if (_open.Remove(state.Id))
            {
                foreach (var provider in _providers)
                {
                    provider.Forget(state.Id);
                }

                RequestClosed?.Invoke(state);
            }

            return;
        }

        if (state.NextDeadline is { } deadline && deadline != tracked.TickAt)
        {
            ScheduleTick(tracked, deadline);
        }
    }

    // The lambdas below live in their own methods so that their closures are allocated only when an
    // action is scheduled, not on every event (C# allocates a method's closure object on entry).
    private void ScheduleTick(Tracked tracked, DateTimeOffset deadline)
    {
        tracked.TickAt = deadline;
        Schedule(deadline, () =>
        {
            if (tracked.TickAt == deadline && !tracked.State.IsClosed)
            {
                tracked.TickAt = null;
                Record(tracked, Engine.Tick(tracked.State, Clock.GetUtcNow()));
            }
        });
    }

    /// <summary>Sends each message the events imply to its simulated provider, whose answer arrives after its latency.</summary>
    private void React(Tracked tracked, SourcingEvent e)
    {
        switch (e)
        {
            case OfferMade offer when Provider(offer.Provider) is { } sim:
                if (sim.Answers(Random))
                {
                    AnswerOfferLater(tracked, offer, sim);
                }

                break;
            case QuotesRequested quotes:
                var providers = quotes.Providers;
                for (var i = 0; i < providers.Count; i++)
                {
                    if (Provider(providers[i]) is { } sim && sim.Answers(Random))
                    {
                        QuoteLater(tracked, quotes, sim);
                    }
                }

                break;
            case AwardMade award when Provider(award.Provider) is { } sim:
                if (sim.Answers(Random))
                {
                    ReserveLater(tracked, award, sim);
                }

                break;
            case AllocationReleased released when Provider(released.Provider) is { } sim:
                sim.Release(released.RequestId, released.Gpus);
                break;
        }
    }

    private void AnswerOfferLater(Tracked tracked, OfferMade offer, SimulatedProvider sim) =>
        Schedule(Clock.GetUtcNow() + sim.NextLatency(Random), () =>
        {
            var state = tracked.State;
            var request = state.Request!;
            var answer = sim.AnswerOffer(offer, request);
            var decision = Engine.AnswerOffer(state, offer.Offer, sim.Id, answer, Clock.GetUtcNow());
            if (decision.IsRejected && answer is OfferAnswer.Accept accept)
            {
                sim.Release(request.Id, accept.Gpus);
            }

            Record(tracked, decision);
        });

    private void QuoteLater(Tracked tracked, QuotesRequested quotes, SimulatedProvider sim) =>
        Schedule(Clock.GetUtcNow() + sim.NextLatency(Random), () =>
        {
            var state = tracked.State;
            var answer = sim.Quote(state.Request!, quotes.Gpus, Clock.GetUtcNow(), Engine.Policy.QuoteValidity);
            Record(tracked, Engine.AnswerQuote(state, sim.Id, answer, Clock.GetUtcNow()));
        });

    private void ReserveLater(Tracked tracked, AwardMade award, SimulatedProvider sim) =>
        Schedule(Clock.GetUtcNow() + sim.NextLatency(Random), () =>
        {
            var state = tracked.State;
            var request = state.Request!;
            var reserved = sim.Reserve(request, award.Gpus, Random);
            var decision = Engine.AnswerReservation(state, award.Award, sim.Id, reserved, reserved ? null : "capacity no longer free", Clock.GetUtcNow());
            if (decision.IsRejected && reserved)
            {
                sim.Release(request.Id, award.Gpus);
            }

            Record(tracked, decision);
        });

    private SimulatedProvider? Provider(ProviderId id) => _simulated.GetValueOrDefault(id);

    private sealed class Tracked(RequestState state)
    {
        public RequestState State { get; } = state;

        public DateTimeOffset? TickAt { get; set; }
    }
}
