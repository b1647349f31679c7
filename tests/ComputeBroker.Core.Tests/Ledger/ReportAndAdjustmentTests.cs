using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, points 1-2: a period is recorded once, a correction is an explicit adjustment event that
/// accrues the difference, and amounts in different currencies never mix.
/// </summary>
public sealed class ReportAndAdjustmentTests
{
    private static readonly DateTimeOffset Q1 = Day(2025, 1, 1);
    private static readonly DateTimeOffset Q2 = Day(2025, 4, 1);
    private static readonly DateTimeOffset Q3 = Day(2025, 7, 1);

    [Fact]
    public void RecordReport_SamePeriodTwice_IsRejectedAsAConflictAndChangesNothing()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(4_300_000_000.00m), Usd(-1_000_000_000.00m));
        var version = run.State.Version;

        var again = run.TryRecord(Q1, Q2, Usd(5_000_000_000.00m), Usd(0m));

        Assert.True(again.IsRejected);
        Assert.Equal(RejectionKind.Conflict, again.Rejection!.Kind);
        Assert.Contains("2025-01-01 to 2025-04-01 is already recorded", again.Rejection.Message, StringComparison.Ordinal);
        Assert.Contains("adjustment", again.Rejection.Message, StringComparison.Ordinal);
        Assert.Empty(again.Events);
        Assert.Equal(version, run.State.Version);
        var period = Assert.Single(run.State.Periods);
        Assert.Equal(Usd(4_300_000_000.00m), period.Revenue);
        Assert.Equal(Usd(860_000_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void RecordReport_OverlappingPeriod_IsRejectedAsAConflict()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var overlapping = run.TryRecord(Day(2025, 3, 1), Day(2025, 6, 1), Usd(1_000_000.00m), Usd(0m));

        Assert.Equal(RejectionKind.Conflict, overlapping.Rejection!.Kind);
        Assert.Single(run.State.Periods);
    }

    [Fact]
    public void RecordReport_AdjacentPeriod_IsAccepted()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        run.Record(Q2, Q3, Usd(1_000_000.00m));

        Assert.Equal(2, run.State.Periods.Count());
    }

    [Fact]
    public void RecordReport_EndNotAfterStart_IsRejectedNamingTheField()
    {
        var run = new LedgerRun(Book(Share()));

        var decision = run.TryRecord(Q2, Q1, Usd(1m), Usd(0m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal("period-end", Assert.Single(decision.Rejection.Errors!).Field);
    }

    [Fact]
    public void RecordReport_PeriodNotAtMidnightUtc_IsRejected()
    {
        var run = new LedgerRun(Book(Share()));

        var decision = run.TryRecord(Q1.AddHours(12), Q2, Usd(1m), Usd(0m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Contains("midnight UTC", decision.Rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecordReport_ProfitInAnotherCurrencyThanRevenue_IsRejected()
    {
        var run = new LedgerRun(Book(Share()));

        var decision = run.TryRecord(Q1, Q2, Usd(1_000_000.00m), Eur(100_000.00m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal("profit", Assert.Single(decision.Rejection.Errors!).Field);
        Assert.Empty(run.State.Periods);
        Assert.Equal(0, run.State.Version);
    }

    [Fact]
    public void RecordReport_CurrencyOtherThanTheLedgers_IsRejected()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var decision = run.TryRecord(Q2, Q3, Eur(1_000_000.00m), Eur(0m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Contains("kept in USD", decision.Rejection.Message, StringComparison.Ordinal);
        Assert.Single(run.State.Periods);
    }

    [Fact]
    public void RecordReport_CurrencyOtherThanTheAgreementsThreshold_IsRejectedNamingTheClause()
    {
        var run = new LedgerRun(Book(Share(), Trigger(Usd(100_000_000_000m), terminates: "revenue-share")));

        var decision = run.TryRecord(Q1, Q2, Eur(1_000_000.00m), Eur(0m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Contains("clause agi-trigger counts in USD", decision.Rejection.Message, StringComparison.Ordinal);
        Assert.Empty(run.State.Periods);
    }

    [Fact]
    public void RecordReport_CurrencyOtherThanTheCap_IsRejected()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));

        var decision = run.TryRecord(Q1, Q2, Eur(1_000_000.00m), Eur(0m));

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Contains("clause revenue-share counts in USD", decision.Rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adjust_DeltaInAnotherCurrency_IsRejected()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var decision = run.TryAdjust(Q1, Eur(100.00m), Usd(0m), "restated");

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal(Usd(1_000_000.00m), run.State.Period(Q1)!.Revenue);
    }

    [Fact]
    public void Money_AddingDifferentCurrencies_Throws()
    {
        var error = Assert.Throws<CurrencyMismatchException>(() => Usd(1m) + Eur(1m));

        Assert.Equal(("USD", "EUR"), (error.Left.Code, error.Right.Code));
    }

    [Fact]
    public void Adjust_RevenueUp_AccruesOnlyTheDifferenceAndKeepsTheOriginalReport()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(4_300_000_000.00m));

        var events = run.Adjust(Q1, Usd(100_000_000.00m), Usd(0m), "audited revenue");

        // Before: 4.3e9 x 0.20 = 860,000,000.00; after: 4.4e9 x 0.20 = 880,000,000.00; difference 20,000,000.00.
        var adjusted = Assert.IsType<ReportAdjusted>(events[0]);
        Assert.Equal("audited revenue", adjusted.Reason);
        var accrual = LedgerRun.OnlyAccrual(events);
        Assert.Equal(Usd(20_000_000.00m), accrual.Amount);
        Assert.Equal(Usd(880_000_000.00m), accrual.Cumulative);
        Assert.Equal(Usd(4_400_000_000.00m), accrual.Basis);
        Assert.Equal(Usd(880_000_000.00m), run.State.AccruedFor(MicrosoftOpenAi, RevenueShareId, Q1));
        // The original report is still there, unchanged: history is appended to, never overwritten.
        Assert.Equal(Usd(4_300_000_000.00m), Assert.Single(run.Events.OfType<ReportRecorded>()).Revenue);
        Assert.Equal(Usd(4_400_000_000.00m), run.State.Period(Q1)!.Revenue);
    }

    [Fact]
    public void Adjust_RevenueDown_AccruesANegativeDifference()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(4_300_000_000.00m));

        var accrual = LedgerRun.OnlyAccrual(run.Adjust(Q1, Usd(-300_000_000.00m), Usd(0m)));

        // 4.0e9 x 0.20 = 800,000,000.00; 800,000,000.00 - 860,000,000.00 = -60,000,000.00
        Assert.Equal(Usd(-60_000_000.00m), accrual.Amount);
        Assert.Equal(Usd(800_000_000.00m), accrual.Cumulative);
    }

    [Fact]
    public void Adjust_ProRataPeriodWithinTheSameCent_AccruesNothing()
    {
        // In force 61 of 90 days (until 2025-03-03).
        var run = new LedgerRun(Book(Share(until: Day(2025, 3, 3))));
        run.Record(Q1, Q2, Usd(1_000.00m));

        var events = run.Adjust(Q1, Usd(0.05m), Usd(0m));

        // Before: 1,000.00 x 0.20 x 61/90 = 12,200 / 90 = 135.5555... -> 135.56.
        // After:  1,000.05 x 0.20 x 61/90 = 12,200.61 / 90 = 135.5623... -> 135.56: no difference, no accrual,
        // although the raw delta 0.05 x 0.20 x 61/90 = 0.0067... would round to 0.01 on its own.
        Assert.IsType<ReportAdjusted>(Assert.Single(events));
        Assert.Equal(Usd(135.56m), run.State.AccruedFor(MicrosoftOpenAi, RevenueShareId, Q1));
    }

    [Fact]
    public void Adjust_ProRataPeriodCrossingACent_AccruesTheDifferenceOfTheRoundedTotals()
    {
        // In force 61 of 90 days (until 2025-03-03).
        var run = new LedgerRun(Book(Share(until: Day(2025, 3, 3))));
        run.Record(Q1, Q2, Usd(1_000.00m));

        var accrual = LedgerRun.OnlyAccrual(run.Adjust(Q1, Usd(0.10m), Usd(0m)));

        // Before: 1,000.00 x 0.20 x 61/90 = 12,200 / 90 = 135.5555... -> 135.56.
        // After:  1,000.10 x 0.20 x 61/90 = 12,201.22 / 90 = 135.5691... -> 135.57; difference 0.01.
        Assert.Equal(Usd(0.01m), accrual.Amount);
        Assert.Equal(Usd(135.57m), accrual.Cumulative);
    }

    [Fact]
    public void Adjust_ProfitOnlyOnARevenueBasis_RecordsTheAdjustmentWithoutAnAccrual()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(100_000.00m));

        var events = run.Adjust(Q1, Usd(0m), Usd(50_000.00m));

        Assert.IsType<ReportAdjusted>(Assert.Single(events));
        Assert.Equal(Usd(150_000.00m), run.State.CumulativeProfit);
        Assert.Equal(Usd(200_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void Adjust_PastTheCap_AccruesOnlyUpToTheCap()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));
        run.Record(Q1, Q2, Usd(3_000_000.00m));
        run.Record(Q2, Q3, Usd(1_000_000.00m));

        // Q1 600,000.00 + Q2 200,000.00 = 800,000.00 accrued; Q2 corrected to 3,000,000.00 would owe
        // 600,000.00, but only 1,000,000.00 - 600,000.00 = 400,000.00 fits under the cap: +200,000.00.
        var accrual = LedgerRun.OnlyAccrual(run.Adjust(Q2, Usd(2_000_000.00m), Usd(0m)));

        Assert.Equal(Usd(200_000.00m), accrual.Amount);
        Assert.Equal(Usd(1_000_000.00m), accrual.Cumulative);
        Assert.Equal(Usd(0m), accrual.CapRemaining);
    }

    // Regression (issue 5): the room a correction freed under the cap was lost; the clause stayed at 800,000.00.
    [Fact]
    public void Adjust_EarlierPeriodDownAfterTheCapWasReached_GivesTheFreedRoomToTheLaterPeriod()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));
        run.Record(Q1, Q2, Usd(3_000_000.00m));     // 600,000.00
        run.Record(Q2, Q3, Usd(3_640_000.00m));     // 728,000.00 owed, capped at 400,000.00

        // Q1 corrected to 2,000,000.00: it owes 400,000.00 (-200,000.00), which leaves room under the cap for
        // 200,000.00 more of what Q2 owed: Q2 becomes min(728,000.00, 1,000,000.00 - 400,000.00) = 600,000.00.
        var events = run.Adjust(Q1, Usd(-1_000_000.00m), Usd(0m));

        var accruals = events.OfType<ShareAccrued>().ToArray();
        Assert.Equal([(Q1, Usd(-200_000.00m)), (Q2, Usd(200_000.00m))], accruals.Select(a => (a.PeriodStart, a.Amount)));
        Assert.Equal((Usd(1_000_000.00m), Usd(0m)), (accruals[1].Cumulative, accruals[1].CapRemaining!.Value));
        Assert.Equal(Usd(600_000.00m), run.State.AccruedFor(MicrosoftOpenAi, RevenueShareId, Q2));
    }

    [Fact]
    public void Adjust_EarlierPeriodUpWithTheCapReached_AccruesNothingAndAddsNoEmptyLines()
    {
        var run = new LedgerRun(Book(Share(cap: Usd(1_000_000.00m))));
        run.Record(Q1, Q2, Usd(3_000_000.00m));                     // 600,000.00
        run.Record(Q2, Q3, Usd(3_640_000.00m));                     // 400,000.00 (capped)
        run.Record(Q3, Day(2025, 10, 1), Usd(5_000_000.00m));       // 0.00 (capped out)

        // Q1 would owe 800,000.00, but the cap is spent: nothing changes, and no zero accrual is repeated.
        var events = run.Adjust(Q1, Usd(1_000_000.00m), Usd(0m));

        Assert.IsType<ReportAdjusted>(Assert.Single(events));
        Assert.Equal(Usd(1_000_000.00m), run.State.Accrued(MicrosoftOpenAi, RevenueShareId));
    }

    [Fact]
    public void Adjust_UnknownPeriod_IsRejectedAsNotFound()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var decision = run.TryAdjust(Q2, Usd(1m), Usd(0m), "restated");

        Assert.Equal(RejectionKind.NotFound, decision.Rejection!.Kind);
        Assert.Equal("period-start", Assert.Single(decision.Rejection.Errors!).Field);
    }

    [Fact]
    public void Adjust_WithoutAReason_IsRejected()
    {
        var run = new LedgerRun(Book(Share()));
        run.Record(Q1, Q2, Usd(1_000_000.00m));

        var decision = run.TryAdjust(Q1, Usd(1m), Usd(0m), " ");

        Assert.Equal(RejectionKind.Invalid, decision.Rejection!.Kind);
        Assert.Equal("reason", Assert.Single(decision.Rejection.Errors!).Field);
        Assert.Equal(Usd(1_000_000.00m), run.State.Period(Q1)!.Revenue);
    }

    [Fact]
    public void Adjust_ClauseEndedDuringThePeriod_KeepsItsDaysInForce()
    {
        // Terminated from 2025-02-15: in force 2025-01-01..2025-02-14 = 31 + 14 = 45 days of 90.
        var book = Book(Share()).WithTermination(new ClauseTermination(MicrosoftOpenAi, RevenueShareId, Day(2025, 2, 15), TriggerId));
        var run = new LedgerRun(book);
        run.Record(Q1, Q2, Usd(900_000.00m));

        var accrual = LedgerRun.OnlyAccrual(run.Adjust(Q1, Usd(90_000.00m), Usd(0m)));

        // Before: 900,000 x 0.20 x 45/90 = 90,000.00; after: 990,000 x 0.20 x 45/90 = 99,000.00; +9,000.00.
        Assert.Equal(45, accrual.DaysInForce);
        Assert.Equal(Usd(9_000.00m), accrual.Amount);
    }
}
