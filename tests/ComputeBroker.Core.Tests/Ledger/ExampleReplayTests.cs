using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5: the shipped example replayed. The January 2025 agreement and its October 2025 amendment,
/// with quarterly reports extrapolated from the public figures (shared/facts/public-figures.md), run
/// through <see cref="LedgerEngine"/> until the USD 100B cumulative-profit trigger fires or the horizon
/// (the end of 2032) is reached; then the amendment's effect on who is asked first.
/// </summary>
/// <remarks>
/// The scenario: every number below is an assumption stated here, not a fact.
/// <list type="bullet">
/// <item>Revenue: H1 2025 USD 4.3B ("Customer financials", confidence M), taken as 2.15B in Q1 and in
/// Q2 2025. From Q3 2025 it grows 15% a quarter (1.15^4 = 1.749, about +75% a year). That is slower
/// than the pace implied by "annualised revenue > USD 20B at the end of 2025" (H), which would need
/// about 5B in Q4 2025, +52% a quarter in H2 2025, a pace no business keeps for seven years.</item>
/// <item>Profit margin: 2024 was a ~USD 5B loss on ~3.7B revenue (L-M), a margin of -135%. The margin
/// starts there in Q1 2025, improves by 10 points a quarter, turns positive in Q3 2028 (+5%) and levels
/// off at +30% from Q2 2029.</item>
/// <item>Each quarter's revenue and profit are rounded half-even to the cent; cumulative profit counts
/// from the first report (Q1 2025), losses included.</item>
/// </list>
/// Worked out by hand (the quarters that matter):
/// <code>
/// quarter  period                   revenue             margin  profit              cumulative profit
/// Q1 2025  2025-01-01..2025-04-01    2,150,000,000.00   -135%   -2,902,500,000.00    -2,902,500,000.00
/// Q2 2025  2025-04-01..2025-07-01    2,150,000,000.00   -125%   -2,687,500,000.00    -5,590,000,000.00
/// Q3 2025  2025-07-01..2025-10-01    2,472,500,000.00   -115%   -2,843,375,000.00    -8,433,375,000.00
/// Q4 2025  2025-10-01..2026-01-01    2,843,375,000.00   -105%   -2,985,543,750.00   -11,418,918,750.00
/// ...
/// Q4 2029  2029-10-01..2030-01-01   26,607,225,251.24    +30%    7,982,167,575.37    -8,923,887,450.80
/// Q1 2030  2030-01-01..2030-04-01   30,598,309,038.93    +30%    9,179,492,711.68       255,605,260.88
/// ...
/// Q4 2030  2030-10-01..2031-01-01   46,536,203,259.59    +30%   13,960,860,977.88    36,912,761,968.39
/// Q3 2031  2031-07-01..2031-10-01   70,775,748,132.43    +30%   21,232,724,439.73    92,663,715,175.92
/// Q4 2031  2031-10-01..2032-01-01   81,392,110,352.29    +30%   24,417,633,105.69   117,081,348,281.61  >= 100B: fires
/// Q1 2032  2032-01-01..2032-04-01   93,600,926,905.13
/// </code>
/// So the trigger fires once, for Q4 2031, effective 2032-01-01: a year after the January 2025 terms
/// (IP access, revenue share) ran out on 2030-12-31, and while the October 2025 revenue share, which
/// has no end date, is still running.
/// </remarks>
public sealed class ExampleReplayTests
{
    private static readonly DateTimeOffset Horizon = Day(2033, 1, 1);

    private static readonly ProviderId Azure = new("azure");

    [Fact]
    public void Replay_January2025Agreement_TriggerFiresOnceForQ4_2031AfterIpAccessHasExpired()
    {
        var book = new ContractBook([Example("microsoft-openai-2025-01.yaml")]);
        var run = new LedgerRun(book);
        var reports = Replay(run);

        var fired = Assert.Single(run.Fired);
        Assert.Equal(Day(2032, 1, 1), fired.EffectiveAt);
        Assert.Equal(Day(2031, 10, 1), FiringReport(reports, fired).Start);
        Assert.Equal(Usd(117_081_348_281.61m), fired.Value);
        Assert.Equal(Usd(100_000_000_000m), fired.Threshold);
        Assert.Equal([IpAccessId], fired.Terminates);
        // Profits keep counting after it fired, and it never fires again: Q1 2032 adds
        // 93,600,926,905.13 x 0.30 = 28,080,278,071.539 -> 28,080,278,071.54, so 145,161,626,353.15.
        Assert.Equal(Usd(145_161_626_353.15m), Cumulative(reports, Day(2032, 4, 1)));

        // Revenue share: Q1 2025 from the effective day 2025-01-21 (70 of 90 days):
        // 2,150,000,000.00 x 0.20 x 70/90 = 334,444,444.444... -> 334,444,444.44.
        Assert.Equal((70, Usd(334_444_444.44m)), Accrual(run, Day(2025, 1, 1)));
        // Q4 2030: the share runs until 2030-12-31 (exclusive), 91 of the quarter's 92 days:
        // 46,536,203,259.59 x 0.20 x 91/92 = 9,307,240,651.918 x 91/92 = 9,206,074,992.658 -> 9,206,074,992.66.
        Assert.Equal((91, Usd(9_206_074_992.66m)), Accrual(run, Day(2030, 10, 1)));
        Assert.DoesNotContain(run.Accruals, a => a.PeriodStart >= Day(2031, 1, 1));
        // 24 quarters rounded one by one, Q1 2025 to Q4 2030.
        Assert.Equal(Usd(68_722_123_783.20m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));

        // IP access ended by its term, before the trigger fired: the status says expired, not terminated.
        var status = StatusAt(run, Day(2032, 1, 1));
        Assert.Equal(ClauseState.Expired, status["ip-access"].State);
        Assert.Equal((1m, Day(2032, 1, 1)), (status["agi-trigger"].Trigger!.Fraction, status["agi-trigger"].Trigger!.FiredAt));
        Assert.Empty(LedgerVerifier.Verify(run.Events, book));
    }

    [Fact]
    public void Replay_October2025Amendment_TriggerFiresOnceAndEndsTheRevenueShare()
    {
        var book = new ContractBook([Example("microsoft-openai-2025-10.yaml")]);
        var run = new LedgerRun(book);
        var reports = Replay(run);

        var fired = Assert.Single(run.Fired);
        Assert.Equal(Day(2032, 1, 1), fired.EffectiveAt);
        Assert.Equal(Day(2031, 10, 1), FiringReport(reports, fired).Start);
        Assert.Equal(Usd(117_081_348_281.61m), fired.Value);
        Assert.Equal([RevenueShareId], fired.Terminates);

        // Q4 2025 spans the amendment (v1 to 2025-10-27, v2 from 2025-10-28), same clause, same 20%: all 92 days.
        // 2,843,375,000.00 x 0.20 = 568,675,000.00
        Assert.Equal((92, Usd(568_675_000.00m)), Accrual(run, Day(2025, 10, 1)));
        // The firing quarter accrues in full: 81,392,110,352.29 x 0.20 = 16,278,422,070.458 -> 16,278,422,070.46.
        Assert.Equal((92, Usd(16_278_422_070.46m)), Accrual(run, Day(2031, 10, 1)));
        // From 2032-01-01 the share is terminated: Q1 2032 (revenue 93,600,926,905.13) and later accrue nothing.
        Assert.DoesNotContain(run.Accruals, a => a.PeriodStart >= Day(2032, 1, 1));
        // 334,444,444.44 for Q1 2025 + 20% of each of the 27 quarters Q2 2025..Q4 2031, each rounded.
        Assert.Equal(Usd(122_269_013_651.28m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));

        var before = StatusAt(run, Day(2031, 12, 31));
        var after = StatusAt(run, Day(2032, 1, 1));
        Assert.Equal(ClauseState.InForce, before["revenue-share"].State);
        Assert.Equal(ClauseState.Terminated, after["revenue-share"].State);
        Assert.Equal((Day(2032, 1, 1), TriggerId), (after["revenue-share"].TerminatedAt!.Value, after["revenue-share"].TerminatedBy!.Value));
        // Version 2's IP access is not a target any more: it runs to 2032-12-31, 365 days after 2032-01-01.
        Assert.Equal((ClauseState.InForce, TimeSpan.FromDays(365)), (after["ip-access"].State, after["ip-access"].TimeLeft));
        Assert.Empty(LedgerVerifier.Verify(run.Events, book));
    }

    [Fact]
    public void Amendment_TrainingRequestBefore2025_10_28_IsOfferedToAzureFirstAndFinishesUnderVersion1()
    {
        var book = new ContractBook([Example("microsoft-openai-2025-10.yaml")]);
        var providers = new ProviderCatalog(ExampleProviders().Providers);
        var engine = new SourcingEngine(BrokerPolicy.Default);
        var state = new RequestState();
        var submitted = Day(2025, 10, 27);

        var submit = engine.Submit(state, TrainingRequest("before-amendment", submitted), submitted, book, providers, (_, _) => 0);

        var resolved = Assert.Single(submit.Events.OfType<ClausesResolved>());
        Assert.Equal(SourcingRoute.FirstRefusal, resolved.Route);
        Assert.Equal(Azure, resolved.Holder);
        Assert.Equal([new AgreementVersionRef(MicrosoftOpenAi, 1)], resolved.Versions);
        Assert.Equal(new ClauseId("azure-first-refusal"), resolved.FirstRefusal!.Clause);
        var offer = Assert.Single(submit.Events.OfType<OfferMade>());
        Assert.Equal((OfferKind.FirstRefusal, Azure), (offer.Kind, offer.Provider));
        Assert.Equal(Day(2025, 11, 1), offer.RespondBy);           // the 5-day response window (P5D) runs past the amendment

        // Azure declines after version 2 took effect: the request still finishes under version 1's terms,
        // so the market it asks is version 1's, without the holder.
        var decline = engine.AnswerOffer(state, offer.Offer, Azure, new OfferAnswer.Decline("no capacity"), Day(2025, 10, 30));

        var quotes = Assert.Single(decline.Events.OfType<QuotesRequested>());
        Assert.Equal(["coreweave"], quotes.Providers.Select(p => p.Value));
    }

    [Fact]
    public void Amendment_TrainingRequestAfter2025_10_28_GoesToTheMarketWithAzureAmongTheProviders()
    {
        var book = new ContractBook([Example("microsoft-openai-2025-10.yaml")]);
        var providers = new ProviderCatalog(ExampleProviders().Providers);
        var submitted = Day(2025, 10, 28);

        var submit = new SourcingEngine(BrokerPolicy.Default).Submit(new RequestState(), TrainingRequest("after-amendment", submitted), submitted, book, providers, (_, _) => 0);

        var resolved = Assert.Single(submit.Events.OfType<ClausesResolved>());
        Assert.Equal(SourcingRoute.Open, resolved.Route);
        Assert.Null(resolved.Holder);
        Assert.Null(resolved.FirstRefusal);
        Assert.Equal([new AgreementVersionRef(MicrosoftOpenAi, 2)], resolved.Versions);
        Assert.Empty(submit.Events.OfType<OfferMade>());
        Assert.Equal(["azure", "coreweave"], Assert.Single(submit.Events.OfType<QuotesRequested>()).Providers.Select(p => p.Value));
    }

    /// <summary>
    /// Records the scenario's quarters from Q1 2025 to the horizon (Q4 2032), applying terminations as
    /// triggers fire. Returns each quarter with the cumulative profit after it.
    /// </summary>
    private static List<(DateTimeOffset Start, DateTimeOffset End, Money CumulativeProfit)> Replay(LedgerRun run)
    {
        var reports = new List<(DateTimeOffset, DateTimeOffset, Money)>();
        var revenue = 2_150_000_000.00m;
        var start = Day(2025, 1, 1);
        for (var q = 0; start < Horizon; q++, start = start.AddMonths(3))
        {
            if (q >= 2)
            {
                revenue = decimal.Round(revenue * 1.15m, 2, MidpointRounding.ToEven);
            }

            var margin = Math.Min(-1.35m + (0.10m * q), 0.30m);
            var profit = decimal.Round(revenue * margin, 2, MidpointRounding.ToEven);
            run.Record(start, start.AddMonths(3), Usd(revenue), Usd(profit));
            reports.Add((start, start.AddMonths(3), run.State.CumulativeProfit));
        }

        Assert.Equal(32, reports.Count);
        return reports;
    }

    private static (DateTimeOffset Start, DateTimeOffset End, Money CumulativeProfit) FiringReport(
        List<(DateTimeOffset Start, DateTimeOffset End, Money CumulativeProfit)> reports, TriggerFired fired)
    {
        var index = reports.FindIndex(r => r.End == fired.EffectiveAt);
        Assert.True(reports[index].CumulativeProfit >= fired.Threshold);
        Assert.True(reports[index - 1].CumulativeProfit < fired.Threshold);
        // The quarter before: 92,663,715,175.92, still below the threshold.
        Assert.Equal(Usd(92_663_715_175.92m), reports[index - 1].CumulativeProfit);
        return reports[index];
    }

    private static Money Cumulative(List<(DateTimeOffset Start, DateTimeOffset End, Money CumulativeProfit)> reports, DateTimeOffset end) =>
        reports.Single(r => r.End == end).CumulativeProfit;

    private static (int Days, Money Amount) Accrual(LedgerRun run, DateTimeOffset periodStart)
    {
        var accrual = Assert.Single(run.Accruals, a => a.PeriodStart == periodStart);
        return (accrual.DaysInForce, accrual.Amount);
    }

    private static Dictionary<string, ClauseStatus> StatusAt(LedgerRun run, DateTimeOffset asOf) =>
        ClauseStatusReport.At(
                run.Book,
                asOf,
                (_, metric) => metric == TriggerMetric.CumulativeProfit ? run.State.CumulativeProfit : run.State.CumulativeRevenue,
                (agreement, trigger) => run.State.FiredTrigger(agreement, trigger)?.EffectiveAt)
            .ToDictionary(s => s.Clause.Value, StringComparer.Ordinal);

    /// <summary>
    /// 1,024 H100 for training in Azure's eastus or CoreWeave's us-east-04: outside the Oracle waiver's regions,
    /// so under version 1 it goes to Azure first.
    /// </summary>
    private static CapacityRequest TrainingRequest(string id, DateTimeOffset submitted) => new()
    {
        Id = new RequestId(id),
        Customer = Customer,
        WorkloadClass = "training",
        Accelerator = "H100",
        Gpus = new GpuCount(1_024),
        EarliestStart = submitted.AddDays(14),
        DurationHours = 720,
        Regions = ["eastus", "us-east-04"],
        MaxPrice = PricePerGpuHour.Parse("12.29 USD"),
        NeededBy = submitted.AddDays(10),
    };
}
