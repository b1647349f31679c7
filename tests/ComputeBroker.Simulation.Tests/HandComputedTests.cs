using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Simulation.Tests;

/// <summary>
/// Tiny worlds whose every outcome is worked out by hand in the comments: fixed latencies (azure 1 h,
/// cheap 10 min), weekly arrivals, no randomness drawn, so the numbers are exact.
/// </summary>
public sealed class HandComputedTests
{
    private static (Metrics.RunResult Result, List<SourcingEvent> Events, List<RequestState> Closed) Run(Scenarios.Scenario scenario, int seed = 1)
    {
        var events = new List<SourcingEvent>();
        var closed = new List<RequestState>();
        var result = SimulationRun.Execute(scenario, seed, new RunOptions { OnEvent = events.Add, OnClosed = closed.Add });
        var audit = AuditVerifier.Verify(events, result.FinalBook);
        Assert.True(audit.Passed, string.Join("\n", audit.Violations));
        return (result, events, closed);
    }

    [Fact]
    public void HolderWithRoom_AcceptsEveryRequest_AfterItsOneHourLatency()
    {
        // 9 weekly requests of 64 GPUs for one day; azure has 100 free each day and answers in 1 h: all placed with azure.
        var (result, _, closed) = Run(Worlds.Tiny(Worlds.Weekly(64)));

        var t = result.Totals;
        Assert.Equal(9, t.Requests);
        Assert.Equal(9, t.Placed);
        Assert.Equal(9 * 64, t.GpusPlaced);
        Assert.Equal(0, t.GpusUnfulfilled);
        Assert.Equal(1.0, t.HolderShare);
        Assert.Equal(9, t.HolderAccepted);
        Assert.Equal(0, t.WindowDelayed);
        Assert.Equal(1.0, t.TimeToCapacityP50Hours);
        Assert.Equal(1.0, t.TimeToCapacityP99Hours);
        Assert.All(closed, s => Assert.Equal(TimeSpan.FromHours(1), s.Allocations.Single().At - s.SubmittedAt));
    }

    [Fact]
    public void HolderShortOfCapacity_TakesPart_AndTheMarketPlacesTheRestTwentyMinutesLater()
    {
        // 160 GPUs: azure accepts its 100 at +1 h; cheap is asked for 60 then, quotes at +1 h 10 min,
        // the award is reserved at +1 h 20 min. Window delay 1 h; holder share 100/160.
        var (result, _, closed) = Run(Worlds.Tiny(Worlds.Weekly(160)));

        var t = result.Totals;
        Assert.Equal(9, t.Placed);
        Assert.Equal(9, t.HolderPartial);
        Assert.Equal(9, t.WindowDelayed);
        Assert.Equal(1.0, t.WindowDelayP50Hours);
        Assert.Equal(80 / 60.0, t.TimeToCapacityP50Hours, 9);
        Assert.Equal(100.0 / 160, t.HolderShare, 9);
        Assert.Equal(9 * 100L, result.PlacedByProvider[new ProviderId("azure")]);
        Assert.Equal(9 * 60L, result.PlacedByProvider[new ProviderId("cheap")]);
        // Cost of one request: 100 x 10.00 x 24 h + 60 x 4.00 x 24 h = 24,000 + 5,760.
        Assert.Equal(9 * 24_000m, result.SpendByProvider[new ProviderId("azure")]);
        Assert.Equal(9 * 5_760m, result.SpendByProvider[new ProviderId("cheap")]);
        Assert.All(closed, s => Assert.Equal(TimeSpan.FromMinutes(80), s.Allocations.Max(a => a.At) - s.SubmittedAt));
    }

    [Fact]
    public void SilentHolder_LetsEveryOfferExpireAfterTheFiveDayWindow_ThenTheMarketPlacesIt()
    {
        // azure never answers: each offer expires at +5 d (needed-by is +10 d), cheap quotes at +5 d 10 min,
        // reserves at +5 d 20 min. The window adds exactly 5 days.
        var scenario = Worlds.Tiny(Worlds.Weekly(64, extra: "answers: { azure: { reliability: 0 } }"));

        var (result, events, _) = Run(scenario);

        var t = result.Totals;
        Assert.Equal(9, t.HolderExpired);
        Assert.Equal(9, t.Placed);
        Assert.Equal(0.0, t.HolderShare);
        Assert.Equal(120.0, t.WindowDelayP50Hours);
        Assert.Equal(120.0, t.TimeToCapacityP50Hours); // 5 d 20 min, in the 30-minute bucket that starts at 120 h
        Assert.Equal(9, events.OfType<OfferExpired>().Count());
        Assert.All(events.OfType<OfferExpired>(), e => Assert.Equal(TimeSpan.FromDays(5), e.At - events.OfType<RequestSubmitted>().Single(s => s.RequestId == e.RequestId).At));
    }

    [Fact]
    public void ApiRequests_GoOnlyToTheExclusiveProvider_AndWhatItCannotTakeIsUnfulfilled()
    {
        // 200 GPUs of API serving: exclusive to azure, which takes its 100; the other 100 never go to the market.
        var (result, events, closed) = Run(Worlds.Tiny(Worlds.Weekly(200, workloadClass: "api")));

        var t = result.Totals;
        Assert.Equal(9, t.PartiallyPlaced);
        Assert.Equal(9 * 100, t.GpusPlaced);
        Assert.Equal(9 * 100, t.GpusUnfulfilled);
        Assert.Empty(events.OfType<QuotesRequested>());
        Assert.All(closed, s => Assert.Equal("exclusive-provider-declined", s.Closed!.Reason));
        Assert.Equal(0, t.FirstRefusalRequests);
    }

    [Fact]
    public void ProfitTrigger_FiresAtTheEndOfTheFirstQuarter_AndLaterRequestsSkipTheHolder()
    {
        // Q1 2025: revenue 10,000, profit 5,000 >= the 1,000 threshold: the trigger fires at 2025-04-01 and ends
        // the first refusal and the revenue share. Q1 accrues 10% of 10,000; Q2 accrues nothing.
        const string Financials = """
            financials:
              customer: acme
              quarterly-revenue: 10000 USD
              margin-start: 50%
            """;
        var scenario = Worlds.Tiny(Worlds.Weekly(64, extra: Financials, end: "2025-07-01"));

        var (result, events, _) = Run(scenario);

        var firing = Assert.Single(result.Firings);
        Assert.Equal(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero), firing.EffectiveAt);
        Assert.Equal([new ClauseId("fr"), new ClauseId("share")], firing.Terminates);
        Assert.Equal(1_000m, result.Totals.RevenueShare);
        Assert.Equal(10_000m, result.Totals.CumulativeProfit);
        var routes = events.OfType<ClausesResolved>().ToArray();
        Assert.All(routes.Where(r => r.At < firing.EffectiveAt), r => Assert.Equal(SourcingRoute.FirstRefusal, r.Route));
        Assert.All(routes.Where(r => r.At >= firing.EffectiveAt), r => Assert.Equal(SourcingRoute.Open, r.Route));
        Assert.Equal(13, routes.Count(r => r.Route == SourcingRoute.FirstRefusal)); // Jan 1 .. Mar 26
        Assert.NotNull(result.FinalBook.TerminationOf(new AgreementId("deal"), new ClauseId("fr")));
    }

    [Fact]
    public void FixedRequestsFile_IsSubmittedAsWritten()
    {
        const string Requests = """
            kind: requests
            requests:
              - id: only
                submit-at: 2025-01-10T12:00:00Z
                customer: acme
                workload-class: training
                accelerator: H100
                gpus: 64
                earliest-start: 2025-01-20
                duration-hours: 24
                max-price: 10.00 USD
                needed-by: 2025-01-19
            """;
        const string Scenario = """
            kind: scenario
            name: fixed
            horizon: { start: 2025-01-01, end: 2025-02-01 }
            agreements: [agreement.yaml]
            providers: providers.yaml
            demand:
              - id: file
                requests: requests.yaml
            """;

        var (result, _, closed) = Run(Worlds.Tiny(Scenario, requests: Requests));

        var only = Assert.Single(closed);
        Assert.Equal(new RequestId("only"), only.Id);
        Assert.Equal(new DateTimeOffset(2025, 1, 10, 12, 0, 0, TimeSpan.Zero), only.SubmittedAt);
        Assert.Equal(1, result.Totals.HolderAccepted);
    }
}
