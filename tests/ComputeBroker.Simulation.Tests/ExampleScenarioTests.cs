using ComputeBroker.Testing;
using ComputeBroker.Definitions;
using ComputeBroker.Simulation.Scenarios;
using Json.Schema;

namespace ComputeBroker.Simulation.Tests;

/// <summary>Every shipped scenario reads cleanly and matches the published schema; broken ones do not.</summary>
public sealed class ExampleScenarioTests
{
    private static readonly JsonSchema ScenarioSchema = JsonSchema.FromText(File.ReadAllText(Worlds.Example("schemas/scenario.schema.json")));
    private static readonly JsonSchema ProvidersSchema = JsonSchema.FromText(File.ReadAllText(Worlds.Example("schemas/providers.schema.json")));

    public static string[] ScenarioFiles() =>
        Directory.EnumerateFiles(Worlds.Example("examples/scenarios"), "*.yaml")
            .Where(f => File.ReadAllText(f).Contains("\nkind: scenario", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f)!)
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<string> Scenarios() => new(ScenarioFiles());

    [Fact]
    public void ShippedScenarios_AreTheFourDocumented()
    {
        Assert.Equal(["default.yaml", "january-2025-terms.yaml", "profit-trigger.yaml", "response-window.yaml"], ScenarioFiles());
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void ShippedScenario_ReadsWithoutErrors(string file)
    {
        var parsed = ScenarioReader.ReadFile(Worlds.Example($"examples/scenarios/{file}"));

        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        Assert.NotEmpty(parsed.Value!.Variants);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void ShippedScenario_MatchesTheSchema(string file)
    {
        var results = ScenarioSchema.Evaluate(YamlJson.Parse(File.ReadAllText(Worlds.Example($"examples/scenarios/{file}"))), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(results.IsValid, Explain(results));
    }

    [Fact]
    public void ScenarioProvidersFile_IsAValidProvidersFile()
    {
        var text = File.ReadAllText(Worlds.Example("examples/scenarios/providers-2025-2030.yaml"));

        Assert.True(DefinitionReader.ReadProviders(text, "providers-2025-2030.yaml").Ok);
        Assert.True(ProvidersSchema.Evaluate(YamlJson.Parse(text)).IsValid);
    }

    [Theory]
    [InlineData("size: 64", "size: 0", "zero GPUs")]
    [InlineData("duration: P1D", "duration: P1M", "a duration in months")]
    [InlineData("arrivals: { every: P7D }", "arrivals: { every: P7D, per-day: 1 }", "both fixed and Poisson arrivals")]
    [InlineData("max-price: 10.00 USD", "max-price: 10.00", "a price without currency")]
    [InlineData("workload-class: training", "workload-clas: training", "a misspelt key")]
    [InlineData("horizon: { start: 2025-01-01, end: 2025-03-01 }", "horizon: { start: 2025-01-01 }", "a horizon without end")]
    public void BrokenScenario_DoesNotMatchTheSchema(string line, string broken, string why)
    {
        var valid = Worlds.Weekly(64);
        var text = valid.Replace(line, broken, StringComparison.Ordinal);
        Assert.NotEqual(valid, text);
        Assert.True(ScenarioSchema.Evaluate(YamlJson.Parse(valid)).IsValid, "the unbroken scenario must validate for the test to mean anything");

        Assert.False(ScenarioSchema.Evaluate(YamlJson.Parse(text)).IsValid, why);
    }

    private static string Explain(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}"));
}
