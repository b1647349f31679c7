using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Engine.Tests.Runtime;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ComputeBroker.Engine.Tests.Properties;

/// <summary>
/// The workflow invariants (I1-I5), checked over random worlds run through the <see cref="Runtime.VirtualBroker"/>:
/// random agreements (first refusal in both modes, exclusivity, waivers with budgets, terms, amendments,
/// terminations), random inventories and answer policies (latency, silence, partial acceptance,
/// reservation failures) and random request streams with cancellations. A failure prints the shrunk
/// world (<see cref="Scenario.ToString"/>) and FsCheck's seed; rerun exactly that case with
/// <c>[Property(Replay = "(seed1,seed2)")]</c>.
/// </summary>
public sealed class BrokerProperties
{
    private const int Worlds = 150;

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_AuditVerifierFindsNoViolation() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();

            var report = AuditVerifier.Verify(run.Events, run.Book);

            Assert.True(report.Passed, string.Join("\n", report.Violations));
            Assert.Equal(run.Events.Count, report.EventsChecked);
            Assert.Equal(run.ClosedStates.Count, report.RequestsChecked);
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_EverySubmittedRequestClosesExactlyOnceAsItsLastEvent() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();

            var submitted = run.Events.OfType<RequestSubmitted>().Select(e => e.RequestId).ToArray();
            Assert.Equal(submitted.Length, submitted.Distinct().Count());
            Assert.Equal(Sorted(submitted), Sorted(run.Events.OfType<RequestClosed>().Select(e => e.RequestId)));
            Assert.Equal(Sorted(submitted), Sorted(run.ClosedStates.Select(s => s.Id)));
            foreach (var id in submitted)
            {
                Assert.IsType<RequestClosed>(run.EventsOf(id).Last());
            }

            // Every request was either refused at submission (nothing recorded) or submitted, never both.
            Assert.Equal(Sorted(scenario.Submissions.Select(s => s.Request.Id)), Sorted(submitted.Concat(run.Rejected.Select(r => r.Request.Id))));
            Assert.All(run.Rejected, r => Assert.DoesNotContain(r.Request.Id, submitted));
            Assert.Equal(0, run.Broker.OpenRequests);
            Assert.Equal(0, run.Broker.PendingActions);
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_AllocatedPlusUnfulfilledEqualsRequested() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();

            foreach (var closed in run.Events.OfType<RequestClosed>())
            {
                var request = run.EventsOf(closed.RequestId).OfType<RequestSubmitted>().Single().Request;
                var allocations = run.EventsOf(closed.RequestId).OfType<AllocationMade>().ToArray();
                var released = run.EventsOf(closed.RequestId).OfType<AllocationReleased>().Sum(r => r.Gpus.Value);
                Assert.Equal(request.Gpus.Value, closed.Allocated.Value + closed.Unfulfilled.Value);
                Assert.Equal(closed.Allocated.Value, allocations.Sum(a => a.Gpus.Value) - released);
                Assert.True(allocations.Sum(a => a.Gpus.Value) <= request.Gpus.Value, $"{closed.RequestId} allocated more than requested");
                Assert.All(allocations, a => Assert.True(a.Price <= request.MaxPrice, $"{closed.RequestId} allocated at {a.Price} above {request.MaxPrice}"));
                var expected = closed.Outcome switch
                {
                    RequestOutcome.Cancelled => closed.Allocated.IsZero,
                    RequestOutcome.Placed => closed.Unfulfilled.IsZero,
                    RequestOutcome.Unfulfilled => closed.Allocated.IsZero,
                    _ => !closed.Allocated.IsZero && !closed.Unfulfilled.IsZero,
                };
                Assert.True(expected, $"{closed.RequestId} closed {closed.Outcome} with {closed.Allocated} allocated and {closed.Unfulfilled} unfulfilled");
            }
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AllOrNothingRequests_AreNeverPartiallyPlaced() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();

            foreach (var state in run.ClosedStates.Where(s => s.Request!.AllOrNothing))
            {
                Assert.NotEqual(RequestOutcome.PartiallyPlaced, state.Closed!.Outcome);
                Assert.True(run.EventsOf(state.Id).OfType<AllocationMade>().Count() <= 1, $"{state.Id} is all-or-nothing but was split");
            }
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_ReplayingARequestsEventsRebuildsItsLiveState() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();

            foreach (var live in run.ClosedStates)
            {
                var replayed = RequestState.Replay(run.EventsOf(live.Id));
                Assert.Equal(Snapshot(live), Snapshot(replayed));
            }
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_PlacementClausesAreObeyed() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            // Independent of the audit verifier: read each request's own events against its recorded route.
            var run = scenario.Run();

            foreach (var state in run.ClosedStates)
            {
                var events = run.EventsOf(state.Id).ToArray();
                var clauses = state.Clauses!;
                var allocations = events.OfType<AllocationMade>().ToArray();
                switch (clauses.Route)
                {
                    case SourcingRoute.Exclusive:
                        Assert.DoesNotContain(events, e => e is QuotesRequested or AwardMade);
                        Assert.All(allocations, a => Assert.Equal(clauses.Holder, a.Provider));
                        Assert.All(events.OfType<OfferMade>(), o => Assert.Equal(OfferKind.Exclusive, o.Kind));
                        break;
                    case SourcingRoute.FirstRefusal:
                        var firstOffer = Array.FindIndex(events, e => e is OfferMade);
                        var holderPassed = Array.FindIndex(events, e => e is OfferDeclined or OfferExpired || (e is OfferAccepted a && a.Gpus < state.Request!.Gpus));
                        var firstQuotes = Array.FindIndex(events, e => e is QuotesRequested);
                        Assert.Equal(2, firstOffer); // submitted, resolved, then the holder's offer
                        Assert.Equal(clauses.Holder, ((OfferMade)events[firstOffer]).Provider);
                        Assert.True(firstQuotes == -1 || (holderPassed != -1 && holderPassed < firstQuotes), $"{state.Id} went to market before the holder passed");
                        Assert.DoesNotContain(clauses.Holder!.Value, events.OfType<QuotesRequested>().SelectMany(q => q.Providers));
                        var holderPrice = ((OfferMade)events[firstOffer]).Price;
                        Assert.All(events.OfType<AwardMade>(), w => Assert.True(w.Price <= holderPrice, $"{state.Id} awarded {w.Provider} {w.Price}, above the holder's {holderPrice}"));
                        break;
                    case SourcingRoute.Waived:
                        Assert.DoesNotContain(events, e => e is OfferMade { Kind: OfferKind.FirstRefusal });
                        var waiver = (WaiverClause)run.Book.Find(clauses.Waiver!.Version.Agreement)!.Version(clauses.Waiver.Version.Version)!.FindClause(clauses.Waiver.Clause)!;
                        Assert.All(allocations, a => Assert.Contains(a.Provider, waiver.Providers));
                        break;
                    case SourcingRoute.Open:
                        Assert.DoesNotContain(events, e => e is OfferMade);
                        break;
                }
            }
        });

    /// <summary>
    /// For every waived request: the GPUs placed under its waiver by it and by every request submitted
    /// before it stay within the budget of the version it was decided under. (An amendment may restate a
    /// waiver under the same clause id with a new budget; the GPUs already used keep counting.)
    /// </summary>
    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_WaivedPlacementsStayWithinEachWaiverBudget() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();
            var order = run.Events.OfType<RequestSubmitted>().Select((e, i) => (e.RequestId, i)).ToDictionary(x => x.RequestId, x => x.i);

            var byWaiver = run.ClosedStates
                .Where(s => s.Clauses!.Waiver is not null)
                .OrderBy(s => order[s.Id])
                .GroupBy(s => (s.Clauses!.Waiver!.Version.Agreement, s.Clauses.Waiver.Clause));
            foreach (var group in byWaiver)
            {
                var placed = 0;
                foreach (var state in group)
                {
                    placed += state.Allocated.Value;
                    var waiver = state.Clauses!.Waiver!;
                    var budget = ((WaiverClause)run.Book.Find(waiver.Version.Agreement)!.Version(waiver.Version.Version)!.FindClause(waiver.Clause)!).GpuBudget.Value;
                    Assert.True(placed <= budget, $"waiver {waiver}: {placed} GPUs placed up to {state.Id}, over its budget of {budget}");
                }
            }
        });

    [Property(MaxTest = Worlds)]
    public Property Run_AnyWorld_NoProviderCapacityIsPromisedTwice() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            var run = scenario.Run();
            var ledger = new CapacityLedger(scenario.Providers, run);

            foreach (var e in run.Events)
            {
                ledger.Apply(e);
            }

            ledger.AssertInventoryMatchesTheLog();
        });

    [Property(MaxTest = 60)]
    public Property Run_SameWorldTwice_RecordsTheSameEvents() =>
        Prop.ForAll(Scenario.Arbitrary, scenario =>
        {
            Assert.Equal(scenario.Run().Describe(), scenario.Run().Describe());
        });

    private static string[] Sorted(IEnumerable<RequestId> ids) => ids.Select(id => id.Value).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Everything a request's state exposes, as comparable values.</summary>
    private static object Snapshot(RequestState s) => new
    {
        s.Id,
        s.Phase,
        s.SubmittedAt,
        Request = s.Request is null ? null : A.Describe(new RequestSubmitted(s.Id, s.SubmittedAt, s.Request)),
        Clauses = s.Clauses is null ? null : A.Describe(s.Clauses),
        s.OpenOffer,
        s.OffersMade,
        s.HolderOfferPrice,
        s.HolderAnswered,
        s.MatchOffered,
        QuoteProviders = string.Join(",", s.QuoteProviders),
        s.QuoteCeiling,
        s.QuoteDeadline,
        s.QuotesClosed,
        Quotes = string.Join(";", s.Quotes.Select(q => $"{q.Provider} {q.Gpus} {q.Price} {q.Start:O} {q.ValidUntil:O} awarded {q.Awarded}")),
        PendingAwards = string.Join(";", s.PendingAwards),
        Allocations = string.Join(";", s.Allocations),
        s.AwardsMade,
        s.Allocated,
        s.Closed,
        s.EventCount,
        s.NextDeadline,
    };

    /// <summary>
    /// Rebuilds, from AllocationMade/AllocationReleased alone, the GPUs each provider has promised per
    /// accelerator, and checks them against the capacity it had. The log does not record the region,
    /// so the check is per provider and accelerator over all its regions, plus per region for
    /// allocations whose request allowed only one of the provider's regions.
    /// </summary>
    private sealed class CapacityLedger(IReadOnlyList<ProviderDefinition> providers, BrokerRun run)
    {
        private readonly Dictionary<ProviderId, ProviderDefinition> _providers = providers.ToDictionary(p => p.Id);
        private readonly Dictionary<RequestId, CapacityRequest> _requests = [];
        private readonly List<Held> _held = [];

        public void Apply(SourcingEvent e)
        {
            switch (e)
            {
                case RequestSubmitted s:
                    _requests[s.RequestId] = s.Request;
                    break;
                case AllocationMade m when _providers.TryGetValue(m.Provider, out var provider):
                    var request = _requests[m.RequestId];
                    var regions = provider.Regions.Where(request.AllowsRegion).ToArray();
                    var held = new Held(m.RequestId, m.Provider, request.Accelerator, regions.Length == 1 ? regions[0] : null, m.Start, m.Start.AddHours(request.DurationHours), m.Gpus.Value);
                    _held.Add(held);
                    Check(held);
                    break;
                case AllocationMade m:
                    Assert.Fail($"{m.RequestId} allocated to {m.Provider}, which is not in the catalog");
                    break;
                case AllocationReleased r:
                    var index = _held.FindIndex(h => h.Request == r.RequestId && h.Provider == r.Provider && h.Gpus == r.Gpus.Value);
                    Assert.True(index >= 0, $"{r.RequestId} released {r.Gpus} GPUs of {r.Provider} it never held");
                    _held.RemoveAt(index);
                    break;
            }
        }

        /// <summary>At the end, each simulated pool's free GPUs are exactly its capacity less what the log says is held.</summary>
        public void AssertInventoryMatchesTheLog()
        {
            foreach (var provider in providers)
            {
                var simulated = run.Simulated[provider.Id];
                foreach (var accelerator in provider.Capacity.Select(c => c.Accelerator).Distinct())
                {
                    var pools = provider.Capacity.Where(c => c.Accelerator == accelerator).Select(c => c.Region).Distinct().ToArray();
                    for (var h = 0; h < BrokerRun.HorizonHours; h++)
                    {
                        var slot = A.At(h);
                        var free = pools.Sum(r => simulated.FreeAt(accelerator, r, slot));
                        Assert.All(pools, r => Assert.True(simulated.FreeAt(accelerator, r, slot) >= 0));
                        var held = _held.Where(x => x.Provider == provider.Id && x.Accelerator == accelerator && x.Touches(slot)).Sum(x => x.Gpus);
                        Assert.True(Capacity(provider, accelerator, null, slot) - held == free, $"{provider.Id} {accelerator} at {slot:O}: capacity {Capacity(provider, accelerator, null, slot)}, held per the log {held}, free per the simulator {free}");
                    }
                }
            }
        }

        private void Check(Held added)
        {
            // The promised total only rises at an allocation's start, and capacity only changes on the hour.
            var checkpoints = _held
                .Where(h => h.Provider == added.Provider && h.Accelerator == added.Accelerator && h.Start > added.Start && h.Start < added.End)
                .Select(h => h.Start)
                .Append(added.Start);
            for (var hour = Floor(added.Start).AddHours(1); hour < added.End; hour = hour.AddHours(1))
            {
                checkpoints = checkpoints.Append(hour);
            }

            foreach (var at in checkpoints.Distinct())
            {
                foreach (var region in added.Region is null ? [null] : new[] { null, added.Region })
                {
                    var promised = _held.Where(h => h.Provider == added.Provider && h.Accelerator == added.Accelerator && (region is null || h.Region == region) && h.Start <= at && at < h.End).Sum(h => h.Gpus);
                    var capacity = Capacity(_providers[added.Provider], added.Accelerator, region, Floor(at));
                    Assert.True(promised <= capacity, $"{added.Provider} {added.Accelerator}{(region is null ? "" : " " + region)} promised {promised} GPUs at {at:O} with a capacity of {capacity} (last: {added.Request})");
                }
            }
        }

        private static DateTimeOffset Floor(DateTimeOffset at) => A.T0.AddHours(Math.Floor((at - A.T0).TotalHours));

        private static long Capacity(ProviderDefinition provider, string accelerator, string? region, DateTimeOffset slot) =>
            provider.Capacity
                .Where(c => c.Accelerator == accelerator && (region is null || c.Region == region))
                .GroupBy(c => c.Region)
                .Sum(pool => Math.Max(0, pool.Sum(c => c.ContributionAt(slot))));

        private sealed record Held(RequestId Request, ProviderId Provider, string Accelerator, string? Region, DateTimeOffset Start, DateTimeOffset End, int Gpus)
        {
            public bool Touches(DateTimeOffset slot) => Start < slot.AddHours(1) && slot < End;
        }
    }
}
