using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, point 6: clause status as of any instant, on the shipped example agreements: in force (with
/// the time left), not yet, expired, or terminated (when, by which trigger), and each trigger's progress.
/// </summary>
public sealed class ClauseStatusReportTests
{
    private static readonly Agreement January = Example("microsoft-openai-2025-01.yaml");
    private static readonly Agreement October = Example("microsoft-openai-2025-10.yaml");

    [Fact]
    public void At_BeforeTheFirstVersionTakesEffect_EveryClauseIsNotYet()
    {
        var statuses = At(Book(January), Day(2025, 1, 1));

        Assert.Equal(
            ["azure-first-refusal", "api-exclusivity", "ip-access", "revenue-share", "agi-trigger", "oracle-waiver"],
            statuses.Select(s => s.Clause.Value));
        Assert.All(statuses, s => Assert.Equal((1, ClauseState.NotYet), (s.Version, s.State)));
        Assert.All(statuses, s => Assert.Null(s.TimeLeft));
    }

    [Fact]
    public void At_InTerm_IsInForceWithTheTimeLeftUntilTheEnd()
    {
        var ip = Clause(At(Book(January), Day(2025, 6, 1)), "ip-access");

        // 2025-06-01 -> 2030-06-01: 4 x 365 + 366 (2028 is a leap year) = 1,826 days;
        // 2030-06-01 -> 2030-12-31: 30 + 31 + 31 + 30 + 31 + 30 + 30 = 213 days; 2,039 days in all.
        Assert.Equal(ClauseState.InForce, ip.State);
        Assert.Equal(TimeSpan.FromDays(2_039), ip.TimeLeft);
        Assert.Equal(Day(2030, 12, 31), ip.Until);
        Assert.Null(ip.TerminatedAt);
    }

    [Fact]
    public void At_ClauseWithoutAnEnd_IsInForceWithNoTimeLeft()
    {
        var firstRefusal = Clause(At(Book(January), Day(2025, 6, 1)), "azure-first-refusal");

        Assert.Equal(ClauseState.InForce, firstRefusal.State);
        Assert.Null(firstRefusal.TimeLeft);
    }

    [Fact]
    public void At_AfterTheEndOfItsTerm_IsExpired()
    {
        var statuses = At(Book(January), Day(2030, 12, 31));

        Assert.Equal(ClauseState.Expired, Clause(statuses, "ip-access").State);
        Assert.Equal(ClauseState.Expired, Clause(statuses, "revenue-share").State);
        Assert.Null(Clause(statuses, "ip-access").TimeLeft);
        Assert.Equal(ClauseState.InForce, Clause(statuses, "azure-first-refusal").State);
    }

    [Fact]
    public void At_OneTickBeforeTheEnd_IsInForceWithOneTickLeft()
    {
        var ip = Clause(At(Book(January), Day(2030, 12, 31).AddTicks(-1)), "ip-access");

        Assert.Equal((ClauseState.InForce, TimeSpan.FromTicks(1)), (ip.State, ip.TimeLeft));
    }

    [Fact]
    public void At_ClauseStartingAfterItsVersion_IsNotYetUntilItsOwnStart()
    {
        var book = Book(Share(from: Day(2026, 1, 1)));

        Assert.Equal(ClauseState.NotYet, Assert.Single(At(book, Day(2025, 6, 1))).State);
        Assert.Equal(ClauseState.InForce, Assert.Single(At(book, Day(2026, 1, 1))).State);
    }

    [Fact]
    public void At_AfterATermination_IsTerminatedWithWhenAndByWhichTrigger()
    {
        var book = Book(October).WithTermination(new ClauseTermination(MicrosoftOpenAi, RevenueShareId, Day(2032, 1, 1), TriggerId));

        var share = Clause(At(book, Day(2032, 2, 1)), "revenue-share");

        Assert.Equal(ClauseState.Terminated, share.State);
        Assert.Equal(Day(2032, 1, 1), share.TerminatedAt);
        Assert.Equal(TriggerId, share.TerminatedBy);
        Assert.Null(share.TimeLeft);
        Assert.Equal(ClauseState.InForce, Clause(At(book, Day(2031, 12, 31)), "revenue-share").State);
    }

    [Fact]
    public void At_AfterAnAmendment_ReportsTheClausesOfTheVersionInForce()
    {
        var statuses = At(Book(October), Day(2025, 11, 1));

        Assert.Equal(
            ["api-exclusivity", "ip-access", "revenue-share", "azure-commitment", "agi-trigger"],
            statuses.Select(s => s.Clause.Value));
        Assert.All(statuses, s => Assert.Equal((2, ClauseState.InForce), (s.Version, s.State)));
        // ip-access runs to 2032-12-31 in version 2: 2025-11-01 -> 2032-11-01 = 7 x 365 + 2 leap days
        // (2028, 2032) = 2,557 days, + 30 days of November + 30 of December = 2,617 days.
        Assert.Equal(TimeSpan.FromDays(2_617), Clause(statuses, "ip-access").TimeLeft);
        Assert.Equal(1, Clause(At(Book(October), Day(2025, 10, 27)), "ip-access").Version);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("25000000000", "0.25")]
    [InlineData("33333333333.33", "0.3333")]     // 0.33333... rounded to 4 places
    [InlineData("-11418918750.00", "0")]         // a cumulative loss is no progress
    [InlineData("117081348281.61", "1")]         // past the threshold: complete
    public void At_Trigger_ReportsProgressTowardItsThreshold(string cumulativeProfit, string fraction)
    {
        var value = Usd(decimal.Parse(cumulativeProfit, System.Globalization.CultureInfo.InvariantCulture));

        var trigger = Clause(At(Book(January), Day(2025, 6, 1), metric: value), "agi-trigger").Trigger!;

        Assert.Equal(TriggerMetric.CumulativeProfit, trigger.Metric);
        Assert.Equal(value, trigger.Value);
        Assert.Equal(Usd(100_000_000_000m), trigger.Threshold);
        Assert.Equal(decimal.Parse(fraction, System.Globalization.CultureInfo.InvariantCulture), trigger.Fraction);
        Assert.Null(trigger.FiredAt);
    }

    [Fact]
    public void At_TriggerWithNothingReported_HasZeroProgress()
    {
        var trigger = Clause(ClauseStatusReport.At(Book(January), Day(2025, 6, 1), (_, _) => null, (_, _) => null), "agi-trigger").Trigger!;

        Assert.Equal((Usd(0m), 0m), (trigger.Value, trigger.Fraction));
    }

    [Fact]
    public void At_FiredTrigger_ReportsWhenItFired()
    {
        var statuses = ClauseStatusReport.At(Book(January), Day(2032, 2, 1), (_, _) => Usd(117_081_348_281.61m), (_, _) => Day(2032, 1, 1));

        Assert.Equal(Day(2032, 1, 1), Clause(statuses, "agi-trigger").Trigger!.FiredAt);
    }

    // Regression (issue 5): the clause was reported terminated a year after it had expired.
    [Fact]
    public void At_TerminationAfterTheClauseExpired_StaysExpired()
    {
        // ip-access ended on 2030-12-31 by its own term; a trigger firing on 2032-01-01 no longer ends it.
        var book = Book(January).WithTermination(new ClauseTermination(MicrosoftOpenAi, IpAccessId, Day(2032, 1, 1), TriggerId));

        var ip = Clause(At(book, Day(2032, 2, 1)), "ip-access");

        Assert.Equal(ClauseState.Expired, ip.State);
        Assert.Null(ip.TerminatedAt);
        Assert.Null(ip.TerminatedBy);
    }

    private static IReadOnlyList<ClauseStatus> At(ContractBook book, DateTimeOffset asOf, Money? metric = null) =>
        ClauseStatusReport.At(book, asOf, (customer, _) => customer == Customer ? metric ?? Usd(0m) : null, (_, _) => null);

    private static ClauseStatus Clause(IReadOnlyList<ClauseStatus> statuses, string id) => statuses.Single(s => s.Clause.Value == id);
}
