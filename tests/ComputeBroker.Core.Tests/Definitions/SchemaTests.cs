using ComputeBroker.Testing;
using System.Text.Json.Nodes;
using ComputeBroker.Definitions;
using Json.Schema;

namespace ComputeBroker.Tests.Definitions;

/// <summary>The published JSON Schemas describe the same formats the reader accepts: every example passes, broken documents fail.</summary>
public sealed class SchemaTests
{
    public static TheoryData<string> Examples => ExampleFiles.AllAsTheory();

    [Theory]
    [MemberData(nameof(Examples))]
    public void Schema_ShippedExample_Validates(string file)
    {
        var text = ExampleFiles.Read(file);
        var kind = DefinitionReader.DetectKind(text)!.Value;

        var results = Evaluate(kind, YamlJson.Parse(text));

        Assert.True(results.IsValid, Explain(file, results));
    }

    [Theory]
    [InlineData("response-window: P5D", "response-window: five days", "the duration is not ISO 8601")]
    [InlineData("response-window: P5D", "response-window: P1M", "months are refused")]
    [InlineData("response-window: P5D", "respons-window: P5D", "an unknown key (and the required one missing)")]
    [InlineData("mode: first-offer", "mode: match", "match mode without match-window")]
    [InlineData("kind: first-refusal", "kind: first-refual", "an unknown clause kind")]
    public void Schema_BrokenAgreement_DoesNotValidate(string line, string broken, string why) =>
        AssertBreaks(DefinitionKind.Agreement, ValidAgreement, line, broken, why);

    [Theory]
    [InlineData("price: 12.29 USD", "price: 12.29 usd", "a lower-case currency")]
    [InlineData("price: 12.29 USD", "price: $12.29", "a currency sign instead of a code")]
    [InlineData("connector: simulated", "connector: webhook", "a webhook connector without url")]
    [InlineData("reliability: 0.98", "reliability: 1.5", "a rate above 1")]
    [InlineData("from: 2025-01-01 }", "from: 2025-01-01T00:00:00 }", "an instant without offset")]
    public void Schema_BrokenProviders_DoesNotValidate(string line, string broken, string why) =>
        AssertBreaks(DefinitionKind.Providers, ValidProviders, line, broken, why);

    [Theory]
    [InlineData("gpus: 16384", "gpus: -5", "negative GPUs")]
    [InlineData("max-price: 12.29 USD", "max-price: 12.29", "a price without currency")]
    [InlineData("duration-hours: 720", "duration-hours: 72.5", "fractional hours")]
    [InlineData("all-or-nothing: false", "all-or-nothing: maybe", "a non-boolean flag")]
    [InlineData("    needed-by: 2025-02-10\n", "", "a missing required key")]
    public void Schema_BrokenRequests_DoesNotValidate(string line, string broken, string why) =>
        AssertBreaks(DefinitionKind.Requests, ValidRequests, line, broken, why);

    /// <summary>The valid document passes, and the same document with one line changed fails.</summary>
    private static void AssertBreaks(DefinitionKind kind, string valid, string line, string broken, string why)
    {
        var text = valid.Replace(line, broken, StringComparison.Ordinal);
        Assert.NotEqual(valid, text);
        Assert.True(Evaluate(kind, YamlJson.Parse(valid)).IsValid, "the unbroken document must validate for the test to mean anything");

        Assert.False(Evaluate(kind, YamlJson.Parse(text)).IsValid, why);
    }

    private const string ValidAgreement = """
        kind: agreement
        id: a
        customer: openai
        parties: [openai, microsoft]
        versions:
          - version: 1
            effective: 2025-01-21T00:00:00Z
            clauses:
              - id: fr
                kind: first-refusal
                holder: azure
                response-window: P5D
                mode: first-offer
        """;

    private const string ValidProviders = """
        kind: providers
        providers:
          - id: azure
            connector: simulated
            regions: [eastus]
            prices:
              - price: 12.29 USD
                accelerator: H100
            capacity:
              - { accelerator: H100, region: eastus, gpus: 100, from: 2025-01-01 }
            answers:
              reliability: 0.98
        """;

    private const string ValidRequests = """
        kind: requests
        requests:
          - id: r-001
            submit-at: 2025-02-01T09:00:00Z
            customer: openai
            workload-class: training
            accelerator: H100
            gpus: 16384
            earliest-start: 2025-03-01
            duration-hours: 720
            max-price: 12.29 USD
            needed-by: 2025-02-10
            all-or-nothing: false
        """;

    private static readonly Dictionary<DefinitionKind, JsonSchema> Schemas = new()
    {
        [DefinitionKind.Agreement] = JsonSchema.FromText(ExampleFiles.Read("schemas/agreement.schema.json")),
        [DefinitionKind.Providers] = JsonSchema.FromText(ExampleFiles.Read("schemas/providers.schema.json")),
        [DefinitionKind.Requests] = JsonSchema.FromText(ExampleFiles.Read("schemas/requests.schema.json")),
    };

    private static EvaluationResults Evaluate(DefinitionKind kind, JsonNode? document) =>
        Schemas[kind].Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static string Explain(string file, EvaluationResults results) =>
        $"{file} does not match its schema:\n" + string.Join("\n", (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation}: {e.Key}: {e.Value}")));
}
