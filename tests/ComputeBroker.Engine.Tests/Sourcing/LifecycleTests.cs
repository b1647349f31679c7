using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>Validation, cancellation, answers that come too late or from the wrong party, and amendments in flight.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public void Submit_InvalidRequest_IsRejectedWithEveryFieldErrorAndNoEvents()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        var request = A.Request() with { Customer = " ", Gpus = A.Gpus(0), DurationHours = -1, MaxPrice = A.Usd(0), NeededBy = A.T0 };

        var decision = driver.Submit(request);

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal(["customer", "gpus", "duration-hours", "max-price", "needed-by"], decision.Rejection.Errors!.Select(e => e.Field));
        Assert.Empty(decision.Events);
        Assert.Empty(driver.Log);
        Assert.Null(driver.State.Request);
        Assert.Equal(0, driver.State.EventCount);
    }

    [Fact]
    public void Submit_ClauseConflict_IsRejectedNamingBothClausesAndRecordsNothing()
    {
        var driver = new EngineDriver(A.Book(A.Exclusivity("ex-stargate", A.Stargate), A.Exclusivity("ex-oracle", A.Oracle)));

        var decision = driver.Submit();

        Assert.Equal(RejectionKind.Conflict, decision.Rejection!.Kind);
        Assert.Contains("ex-stargate", decision.Rejection.Message, StringComparison.Ordinal);
        Assert.Contains("ex-oracle", decision.Rejection.Message, StringComparison.Ordinal);
        Assert.Empty(driver.Log);
        Assert.Null(driver.State.Request);
    }

    [Fact]
    public void Submit_Twice_IsAConflict()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();

        var again = driver.Submit();

        Assert.Equal(RejectionKind.Conflict, again.Rejection!.Kind);
        Assert.Equal(3, driver.Log.Count);
    }

    /// <summary>Regression: cancelling a request that was never submitted threw NullReferenceException.</summary>
    [Fact]
    public void Cancel_RequestNeverSubmitted_IsNotFoundAndRecordsNothing()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));

        var decision = driver.Cancel(A.T0);

        Assert.Equal(RejectionKind.NotFound, decision.Rejection!.Kind);
        Assert.Empty(driver.Log);
        Assert.Equal(0, driver.State.EventCount);
    }

    [Fact]
    public void Answers_ToARequestNeverSubmitted_AreRejectedAndRecordNothing()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));

        var offer = driver.AnswerOffer(new OfferAnswer.Accept(A.Gpus(8)), A.T0, A.Azure, new OfferId("r1-o1"));
        var quote = driver.AnswerQuote(A.Oracle, A.Quote(8, 9m), A.T0);
        var reservation = driver.Reserve(1, A.Oracle, confirmed: true, A.T0);
        var tick = driver.Tick(A.At(1000));

        Assert.Equal(RejectionKind.Conflict, offer.Rejection!.Kind);
        Assert.Equal(RejectionKind.NotFound, quote.Rejection!.Kind);
        Assert.Equal(RejectionKind.NotFound, reservation.Rejection!.Kind);
        Assert.Empty(tick.Events);
        Assert.Empty(driver.Log);
    }

    [Fact]
    public void Cancel_AfterHolderAcceptedPart_ReleasesTheAllocationAndClosesCancelled()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();
        driver.Accept(3, A.At(1));

        driver.Cancel(A.At(2), "job moved");

        Assert.Equal(["allocation.released", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new AllocationReleased(A.Request().Id, A.At(2), A.Azure, A.Gpus(3)), driver.Single<AllocationReleased>());
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(2), RequestOutcome.Cancelled, A.Gpus(0), A.Gpus(8), "job moved"), driver.Single<RequestClosed>());
        Assert.Equal(A.Gpus(0), driver.State.Allocated);
        Assert.Equal(RequestPhase.Closed, driver.State.Phase);
        Assert.Null(driver.State.NextDeadline);
    }

    [Fact]
    public void Cancel_ThenLateAnswers_AreRejectedAsConflictsWithNoEvents()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();
        driver.Accept(3, A.At(1));
        driver.Cancel(A.At(2));
        var count = driver.Log.Count;

        var quote = driver.AnswerQuote(A.Oracle, A.Quote(5, 9m), A.At(3));
        var offer = driver.AnswerOffer(new OfferAnswer.Decline("late"), A.At(3), A.Azure, new OfferId("r1-o1"));
        var cancel = driver.Cancel(A.At(3));
        var tick = driver.Tick(A.At(100));

        Assert.All([quote, offer, cancel], d => Assert.Equal(RejectionKind.Conflict, d.Rejection!.Kind));
        Assert.Empty(tick.Events);
        Assert.Equal(count, driver.Log.Count);
        Assert.Equal(RequestOutcome.Cancelled, driver.State.Closed!.Outcome);
    }

    [Fact]
    public void Cancel_WithAnAwardPending_ClosesAndRejectsTheLaterReservation()
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        driver.AnswerQuote(A.Azure, A.Quote(8, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("no"), A.At(1));
        driver.AnswerQuote(A.Oracle, new QuoteAnswer.Decline("no"), A.At(1));

        var cancel = driver.Cancel(A.At(1.2));
        var reservation = driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));

        Assert.Equal(["request.closed"], driver.Types(cancel.Events));
        Assert.Equal(RejectionKind.Conflict, reservation.Rejection!.Kind);
        Assert.Empty(driver.State.PendingAwards);
        Assert.Empty(driver.Log.OfType<AllocationMade>());
    }

    [Fact]
    public void AnswerOffer_AfterRespondByWithoutATick_IsAConflictWithNoEventsAndUnchangedState()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();
        var offer = driver.State.OpenOffer;

        var late = driver.Accept(8, A.At(24).AddSeconds(1));

        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Empty(late.Events);
        Assert.Equal(3, driver.State.EventCount);
        Assert.Same(offer, driver.State.OpenOffer);
        Assert.Equal(A.Gpus(0), driver.State.Allocated);
    }

    [Fact]
    public void AnswerOffer_AtExactlyRespondBy_IsAccepted()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();

        var onTime = driver.Accept(8, A.At(24));

        Assert.False(onTime.IsRejected);
        Assert.Equal(RequestOutcome.Placed, driver.Single<RequestClosed>().Outcome);
    }

    [Fact]
    public void AnswerOffer_AfterItExpired_IsAConflict()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();
        driver.Tick(A.At(24));
        var count = driver.Log.Count;

        var late = driver.AnswerOffer(new OfferAnswer.Accept(A.Gpus(8)), A.At(24), A.Azure, new OfferId("r1-o1"));

        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Equal(count, driver.Log.Count);
    }

    [Fact]
    public void AnswerOffer_SecondAnswer_IsAConflict()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();
        driver.Accept(3, A.At(1));

        var second = driver.AnswerOffer(new OfferAnswer.Decline("changed my mind"), A.At(2), A.Azure, new OfferId("r1-o1"));

        Assert.Equal(RejectionKind.Conflict, second.Rejection!.Kind);
        Assert.Empty(second.Events);
        Assert.Equal(A.Gpus(3), driver.State.Allocated);
    }

    [Fact]
    public void AnswerOffer_FromAnotherProvider_IsNotFound()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();

        var decision = driver.AnswerOffer(new OfferAnswer.Accept(A.Gpus(8)), A.At(1), from: A.Oracle);

        Assert.Equal(RejectionKind.NotFound, decision.Rejection!.Kind);
        Assert.Empty(decision.Events);
        Assert.NotNull(driver.State.OpenOffer);
    }

    [Fact]
    public void Submit_AfterAnAmendmentRemovesFirstRefusal_GoesStraightToMarketWhileTheInFlightRequestStillWaitsForTheHolder()
    {
        // v2 drops first refusal from +1h; r1 was submitted under v1 at T0, r2 under v2 at +2h.
        var agreement = A.Agreement(A.FirstRefusal()).Amend(A.Version(2, A.At(1), A.IpAccess()));
        var book = A.Book(agreement);
        var inFlight = new EngineDriver(book);
        var after = new EngineDriver(book);

        inFlight.Submit();
        after.Submit(A.Request("r2"), A.At(2));
        Assert.Empty(inFlight.Tick(A.At(3)).Events); // still waiting for the holder after v2 took effect
        inFlight.Decline(A.At(3));

        Assert.Equal([A.V(1)], inFlight.Single<ClausesResolved>().Versions);
        Assert.Equal(SourcingRoute.FirstRefusal, inFlight.Single<ClausesResolved>().Route);
        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made", "offer.declined", "quotes.requested"], inFlight.Types());
        Assert.Equal([A.CoreWeave, A.Oracle], inFlight.Single<QuotesRequested>().Providers);
        Assert.Equal(A.Usd(10), inFlight.Single<QuotesRequested>().Ceiling);

        Assert.Equal([A.V(2)], after.Single<ClausesResolved>().Versions);
        Assert.Equal(["request.submitted", "clauses.resolved", "quotes.requested"], after.Types());
        Assert.Equal([A.Azure, A.CoreWeave, A.Oracle], after.Single<QuotesRequested>().Providers);
        Assert.Equal(A.Usd(15), after.Single<QuotesRequested>().Ceiling);
    }

    [Fact]
    public void Tick_BookReplacedWhileInFlight_RequestFinishesUnderTheTermsItWasSubmittedUnder()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit();

        driver.Book = A.Book(A.Agreement(A.FirstRefusal()).Amend(A.Version(2, A.At(1), A.Exclusivity())));
        driver.Tick(A.At(24));

        Assert.Equal(["offer.expired", "quotes.requested"], driver.Types(driver.Last));
        Assert.Equal([A.CoreWeave, A.Oracle], driver.Single<QuotesRequested>().Providers);
    }
}
