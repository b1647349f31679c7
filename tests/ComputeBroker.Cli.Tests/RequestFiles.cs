namespace ComputeBroker.Cli.Tests;

/// <summary>
/// Requests files for the tests: OpenAI H100 requests, due after <see cref="BrokerServer.Start"/>, in eastus
/// by default (outside the example agreement's Oracle waiver, so training goes to Azure's first refusal).
/// </summary>
public static class RequestFiles
{
    public static string Of(params string[] requests) => "kind: requests\nrequests:\n" + string.Concat(requests);

    public static string Request(string id, int gpus = 4096, string workloadClass = "training", string? idempotencyKey = null, string? regions = "eastus") =>
        $"""
          - id: {id}
            submit-at: 2025-02-01T00:00:00Z
            customer: openai
            workload-class: {workloadClass}
            accelerator: H100
            gpus: {gpus}
            earliest-start: 2025-03-01
            duration-hours: 720
            max-price: 12.29 USD
            needed-by: 2025-02-20
        {(regions is null ? string.Empty : $"    regions: [{regions}]\n")}{(idempotencyKey is null ? string.Empty : $"    idempotency-key: {idempotencyKey}\n")}
        """;
}
