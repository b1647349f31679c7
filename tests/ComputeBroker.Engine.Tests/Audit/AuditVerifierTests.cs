using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Audit;

/// <summary>
/// Hand-made event sequences that break each invariant, starting from what the engine really emits
/// and then tampering with it, so that each test breaks exactly one thing.
/// </summary>
public sealed class AuditVerifierTests
{
    private static readonly RequestId R1 = new("r1");
    private static readonly RequestId R2 = new("r2");

    private static AuditReport Verify(ContractBook book, params IEnumerable<SourcingEvent>[] sequences) =>
        AuditVerifier.Verify(sequences.SelectMany(s => s), book);

    private static AuditViolation Violation(AuditReport report, string invariant, RequestId request, int index)
    {
        Assert.False(report.Passed);
        return Assert.Single(report.Violations, v => v.Invariant == invariant && v.Request == request && v.EventIndex == index);
    }

    /// <summary>The holder was offered 8 at 10 and declined at +1h; quotes were asked of coreweave and oracle.</summary>
    private static EngineDriver HolderDeclined(ContractBook book)
    {
        var driver = new EngineDriver(book);
        driver.Submit();
        driver.Decline(A.At(1));
        return driver;
    }

    // Clean sequences

    [Fact]
    public void Verify_SequencesTheEngineEmits_PassForEveryRoute()
    {
        var firstRefusal = A.Book(A.MatchRight(), A.Exclusivity() with { Scope = A.Scope(classes: ["research"]) }, A.Waiver(budget: 8) with { Scope = A.Scope(classes: ["inference"]) });

        var matched = new EngineDriver(firstRefusal);
        matched.Submit(A.Request("matched"));
        matched.Accept(3, A.At(1));
        matched.AnswerQuote(A.Oracle, A.Quote(5, 9m), A.At(2));
        matched.AnswerQuote(A.CoreWeave, A.Quote(5, 8m), A.At(2));
        matched.Accept(2, A.At(3));
        matched.Reserve(1, A.CoreWeave, confirmed: false, A.At(3.5)); // coreweave 3 fails; fails over to its last 2 and oracle's 1
        matched.Reserve(2, A.CoreWeave, confirmed: true, A.At(3.6));
        matched.Reserve(3, A.Oracle, confirmed: true, A.At(3.7));

        var exclusive = new EngineDriver(firstRefusal);
        exclusive.Submit(A.Request("exclusive") with { WorkloadClass = "research" }, A.At(4));
        exclusive.Accept(5, A.At(5));

        var waived = new EngineDriver(firstRefusal);
        waived.Submit(A.Request("waived") with { WorkloadClass = "inference" }, A.At(6));
        waived.AnswerQuote(A.Oracle, A.Quote(8, 12m, validUntil: A.At(60)), A.At(7));
        waived.Reserve(1, A.Oracle, confirmed: true, A.At(7.5));

        var cancelled = new EngineDriver(firstRefusal);
        cancelled.Submit(A.Request("cancelled"), A.At(8));
        cancelled.Accept(4, A.At(9));
        cancelled.Cancel(A.At(10));

        var report = Verify(firstRefusal, matched.Log, exclusive.Log, waived.Log, cancelled.Log);

        Assert.True(report.Passed, string.Join("\n", report.Violations));
        Assert.Equal(4, report.RequestsChecked);
        Assert.Equal(matched.Log.Count + exclusive.Log.Count + waived.Log.Count + cancelled.Log.Count, report.EventsChecked);
        Assert.Equal(RequestOutcome.Placed, matched.State.Closed!.Outcome);
        Assert.Equal([AllocationSource.Offer, AllocationSource.Match, AllocationSource.Market, AllocationSource.Market], matched.State.Allocations.Select(a => a.Source));
        Assert.Equal(RequestOutcome.PartiallyPlaced, exclusive.State.Closed!.Outcome);
        Assert.Equal(RequestOutcome.Placed, waived.State.Closed!.Outcome);
    }

    // I1

    [Fact]
    public void Verify_ThirdPartyAllocatedBeforeTheHolderAnswered_IsAnI1Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(book);
        driver.Submit();
        SourcingEvent[] tampered = [.. driver.Log, new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1)];

        var report = Verify(book, tampered);

        var violation = Violation(report, "I1", R1, 3);
        Assert.Equal("allocation.made", violation.EventType);
        Assert.Contains("before holder azure declined", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ThirdPartyAwardedAboveTheHolderOfferPrice_IsAnI1Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var driver = HolderDeclined(book);
        SourcingEvent[] tampered =
        [
            .. driver.Log,
            new QuoteReceived(R1, A.At(2), A.Oracle, A.Gpus(8), A.Usd(12), A.At(48), A.At(48)),
            new QuoteWindowClosed(R1, A.At(4), [A.CoreWeave]),
            new AwardMade(R1, A.At(4), 1, A.Oracle, A.Gpus(8), A.Usd(12), A.At(48), A.At(5)), // the engine would never: 12 > 10
            new AllocationMade(R1, A.At(4.5), A.Oracle, A.Gpus(8), A.Usd(12), A.At(48), AllocationSource.Market, 1),
        ];

        var report = Verify(book, tampered);

        Assert.Contains("better terms than the 10.00 USD/GPU-h offered to holder azure", Violation(report, "I1", R1, 7).Message, StringComparison.Ordinal);
        Violation(report, "I1", R1, 8);
        Assert.Equal(2, report.Violations.Count);
    }

    [Fact]
    public void Verify_TwoWaivedRequestsExceedingTheBudget_AreI1ViolationsOnTheSecond()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 10));
        var first = new EngineDriver(book);
        first.Submit(A.Request("r1"));
        var second = new EngineDriver(book); // resolved as if the first held nothing of the budget
        second.Submit(A.Request("r2"), A.At(1));

        var report = Verify(book, first.Log, second.Log);

        Assert.Equal(SourcingRoute.Waived, second.Single<ClausesResolved>().Route);
        Assert.All(report.Violations, v => Assert.Equal(R2, v.Request));
        Assert.Contains(report.Violations, v => v.Invariant == "I1" && v.EventIndex == 4 && v.Message.Contains("budget of 10 GPUs exceeded (16 held)", StringComparison.Ordinal));
        Assert.Contains(report.Violations, v => v.Invariant == "I1" && v.EventIndex == 4 && v.Message.Contains("route this request as FirstRefusal, but it was decided as Waived", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_WaivedRequestThatClosedUnfulfilled_GivesItsBudgetBack()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 10));
        var first = new EngineDriver(book);
        first.Submit(A.Request("r1"));
        first.AnswerQuote(A.Oracle, new QuoteAnswer.Decline("sold out"), A.At(0.5));
        var second = new EngineDriver(book);
        second.Submit(A.Request("r2"), A.At(1));

        var report = Verify(book, first.Log, second.Log);

        Assert.Equal(RequestOutcome.Unfulfilled, first.State.Closed!.Outcome);
        Assert.True(report.Passed, string.Join("\n", report.Violations));
    }

    [Fact]
    public void Verify_RecordedRouteIgnoringAnApplicableFirstRefusal_IsAnI1Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var open = new EngineDriver(ContractBook.Empty); // decided as if there were no agreement
        open.Submit();

        var report = Verify(book, open.Log);

        var violation = Violation(report, "I1", R1, 1);
        Assert.Equal("clauses.resolved", violation.EventType);
        Assert.Contains("as FirstRefusal, but it was decided as Open", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RequestAWaiverCouldCoverOfferedToTheHolderFirst_PassesAndUsesNoBudget()
    {
        // Oracle, the waiver's only provider, sells nothing here: the engine keeps the holder's first refusal.
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 10, providers: A.Oracle));
        var catalog = A.Catalog(A.Provider(A.Azure, 10m), A.Provider(A.CoreWeave, 9m));
        var first = new EngineDriver(book, catalog);
        first.Submit(A.Request("r1"));
        first.Decline(A.At(1));
        first.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(2));
        first.Reserve(1, A.CoreWeave, confirmed: true, A.At(3));

        // The budget is whole for the next request, which oracle can serve under the default catalog.
        var second = new EngineDriver(book);
        second.Submit(A.Request("r2"), A.At(4));

        var report = Verify(book, first.Log, second.Log);

        Assert.Equal(SourcingRoute.FirstRefusal, first.Single<ClausesResolved>().Route);
        Assert.Equal(RequestOutcome.Placed, first.State.Closed!.Outcome);
        Assert.Equal(SourcingRoute.Waived, second.Single<ClausesResolved>().Route);
        Assert.True(report.Passed, string.Join("\n", report.Violations));
    }

    [Fact]
    public void Verify_FirstRefusalRequestPlacedWithAThirdPartyBeforeTheHolderAnswered_IsStillAnI1ViolationWhenAWaiverCouldHaveCoveredIt()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(budget: 10, providers: A.Oracle));
        var driver = new EngineDriver(book, A.Catalog(A.Provider(A.Azure, 10m), A.Provider(A.CoreWeave, 9m)));
        driver.Submit();
        SourcingEvent[] tampered = [.. driver.Log, new AllocationMade(R1, A.At(1), A.CoreWeave, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1)];

        var report = Verify(book, tampered);

        Violation(report, "I1", R1, 3);
    }

    [Fact]
    public void Verify_WaivedRequestAllocatedToAProviderTheWaiverDoesNotName_IsAnI1Violation()
    {
        var book = A.Book(A.FirstRefusal(), A.Waiver(providers: A.Oracle));
        var driver = new EngineDriver(book);
        driver.Submit();
        SourcingEvent[] tampered = [.. driver.Log, new AllocationMade(R1, A.At(1), A.CoreWeave, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1)];

        var report = Verify(book, tampered);

        Assert.Contains("which waiver waiver does not name", Violation(report, "I1", R1, 3).Message, StringComparison.Ordinal);
    }

    // I2

    [Fact]
    public void Verify_ExclusiveRequestAllocatedToAnotherProvider_IsAnI2Violation()
    {
        var book = A.Book(A.Exclusivity());
        var driver = new EngineDriver(book);
        driver.Submit();
        driver.Decline(A.At(1));
        var closed = driver.Log[^1];
        SourcingEvent[] tampered = [.. driver.Log.SkipLast(1), new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, null), closed];

        var report = Verify(book, tampered);

        Assert.Contains("exclusive to stargate (ex)", Violation(report, "I2", R1, 4).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_QuotesRequestedForAnExclusiveRequest_IsAnI2Violation()
    {
        var book = A.Book(A.Exclusivity());
        var driver = new EngineDriver(book);
        driver.Submit();
        driver.Decline(A.At(1));
        SourcingEvent[] tampered = [.. driver.Log.SkipLast(1), new QuotesRequested(R1, A.At(1), [A.Oracle], A.Gpus(8), A.Usd(15), A.At(5))];

        var report = Verify(book, tampered);

        Assert.Contains("went to the market", Violation(report, "I2", R1, 4).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RecordedRouteIgnoringExclusivity_IsAnI2Violation()
    {
        var book = A.Book(A.Exclusivity());
        var open = new EngineDriver(ContractBook.Empty);
        open.Submit();

        var report = Verify(book, open.Log);

        Assert.Contains("as Exclusive, but it was decided as Open", Violation(report, "I2", R1, 1).Message, StringComparison.Ordinal);
    }

    // I3

    [Fact]
    public void Verify_MoreAllocatedThanRequested_IsAnI3Violation()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        SourcingEvent[] tampered =
        [
            .. driver.Log,
            new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1),
            new AllocationMade(R1, A.At(1), A.CoreWeave, A.Gpus(2), A.Usd(9), A.At(48), AllocationSource.Market, 2),
        ];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Contains("allocations reach 10 GPUs, more than the 8 requested", Violation(report, "I3", R1, 4).Message, StringComparison.Ordinal);
        Assert.Single(report.Violations);
    }

    [Fact]
    public void Verify_ClosedTotalsNotAddingUpToTheRequest_IsAnI3Violation()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        SourcingEvent[] tampered =
        [
            .. driver.Log,
            new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(5), A.Usd(9), A.At(48), AllocationSource.Market, 1),
            new RequestClosed(R1, A.At(1), RequestOutcome.PartiallyPlaced, A.Gpus(5), A.Gpus(2), "no-acceptable-quotes"),
        ];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Contains("5 allocated and 2 unfulfilled", Violation(report, "I3", R1, 4).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ClosedClaimingMoreAllocatedThanTheAllocations_IsAnI3Violation()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        SourcingEvent[] tampered = [.. driver.Log, new RequestClosed(R1, A.At(1), RequestOutcome.Placed, A.Gpus(8), A.Gpus(0), null)];

        var report = Verify(ContractBook.Empty, tampered);

        Violation(report, "I3", R1, 3);
    }

    [Fact]
    public void Verify_AllocationAboveTheMaximumPrice_IsAnI3Violation()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        SourcingEvent[] tampered = [.. driver.Log, new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(8), A.Usd(15.01m), A.At(48), AllocationSource.Market, 1)];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Contains("above the request's maximum 15.00 USD/GPU-h", Violation(report, "I3", R1, 3).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ReleasingMoreThanAllocated_IsAnI3Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(book);
        driver.Submit();
        driver.Accept(3, A.At(1));
        SourcingEvent[] tampered = [.. driver.Log, new AllocationReleased(R1, A.At(2), A.Azure, A.Gpus(5))];

        var report = Verify(book, tampered);

        Assert.Contains("released 5 GPUs but only 3 were allocated", Violation(report, "I3", R1, 6).Message, StringComparison.Ordinal);
    }

    // I4

    [Fact]
    public void Verify_ClauseUsedAfterItsTermination_IsAnI4Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(book);
        driver.Submit(A.Request(), A.At(2)); // decided under the clause at +2h...
        var terminated = book.WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(1), A.Clause("agi"))); // ...which ended at +1h

        var report = Verify(terminated, driver.Log);

        Assert.Contains(report.Violations, v => v is { Invariant: "I4", EventIndex: 1 } && v.Request == R1
            && v.Message.Contains("first-refusal clause microsoft-openai@v1:fr was applied after its termination at", StringComparison.Ordinal)
            && v.Message.Contains("by agi", StringComparison.Ordinal));
        Assert.All(report.Violations, v => Assert.Equal("I4", v.Invariant));
    }

    [Fact]
    public void Verify_TerminationRecordedAfterTheDecision_DoesNotCondemnIt()
    {
        // A trigger fires at the end of a period (+5h) but the report that fires it is recorded at +9h; a request
        // decided at +7h under the clause followed every termination the broker knew.
        var book = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(book);
        driver.Submit(A.Request(), A.At(7));
        var terminated = book.WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(5), A.Clause("agi"), RecordedAt: A.At(9)));

        var report = Verify(terminated, driver.Log);

        Assert.True(report.Passed, string.Join("; ", report.Violations));
    }

    [Fact]
    public void Verify_TerminationKnownBeforeTheDecision_IsStillAnI4Violation()
    {
        var book = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(book);
        driver.Submit(A.Request(), A.At(7));
        var terminated = book.WithTermination(new ClauseTermination(A.AgreementId, A.Clause("fr"), A.At(5), A.Clause("agi"), RecordedAt: A.At(6)));

        var report = Verify(terminated, driver.Log);

        Assert.Contains(report.Violations, v => v is { Invariant: "I4", EventIndex: 1 } && v.Request == R1);
    }

    [Fact]
    public void Verify_ClauseUsedOutsideItsTerm_IsAnI4Violation()
    {
        var inTerm = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(inTerm);
        driver.Submit();
        var expired = A.Book(A.FirstRefusal() with { Until = A.T0 });

        var report = Verify(expired, driver.Log);

        Assert.Contains(report.Violations, v => v is { Invariant: "I4", EventIndex: 1 } && v.Request == R1 && v.Message.EndsWith("was applied outside its term", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_ClauseFromAVersionNotInForce_IsAnI4Violation()
    {
        var v1Only = A.Book(A.FirstRefusal());
        var driver = new EngineDriver(v1Only);
        driver.Submit(A.Request(), A.At(2));
        var amended = A.Book(A.Agreement(A.FirstRefusal()).Amend(A.Version(2, A.At(1), A.FirstRefusal())));

        var report = Verify(amended, driver.Log);

        Assert.Contains("microsoft-openai@v1:fr was not part of the agreement version in force", Violation(report, "I4", R1, 1).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RequestDecidedDespiteConflictingClauses_IsAnI4Violation()
    {
        var driver = new EngineDriver(A.Book(A.Exclusivity("ex-stargate", A.Stargate)));
        driver.Submit();
        var conflicting = A.Book(A.Exclusivity("ex-stargate", A.Stargate), A.Exclusivity("ex-oracle", A.Oracle));

        var report = Verify(conflicting, driver.Log);

        Assert.Contains("clauses conflict", Violation(report, "I4", R1, 1).Message, StringComparison.Ordinal);
    }

    // Terminal state and sequence

    [Fact]
    public void Verify_EventAfterTheRequestClosed_IsReported()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        driver.Cancel(A.At(1));
        SourcingEvent[] tampered = [.. driver.Log, new QuoteReceived(R1, A.At(2), A.Oracle, A.Gpus(8), A.Usd(9), A.At(48), A.At(48))];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Equal("an event after the request was closed", Violation(report, "terminal", R1, 4).Message);
    }

    [Fact]
    public void Verify_RequestClosedTwice_IsReported()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        driver.Cancel(A.At(1));
        SourcingEvent[] tampered = [.. driver.Log, driver.Log[^1] with { At = A.At(2) }];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Equal("the request was closed twice", Violation(report, "terminal", R1, 4).Message);
    }

    [Fact]
    public void Verify_EventBeforeTheRequestWasSubmitted_IsReported()
    {
        var report = Verify(ContractBook.Empty, [new OfferDeclined(R1, A.T0, new OfferId("r1-o1"), A.Azure, "no")]);

        Violation(report, "I5", R1, 0);
    }

    /// <summary>
    /// Regression: a second RequestSubmitted for an open request replaced the request being checked,
    /// so allocations beyond the first request's size passed as long as the second was larger.
    /// </summary>
    [Fact]
    public void Verify_RequestSubmittedTwiceWhileOpen_IsReportedAndDoesNotReplaceTheFirst()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        var larger = A.Request() with { Gpus = A.Gpus(100) };
        SourcingEvent[] tampered =
        [
            .. driver.Log,
            new RequestSubmitted(R1, A.At(1), larger),
            new AllocationMade(R1, A.At(2), A.Oracle, A.Gpus(20), A.Usd(9), A.At(48), AllocationSource.Market, 1),
        ];

        var report = Verify(ContractBook.Empty, tampered);

        Assert.Equal("the request was submitted twice", Violation(report, "I5", R1, 3).Message);
        Assert.Contains("more than the 8 requested", Violation(report, "I3", R1, 4).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OnlyTheBrokenRequestIsReported()
    {
        var book = A.Book(A.FirstRefusal());
        var clean = new EngineDriver(book);
        clean.Submit(A.Request("r2"));
        clean.Accept(8, A.At(1));
        var broken = new EngineDriver(book);
        broken.Submit();
        SourcingEvent[] tampered = [.. broken.Log, new AllocationMade(R1, A.At(1), A.Oracle, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1)];

        var report = Verify(book, clean.Log, tampered);

        Assert.Equal(R1, Assert.Single(report.Violations).Request);
        Assert.Equal(2, report.RequestsChecked);
    }
}
