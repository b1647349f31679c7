using ComputeBroker.Domain;

namespace ComputeBroker.Contracts;

/// <summary>
/// Which requests a clause covers. An empty list means "any". A request that names no region is
/// in the scope of a region-limited clause, since it could be placed in one of its regions.
/// </summary>
public sealed record Scope(IReadOnlyList<string> WorkloadClasses, IReadOnlyList<string> Accelerators, IReadOnlyList<string> Regions)
{
    public static readonly Scope Everything = new([], [], []);

    public bool Covers(CapacityRequest request) =>
        (WorkloadClasses.Count == 0 || WorkloadClasses.Contains(request.WorkloadClass, StringComparer.Ordinal))
        && (Accelerators.Count == 0 || Accelerators.Contains(request.Accelerator, StringComparer.Ordinal))
        && (Regions.Count == 0 || request.Regions.Count == 0 || request.Regions.Any(r => Regions.Contains(r, StringComparer.Ordinal)));
}

/// <summary>
/// A clause of an agreement version. Every clause has an id and an optional term
/// [<see cref="From"/>, <see cref="Until"/>), and can be terminated by a trigger.
/// </summary>
public abstract record Clause(ClauseId Id, DateTimeOffset? From, DateTimeOffset? Until)
{
    /// <summary>The kind as written in agreement files (<c>first-refusal</c>, <c>exclusivity</c>...).</summary>
    public abstract string Kind { get; }

    /// <summary>True when <paramref name="at"/> lies within the clause's own term (terminations aside).</summary>
    public bool InTerm(DateTimeOffset at) => (From is null || at >= From) && (Until is null || at < Until);
}

/// <summary>How the first-refusal holder is asked.</summary>
public enum FirstRefusalMode
{
    /// <summary>The holder is offered the request first; it accepts, accepts part, or declines.</summary>
    FirstOffer,

    /// <summary>As <see cref="FirstOffer"/>, and the holder may also match the best third-party terms before any award.</summary>
    Match,
}

public sealed record FirstRefusalClause(
    ClauseId Id,
    DateTimeOffset? From,
    DateTimeOffset? Until,
    ProviderId Holder,
    Scope Scope,
    TimeSpan ResponseWindow,
    bool PartialAllowed,
    FirstRefusalMode Mode,
    TimeSpan? MatchWindow) : Clause(Id, From, Until)
{
    public override string Kind => "first-refusal";
}

public sealed record ExclusivityClause(ClauseId Id, DateTimeOffset? From, DateTimeOffset? Until, ProviderId Provider, Scope Scope)
    : Clause(Id, From, Until)
{
    public override string Kind => "exclusivity";
}

/// <summary>Access to the customer's IP. No effect on placement; reported and terminable.</summary>
public sealed record IpAccessClause(ClauseId Id, DateTimeOffset? From, DateTimeOffset? Until, string Licensee)
    : Clause(Id, From, Until)
{
    public override string Kind => "ip-access";
}

public enum RevenueShareBasis
{
    Revenue,
    Profit,
}

public sealed record RevenueShareClause(
    ClauseId Id,
    DateTimeOffset? From,
    DateTimeOffset? Until,
    string Payer,
    string Payee,
    decimal Rate,
    RevenueShareBasis Basis,
    Money? Cap) : Clause(Id, From, Until)
{
    public override string Kind => "revenue-share";
}

/// <summary>A spend commitment with a provider: <see cref="Amount"/> to be spent by <see cref="Deadline"/>.</summary>
public sealed record CommitmentClause(ClauseId Id, DateTimeOffset? From, DateTimeOffset? Until, ProviderId Provider, Money Amount, DateTimeOffset Deadline)
    : Clause(Id, From, Until)
{
    public override string Kind => "commitment";
}

public enum TriggerMetric
{
    CumulativeProfit,
    CumulativeRevenue,
}

/// <summary>When <see cref="Metric"/> reaches <see cref="Threshold"/>, the clauses in <see cref="Terminates"/> end.</summary>
public sealed record TriggerClause(
    ClauseId Id,
    DateTimeOffset? From,
    DateTimeOffset? Until,
    TriggerMetric Metric,
    Money Threshold,
    IReadOnlyList<ClauseId> Terminates) : Clause(Id, From, Until)
{
    public override string Kind => "trigger";
}

/// <summary>
/// Granted by a first-refusal holder: requests in scope may skip the holder and be placed with
/// <see cref="Providers"/>, up to <see cref="GpuBudget"/> GPUs in total, within the clause's term.
/// </summary>
public sealed record WaiverClause(
    ClauseId Id,
    DateTimeOffset? From,
    DateTimeOffset? Until,
    ProviderId GrantedBy,
    IReadOnlyList<ProviderId> Providers,
    Scope Scope,
    GpuCount GpuBudget) : Clause(Id, From, Until)
{
    public override string Kind => "waiver";
}
