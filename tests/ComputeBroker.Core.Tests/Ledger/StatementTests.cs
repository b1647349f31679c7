using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>Issue 5, point 7: statements per period (accrued share, cumulative, cap remaining) and their CSV export.</summary>
public sealed class StatementTests
{
    private static readonly DateTimeOffset Q1 = Day(2025, 1, 1);
    private static readonly DateTimeOffset Q2 = Day(2025, 4, 1);
    private static readonly DateTimeOffset Q3 = Day(2025, 7, 1);
    private static readonly DateTimeOffset Q4 = Day(2025, 10, 1);

    /// <summary>
    /// In force from 2025-01-21 (70 of Q1's 90 days), all of Q2, until 2025-08-15 (45 of Q3's 92 days);
    /// revenue 1,000,000.00 a quarter; Q1 later corrected up by 100,000.00.
    /// Q1: 155,555.56, then 1,100,000 x 0.20 x 70/90 = 171,111.111... -> 171,111.11 (+15,555.55 by the adjustment);
    /// Q2: 200,000.00; Q3: 1,000,000 x 0.20 x 45/92 = 97,826.0869... -> 97,826.09.
    /// </summary>
    private static LedgerRun ThreeQuartersWithACorrection()
    {
        var run = new LedgerRun(Book(Agreement(Version(1, Day(2025, 1, 21), Share(until: Day(2025, 8, 15))))));
        run.Record(Q1, Q2, Usd(1_000_000.00m));
        run.Record(Q2, Q3, Usd(1_000_000.00m));
        run.Record(Q3, Q4, Usd(1_000_000.00m));
        run.Adjust(Q1, Usd(100_000.00m), Usd(0m), "audited Q1 revenue");
        return run;
    }

    // Regression (issue 5): a line's cumulative was the one of its last accrual, so Q1 showed 468,937.20 after its correction.
    [Fact]
    public void For_AllPeriods_OneLinePerPeriodWithTheAdjustmentFoldedIn()
    {
        var statement = Statement.For(ThreeQuartersWithACorrection().Accruals, "microsoft", null, null);

        Assert.Equal("microsoft", statement.Payee);
        Assert.Equal(
            [
                (Q1, Q2, 70, Usd(1_100_000.00m), Usd(171_111.11m), Usd(171_111.11m)),
                (Q2, Q3, 91, Usd(1_000_000.00m), Usd(200_000.00m), Usd(371_111.11m)),
                (Q3, Q4, 45, Usd(1_000_000.00m), Usd(97_826.09m), Usd(468_937.20m)),
            ],
            statement.Lines.Select(l => (l.PeriodStart, l.PeriodEnd, l.DaysInForce, l.Basis, l.Accrued, l.Cumulative)));
        Assert.All(statement.Lines, l => Assert.Equal(("openai", MicrosoftOpenAi, RevenueShareId), (l.Payer, l.Agreement, l.Clause)));
        Assert.All(statement.Lines, l => Assert.Null(l.CapRemaining));
        // 171,111.11 + 200,000.00 + 97,826.09 = 468,937.20
        Assert.Equal(Usd(468_937.20m), Assert.Single(statement.Totals).Value);
        Assert.Equal("USD", statement.Totals.Keys.Single());
    }

    [Fact]
    public void For_ARange_KeepsPeriodsStartingInItAndTheRunningCumulative()
    {
        var statement = Statement.For(ThreeQuartersWithACorrection().Accruals, "microsoft", Q2, Q3);

        var line = Assert.Single(statement.Lines);
        Assert.Equal((Q2, Usd(200_000.00m), Usd(371_111.11m)), (line.PeriodStart, line.Accrued, line.Cumulative));
        Assert.Equal(Usd(200_000.00m), statement.Totals["USD"]);
        Assert.Equal((Q2, Q3), (statement.From!.Value, statement.To!.Value));
    }

    [Fact]
    public void For_AnotherPayee_IsEmpty()
    {
        var statement = Statement.For(ThreeQuartersWithACorrection().Accruals, "azure", null, null);

        Assert.Empty(statement.Lines);
        Assert.Empty(statement.Totals);
    }

    [Fact]
    public void For_CappedShare_ShowsTheCapRemainingAfterEachPeriod()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));
        run.Record(Q1, Q2, Usd(3_000_000.00m));     // 600,000.00
        run.Record(Q2, Q3, Usd(3_640_000.00m));     // 728,000.00 owed, 400,000.00 under the cap
        run.Record(Q3, Q4, Usd(5_000_000.00m));     // nothing left

        var statement = Statement.For(run.Accruals, "microsoft", null, null);

        Assert.Equal(
            [
                (Usd(600_000.00m), Usd(600_000.00m), Usd(400_000.00m)),
                (Usd(400_000.00m), Usd(1_000_000.00m), Usd(0m)),
                (Usd(0m), Usd(1_000_000.00m), Usd(0m)),
            ],
            statement.Lines.Select(l => (l.Accrued, l.Cumulative, l.CapRemaining!.Value)));
        Assert.Equal(Usd(1_000_000.00m), statement.Totals["USD"]);
    }

    [Fact]
    public void For_CappedShareCorrectedDown_RunningCapRemainingFollowsThePeriods()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));
        run.Record(Q1, Q2, Usd(3_000_000.00m));     // 600,000.00; 400,000.00 left
        run.Record(Q2, Q3, Usd(1_000_000.00m));     // 200,000.00; 200,000.00 left
        run.Adjust(Q1, Usd(-1_000_000.00m), Usd(0m));   // Q1 becomes 2,000,000 x 0.20 = 400,000.00: -200,000.00

        var statement = Statement.For(run.Accruals, "microsoft", null, null);

        // Q1: 400,000.00 accrued, 400,000.00 cumulative, 600,000.00 left; Q2: 200,000.00, 600,000.00, 400,000.00.
        Assert.Equal(
            [
                (Usd(400_000.00m), Usd(400_000.00m), Usd(600_000.00m)),
                (Usd(200_000.00m), Usd(600_000.00m), Usd(400_000.00m)),
            ],
            statement.Lines.Select(l => (l.Accrued, l.Cumulative, l.CapRemaining!.Value)));
    }

    [Fact]
    public void For_TwoCurrencies_TotalsEachSeparately()
    {
        var usd = new LedgerRun(Book(Share()));
        usd.Record(Q1, Q2, Usd(1_000_000.00m));
        var eur = new LedgerRun(new ContractBook([Agreement(Version(1, Q1, Share())) with { Id = new AgreementId("eu-deal") }]));
        eur.Record(Q1, Q2, Eur(500_000.00m));

        var statement = Statement.For(usd.Accruals.Concat(eur.Accruals), "microsoft", null, null);

        Assert.Equal(2, statement.Lines.Count);
        Assert.Equal(Usd(200_000.00m), statement.Totals["USD"]);
        Assert.Equal(Eur(100_000.00m), statement.Totals["EUR"]);
    }

    [Fact]
    public void ToCsv_ThreeQuarters_OneRowPerLineWithAmountsToTheCent()
    {
        var csv = Statement.For(ThreeQuartersWithACorrection().Accruals, "microsoft", null, null).ToCsv();

        Assert.Equal(
            "payer,payee,agreement,clause,period_start,period_end,days_in_force,basis,accrued,cumulative,cap_remaining,currency\n" +
            "openai,microsoft,microsoft-openai,revenue-share,2025-01-01,2025-04-01,70,1100000.00,171111.11,171111.11,,USD\n" +
            "openai,microsoft,microsoft-openai,revenue-share,2025-04-01,2025-07-01,91,1000000.00,200000.00,371111.11,,USD\n" +
            "openai,microsoft,microsoft-openai,revenue-share,2025-07-01,2025-10-01,45,1000000.00,97826.09,468937.20,,USD\n",
            csv);
    }

    // Regression (issue 5): amounts were written with whatever scale they had (0, -2000000).
    [Fact]
    public void ToCsv_CappedShareAndALossPeriod_WritesEveryAmountWithTwoDecimals()
    {
        var run = new LedgerRun(Book(Share(rate: 0.50m, basis: RevenueShareBasis.Profit, cap: Usd(1_000_000m))));
        run.Record(Q1, Q2, Usd(9_000_000m), Usd(-2_000_000m));    // a loss: 0.00
        run.Record(Q2, Q3, Usd(9_000_000m), Usd(600_000m));       // 300,000.00

        var csv = Statement.For(run.Accruals, "microsoft", null, null).ToCsv();

        Assert.Equal(
            "payer,payee,agreement,clause,period_start,period_end,days_in_force,basis,accrued,cumulative,cap_remaining,currency\n" +
            "openai,microsoft,microsoft-openai,revenue-share,2025-01-01,2025-04-01,90,-2000000.00,0.00,0.00,1000000.00,USD\n" +
            "openai,microsoft,microsoft-openai,revenue-share,2025-04-01,2025-07-01,91,600000.00,300000.00,300000.00,700000.00,USD\n",
            csv);
    }
}
