using System.Globalization;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using YamlDotNet.RepresentationModel;

namespace ComputeBroker.Definitions;

/// <summary>
/// Reads <c>kind: agreement</c> files into <see cref="Agreement"/>: the shape first (keys, types,
/// formats), then the rules that span clauses and versions (unique ids, ordered versions, triggers
/// that name real clauses, waivers granted by a first-refusal holder).
/// </summary>
internal static class AgreementFormat
{
    public static readonly string[] ClauseKinds = ["first-refusal", "exclusivity", "ip-access", "revenue-share", "commitment", "trigger", "waiver"];

    private static readonly string[] RootKeys = ["kind", "id", "customer", "parties", "versions"];
    private static readonly string[] VersionKeys = ["version", "effective", "note", "clauses"];
    private static readonly string[] ScopeKeys = ["workload-classes", "accelerators", "regions"];
    private static readonly string[] CommonKeys = ["id", "kind", "from", "until"];

    private static readonly Dictionary<string, string[]> KindKeys = new(StringComparer.Ordinal)
    {
        ["first-refusal"] = [.. CommonKeys, "holder", "scope", "response-window", "partial", "mode", "match-window"],
        ["exclusivity"] = [.. CommonKeys, "provider", "scope"],
        ["ip-access"] = [.. CommonKeys, "licensee"],
        ["revenue-share"] = [.. CommonKeys, "payer", "payee", "rate", "basis", "cap"],
        ["commitment"] = [.. CommonKeys, "provider", "amount", "deadline"],
        ["trigger"] = [.. CommonKeys, "metric", "threshold", "terminates"],
        ["waiver"] = [.. CommonKeys, "granted-by", "providers", "scope", "gpu-budget"],
    };

    private const string ScopeShape = "workload-classes, accelerators and regions, each a list; a missing list means any";

    public static Agreement? Read(YamlMap root)
    {
        var diagnostics = root.Diagnostics;
        var before = diagnostics.Count;
        root.AllowOnly(RootKeys, "an agreement");
        var id = root.Text("id", "the agreement's id, e.g. microsoft-openai");
        var customer = root.Text("customer", "the customer whose requests the agreement governs, e.g. openai");
        foreach (var (key, name) in new[] { ("id", id), ("customer", customer) })
        {
            if (Names.Problem(name) is { } problem)
            {
                root.Error(key, problem);
            }
        }
        var parties = root.Names("parties", "the parties to the agreement, e.g. [openai, microsoft]");
        if (customer is not null && parties is not null && !parties.Contains(customer, StringComparer.Ordinal))
        {
            root.Error("customer", $"'{customer}' is not one of the parties [{string.Join(", ", parties)}]; add it to parties");
        }

        var versions = new List<AgreementVersion>();
        (int Number, DateTimeOffset Effective, string Path)? previous = null;
        var numbers = new Dictionary<int, string>();
        foreach (var (node, path) in root.Items("versions", "at least one version (version, effective, clauses)") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "version, effective, note and clauses") is not { } map)
            {
                continue;
            }

            var (number, effective, version) = ReadVersion(map);
            if (number is { } n)
            {
                if (numbers.TryGetValue(n, out var other))
                {
                    map.Error("version", $"duplicate version number {n.ToString(CultureInfo.InvariantCulture)} (also {other}); give each amendment the next number");
                }
                else if (previous is { } p && n < p.Number)
                {
                    map.Error("version", $"{n.ToString(CultureInfo.InvariantCulture)} is lower than {p.Path}'s version {p.Number.ToString(CultureInfo.InvariantCulture)}; list versions in order, numbered upwards");
                }

                numbers.TryAdd(n, path);
            }

            if (effective is { } at && previous is { } last && at <= last.Effective)
            {
                map.Error("effective", $"{IsoInstant.Format(at)} is not after version {last.Number.ToString(CultureInfo.InvariantCulture)}'s effective instant {IsoInstant.Format(last.Effective)}; an amendment takes effect after the version it amends");
            }

            if (number is { } num && effective is { } eff)
            {
                previous = (num, eff, path);
            }

            if (version is not null)
            {
                versions.Add(version);
            }
        }

        return diagnostics.Count > before ? null : new Agreement(new AgreementId(id!), customer!, parties!, versions);
    }

    private static (int? Number, DateTimeOffset? Effective, AgreementVersion? Version) ReadVersion(YamlMap map)
    {
        var diagnostics = map.Diagnostics;
        var before = diagnostics.Count;
        map.AllowOnly(VersionKeys, "a version");
        var number = map.Integer("version", "the version number, 1 for the original agreement", 1, "the version number");
        var effective = map.Instant("effective", $"the instant the version takes effect ({IsoInstant.Example})");
        var note = map.Text("note");
        var entries = new List<ClauseEntry>();
        if (!map.Has("clauses"))
        {
            map.Error("clauses", "is missing; add the clauses of this version (an empty list [] if it has none)");
        }

        // An empty list is allowed: a version may end every clause of the one before it.
        foreach (var (node, path) in map.Items("clauses") ?? [])
        {
            if (YamlMap.Of(diagnostics, node, path, "id, kind and the kind's keys") is { } clause)
            {
                entries.Add(ReadClause(clause));
            }
        }

        CheckAcrossClauses(entries, number);
        var ok = diagnostics.Count == before;
        return (number, effective, ok ? new AgreementVersion(number!.Value, effective!.Value, entries.Select(e => e.Clause!).ToArray(), note) : null);
    }

    /// <summary>What one clause entry said, kept even when the clause itself is wrong so that cross-clause checks do not report ghosts.</summary>
    private sealed record ClauseEntry(YamlMap Map, string? Id, string? Kind, Clause? Clause, string? Holder, string? GrantedBy);

    private static ClauseEntry ReadClause(YamlMap map)
    {
        var diagnostics = map.Diagnostics;
        var before = diagnostics.Count;
        var id = map.Text("id", "the clause's id, unique within the version, e.g. azure-first-refusal");
        var kind = map.Choice("kind", ClauseKinds, "clause kind", $"the clause kind: {string.Join(", ", ClauseKinds)}");
        if (kind is null)
        {
            // Without a kind the allowed keys are unknown; reporting them all as unknown would bury the real error.
            return new ClauseEntry(map, id, null, null, null, null);
        }

        map.AllowOnly(KindKeys[kind], $"{(kind is "exclusivity" or "ip-access" ? "an" : "a")} {kind} clause");
        var from = map.Instant("from");
        var until = map.Instant("until");
        if (from is { } f && until is { } u && u <= f)
        {
            map.Error("until", $"{IsoInstant.Format(u)} is not after from {IsoInstant.Format(f)}; until is the exclusive end of the clause's term");
        }

        var clauseId = new ClauseId(id ?? string.Empty);
        string? holder = null;
        string? grantedBy = null;
        Clause? clause = null;
        switch (kind)
        {
            case "first-refusal":
            {
                holder = map.Text("holder", "the provider that holds the right, e.g. azure");
                var scope = ReadScope(map);
                var window = map.Duration("response-window", $"the time the holder has to answer an offer, an ISO 8601 duration ({IsoDuration.Example})");
                var partial = map.Flag("partial") ?? true;
                var mode = map.Choice("mode", ["first-offer", "match"], "mode") ?? "first-offer";
                var matchWindow = map.Duration("match-window");
                if (mode == "match" && !map.Has("match-window"))
                {
                    map.Error("match-window", $"is required when mode is match; add the time the holder has to match third-party terms, an ISO 8601 duration (e.g. P2D)");
                }
                else if (mode == "first-offer" && map.Has("match-window"))
                {
                    map.Error("match-window", "applies only when mode is match; remove it or set mode: match");
                }

                if (diagnostics.Count == before)
                {
                    clause = new FirstRefusalClause(clauseId, from, until, new ProviderId(holder!), scope!, window!.Value, partial,
                        mode == "match" ? FirstRefusalMode.Match : FirstRefusalMode.FirstOffer, mode == "match" ? matchWindow : null);
                }

                break;
            }

            case "exclusivity":
            {
                var provider = map.Text("provider", "the exclusive provider, e.g. azure");
                var scope = ReadScope(map);
                if (diagnostics.Count == before)
                {
                    clause = new ExclusivityClause(clauseId, from, until, new ProviderId(provider!), scope!);
                }

                break;
            }

            case "ip-access":
            {
                var licensee = map.Text("licensee", "the party with access to the IP, e.g. microsoft");
                if (diagnostics.Count == before)
                {
                    clause = new IpAccessClause(clauseId, from, until, licensee!);
                }

                break;
            }

            case "revenue-share":
            {
                var payer = map.Text("payer", "the party that pays the share, e.g. openai");
                var payee = map.Text("payee", "the party that receives the share, e.g. microsoft");
                var rate = map.Rate("rate", "the share as a decimal (0.20) or a percentage (20%)");
                var basis = map.Choice("basis", ["revenue", "profit"], "basis", "what the rate applies to: revenue or profit");
                var cap = map.Money("cap");
                if (payer is not null && payer == payee)
                {
                    map.Error("payee", $"'{payee}' is also the payer; a share is paid from one party to another");
                }

                if (diagnostics.Count == before)
                {
                    clause = new RevenueShareClause(clauseId, from, until, payer!, payee!, rate!.Value,
                        basis == "profit" ? RevenueShareBasis.Profit : RevenueShareBasis.Revenue, cap);
                }

                break;
            }

            case "commitment":
            {
                var provider = map.Text("provider", "the provider the spend is committed to, e.g. azure");
                var amount = map.Money("amount", "the committed spend, e.g. '250000000000 USD'");
                var deadline = map.Instant("deadline", $"the instant by which the amount is to be spent ({IsoInstant.Example})");
                if (diagnostics.Count == before)
                {
                    clause = new CommitmentClause(clauseId, from, until, new ProviderId(provider!), amount!.Value, deadline!.Value);
                }

                break;
            }

            case "trigger":
            {
                var metric = map.Choice("metric", ["cumulative-profit", "cumulative-revenue"], "metric", "the metric watched: cumulative-profit or cumulative-revenue");
                var threshold = map.Money("threshold", "the amount at which the trigger fires, e.g. '100000000000 USD'");
                var terminates = map.Names("terminates", "the ids of the clauses the trigger ends, e.g. [ip]");
                if (diagnostics.Count == before)
                {
                    clause = new TriggerClause(clauseId, from, until,
                        metric == "cumulative-revenue" ? TriggerMetric.CumulativeRevenue : TriggerMetric.CumulativeProfit,
                        threshold!.Value, terminates!.Select(t => new ClauseId(t)).ToArray());
                }

                break;
            }

            case "waiver":
            {
                grantedBy = map.Text("granted-by", "the first-refusal holder granting the waiver, e.g. azure");
                var providers = map.Names("providers", "the providers the waived requests may go to, e.g. [oracle]");
                var scope = ReadScope(map);
                var budget = map.Integer("gpu-budget", "the most GPUs the waiver covers in total, e.g. 50000", 1, "a number of GPUs");
                if (grantedBy is not null && providers is not null && providers.Contains(grantedBy, StringComparer.Ordinal))
                {
                    map.Error("providers", $"names the grantor '{grantedBy}'; a waiver lets requests go to other providers than the holder");
                }

                if (diagnostics.Count == before)
                {
                    clause = new WaiverClause(clauseId, from, until, new ProviderId(grantedBy!), providers!.Select(p => new ProviderId(p)).ToArray(), scope!, new GpuCount(budget!.Value));
                }

                break;
            }
        }

        return new ClauseEntry(map, id, kind, diagnostics.Count == before ? clause : null, holder, grantedBy);
    }

    private static Scope? ReadScope(YamlMap clause)
    {
        if (!clause.Has("scope") || clause.ValueNode("scope") is null)
        {
            return Scope.Everything;
        }

        if (clause.Map("scope", ScopeShape) is not { } scope)
        {
            return null;
        }

        var before = scope.Diagnostics.Count;
        scope.AllowOnly(ScopeKeys, "a scope");
        var classes = scope.Names("workload-classes") ?? [];
        var accelerators = scope.Names("accelerators") ?? [];
        var regions = scope.Names("regions") ?? [];
        return scope.Diagnostics.Count > before ? null : new Scope(classes, accelerators, regions);
    }

    private static void CheckAcrossClauses(IReadOnlyList<ClauseEntry> entries, int? version)
    {
        var versionName = version is { } v ? $"version {v.ToString(CultureInfo.InvariantCulture)}" : "this version";
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Id is null)
            {
                continue;
            }

            if (ids.TryGetValue(entry.Id, out var first))
            {
                entry.Map.Error("id", $"duplicate clause id '{entry.Id}' (also {first}); clause ids must be unique within a version");
            }
            else
            {
                ids[entry.Id] = entry.Map.Path;
            }
        }

        var holders = entries.Where(e => e.Kind == "first-refusal" && e.Holder is not null).Select(e => e.Holder!).Distinct(StringComparer.Ordinal).ToArray();
        var firstRefusalUnreadable = entries.Any(e => e.Kind == "first-refusal" && e.Holder is null);
        foreach (var entry in entries)
        {
            if (entry.Clause is TriggerClause trigger)
            {
                for (var i = 0; i < trigger.Terminates.Count; i++)
                {
                    var target = trigger.Terminates[i].Value;
                    var path = $"{entry.Map.At("terminates")}[{i.ToString(CultureInfo.InvariantCulture)}]";
                    if (target == entry.Id)
                    {
                        entry.Map.Diagnostics.Add(path, $"'{target}' is the trigger itself; name the clauses it ends", entry.Map.ValueNode("terminates"));
                    }
                    else if (!ids.ContainsKey(target))
                    {
                        entry.Map.Diagnostics.Add(path, $"'{target}' names no clause of {versionName}{Spelling.Hint(target, ids.Keys, "its clauses are")}", entry.Map.ValueNode("terminates"));
                    }
                }
            }

            if (entry.Kind == "waiver" && entry.GrantedBy is { } grantor && !firstRefusalUnreadable && !holders.Contains(grantor, StringComparer.Ordinal))
            {
                entry.Map.Error("granted-by", holders.Length == 0
                    ? $"'{grantor}' holds no first-refusal clause: {versionName} has none; a waiver is granted by a first-refusal holder, so remove the waiver or add the first-refusal clause"
                    : $"'{grantor}' holds no first-refusal clause in {versionName}; a waiver is granted by a first-refusal holder ({string.Join(", ", holders)})");
            }
        }
    }
}
