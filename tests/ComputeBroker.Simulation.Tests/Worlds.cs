using ComputeBroker.Definitions;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Tests;

/// <summary>
/// Small worlds whose outcomes can be worked out by hand, as in-memory files read through the real
/// scenario reader, and the shipped examples (copied beside the test assembly by the project file).
/// </summary>
internal static class Worlds
{
    public static string Root => AppContext.BaseDirectory;

    public static string Example(string relative) => Path.Combine(Root, relative);

    /// <summary>The shipped default scenario, read from the copy beside the tests.</summary>
    public static Scenario Default() => Require(ScenarioReader.ReadFile(Example("examples/scenarios/default.yaml"))).Variants[0];

    public static ScenarioFile Require(Parsed<ScenarioFile> parsed)
    {
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        return parsed.Value!;
    }

    /// <summary>Reads <paramref name="scenario"/> as <c>tiny.yaml</c> beside the tiny agreement and providers (or replacements).</summary>
    public static Parsed<ScenarioFile> Read(string scenario, string? agreement = null, string? providers = null, string? requests = null)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["world/agreement.yaml"] = agreement ?? Agreement,
            ["world/providers.yaml"] = providers ?? Providers,
        };
        if (requests is not null)
        {
            files["world/requests.yaml"] = requests;
        }

        return ScenarioReader.Read(scenario, "world/tiny.yaml", name => files.GetValueOrDefault(name));
    }

    public static Scenario Tiny(string scenario, string? agreement = null, string? providers = null, string? requests = null) =>
        Require(Read(scenario, agreement, providers, requests)).Variants[0];

    /// <summary>
    /// First refusal for training held by azure (P5D window, part allowed), API exclusive to azure, 10% revenue
    /// share, and a USD 1,000 cumulative-profit trigger that ends the first refusal and the revenue share.
    /// </summary>
    public const string Agreement = """
        kind: agreement
        id: deal
        customer: acme
        parties: [acme, azure-co]
        versions:
          - version: 1
            effective: 2025-01-01
            clauses:
              - id: fr
                kind: first-refusal
                holder: azure
                scope: { workload-classes: [training] }
                response-window: P5D
                partial: true
                mode: first-offer
              - id: api
                kind: exclusivity
                provider: azure
                scope: { workload-classes: [api] }
              - id: share
                kind: revenue-share
                payer: acme
                payee: azure-co
                rate: 10%
                basis: revenue
              - id: profit-trigger
                kind: trigger
                metric: cumulative-profit
                threshold: 1000 USD
                terminates: [fr, share]
        """;

    /// <summary>azure: 100 H100 at 10.00, answers in exactly 1 hour. cheap: 1000 H100 at 4.00, answers in exactly 10 minutes.</summary>
    public const string Providers = """
        kind: providers
        providers:
          - id: azure
            regions: [east]
            prices: [{ accelerator: H100, price: 10.00 USD }]
            capacity: [{ accelerator: H100, region: east, gpus: 100, from: 2025-01-01 }]
            answers: { latency: PT1H, reliability: 1.0, accept-partial: true }
          - id: cheap
            regions: [west]
            prices: [{ accelerator: H100, price: 4.00 USD }]
            capacity: [{ accelerator: H100, region: west, gpus: 1000, from: 2025-01-01 }]
            answers: { latency: PT10M, reliability: 1.0, accept-partial: true }
        """;

    /// <summary>One training request of <paramref name="gpus"/> H100 every 7 days from 2025-01-01 for two months (9 requests).</summary>
    public static string Weekly(int gpus, string workloadClass = "training", string extra = "", string end = "2025-03-01") => $$"""
        kind: scenario
        name: tiny
        horizon: { start: 2025-01-01, end: {{end}} }
        agreements: [agreement.yaml]
        providers: providers.yaml
        {{extra}}
        demand:
          - id: t
            customer: acme
            workload-class: {{workloadClass}}
            accelerator: H100
            arrivals: { every: P7D }
            size: {{gpus}}
            duration: P1D
            lead-time: P1D
            needed-within: P10D
            max-price: 10.00 USD
        """;
}
