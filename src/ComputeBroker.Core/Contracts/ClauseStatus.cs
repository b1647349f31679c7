using ComputeBroker.Domain;

namespace ComputeBroker.Contracts;

/// <summary>Where a clause stands at an instant.</summary>
public enum ClauseState
{
    InForce,
    NotYet,
    Expired,
    Terminated,
}

/// <summary>A trigger's progress toward its threshold.</summary>
public sealed record TriggerProgress(TriggerMetric Metric, Money Value, Money Threshold, decimal Fraction, DateTimeOffset? FiredAt);

/// <summary>The status of one clause of the agreement version in force at <see cref="AsOf"/>.</summary>
public sealed record ClauseStatus(
    AgreementId Agreement,
    int Version,
    ClauseId Clause,
    string Kind,
    ClauseState State,
    DateTimeOffset AsOf,
    DateTimeOffset? From,
    DateTimeOffset? Until,
    TimeSpan? TimeLeft,
    DateTimeOffset? TerminatedAt,
    ClauseId? TerminatedBy,
    TriggerProgress? Trigger);

/// <summary>Clause status as of any instant: in force, not yet, expired or terminated (when, by which trigger).</summary>
public static class ClauseStatusReport
{
    /// <param name="metric">The cumulative value of a metric for a customer (null when nothing is reported yet).</param>
    /// <param name="firedAt">When a trigger fired, if it did.</param>
    public static IReadOnlyList<ClauseStatus> At(
        ContractBook book,
        DateTimeOffset asOf,
        Func<string, TriggerMetric, Money?> metric,
        Func<AgreementId, ClauseId, DateTimeOffset?> firedAt)
    {
        var statuses = new List<ClauseStatus>();
        foreach (var agreement in book.Agreements.OrderBy(a => a.Id.Value, StringComparer.Ordinal))
        {
            // Before the first version takes effect, report that version's clauses as not yet in force.
            var version = agreement.VersionAt(asOf) ?? agreement.Versions.OrderBy(v => v.EffectiveFrom).FirstOrDefault();
            if (version is null)
            {
                continue;
            }

            var effective = version.EffectiveFrom;
            foreach (var clause in version.Clauses)
            {
                // A termination ends only a clause still in its term: one that had already expired stays expired.
                var termination = book.TerminationOf(agreement.Id, clause.Id) is { } t && (clause.Until is not { } end || t.At < end) ? t : null;
                var from = clause.From is { } f && f > effective ? f : effective;
                var state = termination is not null && asOf >= termination.At ? ClauseState.Terminated
                    : asOf < from ? ClauseState.NotYet
                    : clause.Until is { } u && asOf >= u ? ClauseState.Expired
                    : ClauseState.InForce;
                TimeSpan? left = state == ClauseState.InForce && clause.Until is { } until ? until - asOf : null;
                TriggerProgress? progress = null;
                if (clause is TriggerClause trigger)
                {
                    var value = metric(agreement.Customer, trigger.Metric) ?? Money.Zero(trigger.Threshold.Currency);
                    var fraction = trigger.Threshold.Amount == 0 ? 1m : decimal.Round(Math.Clamp(value.Amount / trigger.Threshold.Amount, 0m, 1m), 4);
                    progress = new TriggerProgress(trigger.Metric, value, trigger.Threshold, fraction, firedAt(agreement.Id, trigger.Id));
                }

                statuses.Add(new ClauseStatus(agreement.Id, version.Number, clause.Id, clause.Kind, state, asOf, clause.From, clause.Until, left,
                    termination?.At, termination?.ByTrigger, progress));
            }
        }

        return statuses;
    }
}
