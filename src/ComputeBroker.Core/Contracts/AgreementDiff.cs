using System.Text.Json;
using System.Text.Json.Nodes;
using ComputeBroker.Serialization;

namespace ComputeBroker.Contracts;

/// <summary>How one clause differs between two versions.</summary>
public enum ClauseChangeKind
{
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// <summary>One field of a clause whose value differs between the versions (values as JSON text).</summary>
public sealed record FieldChange(string Field, string? Before, string? After);

/// <summary>One clause's change between two versions, matched by clause id.</summary>
public sealed record ClauseChange(string Clause, string Kind, ClauseChangeKind Change, IReadOnlyList<FieldChange> Fields);

/// <summary>What changed between two versions of an agreement, clause by clause.</summary>
public sealed record AgreementDiff(string Agreement, int From, int To, DateTimeOffset FromEffective, DateTimeOffset ToEffective, IReadOnlyList<ClauseChange> Clauses);

/// <summary>Compares two agreement versions clause by clause (matched by id), field by field.</summary>
public static class AgreementDiffer
{
    public static AgreementDiff Diff(Agreement agreement, AgreementVersion from, AgreementVersion to)
    {
        var changes = new List<ClauseChange>();
        foreach (var before in from.Clauses)
        {
            var after = to.FindClause(before.Id);
            if (after is null)
            {
                changes.Add(new ClauseChange(before.Id.Value, before.Kind, ClauseChangeKind.Removed, []));
                continue;
            }

            var fields = Fields(before, after);
            changes.Add(new ClauseChange(before.Id.Value, after.Kind, fields.Count == 0 ? ClauseChangeKind.Unchanged : ClauseChangeKind.Changed, fields));
        }

        foreach (var added in to.Clauses.Where(c => from.FindClause(c.Id) is null))
        {
            changes.Add(new ClauseChange(added.Id.Value, added.Kind, ClauseChangeKind.Added, []));
        }

        return new AgreementDiff(agreement.Id.Value, from.Number, to.Number, from.EffectiveFrom, to.EffectiveFrom, changes);
    }

    private static List<FieldChange> Fields(Clause before, Clause after)
    {
        var a = JsonSerializer.SerializeToNode(before, before.GetType(), BrokerJson.Options)!.AsObject();
        var b = JsonSerializer.SerializeToNode(after, after.GetType(), BrokerJson.Options)!.AsObject();
        var names = a.Select(p => p.Key).Union(b.Select(p => p.Key), StringComparer.Ordinal);
        var fields = new List<FieldChange>();
        foreach (var name in names)
        {
            var x = a[name]?.ToJsonString(BrokerJson.Options);
            var y = b[name]?.ToJsonString(BrokerJson.Options);
            if (!string.Equals(x, y, StringComparison.Ordinal))
            {
                fields.Add(new FieldChange(name, x, y));
            }
        }

        return fields;
    }
}
