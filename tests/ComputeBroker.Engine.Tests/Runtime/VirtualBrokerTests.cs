using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Runtime;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Runtime;

public sealed class VirtualBrokerTests
{
    /// <summary>
    /// A world like the product's example: Microsoft holds a first right (with a match right) on
    /// OpenAI's training and inference, and waived it for GB200 training with Oracle and Stargate;
    /// CoreWeave has research exclusively; a spread of requests, two of them cancelled.
    /// </summary>
    private static (ContractBook Book, ProviderDefinition[] Providers, Submission[] Submissions) ExampleWorld()
    {
        var microsoft = new Agreement(A.AgreementId, A.Customer, ["openai", "microsoft"],
        [
            A.Version(1, null,
                A.MatchRight("azure-first-refusal") with { Scope = A.Scope(classes: ["training", "inference"]), MatchWindow = TimeSpan.FromHours(4) },
                A.Waiver("stargate-waiver", A.Azure, 64, A.Oracle, A.Stargate) with { Scope = A.Scope(classes: ["training"], accelerators: ["GB200"]) },
                A.IpAccess("ip"),
                A.RevenueShare("revenue-share"),
                A.Trigger("agi", "ip", "revenue-share"),
                A.Commitment("azure-commitment")),
        ]);
        var coreweave = new Agreement(new AgreementId("coreweave-openai"), A.Customer, ["openai", "coreweave"],
            [A.Version(1, null, A.Exclusivity("research-exclusive", A.CoreWeave) with { Scope = A.Scope(classes: ["research"]) })]);

        static AnswerPolicy Policy(int minMinutes, int maxMinutes, double reliability = 1.0, double failures = 0.0) =>
            new(TimeSpan.FromMinutes(minMinutes), TimeSpan.FromMinutes(maxMinutes), reliability, [], true, failures);
        ProviderDefinition[] providers =
        [
            new(A.Azure, "Microsoft Azure", ConnectorKind.Simulated, ["eastus", "westus"],
                [new("H100", null, A.Usd(10)), new("GB200", null, A.Usd(14))],
                [new("H100", "eastus", A.T0, 48), new("H100", "westus", A.T0, 16), new("GB200", "eastus", A.T0, 16)],
                Policy(10, 90)),
            new(A.Oracle, "Oracle Cloud", ConnectorKind.Simulated, ["eastus"],
                [new("H100", null, A.Usd(9.5m)), new("GB200", null, A.Usd(13))],
                [new("H100", "eastus", A.T0, 64), new("GB200", "eastus", A.T0, 32)],
                Policy(5, 45, failures: 0.1)),
            new(A.Stargate, "Stargate", ConnectorKind.Simulated, ["westus"],
                [new("GB200", null, A.Usd(11))],
                [new("GB200", "westus", A.T0, 128, RampUntil: A.At(72))],
                Policy(15, 120, reliability: 0.9)),
            new(A.CoreWeave, "CoreWeave", ConnectorKind.Simulated, ["eastus"],
                [new("H100", null, A.Usd(9))],
                [new("H100", "eastus", A.T0, 32)],
                Policy(5, 60, reliability: 0.9, failures: 0.2)),
        ];

        CapacityRequest R(string id, string workloadClass, string accelerator, int gpus, double submitAt, bool allOrNothing = false) => A.Request(id) with
        {
            WorkloadClass = workloadClass,
            Accelerator = accelerator,
            Gpus = A.Gpus(gpus),
            EarliestStart = A.At(submitAt + 48),
            NeededBy = A.At(submitAt + 36),
            AllOrNothing = allOrNothing,
        };
        Submission[] submissions =
        [
            new(A.At(0), R("train-1", "training", "H100", 32, 0)),
            new(A.At(0.5), R("infer-1", "inference", "H100", 24, 0.5)),
            new(A.At(1), R("train-gb200", "training", "GB200", 48, 1)),
            new(A.At(2), R("research-1", "research", "H100", 16, 2)),
            new(A.At(3), R("api-1", "api", "H100", 40, 3)),
            new(A.At(4), R("train-aon", "training", "H100", 64, 4, allOrNothing: true)),
            new(A.At(5), R("research-2", "research", "H100", 24, 5)),
            new(A.At(6), R("infer-cancelled", "inference", "H100", 8, 6), CancelAt: A.At(6.5)),
            new(A.At(8), R("api-gb200", "api", "GB200", 24, 8)),
            new(A.At(10), R("train-gb200-2", "training", "GB200", 24, 10)),
            new(A.At(12), R("api-cancelled-late", "api", "H100", 8, 12), CancelAt: A.At(40)),
            new(A.At(20), R("train-2", "training", "H100", 16, 20)),
        ];
        return (new ContractBook([microsoft, coreweave]), providers, submissions);
    }

    private static BrokerRun RunExample(int seed)
    {
        var (book, providers, submissions) = ExampleWorld();
        return BrokerRun.Execute(book, providers, submissions, seed);
    }

    [Fact]
    public void Run_ExampleWorld_EveryRequestClosesExactlyOnceAndTheAuditPasses()
    {
        var run = RunExample(seed: 7);

        Assert.Empty(run.Rejected);
        Assert.Equal(run.Submissions.Select(s => s.Request.Id), run.Events.OfType<RequestSubmitted>().Select(e => e.RequestId));
        Assert.All(run.Submissions, s => Assert.Single(run.EventsOf(s.Request.Id).OfType<RequestClosed>()));
        Assert.All(run.Submissions, s => Assert.IsType<RequestClosed>(run.EventsOf(s.Request.Id).Last()));
        Assert.Equal(run.Submissions.Count, run.ClosedStates.Count);
        Assert.Equal(0, run.Broker.OpenRequests);
        Assert.Equal(0, run.Broker.PendingActions);
        var report = AuditVerifier.Verify(run.Events, run.Book);
        Assert.True(report.Passed, string.Join("\n", report.Violations));
        Assert.Equal(run.Submissions.Count, report.RequestsChecked);
    }

    [Fact]
    public void Run_ExampleWorld_RoutesEachRequestByItsClauses()
    {
        var run = RunExample(seed: 7);
        SourcingRoute Route(string id) => run.EventsOf(new RequestId(id)).OfType<ClausesResolved>().Single().Route;

        Assert.Equal(SourcingRoute.FirstRefusal, Route("train-1"));
        Assert.Equal(SourcingRoute.FirstRefusal, Route("infer-1"));
        Assert.Equal(SourcingRoute.Waived, Route("train-gb200"));
        Assert.Equal(SourcingRoute.Exclusive, Route("research-1"));
        Assert.Equal(SourcingRoute.Open, Route("api-1"));
        // The second GB200 training request is waived only if what the first placed leaves 24 of the 64 GPUs.
        var firstWaived = run.ClosedStates.Single(s => s.Id == new RequestId("train-gb200"));
        Assert.True(firstWaived.Closed!.At < A.At(10));
        Assert.Equal(64 - firstWaived.Allocated.Value >= 24 ? SourcingRoute.Waived : SourcingRoute.FirstRefusal, Route("train-gb200-2"));
        Assert.Equal(A.Azure, run.EventsOf(new RequestId("train-1")).OfType<OfferMade>().First().Provider);
        Assert.DoesNotContain(run.EventsOf(new RequestId("train-gb200")), e => e is OfferMade);
        Assert.DoesNotContain(run.EventsOf(new RequestId("research-1")), e => e is QuotesRequested);
        Assert.Equal(RequestOutcome.Cancelled, run.EventsOf(new RequestId("infer-cancelled")).OfType<RequestClosed>().Single().Outcome);
        Assert.NotEqual(RequestOutcome.Cancelled, run.EventsOf(new RequestId("api-cancelled-late")).OfType<RequestClosed>().Single().Outcome); // closed long before the cancellation came
    }

    [Fact]
    public void Run_SameSeedTwice_RecordsTheSameEvents()
    {
        var first = RunExample(seed: 42).Describe();
        var second = RunExample(seed: 42).Describe();

        Assert.Equal(first, second);
        Assert.NotEmpty(first);
    }

    [Fact]
    public void Run_DifferentSeeds_MayRecordDifferentEvents()
    {
        // Latency, silence and reservation failures are drawn from the seeded generator.
        var logs = Enumerable.Range(1, 6).Select(seed => string.Join("\n", RunExample(seed).Describe())).ToArray();

        Assert.True(logs.Distinct().Count() > 1, "six seeds produced one and the same run");
    }

    [Fact]
    public void Run_HolderThatNeverAnswers_LetsTheOfferExpireAndGoesToMarket()
    {
        var silentAzure = A.Provider(A.Azure) with { Policy = AnswerPolicy.Prompt with { Reliability = 0.0 } };

        var run = BrokerRun.Execute(A.Book(A.FirstRefusal()), [silentAzure, A.Provider(A.Oracle, 9m)], [new(A.T0, A.Request())], seed: 1);

        Assert.Equal(
            ["request.submitted", "clauses.resolved", "offer.made", "offer.expired", "quotes.requested", "quote.received", "quotes.closed", "award.made", "allocation.made", "request.closed"],
            run.Events.Select(e => e.Type));
        Assert.Equal(A.At(24), run.Events.OfType<OfferExpired>().Single().At);
        Assert.Equal(A.Oracle, run.Events.OfType<AllocationMade>().Single().Provider);
        Assert.Equal(RequestOutcome.Placed, run.ClosedStates.Single().Closed!.Outcome);
    }

    [Fact]
    public void Run_HolderAnswersAfterRespondBy_IsRefusedAndItsCapacityGivenBack()
    {
        // azure takes three hours to answer a one-hour first refusal: it accepts, too late.
        var slowAzure = A.Provider(A.Azure, capacity: 10) with { Policy = AnswerPolicy.Prompt with { MinLatency = TimeSpan.FromHours(3), MaxLatency = TimeSpan.FromHours(3) } };
        var book = A.Book(A.FirstRefusal() with { ResponseWindow = TimeSpan.FromHours(1) });

        var run = BrokerRun.Execute(book, [slowAzure], [new(A.T0, A.Request())], seed: 1);

        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made", "offer.expired", "request.closed"], run.Events.Select(e => e.Type));
        Assert.Equal("no-eligible-providers", run.ClosedStates.Single().Closed!.Reason);
        Assert.Empty(run.Events.OfType<AllocationMade>());
        Assert.Equal(10, run.Simulated[A.Azure].FreeAt("H100", "eastus", A.At(50)));
    }

    [Fact]
    public void Run_TwoRequestsForTheSameFreeGpus_TheSecondHolderOfferGetsOnlyWhatIsLeft()
    {
        var run = BrokerRun.Execute(A.Book(A.FirstRefusal()), [A.Provider(A.Azure, capacity: 10)], [new(A.T0, A.Request("r1")), new(A.T0, A.Request("r2"))], seed: 1);

        var allocations = run.Events.OfType<AllocationMade>().ToDictionary(a => a.RequestId.Value, a => a.Gpus.Value);
        Assert.Equal(8, allocations["r1"]);
        Assert.Equal(2, allocations["r2"]);
        Assert.Equal(RequestOutcome.PartiallyPlaced, run.EventsOf(new RequestId("r2")).OfType<RequestClosed>().Single().Outcome);
        Assert.Equal(0, run.Simulated[A.Azure].FreeAt("H100", "eastus", A.At(50)));
    }

    [Fact]
    public void Run_TwoQuotesForTheSameFreeGpus_OnlyOneReservationSucceeds()
    {
        // A quote holds nothing: both requests are quoted all 8 GPUs, the second reservation finds them gone.
        var run = BrokerRun.Execute(ContractBook.Empty, [A.Provider(A.Oracle, capacity: 10)], [new(A.T0, A.Request("r1")), new(A.T0, A.Request("r2"))], seed: 1);

        Assert.Equal(2, run.Events.OfType<QuoteReceived>().Count(q => q.Gpus == A.Gpus(8)));
        Assert.Equal([8], run.Events.OfType<AllocationMade>().Select(a => a.Gpus.Value));
        Assert.Equal("capacity no longer free", run.Events.OfType<ReservationFailed>().Single().Reason);
        Assert.Equal(2, run.Simulated[A.Oracle].FreeAt("H100", "eastus", A.At(50)));
    }

    [Fact]
    public void Run_CancelledWhileHoldingAnAllocation_GivesTheSimulatedCapacityBack()
    {
        // azure accepts 3 of 8 at +5 min; the customer cancels at +7 min, before oracle's quote arrives.
        var azure = A.Provider(A.Azure, capacity: 3);
        var slowOracle = A.Provider(A.Oracle) with { Policy = AnswerPolicy.Prompt with { MinLatency = TimeSpan.FromHours(1), MaxLatency = TimeSpan.FromHours(1) } };

        var run = BrokerRun.Execute(A.Book(A.FirstRefusal()), [azure, slowOracle], [new(A.T0, A.Request(), CancelAt: A.T0.AddMinutes(7))], seed: 1);

        Assert.Equal(new AllocationReleased(A.Request().Id, A.T0.AddMinutes(7), A.Azure, A.Gpus(3)), run.Events.OfType<AllocationReleased>().Single());
        Assert.Equal(RequestOutcome.Cancelled, run.ClosedStates.Single().Closed!.Outcome);
        Assert.Equal(3, run.Simulated[A.Azure].FreeAt("H100", "eastus", A.At(50)));
        Assert.Equal(64, run.Simulated[A.Oracle].FreeAt("H100", "eastus", A.At(50)));
    }

    [Fact]
    public void Run_ReservationAlwaysFailing_FailsOverToTheNextProvider()
    {
        var flaky = A.Provider(A.CoreWeave, 9m) with { Policy = AnswerPolicy.Prompt with { ReservationFailureRate = 1.0 } };

        var run = BrokerRun.Execute(ContractBook.Empty, [flaky, A.Provider(A.Oracle, 12m)], [new(A.T0, A.Request())], seed: 3);

        Assert.Equal([A.CoreWeave, A.Oracle], run.Events.OfType<AwardMade>().Select(a => a.Provider));
        Assert.Equal(A.CoreWeave, run.Events.OfType<ReservationFailed>().Single().Provider);
        Assert.Equal(A.Oracle, run.Events.OfType<AllocationMade>().Single().Provider);
        Assert.Equal(64, run.Simulated[A.CoreWeave].FreeAt("H100", "eastus", A.At(50)));
    }

    [Fact]
    public void Run_InvalidSubmission_IsReportedAndRecordsNothing()
    {
        var run = BrokerRun.Execute(ContractBook.Empty, [A.Provider(A.Oracle)], [new(A.T0, A.Request() with { Gpus = A.Gpus(0) })], seed: 1);

        var (request, rejection) = Assert.Single(run.Rejected);
        Assert.Equal(A.Request().Id, request.Id);
        Assert.Equal(RejectionKind.Invalid, rejection.Kind);
        Assert.Empty(run.Events);
        Assert.Empty(run.ClosedStates);
    }

    [Fact]
    public void Submit_SameIdWhileInFlight_IsRejectedAsAConflict()
    {
        var run = BrokerRun.Execute(A.Book(A.FirstRefusal()), [A.Provider(A.Azure)], [new(A.T0, A.Request()), new(A.T0, A.Request())], seed: 1);

        Assert.Equal(RejectionKind.Conflict, Assert.Single(run.Rejected).Rejection.Kind);
        Assert.Single(run.Events.OfType<RequestSubmitted>());
    }

    [Fact]
    public void Run_Until_StopsTheClockThereAndLeavesLaterActionsQueued()
    {
        var broker = new VirtualBroker(new SourcingEngine(BrokerPolicy.Default), A.Book(A.FirstRefusal()), A.Catalog(A.Provider(A.Azure)), [], new VirtualClock(A.T0), new Random(1));
        var events = new List<SourcingEvent>();
        broker.EventRecorded = events.Add;
        broker.Submit(A.T0, A.Request());

        broker.Run(until: A.At(12));

        Assert.Equal(A.At(12), broker.Clock.GetUtcNow());
        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made"], events.Select(e => e.Type));
        Assert.Equal(1, broker.OpenRequests);

        broker.Run();

        Assert.Equal(A.At(24), broker.Clock.GetUtcNow());
        Assert.Equal(0, broker.OpenRequests);
    }

    [Fact]
    public void AdvanceTo_AnEarlierInstant_Throws()
    {
        var clock = new VirtualClock(A.At(5));

        clock.AdvanceTo(A.At(6));

        Assert.Throws<InvalidOperationException>(() => clock.AdvanceTo(A.At(5)));
        Assert.Equal(A.At(6), clock.GetUtcNow());
    }
}
