using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Audit;

/// <summary>One breach of a workflow invariant found by replay: which invariant, which request, which event.</summary>
/// <param name="Invariant">I1 to I4 as in the product brief, or <c>terminal</c> for a request closed other than exactly once.</param>
/// <param name="EventIndex">The event's position in the sequence given to the verifier (0-based).</param>
public sealed record AuditViolation(string Invariant, RequestId Request, int EventIndex, string EventType, string Message)
{
    public override string ToString() => $"{Invariant} request {Request} event #{EventIndex} ({EventType}): {Message}";
}

/// <summary>The verifier's findings over one event sequence.</summary>
public sealed record AuditReport(int EventsChecked, int RequestsChecked, IReadOnlyList<AuditViolation> Violations)
{
    public bool Passed => Violations.Count == 0;
}

/// <summary>
/// Replays sourcing events and reports every breach of the workflow invariants, as a pure function
/// of the events and the agreements (with their recorded terminations):
/// <list type="bullet">
/// <item>I1: a request in first-refusal scope is allocated to a third party only after the holder declined,
/// accepted part or let its offer expire, unless a waiver covered it; a waiver's GPU budget is never exceeded;
/// no third party is awarded a price above the one the holder was offered;</item>
/// <item>I2: a request in exclusivity scope is allocated to no other provider and never goes to the market;</item>
/// <item>I3: allocations + unfulfilled = requested GPUs, never more; no price above the request's maximum;</item>
/// <item>I4: the clauses a request was decided under were in force (in term, not terminated) at its submission,
/// and every clause in force that applied was used.</item>
/// </list>
/// Clause resolution is recomputed from the agreements, so a decision that skipped a clause is caught
/// even if the recorded resolution hides it.
/// </summary>
public static class AuditVerifier
{
    public static AuditReport Verify(IEnumerable<SourcingEvent> events, ContractBook book)
    {
        var violations = new List<AuditViolation>();
        var requests = new Dictionary<RequestId, Replay>();
        var waivers = new WaiverLedger();
        var index = -1;
        var count = 0;
        foreach (var e in events)
        {
            index++;
            count++;
            if (!requests.TryGetValue(e.RequestId, out var replay))
            {
                requests[e.RequestId] = replay = new Replay();
            }

            void Report(string invariant, string message) =>
                violations.Add(new AuditViolation(invariant, e.RequestId, index, e.Type, message));

            if (replay.State.IsClosed)
            {
                Report("terminal", e is RequestClosed ? "the request was closed twice" : "an event after the request was closed");
                continue;
            }

            if (replay.State.Request is null && e is not RequestSubmitted)
            {
                Report("I5", "an event before the request was submitted");
                continue;
            }

            if (replay.State.Request is not null && e is RequestSubmitted)
            {
                // Applying it would replace the request being checked, hiding breaches of the first one.
                Report("I5", "the request was submitted twice");
                continue;
            }

            var state = replay.State;
            switch (e)
            {
                case ClausesResolved c:
                    CheckResolution(c, state.Request!, book.AsKnownAt(c.At), waivers, Report, replay);
                    break;
                case QuotesRequested when replay.Expected?.Route == SourcingRoute.Exclusive:
                    Report("I2", "a request in exclusivity scope went to the market");
                    break;
                case AwardMade award:
                    CheckThirdParty(award.Provider, award.Price, state, replay, Report);
                    break;
                case AllocationMade allocation:
                    CheckThirdParty(allocation.Provider, allocation.Price, state, replay, Report);
                    if (allocation.Price > state.Request!.MaxPrice)
                    {
                        Report("I3", $"allocated at {allocation.Price}, above the request's maximum {state.Request.MaxPrice}");
                    }

                    if ((state.Allocated + allocation.Gpus) > state.Request.Gpus)
                    {
                        Report("I3", $"allocations reach {(state.Allocated + allocation.Gpus).Value} GPUs, more than the {state.Request.Gpus} requested");
                    }

                    break;
                case RequestClosed closed:
                    var requested = state.Request!.Gpus.Value;
                    if (closed.Allocated != state.Allocated || closed.Allocated.Value + closed.Unfulfilled.Value != requested)
                    {
                        Report("I3", $"closed with {closed.Allocated} allocated and {closed.Unfulfilled} unfulfilled, but {state.Allocated} were allocated of {requested} requested");
                    }

                    break;
            }

            if (e is AllocationReleased released && released.Gpus > state.Allocated)
            {
                Report("I3", $"released {released.Gpus} GPUs but only {state.Allocated} were allocated");
                continue;
            }

            try
            {
                state.Apply(e);
            }
            catch (ArgumentException ex)
            {
                // A sequence the engine could never have produced (e.g. more GPUs released than held).
                Report("I5", $"the event does not follow from the request's state: {ex.Message}");
                continue;
            }

            waivers.Apply(e);
            if (e is ClausesResolved { Waiver: { } waiver } resolved && book.Find(waiver.Version.Agreement)?.Version(waiver.Version.Version)?.FindClause(waiver.Clause) is WaiverClause w
                && waivers.Used(waiver.Version.Agreement, waiver.Clause) > w.GpuBudget.Value)
            {
                violations.Add(new AuditViolation("I1", e.RequestId, index, e.Type, $"waiver {waiver} budget of {w.GpuBudget} GPUs exceeded ({waivers.Used(waiver.Version.Agreement, waiver.Clause)} held)"));
            }
        }

        return new AuditReport(count, requests.Count, violations);
    }

    private static void CheckResolution(ClausesResolved recorded, CapacityRequest request, ContractBook book, WaiverLedger waivers, Action<string, string> report, Replay replay)
    {
        var (expected, conflict) = ClauseResolver.Resolve(book, request, recorded.At, waivers.Used);
        if (conflict is not null)
        {
            report("I4", $"the request was decided although its clauses conflict: {conflict.Message}");
            return;
        }

        replay.Expected = expected;
        foreach (var (label, clause) in new[] { ("exclusivity", recorded.Exclusivity), ("first-refusal", recorded.FirstRefusal), ("waiver", recorded.Waiver) })
        {
            if (clause is null)
            {
                continue;
            }

            var agreement = book.Find(clause.Version.Agreement);
            var version = agreement?.VersionAt(recorded.At);
            var found = agreement?.Version(clause.Version.Version)?.FindClause(clause.Clause);
            if (found is null || version?.Number != clause.Version.Version)
            {
                report("I4", $"{label} clause {clause} was not part of the agreement version in force at {recorded.At:O}");
            }
            else if (!book.InForce(agreement!.Id, found, recorded.At))
            {
                var termination = book.TerminationOf(agreement.Id, found.Id);
                report("I4", termination is not null && recorded.At >= termination.At
                    ? $"{label} clause {clause} was applied after its termination at {termination.At:O} by {termination.ByTrigger}"
                    : $"{label} clause {clause} was applied outside its term");
            }
        }

        if (expected!.Route == SourcingRoute.Waived && recorded is { Route: SourcingRoute.FirstRefusal, Waiver: null })
        {
            // A waiver is a permission: a request it could cover may still be offered to the holder first (the engine does
            // so when none of the waiver's providers sells what the request asks for). The holder's right is kept, and
            // the request is held to it from here on.
            expected = expected with { Route = SourcingRoute.FirstRefusal, Waiver = null };
            replay.Expected = expected;
        }

        if (expected.Route != recorded.Route)
        {
            var invariant = expected.Route switch
            {
                SourcingRoute.Exclusive => "I2",
                SourcingRoute.FirstRefusal or SourcingRoute.Waived => "I1",
                _ => "I4",
            };
            report(invariant, $"the agreements in force route this request as {expected.Route}, but it was decided as {recorded.Route}");
        }
    }

    /// <summary>I1 and I2 for an award or allocation to a provider.</summary>
    private static void CheckThirdParty(ProviderId provider, PricePerGpuHour price, RequestState state, Replay replay, Action<string, string> report)
    {
        var expected = replay.Expected;
        if (expected is null)
        {
            return;
        }

        switch (expected.Route)
        {
            case SourcingRoute.Exclusive when provider != expected.Exclusivity!.Clause.Provider:
                report("I2", $"allocated to {provider}, but the request is exclusive to {expected.Exclusivity.Clause.Provider} ({expected.Exclusivity.Clause.Id})");
                break;
            case SourcingRoute.FirstRefusal when provider != expected.FirstRefusal!.Clause.Holder:
                if (!state.HolderAnswered)
                {
                    report("I1", $"allocated to third party {provider} before holder {expected.FirstRefusal.Clause.Holder} declined, accepted part or let its offer expire");
                }

                if (state.HolderOfferPrice is { } ceiling && price > ceiling)
                {
                    report("I1", $"third party {provider} awarded {price}, better terms than the {ceiling} offered to holder {expected.FirstRefusal.Clause.Holder}");
                }

                break;
            case SourcingRoute.Waived when !expected.Waiver!.Clause.Providers.Contains(provider):
                report("I1", $"allocated to {provider}, which waiver {expected.Waiver.Clause.Id} does not name, and the holder was never asked");
                break;
        }
    }

    private sealed class Replay
    {
        public RequestState State { get; } = new();

        public ClauseResolution? Expected { get; set; }
    }
}
