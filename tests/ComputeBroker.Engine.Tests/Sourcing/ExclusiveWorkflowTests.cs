using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>Requests in exclusivity scope: only the exclusive provider is asked; what it does not take is unfulfilled.</summary>
public sealed class ExclusiveWorkflowTests
{
    private static readonly ProviderDefinition[] Providers = [A.Provider(A.Azure, 10m), A.Provider(A.Oracle, 12m), A.Provider(A.Stargate, 11m)];

    private static EngineDriver Submitted(Func<CapacityRequest, CapacityRequest>? change = null)
    {
        var driver = new EngineDriver(A.Book(A.Exclusivity(), A.FirstRefusal()), A.Catalog(Providers));
        var request = A.Request() with { NeededBy = A.At(96) };
        Assert.False(driver.Submit(change?.Invoke(request) ?? request).IsRejected);
        return driver;
    }

    [Fact]
    public void Submit_RequestInExclusivityScope_OffersOnlyTheExclusiveProvider()
    {
        var driver = Submitted();

        Assert.Equal(["request.submitted", "clauses.resolved", "offer.made"], driver.Types());
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(SourcingRoute.Exclusive, resolved.Route);
        Assert.Equal(A.Ref("ex"), resolved.Exclusivity);
        Assert.Null(resolved.FirstRefusal);
        Assert.Equal(A.Stargate, resolved.Holder);
        Assert.Empty(resolved.Market);
        var offer = driver.Single<OfferMade>();
        Assert.Equal(OfferKind.Exclusive, offer.Kind);
        Assert.Equal(A.Stargate, offer.Provider);
        Assert.Equal(A.Gpus(8), offer.Gpus);
        Assert.Equal(A.Usd(11), offer.Price);
        Assert.True(offer.PartialAllowed);
        Assert.Equal(A.At(48), offer.RespondBy); // the broker's exclusive response window: two days
    }

    [Fact]
    public void AnswerOffer_ExclusiveProviderAcceptsAll_IsPlaced()
    {
        var driver = Submitted();

        driver.Accept(8, A.At(1));

        Assert.Equal(["offer.accepted", "allocation.made", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(A.Stargate, driver.Single<AllocationMade>().Provider);
        Assert.Equal(AllocationSource.Offer, driver.Single<AllocationMade>().Source);
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.Placed, A.Gpus(8), A.Gpus(0), null), driver.Single<RequestClosed>());
    }

    [Fact]
    public void AnswerOffer_ExclusiveProviderAcceptsPart_RestIsUnfulfilledNeverMarketed()
    {
        var driver = Submitted();

        driver.Accept(5, A.At(1));

        Assert.Equal(["offer.accepted", "allocation.made", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.PartiallyPlaced, A.Gpus(5), A.Gpus(3), "exclusive-provider-declined"), driver.Single<RequestClosed>());
        Assert.Empty(driver.Log.OfType<QuotesRequested>());
    }

    [Fact]
    public void AnswerOffer_ExclusiveProviderDeclines_IsUnfulfilledNeverMarketed()
    {
        var driver = Submitted();

        driver.Decline(A.At(1));

        Assert.Equal(["offer.declined", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.Unfulfilled, A.Gpus(0), A.Gpus(8), "exclusive-provider-declined"), driver.Single<RequestClosed>());
        Assert.Empty(driver.Log.OfType<QuotesRequested>());
    }

    [Fact]
    public void Tick_ExclusiveOfferExpires_IsUnfulfilledNeverMarketed()
    {
        var driver = Submitted();

        Assert.Empty(driver.Tick(A.At(47)).Events);
        driver.Tick(A.At(48));

        Assert.Equal(["offer.expired", "request.closed"], driver.Types(driver.Last));
        Assert.Equal("exclusive-provider-declined", driver.Single<RequestClosed>().Reason);
        Assert.Equal(RequestOutcome.Unfulfilled, driver.Single<RequestClosed>().Outcome);
        Assert.Empty(driver.Log.OfType<QuotesRequested>());
    }

    [Fact]
    public void Submit_ExclusiveAllOrNothingRequest_OffersNoPartialAcceptance()
    {
        var driver = Submitted(r => r with { AllOrNothing = true });

        Assert.False(driver.Single<OfferMade>().PartialAllowed);
        Assert.Equal(RejectionKind.Invalid, driver.Accept(5, A.At(1)).Rejection!.Kind);
    }

    [Fact]
    public void Submit_ExclusiveProviderListedAboveMaximum_OffersTheMaximum()
    {
        var driver = new EngineDriver(A.Book(A.Exclusivity()), A.Catalog(A.Provider(A.Stargate, 40m)));

        driver.Submit();

        Assert.Equal(A.Usd(15), driver.Single<OfferMade>().Price);
    }

    [Fact]
    public void Submit_ExclusiveOfferWindow_IsBoundedByNeededBy()
    {
        var driver = Submitted(r => r with { NeededBy = A.At(30) });

        Assert.Equal(A.At(30), driver.Single<OfferMade>().RespondBy);
    }
}
