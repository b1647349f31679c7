using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>First refusal in <c>first-offer</c> mode, and waivers, driven by hand with explicit instants.</summary>
public sealed class FirstRefusalWorkflowTests
{
    private static EngineDriver Submitted(params Clause[] clauses)
    {
        var driver = new EngineDriver(A.Book(clauses.Length == 0 ? [A.FirstRefusal()] : clauses));
        Assert.False(driver.Submit().IsRejected);
        return driver;
    }

    [Fact]
    public void Submit_RequestInFirstRefusalScope_OffersTheHolderFirst()
    {
        var driver = Submitted();

        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made"], driver.Types());
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(SourcingRoute.FirstRefusal, resolved.Route);
        Assert.Equal([A.V(1)], resolved.Versions);
        Assert.Equal(A.Ref("fr"), resolved.FirstRefusal);
        Assert.Equal(A.Azure, resolved.Holder);
        Assert.Equal(FirstRefusalMode.FirstOffer, resolved.Mode);
        Assert.True(resolved.HolderMayAcceptPart);
        Assert.Null(resolved.Exclusivity);
        Assert.Null(resolved.Waiver);
        Assert.Equal([A.CoreWeave, A.Oracle], resolved.Market); // every eligible provider but the holder, by id
        var offer = driver.Single<OfferMade>();
        Assert.Equal(new OfferMade(A.Request().Id, A.T0, new("r1-o1"), OfferKind.FirstRefusal, A.Azure, A.Gpus(8), A.Usd(10), true, A.At(24)), offer);
        Assert.Equal(RequestPhase.AwaitingOffer, driver.State.Phase);
        Assert.Equal(A.Usd(10), driver.State.HolderOfferPrice);
        Assert.Equal(A.At(24), driver.State.NextDeadline);
    }

    [Fact]
    public void AnswerOffer_HolderAcceptsAll_PlacesWithTheHolderAndRequestsNoQuotes()
    {
        var driver = Submitted();

        driver.Accept(8, A.At(1));

        Assert.Equal(["offer.accepted", "allocation.made", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new AllocationMade(A.Request().Id, A.At(1), A.Azure, A.Gpus(8), A.Usd(10), A.At(48), AllocationSource.Offer, null), driver.Single<AllocationMade>());
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.Placed, A.Gpus(8), A.Gpus(0), null), driver.Single<RequestClosed>());
        Assert.Empty(driver.Log.OfType<QuotesRequested>());
        Assert.Equal(RequestPhase.Closed, driver.State.Phase);
        Assert.Equal(A.Gpus(8), driver.State.Allocated);
        Assert.False(driver.State.HolderAnswered); // it took everything: there is nothing left for a third party
    }

    [Fact]
    public void AnswerOffer_HolderAcceptsPart_SendsTheRestToMarketWithTheHolderPriceAsCeiling()
    {
        var driver = Submitted();

        driver.Accept(3, A.At(1));

        Assert.Equal(["offer.accepted", "allocation.made", "quotes.requested"], driver.Types(driver.Last));
        Assert.Equal(A.Gpus(3), driver.Single<OfferAccepted>().Gpus);
        Assert.Equal(A.Gpus(3), driver.Single<AllocationMade>().Gpus);
        var quotes = driver.Single<QuotesRequested>();
        Assert.Equal([A.CoreWeave, A.Oracle], quotes.Providers);
        Assert.Equal(A.Gpus(5), quotes.Gpus); // only the remainder
        Assert.Equal(A.Usd(10), quotes.Ceiling); // the price the holder was offered
        Assert.Equal(A.At(1), quotes.At);
        Assert.Equal(A.At(5), quotes.Deadline);
        Assert.True(driver.State.HolderAnswered);
        Assert.Equal(RequestPhase.AwaitingQuotes, driver.State.Phase);
        Assert.Equal(A.Gpus(5), driver.State.Unsourced);
    }

    [Fact]
    public void AnswerOffer_HolderDeclines_SendsTheWholeRequestToMarket()
    {
        var driver = Submitted();

        driver.Decline(A.At(1), "capacity sold out");

        Assert.Equal(["offer.declined", "quotes.requested"], driver.Types(driver.Last));
        Assert.Equal("capacity sold out", driver.Single<OfferDeclined>().Reason);
        var quotes = driver.Single<QuotesRequested>();
        Assert.Equal(A.Gpus(8), quotes.Gpus);
        Assert.Equal(A.Usd(10), quotes.Ceiling);
        Assert.Equal(A.At(5), quotes.Deadline);
        Assert.DoesNotContain(A.Azure, quotes.Providers);
        Assert.True(driver.State.HolderAnswered);
    }

    [Fact]
    public void Tick_BeforeRespondBy_DoesNothing()
    {
        var driver = Submitted();

        var decision = driver.Tick(A.At(24).AddSeconds(-1));

        Assert.Empty(decision.Events);
        Assert.False(decision.IsRejected);
        Assert.Equal(RequestPhase.AwaitingOffer, driver.State.Phase);
        Assert.NotNull(driver.State.OpenOffer);
    }

    [Fact]
    public void Tick_AtRespondBy_ExpiresTheHolderOfferAndGoesToMarket()
    {
        var driver = Submitted();

        driver.Tick(A.At(24));

        Assert.Equal(["offer.expired", "quotes.requested"], driver.Types(driver.Last));
        Assert.Equal(new OfferExpired(A.Request().Id, A.At(24), new("r1-o1"), A.Azure), driver.Single<OfferExpired>());
        Assert.Equal(A.At(28), driver.Single<QuotesRequested>().Deadline);
        Assert.True(driver.State.HolderAnswered);
        Assert.Null(driver.State.OpenOffer);
    }

    [Fact]
    public void Tick_AtRespondByTwice_ExpiresTheOfferOnce()
    {
        var driver = Submitted();

        driver.Tick(A.At(24));
        var second = driver.Tick(A.At(24));

        Assert.Empty(second.Events);
        Assert.Single(driver.Log.OfType<OfferExpired>());
    }

    [Theory]
    [InlineData(72, 24)] // window ends first: now + 1 day
    [InlineData(12, 12)] // needed-by comes first
    public void Submit_FirstRefusalOffer_RespondsByTheEarlierOfWindowEndAndNeededBy(double neededBy, double respondBy)
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));

        driver.Submit(A.Request() with { NeededBy = A.At(neededBy) });

        Assert.Equal(A.At(respondBy), driver.Single<OfferMade>().RespondBy);
    }

    [Fact]
    public void Submit_HolderListPriceAboveMaximum_OffersTheMaximum()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()), A.Catalog(A.Provider(A.Azure, 20m), A.Provider(A.Oracle, 12m)));

        driver.Submit();

        Assert.Equal(A.Usd(15), driver.Single<OfferMade>().Price);
    }

    [Fact]
    public void Submit_AllOrNothingRequest_OffersTheHolderNoPartialAcceptance()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));

        driver.Submit(A.Request() with { AllOrNothing = true });

        Assert.False(driver.Single<OfferMade>().PartialAllowed);
        Assert.False(driver.Single<ClausesResolved>().HolderMayAcceptPart);
    }

    [Fact]
    public void AnswerOffer_HolderAcceptsPartOfAllOrNothingRequest_IsRejectedAsInvalidAndChangesNothing()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()));
        driver.Submit(A.Request() with { AllOrNothing = true });
        var eventsBefore = driver.State.EventCount;

        var decision = driver.Accept(3, A.At(1));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal("gpus", Assert.Single(decision.Rejection.Errors!).Field);
        Assert.Empty(decision.Events);
        Assert.Equal(eventsBefore, driver.State.EventCount);
        Assert.NotNull(driver.State.OpenOffer);
        Assert.Equal(RequestPhase.AwaitingOffer, driver.State.Phase);
    }

    [Fact]
    public void AnswerOffer_ClauseForbidsPartialExercise_PartialAcceptanceIsInvalid()
    {
        var driver = Submitted(A.FirstRefusal() with { PartialAllowed = false });

        var decision = driver.Accept(3, A.At(1));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.False(driver.Single<OfferMade>().PartialAllowed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void AnswerOffer_AcceptingNoneOrMoreThanOffered_IsInvalid(int gpus)
    {
        var driver = Submitted();

        var decision = driver.Accept(gpus, A.At(1));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal("gpus", Assert.Single(decision.Rejection.Errors!).Field);
        Assert.Equal(3, driver.Log.Count);
    }

    [Fact]
    public void AnswerQuote_HolderDeclinedAndThirdPartyQuotesAboveTheHolderPrice_IsNotAwardedEvenWithinTheMaximum()
    {
        // The ceiling rule: the holder was offered its list price 10 and declined; a third party at 12
        // would get better terms than the holder, although the request allows up to 15.
        var driver = Submitted();
        driver.Decline(A.At(1));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m), A.At(2));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("sold out"), A.At(2));

        Assert.Empty(driver.Log.OfType<AwardMade>());
        var closed = driver.Single<RequestClosed>();
        Assert.Equal(RequestOutcome.Unfulfilled, closed.Outcome);
        Assert.Equal("no-acceptable-quotes", closed.Reason);
        Assert.Equal(A.Gpus(8), closed.Unfulfilled);
    }

    [Fact]
    public void AnswerQuote_HolderDeclinedAndThirdPartyQuotesBelowTheHolderPrice_IsAwarded()
    {
        var driver = Submitted();
        driver.Decline(A.At(1));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m), A.At(2));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(2));

        var award = driver.Single<AwardMade>();
        Assert.Equal(A.CoreWeave, award.Provider);
        Assert.Equal(A.Usd(9), award.Price);
        Assert.Equal(A.Gpus(8), award.Gpus);
    }

    [Fact]
    public void AnswerQuote_ThirdPartyAtExactlyTheHolderPrice_IsAwarded()
    {
        var driver = Submitted();
        driver.Decline(A.At(1));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 10m), A.At(2));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("sold out"), A.At(2));

        Assert.Equal(A.Oracle, driver.Single<AwardMade>().Provider);
    }

    [Fact]
    public void AnswerOffer_HolderDeclinesAndNoOtherProviderSellsTheAccelerator_IsUnfulfilled()
    {
        var driver = new EngineDriver(A.Book(A.FirstRefusal()), A.Catalog(A.Provider(A.Azure, 10m)));
        driver.Submit();

        driver.Decline(A.At(1));

        Assert.Equal(["offer.declined", "request.closed"], driver.Types(driver.Last));
        Assert.Equal("no-eligible-providers", driver.Single<RequestClosed>().Reason);
        Assert.Empty(driver.Single<ClausesResolved>().Market);
    }

    [Fact]
    public void Submit_WaiverCoversTheRequest_SkipsTheHolderAndAsksOnlyTheWaiverProviders()
    {
        var driver = Submitted(A.FirstRefusal(), A.Waiver(budget: 64, providers: A.Oracle));

        Assert.Equal(["request.submitted", "clauses.resolved", "quotes.requested"], driver.Types());
        Assert.Empty(driver.Log.OfType<OfferMade>());
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(SourcingRoute.Waived, resolved.Route);
        Assert.Equal(A.Ref("waiver"), resolved.Waiver);
        Assert.Equal(A.Ref("fr"), resolved.FirstRefusal);
        Assert.Equal(A.Gpus(8), resolved.WaiverGpus);
        Assert.Equal([A.Oracle], resolved.Market);
        var quotes = driver.Single<QuotesRequested>();
        Assert.Equal([A.Oracle], quotes.Providers);
        Assert.Equal(A.Usd(15), quotes.Ceiling); // no holder offer: the request's maximum is the only ceiling
        Assert.Null(driver.State.HolderOfferPrice);
    }

    [Fact]
    public void Submit_WaiverWhoseProvidersSellNothingTheRequestAsks_OffersTheHolderFirstAsWithoutIt()
    {
        // The waiver names oracle, which is not in the catalog: skipping the holder would leave nobody to ask.
        var driver = new EngineDriver(A.Book(A.FirstRefusal(), A.Waiver(budget: 64, providers: A.Oracle)), A.Catalog(A.Provider(A.Azure, 10m), A.Provider(A.CoreWeave, 9m)));
        Assert.False(driver.Submit().IsRejected);

        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made"], driver.Types());
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(SourcingRoute.FirstRefusal, resolved.Route);
        Assert.Null(resolved.Waiver);
        Assert.Equal(GpuCount.None, resolved.WaiverGpus);
        Assert.Equal(A.Ref("fr"), resolved.FirstRefusal);
        Assert.Equal([A.CoreWeave], resolved.Market);
        Assert.Equal(A.Azure, driver.Single<OfferMade>().Provider);

        // The holder declines: the market is every other eligible provider, as under plain first refusal.
        driver.Decline(A.At(1));
        Assert.Equal([A.CoreWeave], driver.Single<QuotesRequested>().Providers);
    }

    [Fact]
    public void AnswerQuote_WaivedRequest_IsPlacedWithTheWaiverProvider()
    {
        var driver = Submitted(A.FirstRefusal(), A.Waiver(budget: 64, providers: A.Oracle));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m), A.At(1));
        driver.Reserve(1, A.Oracle, confirmed: true, A.At(1.5));

        Assert.Equal(["quote.received", "quotes.closed", "award.made"], driver.Types(driver.Log.Skip(3).Take(3)));
        var allocation = driver.Single<AllocationMade>();
        Assert.Equal(A.Oracle, allocation.Provider);
        Assert.Equal(AllocationSource.Market, allocation.Source);
        Assert.Equal(RequestOutcome.Placed, driver.Single<RequestClosed>().Outcome);
    }

    [Fact]
    public void AnswerQuote_ProviderNotNamedByTheWaiver_IsNotFound()
    {
        var driver = Submitted(A.FirstRefusal(), A.Waiver(budget: 64, providers: A.Oracle));

        var decision = driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(1));

        Assert.Equal(RejectionKind.NotFound, decision.Rejection!.Kind);
        Assert.Empty(decision.Events);
    }
}
