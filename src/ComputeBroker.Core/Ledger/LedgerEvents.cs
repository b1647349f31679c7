using System.Text.Json.Serialization;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Ledger;

/// <summary>
/// Something that happened on a customer's ledger (stream <c>ledger-CUSTOMER</c>): reports, adjustments,
/// accruals and trigger firings. Like sourcing events, the ledger is a fold of these; nothing is overwritten.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ReportRecorded), "report.recorded")]
[JsonDerivedType(typeof(ReportAdjusted), "report.adjusted")]
[JsonDerivedType(typeof(ShareAccrued), "share.accrued")]
[JsonDerivedType(typeof(TriggerFired), "trigger.fired")]
public abstract record LedgerEvent(string Customer, DateTimeOffset At)
{
    [JsonIgnore]
    public abstract string Type { get; }
}

/// <summary>A period's revenue and profit as reported by the customer. A period is recorded once.</summary>
public sealed record ReportRecorded(string Customer, DateTimeOffset At, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, Money Revenue, Money Profit)
    : LedgerEvent(Customer, At)
{
    public override string Type => "report.recorded";
}

/// <summary>A correction to a recorded period, as explicit deltas with a reason.</summary>
public sealed record ReportAdjusted(string Customer, DateTimeOffset At, DateTimeOffset PeriodStart, Money RevenueDelta, Money ProfitDelta, string Reason)
    : LedgerEvent(Customer, At)
{
    public override string Type => "report.adjusted";
}

/// <summary>
/// Revenue share accrued by one clause for one period: <see cref="Amount"/> = rate x basis x
/// days in force / days in period, capped, rounded half-even to the cent. An adjustment accrues the difference.
/// </summary>
public sealed record ShareAccrued(
    string Customer,
    DateTimeOffset At,
    AgreementId Agreement,
    ClauseId Clause,
    string Payer,
    string Payee,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    int DaysInForce,
    int DaysInPeriod,
    Money Basis,
    decimal Rate,
    Money Amount,
    Money Cumulative,
    Money? CapRemaining) : LedgerEvent(Customer, At)
{
    public override string Type => "share.accrued";
}

/// <summary>A trigger's metric reached its threshold: it fires once, at the end of the period, and terminates its targets from then.</summary>
public sealed record TriggerFired(
    string Customer,
    DateTimeOffset At,
    AgreementId Agreement,
    ClauseId Trigger,
    TriggerMetric Metric,
    Money Value,
    Money Threshold,
    DateTimeOffset EffectiveAt,
    IReadOnlyList<ClauseId> Terminates) : LedgerEvent(Customer, At)
{
    public override string Type => "trigger.fired";

    public IEnumerable<ClauseTermination> Terminations => Terminates.Select(c => new ClauseTermination(Agreement, c, EffectiveAt, Trigger, At));
}
