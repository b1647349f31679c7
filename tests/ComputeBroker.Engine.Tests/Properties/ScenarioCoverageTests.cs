using ComputeBroker.Contracts;
using ComputeBroker.Sourcing;
using FsCheck;
using FsCheck.Fluent;

namespace ComputeBroker.Engine.Tests.Properties;

/// <summary>
/// Guards the properties against passing vacuously: the generated worlds must reach every route,
/// every outcome and every kind of wait and failure, or the invariants are checked over nothing.
/// </summary>
public sealed class ScenarioCoverageTests
{
    [Fact]
    public void Generate_TwoHundredWorlds_ReachEveryRouteOutcomeAndBranch()
    {
        var worlds = Gen.Sample(Scenario.Arbitrary.Generator, 50, new Rnd(20260105UL), 200);
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach (var world in worlds)
        {
            var run = world.Run();
            seen.UnionWith(run.Rejected.Select(r => $"rejected {r.Rejection.Kind}"));
            seen.UnionWith(run.ClosedStates.Select(s => $"route {s.Clauses!.Route}"));
            seen.UnionWith(run.ClosedStates.Select(s => $"outcome {s.Closed!.Outcome}"));
            seen.UnionWith(run.ClosedStates.Where(s => s.Clauses!.Route == SourcingRoute.FirstRefusal).Select(s => $"first-refusal {s.Clauses!.Mode}"));
            seen.UnionWith(run.Events.Select(e => e switch
            {
                OfferMade o => $"offer {o.Kind}",
                AllocationMade m => $"allocation {m.Source}",
                ReservationFailed f => f.Reason == "expired" ? "reservation expired" : "reservation failed",
                _ => e.Type,
            }));
        }

        string[] expected =
        [
            "rejected Invalid", "rejected Conflict",
            "route Open", "route FirstRefusal", "route Exclusive", "route Waived",
            "first-refusal FirstOffer", "first-refusal Match",
            "outcome Placed", "outcome PartiallyPlaced", "outcome Unfulfilled", "outcome Cancelled",
            "offer FirstRefusal", "offer Exclusive", "offer Match",
            "offer.accepted", "offer.declined", "offer.expired",
            "quote.received", "quote.declined", "allocation Offer", "allocation Market", "allocation.released",
            "reservation failed", "reservation expired",
        ];
        Assert.Empty(expected.Except(seen));
    }
}
