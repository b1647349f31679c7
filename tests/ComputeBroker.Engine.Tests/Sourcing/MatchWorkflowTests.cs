using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>
/// First refusal in <c>match</c> mode: after the holder passed on its first offer and the market
/// quoted, the holder may match the best third-party terms before anything is awarded.
/// </summary>
public sealed class MatchWorkflowTests
{
    /// <summary>
    /// The holder declines at +1h; oracle quotes 5 at 8 and coreweave 5 at 9 at +2h, so the plan is
    /// oracle 5 and coreweave 3, and the holder is offered the match of 8 GPUs at 8 until +4h.
    /// </summary>
    private static EngineDriver MatchOffered()
    {
        var driver = new EngineDriver(A.Book(A.MatchRight()));
        driver.Submit();
        driver.Decline(A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(5, 8m), A.At(2));
        driver.AnswerQuote(A.CoreWeave, A.Quote(5, 9m), A.At(2));
        return driver;
    }

    private static IReadOnlyList<(ProviderId Provider, int Gpus)> Awards(EngineDriver driver) =>
        driver.Log.OfType<AwardMade>().Select(a => (a.Provider, a.Gpus.Value)).ToArray();

    [Fact]
    public void CloseQuotes_MatchMode_OffersTheHolderTheBestThirdPartyTermsBeforeAnyAward()
    {
        var driver = MatchOffered();

        Assert.Equal(["quote.received", "quotes.closed", "offer.made"], driver.Types(driver.Last));
        var match = driver.Log.OfType<OfferMade>().Last();
        Assert.Equal(new OfferMade(A.Request().Id, A.At(2), new("r1-o2"), OfferKind.Match, A.Azure, A.Gpus(8), A.Usd(8), true, A.At(4)), match);
        Assert.Empty(driver.Log.OfType<AwardMade>());
        Assert.Equal(RequestPhase.AwaitingMatch, driver.State.Phase);
        Assert.True(driver.State.MatchOffered);
        Assert.Equal(A.Usd(10), driver.State.HolderOfferPrice); // the match offer does not move the ceiling
        var resolved = driver.Single<ClausesResolved>();
        Assert.Equal(FirstRefusalMode.Match, resolved.Mode);
        Assert.Equal(TimeSpan.FromHours(2), resolved.MatchWindow);
    }

    [Fact]
    public void AnswerOffer_HolderMatchesAll_IsAllocatedAtTheMatchedPriceWithNoAwards()
    {
        var driver = MatchOffered();

        driver.Accept(8, A.At(3));

        Assert.Equal(["offer.accepted", "allocation.made", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new AllocationMade(A.Request().Id, A.At(3), A.Azure, A.Gpus(8), A.Usd(8), A.At(48), AllocationSource.Match, null), driver.Single<AllocationMade>());
        Assert.Equal(RequestOutcome.Placed, driver.Single<RequestClosed>().Outcome);
        Assert.Empty(driver.Log.OfType<AwardMade>());
    }

    [Fact]
    public void AnswerOffer_HolderMatchesPart_ReducesTheAwardsDroppingTheMostExpensiveFirst()
    {
        var driver = MatchOffered();

        driver.Accept(2, A.At(3));

        Assert.Equal(["offer.accepted", "allocation.made", "award.made", "award.made"], driver.Types(driver.Last));
        Assert.Equal(AllocationSource.Match, driver.Single<AllocationMade>().Source);
        Assert.Equal([(A.Oracle, 5), (A.CoreWeave, 1)], Awards(driver)); // coreweave's 3 shrink to 1
    }

    [Fact]
    public void AnswerOffer_HolderMatchesEnoughToDropTheDearerQuote_AwardsOnlyTheCheaper()
    {
        var driver = MatchOffered();

        driver.Accept(3, A.At(3));

        Assert.Equal([(A.Oracle, 5)], Awards(driver));
    }

    [Fact]
    public void AnswerOffer_HolderDeclinesTheMatch_AwardsAsPlanned()
    {
        var driver = MatchOffered();

        driver.Decline(A.At(3));

        Assert.Equal(["offer.declined", "award.made", "award.made"], driver.Types(driver.Last));
        Assert.Equal([(A.Oracle, 5), (A.CoreWeave, 3)], Awards(driver));
        Assert.Empty(driver.Log.OfType<AllocationMade>());
    }

    [Fact]
    public void Tick_MatchOfferExpires_AwardsAsPlanned()
    {
        var driver = MatchOffered();

        Assert.Empty(driver.Tick(A.At(3.99)).Events);
        driver.Tick(A.At(4));

        Assert.Equal(["offer.expired", "award.made", "award.made"], driver.Types(driver.Last));
        Assert.Equal([(A.Oracle, 5), (A.CoreWeave, 3)], Awards(driver));
        Assert.All(driver.Log.OfType<AwardMade>(), a => Assert.Equal(A.At(5), a.RespondBy));
    }

    [Fact]
    public void AnswerReservation_FailureAfterMatchDeclined_FailsOverWithoutASecondMatchOffer()
    {
        var driver = MatchOffered();
        driver.Decline(A.At(3));

        driver.Reserve(1, A.Oracle, confirmed: false, A.At(3.5), "capacity gone");

        Assert.Equal(["reservation.failed", "award.made"], driver.Types(driver.Last));
        Assert.Equal([(A.Oracle, 5), (A.CoreWeave, 3), (A.CoreWeave, 2)], Awards(driver));
        Assert.Equal(2, driver.Log.OfType<OfferMade>().Count());
    }

    [Fact]
    public void CloseQuotes_MatchModeWithNoAcceptableQuote_MakesNoMatchOffer()
    {
        var driver = new EngineDriver(A.Book(A.MatchRight()));
        driver.Submit();
        driver.Decline(A.At(1));

        driver.AnswerQuote(A.Oracle, A.Quote(8, 12m), A.At(2)); // above the holder's 10
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("no"), A.At(2));

        Assert.Single(driver.Log.OfType<OfferMade>());
        Assert.Equal(RequestOutcome.Unfulfilled, driver.Single<RequestClosed>().Outcome);
    }

    [Fact]
    public void AnswerOffer_HolderMatchesPartOfAnAllOrNothingRequest_IsInvalid()
    {
        var driver = new EngineDriver(A.Book(A.MatchRight()));
        driver.Submit(A.Request() with { AllOrNothing = true });
        driver.Decline(A.At(1));
        driver.AnswerQuote(A.Oracle, A.Quote(8, 8m), A.At(2));
        driver.AnswerQuote(A.CoreWeave, new QuoteAnswer.Decline("no"), A.At(2));

        var match = driver.Log.OfType<OfferMade>().Last();
        var part = driver.Accept(4, A.At(3));

        Assert.Equal(OfferKind.Match, match.Kind);
        Assert.False(match.PartialAllowed);
        Assert.Equal(RejectionKind.Invalid, part.Rejection!.Kind);
        Assert.Equal(RequestPhase.AwaitingMatch, driver.State.Phase);
    }
}
