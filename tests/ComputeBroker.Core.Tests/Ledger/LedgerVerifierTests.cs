using ComputeBroker.Audit;
using ComputeBroker.Contracts;
using ComputeBroker.Ledger;
using static ComputeBroker.Tests.Ledger.LedgerFixture;

namespace ComputeBroker.Tests.Ledger;

/// <summary>
/// Issue 5, audit: the verifier replays a ledger and checks invariant I4 on the money side: no accrual
/// outside a clause's term or after its termination, and a trigger fired once, only at its threshold.
/// Forged events are made by hand from an honest ledger.
/// </summary>
public sealed class LedgerVerifierTests
{
    private static readonly DateTimeOffset Q1 = Day(2025, 1, 1);
    private static readonly DateTimeOffset Q2 = Day(2025, 4, 1);
    private static readonly DateTimeOffset Q3 = Day(2025, 7, 1);
    private static readonly DateTimeOffset Q4 = Day(2025, 10, 1);

    /// <summary>The agreement as signed: the verifier learns terminations from the ledger's own trigger events.</summary>
    private static readonly ContractBook Signed = Book(Share(), IpAccess(), Trigger(Usd(100_000_000.00m), terminates: "revenue-share"));

    /// <summary>Q1 accrues 1,000,000 x 0.20 = 200,000.00 and fires the trigger (profit 150,000,000), ending the share from 2025-04-01; Q2 accrues nothing.</summary>
    private static LedgerRun Honest()
    {
        var run = new LedgerRun(Signed);
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(150_000_000.00m));
        run.Record(Q2, Q3, Usd(1_000_000.00m), Usd(10_000_000.00m));
        run.Adjust(Q1, Usd(100_000.00m), Usd(0m));     // +20,000.00: the share was in force all of Q1
        return run;
    }

    [Fact]
    public void Verify_LedgerWrittenByTheEngine_HasNoViolations()
    {
        var run = Honest();

        Assert.Single(run.Fired);
        Assert.Equal(2, run.Accruals.Count());
        Assert.Empty(LedgerVerifier.Verify(run.Events, Signed));
    }

    [Fact]
    public void Verify_AccrualAfterTheTermination_IsAnI4Violation()
    {
        var events = Honest().Events;
        // Q2 (91 days) accrued as if the share were still in force: 1,000,000 x 0.20 = 200,000.00.
        var forged = events.OfType<ShareAccrued>().First() with { PeriodStart = Q2, PeriodEnd = Q3, DaysInForce = 91, DaysInPeriod = 91, Amount = Usd(200_000.00m), Cumulative = Usd(420_000.00m) };
        events.Add(forged);

        var violations = LedgerVerifier.Verify(events, Signed);

        Assert.Equal(2, violations.Count);
        Assert.All(violations, v => Assert.Equal(("I4", Customer, events.Count - 1, "share.accrued"), (v.Invariant, v.Customer, v.EventIndex, v.EventType)));
        Assert.Contains("accrued for 91 days of 2025-04-01..2025-07-01 but was in force on 0", violations[0].Message, StringComparison.Ordinal);
        Assert.Contains("more than the 0.00 USD owed for its days in force (it was never in force in the period)", violations[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AccrualForDaysOutsideTheTerm_IsAnI4Violation()
    {
        // In force 61 of Q1's 90 days (until 2025-03-03): the engine accrues 582,888,888.89.
        var book = Book(Share(until: Day(2025, 3, 3)));
        var run = new LedgerRun(book);
        run.Record(Q1, Q2, Usd(4_300_000_000.00m));
        var honest = LedgerRun.OnlyAccrual(run.Events);
        Assert.Empty(LedgerVerifier.Verify(run.Events, book));

        // Forged: all 90 days, 860,000,000.00.
        var forged = honest with { DaysInForce = 90, Amount = Usd(860_000_000.00m), Cumulative = Usd(860_000_000.00m) };
        var violations = LedgerVerifier.Verify(run.Events.Select(e => e == honest ? forged : e), book);

        Assert.Equal(2, violations.Count);
        Assert.Contains("accrued for 90 days", violations[0].Message, StringComparison.Ordinal);
        Assert.Contains("accrued 860000000.00 USD for the period, more than the 582888888.89 USD owed", violations[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AccrualAboveWhatTheDaysOwe_IsAnI4Violation()
    {
        var run = new LedgerRun(Signed);
        run.Record(Q1, Q2, Usd(1_000_000.00m));
        var honest = LedgerRun.OnlyAccrual(run.Events);

        // One cent more than 200,000.00.
        var forged = honest with { Amount = Usd(200_000.01m) };
        var violation = Assert.Single(LedgerVerifier.Verify(run.Events.Select(e => e == honest ? forged : e), Signed));

        Assert.Contains("accrued 200000.01 USD for the period, more than the 200000.00 USD owed", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TriggerFiredTwice_IsAnI4Violation()
    {
        var events = Honest().Events;
        var fired = Assert.Single(events.OfType<TriggerFired>());
        events.Add(fired with { At = fired.At.AddDays(90) });

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Equal(("I4", events.Count - 1, "trigger.fired"), (violation.Invariant, violation.EventIndex, violation.EventType));
        Assert.Contains("trigger agi-trigger fired a second time", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TriggerFiredBelowItsThreshold_IsAnI4Violation()
    {
        var run = new LedgerRun(Signed);
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(60_000_000.00m));
        var events = run.Events;
        events.Add(new TriggerFired(Customer, Q2.AddDays(15), MicrosoftOpenAi, TriggerId, TriggerMetric.CumulativeProfit,
            Usd(60_000_000.00m), Usd(100_000_000.00m), Q2, [RevenueShareId]));

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Equal(events.Count - 1, violation.EventIndex);
        Assert.Contains("trigger agi-trigger fired at 60000000.00 USD, below its threshold 100000000.00 USD", violation.Message, StringComparison.Ordinal);
    }

    // Regression (issue 5): the verifier trusted the event's own threshold and targets.
    [Fact]
    public void Verify_TriggerClaimingALowerThreshold_IsJudgedByTheClausesThreshold()
    {
        var run = new LedgerRun(Signed);
        run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(60_000_000.00m));
        var events = run.Events;
        // The event says the threshold was 50,000,000.00; the clause says 100,000,000.00.
        events.Add(new TriggerFired(Customer, Q2.AddDays(15), MicrosoftOpenAi, TriggerId, TriggerMetric.CumulativeProfit,
            Usd(60_000_000.00m), Usd(50_000_000.00m), Q2, [RevenueShareId]));

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Contains("fired at 60000000.00 USD, below its threshold 100000000.00 USD", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TriggerTerminatingAnotherClauseThanItsTarget_IsAnI4Violation()
    {
        var events = Honest().Events;
        var index = events.FindIndex(e => e is TriggerFired);
        events[index] = ((TriggerFired)events[index]) with { Terminates = [IpAccessId] };

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Equal(index, violation.EventIndex);
        Assert.Contains("terminating [ip-access], but the clause counts CumulativeProfit and terminates [revenue-share]", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TriggerTheAgreementDoesNotHave_IsAnI4Violation()
    {
        var events = Honest().Events;
        var index = events.FindIndex(e => e is TriggerFired);
        events[index] = ((TriggerFired)events[index]) with { Trigger = new Domain.ClauseId("made-up-trigger") };

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Contains("trigger made-up-trigger is not a trigger of agreement microsoft-openai", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AccrualsAfterAForgedTrigger_AreCheckedAgainstItsTermination()
    {
        // A forged early firing ends the share from 2025-04-01 in the verifier's eyes too, so Q2's honest-looking
        // accrual is caught as well as the firing itself.
        var run = new LedgerRun(Signed);
        var q1 = run.Record(Q1, Q2, Usd(1_000_000.00m), Usd(60_000_000.00m));
        var forged = new TriggerFired(Customer, Q2.AddDays(15), MicrosoftOpenAi, TriggerId, TriggerMetric.CumulativeProfit,
            Usd(60_000_000.00m), Usd(100_000_000.00m), Q2, [RevenueShareId]);
        var q2 = run.Record(Q2, Q3, Usd(1_000_000.00m), Usd(0m));
        var events = q1.Append(forged).Concat(q2).ToList();

        var violations = LedgerVerifier.Verify(events, Signed);

        Assert.Equal(["trigger.fired", "share.accrued", "share.accrued"], violations.Select(v => v.EventType));
    }

    // Regression (issue 5): an accrual with no recorded period, or under an unknown agreement, passed unchecked.
    [Fact]
    public void Verify_AccrualForAPeriodNeverReported_IsAnI4Violation()
    {
        var events = Honest().Events;
        events.Add(events.OfType<ShareAccrued>().First() with { PeriodStart = Q3, PeriodEnd = Q4, DaysInPeriod = 92, DaysInForce = 92 });

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Equal(events.Count - 1, violation.EventIndex);
        Assert.Contains("no period starting 2025-07-01 is recorded", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AccrualUnderAnUnknownAgreement_IsAnI4Violation()
    {
        var events = Honest().Events;
        events.Add(events.OfType<ShareAccrued>().First() with { Agreement = new Domain.AgreementId("made-up") });

        var violation = Assert.Single(LedgerVerifier.Verify(events, Signed));

        Assert.Contains("agreement made-up is not known", violation.Message, StringComparison.Ordinal);
    }
}
