namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>The shipped example agreements (copied beside the test assembly) and providers files made for the tests.</summary>
public static class Examples
{
    public const string JanuaryAgreementPath = "examples/agreements/microsoft-openai-2025-01.yaml";
    public const string OctoberAgreementPath = "examples/agreements/microsoft-openai-2025-10.yaml";

    public static string FullPath(string relative) => Path.Combine(AppContext.BaseDirectory, relative);

    /// <summary>Version 1 only: first refusal for azure (P5D), api exclusivity, waiver for oracle, revenue share.</summary>
    public static string JanuaryAgreement => File.ReadAllText(FullPath(JanuaryAgreementPath));

    /// <summary>Version 1 unchanged plus version 2 effective 2025-10-28 (no first refusal; a commitment with azure).</summary>
    public static string OctoberAgreement => File.ReadAllText(FullPath(OctoberAgreementPath));

    /// <summary>
    /// Every provider is a webhook provider whose URL is an unreachable loopback port, so nobody answers but the
    /// test: it answers offers, quote requests and reservations through the API with provider keys.
    /// azure holds the first refusal; oracle and coreweave make the H100 market.
    /// </summary>
    public const string ProvidersAnsweredByTests =
        """
        kind: providers
        policy:
          exclusive-response-window: P2D
          quote-window: PT4H
          reservation-window: PT1H
          quote-validity: P1D
        providers:
          - id: azure
            name: Microsoft Azure
            connector: webhook
            url: https://127.0.0.1:9/azure
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
            regions: [eastus, westus3]
            prices:
              - { accelerator: H100, price: 12.29 USD }
            capacity:
              - { accelerator: H100, region: eastus, gpus: 16384, from: 2024-01-01 }
          - id: oracle
            name: Oracle Cloud Infrastructure
            connector: webhook
            url: https://127.0.0.1:9/oracle
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
            regions: [us-chicago-1]
            prices:
              - { accelerator: H100, price: 10.00 USD }
            capacity:
              - { accelerator: H100, region: us-chicago-1, gpus: 32768, from: 2024-09-01 }
          - id: coreweave
            name: CoreWeave
            connector: webhook
            url: https://127.0.0.1:9/coreweave
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
            regions: [us-east-04]
            prices:
              - { accelerator: H100, price: 3.00 USD }
            capacity:
              - { accelerator: H100, region: us-east-04, gpus: 16384, from: 2025-01-01 }
        """;

    /// <summary>
    /// Simulated providers that answer within minutes of broker time, except the first-refusal holder azure,
    /// which never answers (reliability 0): its offers can only expire.
    /// </summary>
    public const string ProvidersWithSilentHolder =
        """
        kind: providers
        policy:
          exclusive-response-window: PT2H
          quote-window: PT1H
          reservation-window: PT30M
          quote-validity: P1D
        providers:
          - id: azure
            name: Microsoft Azure
            connector: simulated
            regions: [eastus]
            prices:
              - { accelerator: H100, price: 12.29 USD }
            capacity:
              - { accelerator: H100, region: eastus, gpus: 16384, from: 2024-01-01 }
            answers:
              latency: { min: PT5M, max: PT10M }
              reliability: 0
          - id: oracle
            name: Oracle Cloud Infrastructure
            connector: simulated
            regions: [us-chicago-1]
            prices:
              - { accelerator: H100, price: 10.00 USD }
            capacity:
              - { accelerator: H100, region: us-chicago-1, gpus: 32768, from: 2024-09-01 }
            answers:
              latency: { min: PT5M, max: PT20M }
              reliability: 1.0
              reservation-failure-rate: 0.0
          - id: coreweave
            name: CoreWeave
            connector: simulated
            regions: [us-east-04]
            prices:
              - { accelerator: H100, price: 3.00 USD }
            capacity:
              - { accelerator: H100, region: us-east-04, gpus: 16384, from: 2025-01-01 }
            answers:
              latency: { min: PT5M, max: PT20M }
              reliability: 1.0
              reservation-failure-rate: 0.0
        """;

    /// <summary>
    /// Simulated providers that all answer within seconds to minutes of broker time (the crash test's world):
    /// the holder answers, a market of three, and reservations that sometimes fail (failover).
    /// </summary>
    public const string FastProviders = ProvidersFastForCrashes;

    /// <summary>The crash test's providers file (written to disk for <c>broker serve --providers</c>).</summary>
    public const string ProvidersFastForCrashes =
        """
        kind: providers
        policy:
          exclusive-response-window: PT2H
          quote-window: PT30M
          reservation-window: PT15M
          quote-validity: P1D
        providers:
          - id: azure
            name: Microsoft Azure
            connector: simulated
            regions: [eastus, westus3]
            prices:
              - { accelerator: H100, price: 12.29 USD }
            capacity:
              - { accelerator: H100, region: eastus, gpus: 16384, from: 2024-01-01 }
              - { accelerator: H100, region: westus3, gpus: 8192, from: 2024-06-01 }
            answers:
              latency: { min: PT10S, max: PT10M }
              reliability: 1.0
              accept-partial: true
          - id: oracle
            name: Oracle Cloud Infrastructure
            connector: simulated
            regions: [us-chicago-1, us-phoenix-1]
            prices:
              - { accelerator: H100, price: 10.00 USD }
            capacity:
              - { accelerator: H100, region: us-chicago-1, gpus: 32768, from: 2024-09-01 }
              - { accelerator: H100, region: us-phoenix-1, gpus: 16384, from: 2025-01-01 }
            answers:
              latency: { min: PT10S, max: PT5M }
              reliability: 1.0
          - id: coreweave
            name: CoreWeave
            connector: simulated
            regions: [us-east-04]
            prices:
              - { accelerator: H100, price: 3.00 USD }
            capacity:
              - { accelerator: H100, region: us-east-04, gpus: 16384, from: 2025-01-01 }
            answers:
              latency: { min: PT10S, max: PT5M }
              reliability: 1.0
              reservation-failure-rate: 0.2
          - id: lambda
            name: Lambda
            connector: simulated
            regions: [us-south-1]
            prices:
              - { accelerator: H100, price: 4.00 USD }
            capacity:
              - { accelerator: H100, region: us-south-1, gpus: 4096, from: 2025-01-01 }
            answers:
              latency: { min: PT10S, max: PT5M }
              reliability: 0.9
              reservation-failure-rate: 0.1
        """;
}
