using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, points 1-2: revenue share accrues per clause in force, pro rata to the whole days of the
/// period it was in force, up to its cap, rounded per period to the cent half-even. Every expected
/// amount is worked out by hand in the comment above it. Calendar facts used throughout:
/// Q1 2025 = 2025-01-01..2025-04-01 = 31 + 28 + 31 = 90 days; Q2 = 30 + 31 + 30 = 91 days;
/// Q3 = 31 + 31 + 30 = 92 days.
/// </summary>
public sealed class RevenueShareAccrualTests
{
    private static readonly DateTimeOffset Q1 = Day(2025, 1, 1);
    private static readonly DateTimeOffset Q2 = Day(2025, 4, 1);
    private static readonly DateTimeOffset Q3 = Day(2025, 7, 1);
    private static readonly DateTimeOffset Q4 = Day(2025, 10, 1);

    [Fact]
    public void RecordReport_ClauseInForceWholeQuarter_AccruesRateTimesRevenue()
    {
        var run = new LedgerRun(Book(Share()));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(4_300_000_000.00m)));

        // 4,300,000,000.00 x 0.20 x 90/90 = 860,000,000.00
        Assert.Equal(Usd(860_000_000.00m), accrual.Amount);
        Assert.Equal(90, accrual.DaysInForce);
        Assert.Equal(90, accrual.DaysInPeriod);
        Assert.Equal(0.20m, accrual.Rate);
        Assert.Equal(Usd(4_300_000_000.00m), accrual.Basis);
        Assert.Equal(Usd(860_000_000.00m), accrual.Cumulative);
        Assert.Null(accrual.CapRemaining);
        Assert.Equal(("openai", "microsoft"), (accrual.Payer, accrual.Payee));
    }

    [Fact]
    public void RecordReport_ClauseEndsOnDay61_AccruesSixtyOneNinetieths()
    {
        // until 2025-03-03 (exclusive): in force 2025-01-01..2025-03-02 = 31 + 28 + 2 = 61 days.
        var run = new LedgerRun(Book(Share(until: Day(2025, 3, 3))));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(4_300_000_000.00m)));

        // 4.3e9 x 0.20 x 61/90 = 860,000,000 x 61 / 90 = 52,460,000,000 / 90 = 582,888,888.888... -> 582,888,888.89
        Assert.Equal(61, accrual.DaysInForce);
        Assert.Equal(Usd(582_888_888.89m), accrual.Amount);
    }

    [Fact]
    public void RecordReport_ClauseStartsMidQuarter_AccruesFromItsFirstDay()
    {
        // from 2025-02-15: in force 2025-02-15..2025-03-31 = 14 + 31 = 45 days of 90.
        var run = new LedgerRun(Book(Share(from: Day(2025, 2, 15))));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(4_300_000_000.00m)));

        // 4.3e9 x 0.20 x 45/90 = 430,000,000.00
        Assert.Equal(45, accrual.DaysInForce);
        Assert.Equal(Usd(430_000_000.00m), accrual.Amount);
    }

    [Fact]
    public void RecordReport_AgreementTakesEffectMidQuarter_AccruesFromTheEffectiveDay()
    {
        // The January 2025 agreement takes effect on 2025-01-21: 2025-01-21..2025-03-31 = 11 + 28 + 31 = 70 days.
        var run = new LedgerRun(Book(Agreement(Version(1, Day(2025, 1, 21), Share()))));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(2_150_000_000.00m)));

        // 2.15e9 x 0.20 x 70/90 = 430,000,000 x 7/9 = 334,444,444.444... -> 334,444,444.44
        Assert.Equal(70, accrual.DaysInForce);
        Assert.Equal(Usd(334_444_444.44m), accrual.Amount);
    }

    [Fact]
    public void RecordReport_AmendmentChangesRateMidQuarter_EachDayAccruesAtTheRateOfTheVersionInForce()
    {
        // v1 (20%) from 2025-01-01, v2 (10%) from 2025-03-01: 31 + 28 = 59 days at 20%, 31 days at 10%.
        var agreement = Agreement(
            Version(1, Q1, Share(rate: 0.20m)),
            Version(2, Day(2025, 3, 1), Share(rate: 0.10m)));
        var run = new LedgerRun(Book(agreement));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(9_000_000.00m)));

        // 9,000,000 x 0.20 x 59/90 = 1,180,000.00; 9,000,000 x 0.10 x 31/90 = 310,000.00; sum 1,490,000.00
        Assert.Equal(Usd(1_490_000.00m), accrual.Amount);
        Assert.Equal(90, accrual.DaysInForce);
        Assert.Equal(0.10m, accrual.Rate);
    }

    [Fact]
    public void RecordReport_AmendmentDropsTheClauseMidQuarter_AccruesOnlyTheDaysBeforeIt()
    {
        var agreement = Agreement(
            Version(1, Q1, Share(), IpAccess()),
            Version(2, Day(2025, 3, 1), IpAccess()));
        var run = new LedgerRun(Book(agreement));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(9_000_000.00m)));

        // 9,000,000 x 0.20 x 59/90 = 1,180,000.00
        Assert.Equal(59, accrual.DaysInForce);
        Assert.Equal(Usd(1_180_000.00m), accrual.Amount);
    }

    [Fact]
    public void RecordReport_ClauseTerminatedMidQuarter_AccruesOnlyTheDaysBeforeTheTermination()
    {
        // Terminated from 2025-08-15: in force 2025-07-01..2025-08-14 = 31 + 14 = 45 days of Q3's 92.
        var book = Book(Share()).WithTermination(new ClauseTermination(MicrosoftOpenAi, RevenueShareId, Day(2025, 8, 15), TriggerId));
        var run = new LedgerRun(book);

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q3, Q4, Usd(9_200_000.00m)));

        // 9,200,000 x 0.20 x 45/92 = 1,840,000 x 45 / 92 = 900,000.00
        Assert.Equal(45, accrual.DaysInForce);
        Assert.Equal(92, accrual.DaysInPeriod);
        Assert.Equal(Usd(900_000.00m), accrual.Amount);
    }

    [Fact]
    public void RecordReport_ClauseNeverInForceDuringThePeriod_AccruesNothing()
    {
        var run = new LedgerRun(Book(Share(from: Q3)));

        var events = run.Record(Q1, Q2, Usd(9_000_000.00m));

        Assert.Empty(events.OfType<ShareAccrued>());
        Assert.Equal(Usd(0m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void RecordReport_ProfitBasis_AccruesOnProfitAndNothingOnALoss()
    {
        var run = new LedgerRun(Book(Share(rate: 0.50m, basis: RevenueShareBasis.Profit)));

        var profitable = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(9_000_000.00m), Usd(1_000_000.00m)));
        var loss = LedgerRun.OnlyAccrual(run.Record(Q2, Q3, Usd(9_000_000.00m), Usd(-5_000_000.00m)));

        // 1,000,000 x 0.50 = 500,000.00; a loss owes nothing (a share is never negative).
        Assert.Equal(Usd(500_000.00m), profitable.Amount);
        Assert.Equal(Usd(1_000_000.00m), profitable.Basis);
        Assert.Equal(Usd(0m), loss.Amount);
        Assert.Equal(Usd(500_000.00m), loss.Cumulative);
    }

    [Fact]
    public void RecordReport_TwoRevenueShareClauses_AccrueSeparately()
    {
        var run = new LedgerRun(Book(Share(rate: 0.20m), Share(rate: 0.05m, id: "api-share", payee: "azure-api")));

        var accruals = run.Record(Q1, Q2, Usd(1_000_000.00m)).OfType<ShareAccrued>().ToDictionary(a => a.Clause.Value, StringComparer.Ordinal);

        // 1,000,000 x 0.20 = 200,000.00 and 1,000,000 x 0.05 = 50,000.00
        Assert.Equal(Usd(200_000.00m), accruals["revenue-share"].Amount);
        Assert.Equal(Usd(50_000.00m), accruals["api-share"].Amount);
    }

    [Fact]
    public void RecordReport_CapReachedMidPeriod_AccruesOnlyUpToTheCapThenNothing()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));

        // Q1: 3,000,000 x 0.20 = 600,000.00; 400,000.00 of the cap left.
        var q1 = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(3_000_000.00m)));

        // Q2: 3,640,000 x 0.20 = 728,000.00 owed, but only 400,000.00 of the cap is left: the cap is
        // reached during the quarter (after 400,000 / 728,000 x 91 = 50 of its 91 days).
        var q2 = LedgerRun.OnlyAccrual(run.Record(Q2, Q3, Usd(3_640_000.00m)));

        // Q3: 5,000,000 x 0.20 = 1,000,000.00 owed, nothing left under the cap.
        var q3 = LedgerRun.OnlyAccrual(run.Record(Q3, Q4, Usd(5_000_000.00m)));

        Assert.Equal((Usd(600_000.00m), Usd(600_000.00m), Usd(400_000.00m)), (q1.Amount, q1.Cumulative, q1.CapRemaining!.Value));
        Assert.Equal((Usd(400_000.00m), Usd(1_000_000.00m), Usd(0m)), (q2.Amount, q2.Cumulative, q2.CapRemaining!.Value));
        Assert.Equal((Usd(0m), Usd(1_000_000.00m), Usd(0m)), (q3.Amount, q3.Cumulative, q3.CapRemaining!.Value));
        Assert.Equal(Usd(1_000_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void RecordReport_CapReachedWithProRataDays_CapsTheProRataAmount()
    {
        // Cap 500,000.00; in force 61 of Q1's 90 days (until 2025-03-03).
        var run = new LedgerRun(Book(Share(until: Day(2025, 3, 3), cap: Usd(500_000.00m))));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(4_300_000.00m)));

        // Owed 4,300,000 x 0.20 x 61/90 = 582,888.89 > 500,000.00: capped at 500,000.00.
        Assert.Equal(Usd(500_000.00m), accrual.Amount);
        Assert.Equal(Usd(0m), accrual.CapRemaining);
    }

    // Regression (issue 5): the share was summed per day as rate x basis / 90, a rounded repeating decimal, so 1.025 came out 1.03.
    [Theory]
    // 45 of 90 days at 20%, so the exact share is revenue x 0.10, always a multiple of a tenth of a cent.
    // Half-even: a half cent goes to the even cent, down as often as up.
    [InlineData("10.15", "1.02")]                       // 1.015 -> 1.02 (up: 1 is odd)
    [InlineData("10.25", "1.02")]                       // 1.025 -> 1.02 (down: 2 is even)
    [InlineData("10.26", "1.03")]                       // 1.026 -> 1.03 (not a midpoint)
    [InlineData("4300000002.25", "430000000.22")]       // 430,000,000.225 -> .22 (down: 2 is even)
    [InlineData("4300000002.35", "430000000.24")]       // 430,000,000.235 -> .24 (up: 3 is odd)
    [InlineData("4300000000.15", "430000000.02")]       // 430,000,000.015 -> .02 (up: 1 is odd)
    public void RecordReport_ExactHalfCent_RoundsHalfToEvenOncePerPeriod(string revenue, string expected)
    {
        // in force 2025-02-15..2025-03-31 = 45 of 90 days. Per day the share is revenue x 0.20 / 90,
        // a repeating decimal: the rule is applied once to the period's exact total, not per day.
        var run = new LedgerRun(Book(Share(from: Day(2025, 2, 15))));

        var accrual = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(decimal.Parse(revenue, System.Globalization.CultureInfo.InvariantCulture))));

        Assert.Equal(Usd(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)), accrual.Amount);
    }

    [Fact]
    public void RecordReport_RoundingPerPeriod_PeriodsSumToTheCumulativeToTheCent()
    {
        // In force from 2025-01-21 (70 of Q1's 90 days), all of Q2 (91/91), until 2025-08-15 (45 of Q3's 92 days).
        var run = new LedgerRun(Book(Agreement(Version(1, Day(2025, 1, 21), Share(until: Day(2025, 8, 15))))));

        // Q1: 1,000,000 x 0.20 x 70/90 = 155,555.5555... -> 155,555.56
        var q1 = LedgerRun.OnlyAccrual(run.Record(Q1, Q2, Usd(1_000_000.00m)));
        // Q2: 1,000,000 x 0.20 = 200,000.00
        var q2 = LedgerRun.OnlyAccrual(run.Record(Q2, Q3, Usd(1_000_000.00m)));
        // Q3: 1,000,000 x 0.20 x 45/92 = 9,000,000 / 92 = 97,826.0869... -> 97,826.09
        var q3 = LedgerRun.OnlyAccrual(run.Record(Q3, Q4, Usd(1_000_000.00m)));

        Assert.Equal([Usd(155_555.56m), Usd(200_000.00m), Usd(97_826.09m)], new[] { q1.Amount, q2.Amount, q3.Amount });
        // 155,555.56 + 200,000.00 + 97,826.09 = 453,381.65: the sum of the rounded periods. (The unrounded
        // total 453,381.6425 would round to 453,381.64; the ledger never rounds anything but a period.)
        Assert.Equal(Usd(453_381.65m), q3.Cumulative);
        Assert.Equal(Usd(453_381.65m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
        Assert.All(run.Accruals, a => Assert.Equal(a.Amount.Amount, decimal.Round(a.Amount.Amount, 2)));
    }

    [Fact]
    public void RecordReport_SecondPeriod_CumulativeAddsThePeriodsAccruals()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var q2 = LedgerRun.OnlyAccrual(run.Record(Q2, Q3, Usd(2_000_000.00m)));

        // 200,000.00 + 400,000.00
        Assert.Equal(Usd(600_000.00m), q2.Cumulative);
        Assert.Equal(Usd(400_000.00m), run.State.AccruedFor(MicrosoftOpenAi, RevenueShareId, Q2));
    }
}
