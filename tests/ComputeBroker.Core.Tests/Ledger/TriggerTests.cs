using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, point 3: each report updates the cumulative metrics; a trigger that reaches its threshold
/// fires once, at the end of that period, and terminates its targets from that instant, everywhere:
/// clause status, revenue-share accrual and placement decisions (invariant I4).
/// </summary>
public sealed class TriggerTests
{
    private static readonly DateTimeOffset Q1 = Day(2025, 1, 1);
    private static readonly DateTimeOffset Q2 = Day(2025, 4, 1);
    private static readonly DateTimeOffset Q3 = Day(2025, 7, 1);
    private static readonly DateTimeOffset Q4 = Day(2025, 10, 1);
    private static readonly DateTimeOffset Q5 = Day(2026, 1, 1);

    [Fact]
    public void RecordReport_CumulativeProfitReachesThreshold_FiresOnceAtTheEndOfThatPeriod()
    {
        var run = new LedgerRun(Book(IpAccess(until: Day(2030, 12, 31)), Trigger(Usd(100_000_000.00m), terminates: "ip-access")));

        // Cumulative profit: 60,000,000 after Q1 (below), 110,000,000 after Q2 (reached), 160,000,000 after Q3.
        var q1 = run.Record(Q1, Q2, Usd(500_000_000.00m), Usd(60_000_000.00m));
        var q2 = run.Record(Q2, Q3, Usd(500_000_000.00m), Usd(50_000_000.00m));
        var q3 = run.Record(Q3, Q4, Usd(500_000_000.00m), Usd(50_000_000.00m));

        Assert.Empty(q1.OfType<TriggerFired>());
        Assert.Empty(q3.OfType<TriggerFired>());
        var fired = Assert.Single(q2.OfType<TriggerFired>());
        Assert.Same(fired, Assert.Single(run.Fired));
        Assert.Equal(TriggerId, fired.Trigger);
        Assert.Equal(TriggerMetric.CumulativeProfit, fired.Metric);
        Assert.Equal(Usd(110_000_000.00m), fired.Value);
        Assert.Equal(Usd(100_000_000.00m), fired.Threshold);
        Assert.Equal(Q3, fired.EffectiveAt);                 // the end of Q2, not the instant it was reported
        Assert.Equal(Q3.AddDays(15), fired.At);              // when the report was recorded
        Assert.Equal([IpAccessId], fired.Terminates);
        // Effective at the end of Q2, known from the instant the report was recorded.
        Assert.Equal([new ClauseTermination(MicrosoftOpenAi, IpAccessId, Q3, TriggerId, RecordedAt: Q3.AddDays(15))], fired.Terminations);
        Assert.Same(fired, run.State.FiredTrigger(MicrosoftOpenAi, TriggerId));
    }

    [Fact]
    public void RecordReport_LossesCountAndExactThreshold_FiresWhenCumulativeEqualsThreshold()
    {
        var run = new LedgerRun(Book(IpAccess(), Trigger(Usd(100_000_000.00m), terminates: "ip-access")));

        // -40,000,000 + 120,000,000 = 80,000,000 (below); + 20,000,000 = 100,000,000 (reached: >= fires).
        run.Record(Q1, Q2, Usd(1m), Usd(-40_000_000.00m));
        run.Record(Q2, Q3, Usd(1m), Usd(120_000_000.00m));
        Assert.Empty(run.Fired);

        run.Record(Q3, Q4, Usd(1m), Usd(20_000_000.00m));

        var fired = Assert.Single(run.Fired);
        Assert.Equal(Q4, fired.EffectiveAt);
        Assert.Equal(Usd(100_000_000.00m), fired.Value);
    }

    [Fact]
    public void RecordReport_CumulativeRevenueMetric_FiresOnRevenue()
    {
        var run = new LedgerRun(Book(IpAccess(), Trigger(Usd(1_000_000.00m), TriggerMetric.CumulativeRevenue, terminates: "ip-access")));

        run.Record(Q1, Q2, Usd(600_000.00m), Usd(-9_000_000.00m));
        run.Record(Q2, Q3, Usd(400_000.00m), Usd(-9_000_000.00m));

        var fired = Assert.Single(run.Fired);
        Assert.Equal((TriggerMetric.CumulativeRevenue, Usd(1_000_000.00m), Q3), (fired.Metric, fired.Value, fired.EffectiveAt));
    }

    [Fact]
    public void Adjust_PushesTheMetricOverTheThreshold_FiresOnceAtTheEndOfTheAdjustedPeriod()
    {
        var run = new LedgerRun(Book(IpAccess(), Trigger(Usd(100_000_000.00m), terminates: "ip-access")));
        run.Record(Q1, Q2, Usd(1m), Usd(90_000_000.00m));

        var events = run.Adjust(Q1, Usd(0m), Usd(10_000_000.00m), "audited profit");
        run.Adjust(Q1, Usd(0m), Usd(5_000_000.00m), "audited profit, second pass");

        var fired = Assert.Single(events.OfType<TriggerFired>());
        Assert.Same(fired, Assert.Single(run.Fired));
        Assert.Equal(Q2, fired.EffectiveAt);
        Assert.Equal(Usd(100_000_000.00m), fired.Value);
    }

    [Fact]
    public void RecordReport_TriggerOutsideItsTerm_DoesNotFire()
    {
        // The trigger's term ends 2025-04-01: the threshold is reached in Q2, when it no longer counts.
        var run = new LedgerRun(Book(IpAccess(), Trigger(Usd(100_000_000.00m), until: Q2, terminates: "ip-access")));

        run.Record(Q1, Q2, Usd(1m), Usd(50_000_000.00m));
        run.Record(Q2, Q3, Usd(1m), Usd(60_000_000.00m));

        Assert.Empty(run.Fired);
    }

    [Fact]
    public void TriggerFired_TerminatedClause_ShowsTerminatedInClauseStatusFromTheEndOfThePeriod()
    {
        var run = new LedgerRun(Book(IpAccess(until: Day(2030, 12, 31)), Trigger(Usd(100_000_000.00m), terminates: "ip-access")));
        run.Record(Q1, Q2, Usd(1m), Usd(150_000_000.00m));

        var justBefore = Status(run, Q2.AddTicks(-1), IpAccessId);
        var atTheEnd = Status(run, Q2, IpAccessId);

        Assert.Equal(ClauseState.InForce, justBefore.State);
        Assert.Equal(ClauseState.Terminated, atTheEnd.State);
        Assert.Equal(Q2, atTheEnd.TerminatedAt);
        Assert.Equal(TriggerId, atTheEnd.TerminatedBy);
        Assert.Null(atTheEnd.TimeLeft);
        var trigger = Status(run, Q2, TriggerId).Trigger!;
        Assert.Equal((1m, Q2), (trigger.Fraction, trigger.FiredAt));
    }

    [Fact]
    public void TriggerFired_TargetingTheRevenueShare_StopsItsAccrualFromTheEndOfThePeriod()
    {
        var run = new LedgerRun(Book(Share(), Trigger(Usd(100_000_000.00m), terminates: "revenue-share")));

        // Q1: fires at its end (profit 150,000,000); Q1 itself accrues in full: 1,000,000 x 0.20 = 200,000.00.
        var q1 = run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(150_000_000.00m));
        var q2 = run.Record(Q2, Q3, Usd(1_000_000.00m), Usd(10_000_000.00m));

        var accrual = LedgerRun.OnlyAccrual(q1);
        Assert.Equal((90, Usd(200_000.00m)), (accrual.DaysInForce, accrual.Amount));
        Assert.Single(q1.OfType<TriggerFired>());
        Assert.Empty(q2.OfType<ShareAccrued>());
        Assert.Equal(Usd(200_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void Adjust_EarlyPeriodFiresTheTrigger_LaterPeriodsGiveBackWhatTheEndedShareAccruedAfterIt()
    {
        var book = Book(Share(), Trigger(Usd(100_000_000.00m), terminates: "revenue-share"));
        var run = new LedgerRun(book);
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(50_000_000.00m));
        run.Record(Q2, Q3, Usd(2_000_000.00m), Usd(40_000_000.00m));   // cumulative 90,000,000: below
        run.Record(Q3, Q4, Usd(3_000_000.00m), Usd(5_000_000.00m));    // 95,000,000: below
        Assert.Empty(run.Fired);
        Assert.Equal(Usd(1_200_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId)); // 20% of 6,000,000

        // Q1's profit is restated up by 15,000,000: the metric reaches 110,000,000 and the trigger fires at the end of Q1.
        var events = run.Adjust(Q1, Usd(0m), Usd(15_000_000.00m), "audited profit");

        var fired = Assert.Single(events.OfType<TriggerFired>());
        Assert.Equal(Q2, fired.EffectiveAt);
        var givenBack = events.OfType<ShareAccrued>().ToArray();
        Assert.Equal([(Q2, 0, Usd(-400_000.00m)), (Q3, 0, Usd(-600_000.00m))], givenBack.Select(a => (a.PeriodStart, a.DaysInForce, a.Amount)));
        Assert.True(events.ToList().IndexOf(fired) < events.ToList().IndexOf(givenBack[0]), "accrued again after the firing");
        Assert.Equal(Usd(200_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId)); // Q1 only, in full
        Assert.Equal(Usd(200_000.00m), givenBack[^1].Cumulative);
        Assert.Empty(LedgerVerifier.Verify(run.Events, run.Book));

        // The payee's statement nets each later period to nothing: what was given back is on it too.
        var statement = Statement.For(run.Accruals, "microsoft", null, null);
        Assert.Equal([(Q1, Usd(200_000.00m)), (Q2, Usd(0m)), (Q3, Usd(0m))], statement.Lines.Select(l => (l.PeriodStart, l.Accrued)));
        Assert.Equal(Usd(200_000.00m), statement.Totals["USD"]);
    }

    [Fact]
    public void RecordReport_PeriodReportedLateFiresTheTrigger_ALaterRecordedPeriodGivesBackItsShare()
    {
        var run = new LedgerRun(Book(Share(), Trigger(Usd(100_000_000.00m), terminates: "revenue-share")));
        run.Record(Q2, Q3, Usd(1_000_000.00m), Usd(10_000_000.00m));   // Q2 first: 200,000.00, below the threshold

        // Q1, reported late, reaches the threshold: the share ends on 2025-04-01, before Q2.
        var events = run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(95_000_000.00m));

        Assert.Equal(Q2, Assert.Single(events.OfType<TriggerFired>()).EffectiveAt);
        Assert.Equal([(Q1, Usd(200_000.00m)), (Q2, Usd(-200_000.00m))], events.OfType<ShareAccrued>().Select(a => (a.PeriodStart, a.Amount)));
        Assert.Equal(Usd(200_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void TriggerFired_AccrualOfTheFiringPeriod_IsNotTakenBackByALaterAdjustment()
    {
        var run = new LedgerRun(Book(Share(), Trigger(Usd(100_000_000.00m), terminates: "revenue-share")));
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(150_000_000.00m));

        // The clause was in force all of Q1 (terminated from 2025-04-01): 1,100,000 x 0.20 = 220,000.00, +20,000.00.
        var accrual = LedgerRun.OnlyAccrual(run.Adjust(Q1, Usd(100_000.00m), Usd(0m)));

        Assert.Equal((90, Usd(20_000.00m)), (accrual.DaysInForce, accrual.Amount));
    }

    [Fact]
    public void TriggerFired_TargetingAPlacementClause_RoutesLaterRequestsToTheMarket()
    {
        // A first refusal for Azure that a cumulative-revenue trigger ends.
        var firstRefusal = new FirstRefusalClause(new ClauseId("azure-first-refusal"), null, null, new ProviderId("azure"),
            new Scope(["training"], [], []), TimeSpan.FromDays(5), true, FirstRefusalMode.FirstOffer, null);
        var run = new LedgerRun(Book(firstRefusal, Trigger(Usd(10_000_000.00m), TriggerMetric.CumulativeRevenue, terminates: "azure-first-refusal")));
        var before = Submit(run.Book, "before", Day(2025, 5, 1));

        // Cumulative revenue 6,000,000 after Q1, 11,000,000 after Q2: fires from 2025-07-01.
        run.Record(Q1, Q2, Usd(6_000_000.00m));
        run.Record(Q2, Q3, Usd(5_000_000.00m));

        var lastDay = Submit(run.Book, "last-day", Q3.AddTicks(-1));
        var after = Submit(run.Book, "after", Q3);

        Assert.Equal((SourcingRoute.FirstRefusal, new ProviderId("azure")), (before.Route, before.Holder));
        // The termination is not retroactive: a request submitted just before it still goes to the holder first.
        Assert.Equal(SourcingRoute.FirstRefusal, lastDay.Route);
        Assert.Equal(SourcingRoute.Open, after.Route);
        Assert.Null(after.FirstRefusal);
        Assert.Equal(["azure", "coreweave"], after.Market.Select(p => p.Value));
    }

    [Fact]
    public void TriggerFired_InTheSameRecordingAsTheAccrual_NeverFiresTwiceOnLaterReports()
    {
        var run = new LedgerRun(Book(Share(), Trigger(Usd(1.00m), terminates: "revenue-share")));

        foreach (var (start, end) in new[] { (Q1, Q2), (Q2, Q3), (Q3, Q4), (Q4, Q5) })
        {
            run.Record(start, end, Usd(10.00m), Usd(10.00m));
        }

        Assert.Single(run.Fired);
    }

    internal static ClausesResolved Submit(ContractBook book, string id, DateTimeOffset at)
    {
        var request = new CapacityRequest
        {
            Id = new RequestId(id),
            Customer = Customer,
            WorkloadClass = "training",
            Accelerator = "H100",
            Gpus = new GpuCount(1024),
            EarliestStart = at.AddDays(14),
            DurationHours = 720,
            MaxPrice = PricePerGpuHour.Parse("12.29 USD"),
            NeededBy = at.AddDays(10),
        };
        var decision = new SourcingEngine(BrokerPolicy.Default).Submit(new RequestState(), request, at, book, Providers, (_, _) => 0);
        Assert.False(decision.IsRejected, decision.Rejection?.Message);
        return Assert.Single(decision.Events.OfType<ClausesResolved>());
    }

    private static readonly ProviderCatalog Providers = new(
    [
        Provider("azure", "eastus", "12.29 USD"),
        Provider("coreweave", "us-east-04", "3.00 USD"),
    ]);

    private static ProviderDefinition Provider(string id, string region, string price) =>
        new(new ProviderId(id), id, ConnectorKind.Simulated, [region], [new ProviderPrice("H100", null, PricePerGpuHour.Parse(price))], [], AnswerPolicy.Prompt);

    private static ClauseStatus Status(LedgerRun run, DateTimeOffset asOf, ClauseId clause) =>
        ClauseStatusReport.At(
            run.Book,
            asOf,
            (_, metric) => metric == TriggerMetric.CumulativeProfit ? run.State.CumulativeProfit : run.State.CumulativeRevenue,
            (agreement, trigger) => run.State.FiredTrigger(agreement, trigger)?.EffectiveAt)
        .Single(s => s.Clause == clause);
}
