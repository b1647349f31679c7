using ComputeBroker.Domain;

namespace ComputeBroker.Contracts;

/// <summary>How a request is sourced, as decided by the clauses that apply to it.</summary>
public enum SourcingRoute
{
    /// <summary>No placement clause applies: every eligible provider is asked for a quote.</summary>
    Open,

    /// <summary>An exclusivity clause applies: only the exclusive provider is offered the request.</summary>
    Exclusive,

    /// <summary>A first-refusal clause applies: the holder is offered the request first.</summary>
    FirstRefusal,

    /// <summary>A first-refusal clause applies but a waiver covers the request: the named providers are asked directly.</summary>
    Waived,
}

/// <summary>A clause that applies to a request, with the agreement version it comes from.</summary>
public sealed record AppliedClause<TClause>(AgreementVersionRef Version, TClause Clause) where TClause : Clause;

/// <summary>
/// The outcome of clause resolution for one request, as of its submission instant. It is recorded
/// in the request's first events, so the request finishes under these terms even if the agreement
/// is amended while it is in flight.
/// </summary>
public sealed record ClauseResolution(
    SourcingRoute Route,
    IReadOnlyList<AgreementVersionRef> Versions,
    AppliedClause<ExclusivityClause>? Exclusivity,
    AppliedClause<FirstRefusalClause>? FirstRefusal,
    AppliedClause<WaiverClause>? Waiver)
{
    public static readonly ClauseResolution Open = new(SourcingRoute.Open, [], null, null, null);
}

/// <summary>Two clauses apply to the same request and disagree; the broker never picks one silently.</summary>
public sealed record ClauseConflict(string Message);

/// <summary>
/// Resolves which placement clauses apply to a request as of an instant. Precedence, explicit and tested:
/// <list type="number">
/// <item>exclusivity wins over first refusal (a request in exclusivity scope never goes to the market);</item>
/// <item>two exclusivity clauses naming different providers, or two first-refusal clauses naming
/// different holders, are a conflict reported with both clause ids;</item>
/// <item>a waiver granted by the first-refusal holder covers the request only if its remaining GPU
/// budget holds the whole request; of several such waivers the first in agreement order is used.</item>
/// </list>
/// </summary>
public static class ClauseResolver
{
    /// <param name="waiverUsed">GPUs already counted against a waiver's budget, by agreement and clause.</param>
    public static (ClauseResolution? Resolution, ClauseConflict? Conflict) Resolve(
        ContractBook book,
        CapacityRequest request,
        DateTimeOffset at,
        Func<AgreementId, ClauseId, int> waiverUsed)
    {
        List<AgreementVersionRef>? versions = null;
        AppliedClause<ExclusivityClause>? exclusivity = null;
        AppliedClause<FirstRefusalClause>? firstRefusal = null;
        List<AppliedClause<WaiverClause>>? waivers = null;

        foreach (var agreement in book.Agreements)
        {
            if (!string.Equals(agreement.Customer, request.Customer, StringComparison.Ordinal) || agreement.VersionAt(at) is not { } version)
            {
                continue;
            }

            var versionRef = new AgreementVersionRef(agreement.Id, version.Number);
            (versions ??= []).Add(versionRef);
            foreach (var clause in version.Clauses)
            {
                if (!book.InForce(agreement.Id, clause, at))
                {
                    continue;
                }

                switch (clause)
                {
                    case ExclusivityClause e when e.Scope.Covers(request):
                        if (exclusivity is not null && exclusivity.Clause.Provider != e.Provider)
                        {
                            return (null, Conflict("exclusivity", exclusivity.Version, exclusivity.Clause, versionRef, e, request));
                        }

                        exclusivity ??= new(versionRef, e);
                        break;
                    case FirstRefusalClause f when f.Scope.Covers(request):
                        if (firstRefusal is not null && firstRefusal.Clause.Holder != f.Holder)
                        {
                            return (null, Conflict("first-refusal", firstRefusal.Version, firstRefusal.Clause, versionRef, f, request));
                        }

                        firstRefusal ??= new(versionRef, f);
                        break;
                    case WaiverClause w when w.Scope.Covers(request):
                        (waivers ??= []).Add(new(versionRef, w));
                        break;
                }
            }
        }

        if (versions is null)
        {
            return (ClauseResolution.Open, null);
        }

        if (exclusivity is not null)
        {
            return (new ClauseResolution(SourcingRoute.Exclusive, versions, exclusivity, null, null), null);
        }

        if (firstRefusal is null)
        {
            return (new ClauseResolution(SourcingRoute.Open, versions, null, null, null), null);
        }

        var waiver = waivers?.FirstOrDefault(w =>
            w.Clause.GrantedBy == firstRefusal.Clause.Holder
            && w.Clause.GpuBudget.Value - waiverUsed(w.Version.Agreement, w.Clause.Id) >= request.Gpus.Value);
        return waiver is null
            ? (new ClauseResolution(SourcingRoute.FirstRefusal, versions, null, firstRefusal, null), null)
            : (new ClauseResolution(SourcingRoute.Waived, versions, null, firstRefusal, waiver), null);
    }

    private static ClauseConflict Conflict(string kind, AgreementVersionRef aRef, Clause a, AgreementVersionRef bRef, Clause b, CapacityRequest request) =>
        new($"request {request.Id}: {kind} clauses '{a.Id}' ({aRef}) and '{b.Id}' ({bRef}) both apply and disagree; " +
            "amend one agreement so that their scopes or terms do not overlap");
}
