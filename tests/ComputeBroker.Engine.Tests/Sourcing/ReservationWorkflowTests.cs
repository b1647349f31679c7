using ComputeBroker.Contracts;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests.Sourcing;

/// <summary>Awards confirmed or failed by their providers; failures fail over to the next quote.</summary>
public sealed class ReservationWorkflowTests
{
    /// <summary>Open request; at +1h azure quotes 8 at 9, coreweave 8 at 10, oracle declines: award #1 is azure's, respond by +2h.</summary>
    private static EngineDriver Awarded(int azure = 8, int coreweave = 8)
    {
        var driver = new EngineDriver(ContractBook.Empty);
        driver.Submit();
        driver.AnswerQuote(A.Azure, A.Quote(azure, 9m), A.At(1));
        driver.AnswerQuote(A.CoreWeave, A.Quote(coreweave, 10m), A.At(1));
        driver.AnswerQuote(A.Oracle, new QuoteAnswer.Decline("sold out"), A.At(1));
        return driver;
    }

    [Fact]
    public void AnswerReservation_Confirmed_AllocatesAndPlaces()
    {
        var driver = Awarded();

        driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));

        Assert.Equal(["allocation.made", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new AllocationMade(A.Request().Id, A.At(1.5), A.Azure, A.Gpus(8), A.Usd(9), A.At(48), AllocationSource.Market, 1), driver.Single<AllocationMade>());
        Assert.Equal(RequestOutcome.Placed, driver.Single<RequestClosed>().Outcome);
        Assert.Empty(driver.State.PendingAwards);
    }

    [Fact]
    public void AnswerReservation_Failed_FailsOverToTheNextQuote()
    {
        var driver = Awarded();

        driver.Reserve(1, A.Azure, confirmed: false, A.At(1.5), "capacity gone");

        Assert.Equal(["reservation.failed", "award.made"], driver.Types(driver.Last));
        Assert.Equal(new ReservationFailed(A.Request().Id, A.At(1.5), 1, A.Azure, "capacity gone"), driver.Single<ReservationFailed>());
        Assert.Equal(new AwardMade(A.Request().Id, A.At(1.5), 2, A.CoreWeave, A.Gpus(8), A.Usd(10), A.At(48), A.At(2.5)), driver.Log.OfType<AwardMade>().Last());

        driver.Reserve(2, A.CoreWeave, confirmed: true, A.At(2));

        Assert.Equal(A.CoreWeave, driver.Single<AllocationMade>().Provider);
        Assert.Equal(RequestOutcome.Placed, driver.Single<RequestClosed>().Outcome);
    }

    [Fact]
    public void Tick_ReservationNotConfirmedInTime_ExpiresAndFailsOver()
    {
        var driver = Awarded();

        Assert.Empty(driver.Tick(A.At(2).AddSeconds(-1)).Events);
        driver.Tick(A.At(2));

        Assert.Equal(["reservation.failed", "award.made"], driver.Types(driver.Last));
        Assert.Equal("expired", driver.Single<ReservationFailed>().Reason);
        Assert.Equal(A.CoreWeave, driver.Log.OfType<AwardMade>().Last().Provider);
    }

    [Fact]
    public void AnswerReservation_LastQuoteFails_ClosesPartiallyPlaced()
    {
        var driver = Awarded(azure: 5, coreweave: 3);

        driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));
        driver.Reserve(2, A.CoreWeave, confirmed: false, A.At(1.5));

        Assert.Equal(["reservation.failed", "request.closed"], driver.Types(driver.Last));
        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1.5), RequestOutcome.PartiallyPlaced, A.Gpus(5), A.Gpus(3), "no-acceptable-quotes"), driver.Single<RequestClosed>());
    }

    [Fact]
    public void AnswerReservation_EveryQuoteFails_ClosesUnfulfilled()
    {
        var driver = Awarded();

        driver.Reserve(1, A.Azure, confirmed: false, A.At(1.5));
        driver.Reserve(2, A.CoreWeave, confirmed: false, A.At(1.6));

        Assert.Equal(new RequestClosed(A.Request().Id, A.At(1.6), RequestOutcome.Unfulfilled, A.Gpus(0), A.Gpus(8), "no-acceptable-quotes"), driver.Single<RequestClosed>());
    }

    [Fact]
    public void AnswerReservation_OneOfTwoPending_WaitsForTheOther()
    {
        var driver = Awarded(azure: 5, coreweave: 5);

        driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));

        Assert.Equal(["allocation.made"], driver.Types(driver.Last));
        Assert.Single(driver.State.PendingAwards);
        Assert.Equal(A.At(2), driver.State.NextDeadline);
    }

    [Fact]
    public void AnswerReservation_FromAnotherProvider_IsNotFound()
    {
        var driver = Awarded();

        var wrongProvider = driver.Reserve(1, A.CoreWeave, confirmed: true, A.At(1.5));
        var unknownAward = driver.Reserve(7, A.Azure, confirmed: true, A.At(1.5));

        Assert.Equal(RejectionKind.NotFound, wrongProvider.Rejection!.Kind);
        Assert.Equal(RejectionKind.NotFound, unknownAward.Rejection!.Kind);
        Assert.Empty(driver.State.Allocations);
    }

    [Fact]
    public void AnswerReservation_AfterItsDeadline_IsAConflictAndChangesNothing()
    {
        var driver = Awarded();
        var count = driver.State.EventCount;

        var late = driver.Reserve(1, A.Azure, confirmed: true, A.At(2).AddSeconds(1));

        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Empty(late.Events);
        Assert.Equal(count, driver.State.EventCount);
        Assert.Single(driver.State.PendingAwards);
    }

    [Fact]
    public void AnswerReservation_SecondAnswerToTheSameAward_IsNotFound()
    {
        var driver = Awarded(azure: 5, coreweave: 5);
        driver.Reserve(1, A.Azure, confirmed: true, A.At(1.5));

        var second = driver.Reserve(1, A.Azure, confirmed: false, A.At(1.6));

        Assert.Equal(RejectionKind.NotFound, second.Rejection!.Kind);
        Assert.Equal(A.Gpus(5), driver.State.Allocated);
    }
}
