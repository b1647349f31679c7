using ComputeBroker.Domain;

namespace ComputeBroker.Contracts;

/// <summary>
/// One version of an agreement: the clauses that govern requests submitted from
/// <see cref="EffectiveFrom"/> until the next version takes effect.
/// </summary>
public sealed record AgreementVersion(int Number, DateTimeOffset EffectiveFrom, IReadOnlyList<Clause> Clauses, string? Note = null)
{
    public Clause? FindClause(ClauseId id) => Clauses.FirstOrDefault(c => c.Id == id);
}

/// <summary>
/// An agreement between a customer and a partner, with its full version history.
/// History is never rewritten: an amendment is a new version with a later effective instant.
/// </summary>
public sealed record Agreement(AgreementId Id, string Customer, IReadOnlyList<string> Parties, IReadOnlyList<AgreementVersion> Versions)
{
    /// <summary>The version in force at <paramref name="at"/>, or null before the first one takes effect.</summary>
    public AgreementVersion? VersionAt(DateTimeOffset at)
    {
        AgreementVersion? found = null;
        foreach (var version in Versions)
        {
            if (version.EffectiveFrom <= at && (found is null || version.EffectiveFrom >= found.EffectiveFrom))
            {
                found = version;
            }
        }

        return found;
    }

    public AgreementVersion? Version(int number) => Versions.FirstOrDefault(v => v.Number == number);

    /// <summary>Returns a copy with <paramref name="amendment"/> appended; the version number must be new and take effect after the latest.</summary>
    public Agreement Amend(AgreementVersion amendment) => this with { Versions = [.. Versions, amendment] };
}

/// <summary>
/// When and by what a clause was terminated. <see cref="At"/> is when the termination takes effect (a trigger
/// fires at the end of the period that crossed its threshold); <see cref="RecordedAt"/> is when the broker
/// learned of it (the report was recorded), which can be later. A decision is judged against the
/// terminations recorded before it: the broker cannot act on a termination it does not know yet.
/// </summary>
public sealed record ClauseTermination(AgreementId Agreement, ClauseId Clause, DateTimeOffset At, ClauseId ByTrigger, DateTimeOffset? RecordedAt = null)
{
    /// <summary>When the termination became known: <see cref="RecordedAt"/>, or <see cref="At"/> when not recorded separately.</summary>
    public DateTimeOffset KnownAt => RecordedAt is { } recorded && recorded > At ? recorded : At;
}

/// <summary>
/// The agreements the broker knows and the terminations recorded against their clauses. Immutable;
/// a new book is made when an agreement is applied or a trigger fires.
/// </summary>
public sealed class ContractBook
{
    private readonly Dictionary<(AgreementId, ClauseId), ClauseTermination> _terminations;

    public ContractBook(IEnumerable<Agreement> agreements, IEnumerable<ClauseTermination>? terminations = null)
    {
        Agreements = agreements.ToArray();
        _terminations = (terminations ?? []).ToDictionary(t => (t.Agreement, t.Clause));
    }

    public static readonly ContractBook Empty = new([]);

    public IReadOnlyList<Agreement> Agreements { get; }

    public IEnumerable<ClauseTermination> Terminations => _terminations.Values;

    public Agreement? Find(AgreementId id) => Agreements.FirstOrDefault(a => a.Id == id);

    public ClauseTermination? TerminationOf(AgreementId agreement, ClauseId clause) =>
        _terminations.GetValueOrDefault((agreement, clause));

    /// <summary>True when the clause is in its term at <paramref name="at"/> and not terminated at or before it.</summary>
    public bool InForce(AgreementId agreement, Clause clause, DateTimeOffset at) =>
        clause.InTerm(at) && (TerminationOf(agreement, clause.Id) is not { } t || at < t.At);

    /// <summary>The book as the broker knew it at <paramref name="instant"/>: only the terminations known by then.</summary>
    public ContractBook AsKnownAt(DateTimeOffset instant) =>
        _terminations.Values.All(t => t.KnownAt <= instant) ? this : new(Agreements, _terminations.Values.Where(t => t.KnownAt <= instant));

    public ContractBook WithAgreement(Agreement agreement) =>
        new(Agreements.Where(a => a.Id != agreement.Id).Append(agreement), _terminations.Values);

    /// <summary>Records a termination; a clause is terminated once, the first record wins.</summary>
    public ContractBook WithTermination(ClauseTermination termination) =>
        _terminations.ContainsKey((termination.Agreement, termination.Clause))
            ? this
            : new(Agreements, _terminations.Values.Append(termination));
}
