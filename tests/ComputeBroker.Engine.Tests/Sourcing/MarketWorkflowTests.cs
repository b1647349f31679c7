using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>Requests no placement clause governs: quotes from every eligible provider, picked by price, start, provider id.</summary>
public sealed class MarketWorkflowTests
{
    private static EngineDriver Submitted(CapacityRequest? request = null)
    {
        var driver = new EngineDriver(ContractBook.Empty);
        Assert.False(driver.Submit(request).IsRejected);
        return driver;
    }

    private static IReadOnlyList<(ProviderId Provider, int Gpus, decimal Price)> Awards(EngineDriver driver) =>
        driver.Log.OfType<AwardMade>().Select(a => (a.Provider, a.Gpus.Value, a.Price.PerHour.Amount)).ToArray();

    [Fact]
    public void Submit_NoPlacementClause_AsksEveryEligibleProviderForAQuote()
    {
        var driver = Submitted();

        Assert.Equal(["request.submitted", "clauses.resolved", "quotes.requested"], driver.Types());
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(SourcingRoute.Open, resolved.Route);
        Assert.Empty(resolved.Versions);
        Assert.Null(resolved.Holder);
        var quotes = driver.Single<QuotesRequested>();
        Assert.Equal([A.Azure, A.CoreWeave, A.Oracle], quotes.Providers);
        Assert.Equal(A.Gpus(8), quotes.Gpus);
        Assert.Equal(A.Usd(15), quotes.Ceiling);
        Assert.Equal(A.At(4), quotes.Deadline);
        Assert.Equal(RequestPhase.AwaitingQuotes, driver.State.Phase);
    }

    [Fact]
    public void Submit_ProviderNotSellingTheAcceleratorInAnAllowedRegion_IsNotAsked()
    {
        var westOnly = A.Provider(A.Oracle) with { Regions = ["westus"], Prices = [new("H100", "westus", A.Usd(9))] };
        var driver = new EngineDriver(ContractBook.Empty, A.Catalog(A.Provider(A.Azure), A.Provider(A.CoreWeave) with { Prices = [new("H200", null, A.Usd(9))] }, westOnly));

        driver.Submit(A.Request() with { Regions = ["eastus"] });

        Assert.Equal([A.Azure], driver.Single<QuotesRequested>().Providers);
    }

    /// <summary>
    /// Regression: a provider pricing one accelerator in two currencies (USD in eastus, EUR in
    /// westeurope) made list-price lookup compare USD with EUR and throw CurrencyMismatchException,
    /// so any request naming no region failed to submit.
    /// </summary>
    [Fact]
    public void Submit_ProviderPricingTheAcceleratorInTwoCurrencies_IsAskedAtItsPriceInTheRequestCurrency()
    {
        var euros = new PricePerGpuHour(new Money(8m, new Currency("EUR")));
        var twoCurrencies = A.Provider(A.Oracle, 12m) with
        {
            Regions = ["eastus", "westeurope"],
            Prices = [new("H100", "eastus", A.Usd(12)), new("H100", "westeurope", euros)],
        };
        var driver = new EngineDriver(A.Book(A.FirstRefusal(holder: A.Oracle)), A.Catalog(A.Provider(A.Azure), twoCurrencies));

        var decision = driver.Submit(A.Request() with { Regions = [] });

        Assert.False(decision.IsRejected);
        Assert.Equal(A.Usd(12), driver.Single<OfferMade>().Price);
        Assert.Equal(A.Usd(12), twoCurrencies.ListPrice(A.Request()));
        Assert.Equal(euros, twoCurrencies.ListPrice(A.Request() with { MaxPrice = new PricePerGpuHour(new Money(20m, new Currency("EUR"))) }));
    }

    [Fact]
    public void AnswerQuote_LastProviderAnswers_ClosesTheWindowAndAwardsAtOnce()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.Azure, A.Quote(8, 10m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("sold out"), A.At(1));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m), A.At(2));

        Assert.Equal(["quote.received", "quotes.closed", "award.made"], driver.Types(driver.Last));
        Assert.Empty(driver.Single<QuoteWindowClosed>().Silent);
        Assert.Equal(new AwardMade(A.Request().Id, A.At(2), 1, A.Azure, A.Gpus(8), A.Usd(10), A.At(48), A.At(3)), driver.Single<AwardMade>());
        Assert.Equal(RequestPhase.AwaitingReservations, driver.State.Phase);
    }

    [Fact]
    public void AnswerQuote_EqualPrices_PicksTheEarlierStart()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Azure, A.Quote(8, 10m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m, start: A.At(49)), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 9m, start: A.At(48)), A.At(1));

        Assert.Equal([(A.Oracle, 8, 9m)], Awards(driver));
    }

    [Fact]
    public void AnswerQuote_LowerPriceWithLaterStart_BeatsHigherPriceWithEarlierStart()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Azure, new QuoteAnswer.Decline("no"), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m, start: A.At(50)), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 10m, start: A.At(48)), A.At(1));

        Assert.Equal([(A.CoreWeave, 8, 9m)], Awards(driver));
    }

    [Fact]
    public void AnswerQuote_EqualPriceAndStart_PicksTheLowerProviderId()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Oracle, A.Quote(8, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(1));
        driver.AnswerQuote(A.Azure, A.Quote(8, 9m), A.At(1));

        Assert.Equal([(A.Azure, 8, 9m)], Awards(driver));
    }

    [Fact]
    public void AnswerQuote_NoQuoteCoversTheRequest_SplitsAcrossProvidersCheapestFirst()
    {
        var driver = PlacedAcrossTwoOfThreeQuotes();

        Assert.Equal([(A.Azure, 5, 9m), (A.CoreWeave, 3, 10m)], Awards(driver));
        Assert.Equal([1, 2], driver.Log.OfType<AwardMade>().Select(a => a.Award));
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1.5), RequestOutcome.Placed, A.Gpus(8), A.Gpus(0), null), driver.Single<RequestClosed>());
        Assert.Equal([(A.Azure, 5), (A.CoreWeave, 3)], driver.State.Allocations.Select(a => (a.Provider, a.Gpus.Value)));
    }

    [Fact]
    public void AClosedRequest_KeepsItsTermsAllocationsAndOutcome_NotTheQuotesThatDecidedThem()
    {
        var driver = PlacedAcrossTwoOfThreeQuotes();

        Assert.True(driver.State.IsClosed);
        Assert.Empty(driver.State.Quotes);
        Assert.Empty(driver.State.PendingAwards);
        Assert.False(driver.State.HasAnsweredQuote(A.Azure));
        Assert.Equal(A.Request(), driver.State.Request);
        Assert.Equal(3, driver.State.QuoteProviders.Count);
        Assert.Equal([(A.Azure, 5), (A.CoreWeave, 3)], driver.State.Allocations.Select(a => (a.Provider, a.Gpus.Value)));
        Assert.Equal(RequestOutcome.Placed, driver.State.Closed!.Outcome);

        // A replay of the log folds to the same closed state, and a late answer is still told the request is closed.
        var replayed = RequestState.Replay(driver.Log);
        Assert.Empty(replayed.Quotes);
        Assert.Equal(driver.State.Allocations, replayed.Allocations);
        var late = driver.AnswerQuote(A.Oracle, A.Quote(5, 8m), A.At(1.6));
        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Contains("already closed", late.Rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnswerQuote_AllOrNothing_PicksTheCheapestSingleQuoteCoveringAll()
    {
        var driver = Submitted(A.Request() with { AllOrNothing = true });

        driver.AnswerQuote(A.Azure, A.Quote(5, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 12m), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 11m), A.At(1));

        Assert.Equal([(A.Oracle, 8, 11m)], Awards(driver));
    }

    [Fact]
    public void AnswerQuote_AllOrNothingAndNoSingleQuoteCoversAll_IsUnfulfilledWithoutAwards()
    {
        var driver = Submitted(A.Request() with { AllOrNothing = true });

        driver.AnswerQuote(A.Azure, A.Quote(5, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(6, 10m), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(7, 11m), A.At(1));

        Assert.Equal(["quote.received", "quotes.closed", "request.closed"], driver.Types(driver.Last));
        Assert.Empty(driver.Log.OfType<AwardMade>());
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.Unfulfilled, A.Gpus(0), A.Gpus(8), "all-or-nothing-not-met"), driver.Single<RequestClosed>());
    }

    [Fact]
    public void AnswerQuote_QuoteAboveMaximumPrice_IsIgnored()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Azure, A.Quote(8, 16m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(4, 14m), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 15.01m), A.At(1));

        Assert.Equal([(A.CoreWeave, 4, 14m)], Awards(driver));
    }

    [Fact]
    public void AnswerQuote_EveryQuoteAboveMaximum_IsUnfulfilled()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Azure, A.Quote(8, 16m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 17m), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 18m), A.At(1));

        Assert.Empty(driver.Log.OfType<AwardMade>());
        Assert.Equal("no-acceptable-quotes", driver.Single<RequestClosed>().Reason);
    }

    [Fact]
    public void AnswerQuote_EveryProviderDeclines_IsUnfulfilledWithNoQuotes()
    {
        var driver = Submitted();

        driver.AnswerQuote(A.Azure, new QuoteAnswer.Decline(""), A.At(1));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("no"), A.At(1));
        driver.AnswerQuote(A.Oracle, new QuoteAnswer.Decline("no"), A.At(1));

        Assert.Equal("declined", driver.Log.OfType<QuoteDeclined>().First().Reason); // a blank reason is recorded as "declined"
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1), RequestOutcome.Unfulfilled, A.Gpus(0), A.Gpus(8), "no-quotes"), driver.Single<RequestClosed>());
    }

    [Fact]
    public void Tick_AtQuoteDeadline_ClosesTheWindowNamingSilentProvidersAndAwards()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(1));

        Assert.Empty(driver.Tick(A.At(4).AddTicks(-1)).Events);
        driver.Tick(A.At(4));

        Assert.Equal(["quotes.closed", "award.made"], driver.Types(driver.Last));
        Assert.Equal([A.Azure, A.Oracle], driver.Single<QuoteWindowClosed>().Silent);
        Assert.Equal([(A.CoreWeave, 8, 9m)], Awards(driver));
    }

    [Fact]
    public void Tick_QuoteNoLongerValidWhenTheWindowCloses_IsNotAwarded()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m, validUntil: A.At(2)), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m, validUntil: A.At(48)), A.At(1));

        driver.Tick(A.At(4));

        Assert.Equal([(A.Oracle, 8, 12m)], Awards(driver));
    }

    [Fact]
    public void Submit_QuoteWindow_IsBoundedByNeededBy()
    {
        var driver = Submitted(A.Request() with { NeededBy = A.At(2) });

        Assert.Equal(A.At(2), driver.Single<QuotesRequested>().Deadline);
    }

    [Fact]
    public void AnswerQuote_InvalidQuotes_AreRejectedWithTheFieldAndChangeNothing()
    {
        var driver = Submitted();

        var none = driver.AnswerQuote(A.Azure, A.Quote(0, 9m), A.At(1));
        var euros = driver.AnswerQuote(A.Azure, new QuoteAnswer.Quote(A.Gpus(8), new PricePerGpuHour(new Money(9m, new Currency("EUR"))), A.At(48), A.At(48)), A.At(1));
        var stale = driver.AnswerQuote(A.Azure, A.Quote(8, 9m, validUntil: A.At(1)), A.At(1));

        Assert.Equal("gpus", Assert.Single(none.Rejection!.Errors!).Field);
        Assert.Equal("price", Assert.Single(euros.Rejection!.Errors!).Field);
        Assert.Equal("valid-until", Assert.Single(stale.Rejection!.Errors!).Field);
        Assert.All([none, euros, stale], d => Assert.Equal(RejectionKind.Invalid, d.Rejection!.Kind));
        Assert.Equal(3, driver.Log.Count);
        Assert.False(driver.State.HasAnsweredQuote(A.Azure));
    }

    [Fact]
    public void AnswerQuote_SecondAnswerFromTheSameProvider_IsAConflictAndChangesNothing()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.Azure, A.Quote(8, 9m), A.At(1));

        var second = driver.AnswerQuote(A.Azure, A.Quote(8, 5m), A.At(1.5));

        Assert.Equal(RejectionKind.Conflict, second.Rejection!.Kind);
        Assert.Single(driver.State.Quotes);
        Assert.Equal(A.Usd(9), driver.State.Quotes[0].Price);
    }

    [Fact]
    public void AnswerQuote_FromAProviderNeverAsked_IsNotFound()
    {
        var driver = Submitted();

        var decision = driver.AnswerQuote(A.Stargate, A.Quote(8, 9m), A.At(1));

        Assert.Equal(RejectionKind.NotFound, decision.Rejection!.Kind);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void AnswerQuote_AfterTheDeadline_IsAConflictWithNoEventsAndUnchangedState()
    {
        var driver = Submitted();
        var count = driver.State.EventCount;

        var late = driver.AnswerQuote(A.Azure, A.Quote(8, 9m), A.At(4).AddSeconds(1));

        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Empty(late.Events);
        Assert.Equal(count, driver.State.EventCount);
        Assert.Empty(driver.State.Quotes);
        Assert.Equal(RequestPhase.AwaitingQuotes, driver.State.Phase);
    }

    [Fact]
    public void AnswerQuote_AfterTheWindowClosedByTick_IsAConflict()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.CoreWeave, A.Quote(8, 9m), A.At(1));
        driver.Tick(A.At(4));
        var count = driver.Log.Count;

        var late = driver.AnswerQuote(A.Azure, A.Quote(8, 5m), A.At(4));

        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Equal(count, driver.Log.Count);
    }

    /// <summary>Three quotes of 5 GPUs for 8: the two cheapest are awarded (5 and 3) and confirmed, and the request is placed.</summary>
    private static EngineDriver PlacedAcrossTwoOfThreeQuotes()
    {
        var driver = Submitted();
        driver.AnswerQuote(A.Azure, A.Quote(5, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(5, 10m), A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(5, 11m), A.At(1));
        driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));
        driver.Reserve(2, A.CoreWeave, confirmed: true, A.At(1.5));
        return driver;
    }
}
