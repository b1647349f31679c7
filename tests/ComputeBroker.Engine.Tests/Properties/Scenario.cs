using System.Globalization;
using System.Text;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Engine.Tests.Runtime;
using ComputeBroker.Providers;
using FsCheck;
using FsCheck.Fluent;

namespace ComputeBroker.Engine.Tests.Properties;

/// <summary>
/// A random but complete broker world: providers with inventories and answer policies, agreements
/// with versions and terminations, and a stream of requests (some cancelled), plus the run's seed.
/// Sizes stay moderate (at most five providers, twenty requests, 32 GPUs a request) so a property
/// runs a few hundred worlds in seconds.
/// </summary>
public sealed record Scenario(int Seed, IReadOnlyList<ProviderDefinition> Providers, ContractBook Book, IReadOnlyList<Submission> Submissions)
{
    public static readonly string[] ProviderIds = ["azure", "coreweave", "lambda", "oracle", "stargate"];
    public static readonly string[] Classes = ["training", "inference", "research", "api"];
    public static readonly string[] Accelerators = ["H100", "H200"];
    public static readonly string[] Regions = ["eastus", "westus"];

    public static Arbitrary<Scenario> Arbitrary { get; } = Arb.From(Generate(), Shrink);

    public BrokerRun Run() => BrokerRun.Execute(Book, Providers, Submissions, Seed);

    /// <summary>A readable dump, so a counterexample can be rebuilt by hand.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"seed {Seed}\n");
        foreach (var p in Providers)
        {
            var pol = p.Policy;
            text.Append(CultureInfo.InvariantCulture, $"provider {p.Id} regions [{string.Join(",", p.Regions)}] prices [{string.Join(", ", p.Prices.Select(x => $"{x.Accelerator}{(x.Region is null ? "" : "/" + x.Region)} {x.Price.PerHour}"))}] ")
                .Append(CultureInfo.InvariantCulture, $"capacity [{string.Join(", ", p.Capacity.Select(c => $"{c.Accelerator}/{c.Region} {c.Gpus:+0;-0} from {H(c.From)}{(c.RampUntil is { } r ? $" ramp to {H(r)}" : "")}"))}] ")
                .Append(CultureInfo.InvariantCulture, $"latency {pol.MinLatency.TotalMinutes}-{pol.MaxLatency.TotalMinutes}min reliability {pol.Reliability} declines [{string.Join(",", pol.DeclineClasses)}] partial {pol.AcceptPartial} reservation-failure {pol.ReservationFailureRate}\n");
        }

        foreach (var agreement in Book.Agreements)
        {
            foreach (var version in agreement.Versions)
            {
                text.Append(CultureInfo.InvariantCulture, $"agreement {agreement.Id} ({agreement.Customer}) v{version.Number} from {H(version.EffectiveFrom)}\n");
                foreach (var clause in version.Clauses)
                {
                    text.Append("  ").Append(Describe(clause)).Append('\n');
                }
            }
        }

        foreach (var t in Book.Terminations)
        {
            text.Append(CultureInfo.InvariantCulture, $"termination {t.Agreement}:{t.Clause} at {H(t.At)}\n");
        }

        foreach (var s in Submissions)
        {
            var r = s.Request;
            text.Append(CultureInfo.InvariantCulture, $"submit {r.Id} at {H(s.At)}: {r.Customer} {r.WorkloadClass} {r.Gpus}x{r.Accelerator} start {H(r.EarliestStart)} for {r.DurationHours}h regions [{string.Join(",", r.Regions)}] max {r.MaxPrice.PerHour.Amount} needed-by {H(r.NeededBy)}{(r.AllOrNothing ? " all-or-nothing" : "")}{(s.CancelAt is { } c ? $" cancel at {H(c)}" : "")}\n");
        }

        return text.ToString();
    }

    private static string H(DateTimeOffset at) => $"T0{(at - A.T0).TotalHours:+0.##;-0.##;+0}h";

    private static string Describe(Clause clause)
    {
        var term = $"[{(clause.From is { } f ? H(f) : "")}, {(clause.Until is { } u ? H(u) : "")})";
        static string S(Scope s) => $"scope(classes [{string.Join(",", s.WorkloadClasses)}] accelerators [{string.Join(",", s.Accelerators)}] regions [{string.Join(",", s.Regions)}])";
        return clause switch
        {
            FirstRefusalClause fr => $"{fr.Id} first-refusal {fr.Holder} {S(fr.Scope)} window {fr.ResponseWindow.TotalHours}h partial {fr.PartialAllowed} {fr.Mode} match-window {fr.MatchWindow?.TotalHours.ToString(CultureInfo.InvariantCulture) ?? "none"} {term}",
            ExclusivityClause ex => $"{ex.Id} exclusivity {ex.Provider} {S(ex.Scope)} {term}",
            WaiverClause w => $"{w.Id} waiver by {w.GrantedBy} to [{string.Join(",", w.Providers)}] budget {w.GpuBudget} {S(w.Scope)} {term}",
            _ => $"{clause.Id} {clause.Kind} {term}",
        };
    }

    private static Gen<Scenario> Generate() =>
        from seed in Gen.Choose(0, int.MaxValue)
        from providerIds in Gen.SubListOf(ProviderIds).Where(ids => ids.Count >= 2)
        from providers in Gen.CollectToArray(providerIds, Provider)
        from agreements in Agreements(providerIds)
        from terminations in Terminations(agreements)
        from count in Gen.Choose(1, 20)
        from requests in Gen.CollectToArray(Enumerable.Range(1, count), Submission)
        select new Scenario(seed, providers, new ContractBook(agreements, terminations), requests);

    /// <summary>Fewer requests first, then fewer agreements, then fewer providers.</summary>
    private static IEnumerable<Scenario> Shrink(Scenario scenario)
    {
        for (var i = 0; i < scenario.Submissions.Count; i++)
        {
            yield return scenario with { Submissions = [.. scenario.Submissions.Where((_, j) => j != i)] };
        }

        foreach (var agreement in scenario.Book.Agreements)
        {
            yield return scenario with { Book = new ContractBook(scenario.Book.Agreements.Where(a => a != agreement), scenario.Book.Terminations) };
        }

        foreach (var termination in scenario.Book.Terminations)
        {
            yield return scenario with { Book = new ContractBook(scenario.Book.Agreements, scenario.Book.Terminations.Where(t => t != termination)) };
        }

        if (scenario.Providers.Count > 1)
        {
            foreach (var provider in scenario.Providers)
            {
                yield return scenario with { Providers = [.. scenario.Providers.Where(p => p != provider)] };
            }
        }
    }

    private static Gen<int> Hours(int from, int to) => Gen.Choose(from, to);

    private static Gen<ProviderDefinition> Provider(string id) =>
        from regions in Gen.Elements<string[]>(["eastus"], ["westus"], ["eastus", "westus"])
        from accelerators in Gen.NonEmptyListOf(Gen.Elements(Accelerators)).Select(l => l.Distinct().ToArray())
        from prices in Gen.CollectToArray(accelerators, acc => Prices(acc, regions))
        from capacity in Gen.CollectToArray(accelerators.SelectMany(acc => regions.Select(r => (acc, r))), pool => Capacity(pool.acc, pool.r))
        from policy in Policy()
        select new ProviderDefinition(new ProviderId(id), id, ConnectorKind.Simulated, regions, prices.SelectMany(p => p).ToArray(), capacity.SelectMany(c => c).ToArray(), policy);

    /// <summary>A USD list price, and now and then a cheaper-looking EUR price in one region (requests are in USD).</summary>
    private static Gen<ProviderPrice[]> Prices(string accelerator, string[] regions) =>
        from usd in Gen.Choose(5, 20)
        from eur in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Choose(1, 9)))
        from region in Gen.Elements(regions)
        select eur == 0
            ? new[] { new ProviderPrice(accelerator, null, A.Usd(usd)) }
            : [new ProviderPrice(accelerator, null, A.Usd(usd)), new ProviderPrice(accelerator, region, new PricePerGpuHour(new Money(eur, new Currency("EUR"))))];

    private static Gen<CapacityChange[]> Capacity(string accelerator, string region) =>
        from baseline in Gen.Choose(0, 48)
        from change in Gen.Frequency(
            (3, Gen.Constant<CapacityChange?>(null)),
            (1, from at in Hours(0, 120) from gpus in Gen.Choose(8, 64) from ramp in Hours(1, 48)
                select (CapacityChange?)new CapacityChange(accelerator, region, A.At(at), gpus, A.At(at + ramp))),
            (1, from at in Hours(0, 120) from gpus in Gen.Choose(1, 24)
                select (CapacityChange?)new CapacityChange(accelerator, region, A.At(at), -gpus)))
        select change is null
            ? new[] { new CapacityChange(accelerator, region, A.T0, baseline) }
            : [new CapacityChange(accelerator, region, A.T0, baseline), change];

    private static Gen<AnswerPolicy> Policy() =>
        from min in Gen.Choose(0, 20)
        from spread in Gen.Frequency((4, Gen.Choose(0, 60)), (1, Gen.Choose(60, 240)))
        from reliability in Gen.Frequency((6, Gen.Constant(1.0)), (3, Gen.Elements(0.95, 0.8, 0.5)), (1, Gen.Constant(0.0)))
        from declines in Gen.Frequency((4, Gen.Constant(Array.Empty<string>())), (1, Gen.Elements(Classes).Select(c => new[] { c })))
        from partial in Gen.Elements(true, false)
        from failures in Gen.Elements(0.0, 0.0, 0.1, 0.3)
        select new AnswerPolicy(TimeSpan.FromMinutes(min), TimeSpan.FromMinutes(min + spread), reliability, declines, partial, failures);

    private static Gen<Agreement[]> Agreements(IReadOnlyList<string> providers) =>
        from count in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)))
        from agreements in Gen.CollectToArray(Enumerable.Range(1, count), n => Agreement(new AgreementId($"agreement-{n}"), A.Customer, providers))
        from foreign in Gen.Frequency((3, Gen.Constant(Array.Empty<Agreement>())), (1, Agreement(new AgreementId("anthropic-deal"), "anthropic", providers).Select(a => new[] { a })))
        select agreements.Concat(foreign).ToArray();

    private static Gen<Agreement> Agreement(AgreementId id, string customer, IReadOnlyList<string> providers) =>
        from firstAt in Gen.Frequency((3, Gen.Constant(-24)), (1, Hours(0, 24)))
        from v1 in Clauses(providers)
        from amended in Gen.Elements(false, false, true)
        from gap in Hours(6, 72)
        from v2 in Clauses(providers)
        select new Agreement(
            id,
            customer,
            [customer, "partner"],
            amended
                ? [new AgreementVersion(1, A.At(firstAt), v1), new AgreementVersion(2, A.At(firstAt + gap), v2)]
                : [new AgreementVersion(1, A.At(firstAt), v1)]);

    /// <summary>Clause ids restart in each version, so an amendment restates "c1" with new terms, as real amendments do.</summary>
    private static Gen<Clause[]> Clauses(IReadOnlyList<string> providers) =>
        from count in Gen.Choose(0, 4)
        from clauses in Gen.CollectToArray(Enumerable.Range(1, count), n => Clause(providers, new ClauseId($"c{n}")))
        from holderWaives in Gen.Elements(false, true)
        select holderWaives ? HolderGrantsTheWaivers(clauses) : clauses;

    /// <summary>Waivers matter only when granted by the first-refusal holder: make that common, not a one-in-five chance.</summary>
    private static Clause[] HolderGrantsTheWaivers(Clause[] clauses) =>
        clauses.OfType<FirstRefusalClause>().FirstOrDefault() is { } fr
            ? clauses.Select(c => c is WaiverClause w ? w with { GrantedBy = fr.Holder } : c).ToArray()
            : clauses;

    private static Gen<Clause> Clause(IReadOnlyList<string> providers, ClauseId id)
    {
        // Sometimes a provider outside the catalog, which never answers.
        var provider = Gen.Frequency((9, Gen.Elements(providers.ToArray())), (1, Gen.Constant("nebius"))).Select(p => new ProviderId(p));
        var firstRefusal =
            from holder in provider
            from scope in Scope()
            from window in Hours(1, 48)
            from partial in Gen.Elements(true, false)
            from match in Gen.Elements(false, true)
            from matchWindow in Gen.Elements<int?>(null, 1, 3)
            select (Clause)new FirstRefusalClause(id, null, null, holder, scope, TimeSpan.FromHours(window), partial,
                match ? FirstRefusalMode.Match : FirstRefusalMode.FirstOffer, match && matchWindow is { } w ? TimeSpan.FromHours(w) : null);
        var exclusivity =
            from exclusive in provider
            from scope in Scope()
            select (Clause)new ExclusivityClause(id, null, null, exclusive, scope);
        var waiver =
            from grantedBy in provider
            from named in Gen.NonEmptyListOf(Gen.Elements(providers.ToArray())).Select(l => l.Distinct().Select(p => new ProviderId(p)).ToArray())
            from scope in Scope()
            from budget in Gen.Choose(0, 64)
            select (Clause)new WaiverClause(id, null, null, grantedBy, named, scope, A.Gpus(budget));
        var other = Gen.Elements<Clause>(
            new IpAccessClause(id, null, null, "partner"),
            new RevenueShareClause(id, null, null, "openai", "partner", 0.2m, RevenueShareBasis.Revenue, null),
            new CommitmentClause(id, null, null, new ProviderId(providers[0]), Money.Usd(1_000_000m), A.At(24 * 365)),
            new TriggerClause(id, null, null, TriggerMetric.CumulativeProfit, Money.Usd(1_000_000m), [new ClauseId("c1")]));
        return
            from clause in Gen.Frequency((4, firstRefusal), (2, exclusivity), (3, waiver), (1, other))
            from term in Term()
            select clause with { From = term.From, Until = term.Until };
    }

    private static Gen<(DateTimeOffset? From, DateTimeOffset? Until)> Term() =>
        Gen.Frequency(
            (4, Gen.Constant<(DateTimeOffset?, DateTimeOffset?)>((null, null))),
            (1, Hours(-24, 96).Select(f => ((DateTimeOffset?)A.At(f), (DateTimeOffset?)null))),
            (1, Hours(0, 96).Select(u => ((DateTimeOffset?)null, (DateTimeOffset?)A.At(u)))),
            (1, from f in Hours(-24, 72) from length in Hours(1, 72) select ((DateTimeOffset?)A.At(f), (DateTimeOffset?)A.At(f + length))));

    private static Gen<Scope> Scope() =>
        from classes in Gen.Frequency((2, Gen.Constant(Array.Empty<string>())), (3, Gen.NonEmptyListOf(Gen.Elements(Classes)).Select(l => l.Distinct().Take(2).ToArray())))
        from accelerators in Gen.Frequency((3, Gen.Constant(Array.Empty<string>())), (1, Gen.Elements(Accelerators).Select(a => new[] { a })))
        from regions in Gen.Frequency((3, Gen.Constant(Array.Empty<string>())), (1, Gen.Elements(Regions).Select(r => new[] { r })))
        select new Scope(classes, accelerators, regions);

    private static Gen<ClauseTermination[]> Terminations(IReadOnlyList<Agreement> agreements)
    {
        var clauses = agreements
            .SelectMany(a => a.Versions.SelectMany(v => v.Clauses).Select(c => (a.Id, c.Id)))
            .Distinct()
            .ToArray();
        return Gen.CollectToArray(clauses, c =>
                Gen.Frequency(
                    (6, Gen.Constant<ClauseTermination?>(null)),
                    (1, Hours(0, 96).Select(at => (ClauseTermination?)new ClauseTermination(c.Item1, c.Item2, A.At(at), new ClauseId("trigger"))))))
            .Select(ts => ts.OfType<ClauseTermination>().ToArray());
    }

    private static Gen<Submission> Submission(int n) =>
        from at in Hours(0, 96)
        from minutes in Gen.Elements(0, 0, 0, 17, 30)
        from customer in Gen.Frequency((9, Gen.Constant(A.Customer)), (1, Gen.Constant("anthropic")))
        from workloadClass in Gen.Elements(Classes)
        from accelerator in Gen.Elements(Accelerators)
        from gpus in Gen.Frequency((30, Gen.Choose(1, 32)), (1, Gen.Constant(0)))
        from lead in Hours(0, 72)
        from startMinutes in Gen.Elements(0, 0, 30)
        from duration in Hours(1, 48)
        from regions in Gen.Elements<string[]>([], [], ["eastus"], ["westus"], ["eastus", "westus"])
        from maxPrice in Gen.Choose(6, 22)
        from neededBy in Hours(1, 72)
        from allOrNothing in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        // Most cancellations come within hours, while the request is still being sourced and may hold allocations.
        from cancel in Gen.Frequency((5, Gen.Constant<int?>(null)), (2, Gen.Choose(0, 360).Select(m => (int?)m)), (1, Gen.Choose(0, 48 * 60).Select(m => (int?)m)))
        let submitAt = A.At(at).AddMinutes(minutes)
        select new Submission(
            submitAt,
            new CapacityRequest
            {
                Id = new RequestId($"r{n}"),
                Customer = customer,
                WorkloadClass = workloadClass,
                Accelerator = accelerator,
                Gpus = A.Gpus(gpus),
                EarliestStart = submitAt.AddHours(lead).AddMinutes(startMinutes),
                DurationHours = duration,
                Regions = regions,
                MaxPrice = A.Usd(maxPrice),
                NeededBy = submitAt.AddHours(neededBy),
                AllOrNothing = allOrNothing,
                IdempotencyKey = $"r{n}",
            },
            cancel is { } c ? submitAt.AddMinutes(c) : null);
}
