using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Simulation.Demand;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Tests;

public sealed class ScenarioReaderTests
{
    [Fact]
    public void DefaultExample_ReadsTheAgreementWithItsAmendment_AndAddsTheStargateSites()
    {
        var scenario = Worlds.Default();

        Assert.Equal("default", scenario.Name);
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), scenario.Start);
        Assert.Equal(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero), scenario.End);
        var agreement = Assert.Single(scenario.Book.Agreements);
        Assert.Equal([1, 2], agreement.Versions.Select(v => v.Number));
        var stargate = scenario.Providers.Single(p => p.Id == new ProviderId("stargate"));
        Assert.Contains("site-6", stargate.Regions);
        Assert.Equal(600_000, stargate.Capacity.Where(c => c.Region == "abilene").Sum(c => c.Gpus));
        Assert.Equal(0.97, scenario.Providers.Single(p => p.Id == new ProviderId("azure")).Policy.Reliability, 9);
        Assert.Equal(new ProviderId("azure"), scenario.Holder());
        Assert.Equal(5, scenario.Demand.Count);
        Assert.NotNull(scenario.Financials);
        Assert.InRange(scenario.ExpectedRequests(), 5_000, 20_000);
    }

    [Fact]
    public void BaseScenario_IsInherited_KeyByKey()
    {
        var file = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example("examples/scenarios/january-2025-terms.yaml")));
        var scenario = Assert.Single(file.Variants);

        Assert.Equal("January 2025 terms", scenario.Name);
        Assert.Single(Assert.Single(scenario.Book.Agreements).Versions);
        Assert.Equal(Worlds.Default().Demand.Count, scenario.Demand.Count);
        Assert.EndsWith("microsoft-openai-2025-01.yaml", Assert.Single(scenario.AgreementFiles), StringComparison.Ordinal);
    }

    [Fact]
    public void Variants_OverrideTheResponseWindowOfEveryFirstRefusalClause()
    {
        var file = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example("examples/scenarios/response-window.yaml")));

        Assert.Equal(["3-day window", "14-day window"], file.Variants.Select(v => v.Name));
        TimeSpan Window(Scenario s) => s.Book.Agreements.SelectMany(a => a.Versions).SelectMany(v => v.Clauses).OfType<FirstRefusalClause>().Single().ResponseWindow;
        Assert.Equal(TimeSpan.FromDays(3), Window(file.Variants[0]));
        Assert.Equal(TimeSpan.FromDays(14), Window(file.Variants[1]));
    }

    [Fact]
    public void Demand_ReadsPoissonGrowthBurstsSizesAndDurations()
    {
        var inference = (GeneratedDemand)Worlds.Default().Demand.Single(d => d.Id == "inference");

        var arrivals = Assert.IsType<PoissonArrivals>(inference.Arrivals);
        Assert.Equal(Growth.Exponential, arrivals.Growth);
        Assert.Equal(0.6, arrivals.GrowthPerYear, 9);
        Assert.Single(inference.Bursts!);
        Assert.Equal([(1024, 0.5), (2048, 0.3), (4096, 0.2)], ((ChoiceSize)inference.Size).Choices.Options.Select(o => (o.Value, Math.Round(o.Weight, 9))));
        Assert.Equal([90 * 24, 180 * 24], inference.DurationHours.Options.Select(o => o.Value));
        Assert.Equal(TimeSpan.FromDays(7), inference.NeededWithin);
    }

    public static TheoryData<string, string, string, string> BrokenScenarios => new()
    {
        { "size: 64", "size: lots", "demand[0].size", "'lots' is not a whole number" },
        { "duration: P1D", "duration: P1M", "demand[0].duration", "years or months" },
        { "duration: P1D", "duration: PT90M", "demand[0].duration", "not a whole number of hours" },
        { "arrivals: { every: P7D }", "arrivals: { per-day: 2, growth: exponential }", "demand[0].arrivals.growth-per-year", "is missing" },
        { "arrivals: { every: P7D }", "arrivals: { per-day: -1 }", "demand[0].arrivals.per-day", "above zero" },
        { "max-price: 10.00 USD", "max-price: ten dollars", "demand[0].max-price", "is not a decimal number" },
        { "providers: providers.yaml", "providers: elsewhere.yaml", "providers", "was not found (looked for world/elsewhere.yaml)" },
        { "agreements: [agreement.yaml]", "agreements: [agreement.yaml, agreement.yaml]", "agreements[1]", "already given by agreements[0]" },
        { "kind: scenario", "kind: scenari", "kind", "did you mean 'scenario'?" },
        { "workload-class: training", "workload-clas: training", "demand[0].workload-clas", "unknown key" },
        { "horizon: { start: 2025-01-01, end: 2025-03-01 }", "horizon: { start: 2025-01-01T10:00:00Z, end: 2025-03-01 }", "horizon.start", "not midnight UTC" },
    };

    [Theory]
    [MemberData(nameof(BrokenScenarios))]
    public void BrokenScenario_IsRefused_WithFilePathAndFix(string line, string broken, string path, string message)
    {
        var text = Worlds.Weekly(64).Replace(line, broken, StringComparison.Ordinal);
        Assert.NotEqual(Worlds.Weekly(64), text);
        Assert.True(Worlds.Read(Worlds.Weekly(64)).Ok, "the unbroken scenario must read for the test to mean anything");

        var parsed = Worlds.Read(text);

        Assert.False(parsed.Ok);
        Assert.Contains(parsed.Errors, e => e.File == "world/tiny.yaml" && e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void CapacityForAnUnknownProvider_SuggestsTheClosestId()
    {
        var parsed = Worlds.Read(Worlds.Weekly(64, extra: "capacity: [{ provider: azur, accelerator: H100, region: east, gpus: 10, from: 2025-02-01 }]"));

        var error = Assert.Single(parsed.Errors);
        Assert.Equal("capacity[0].provider", error.Path);
        Assert.Contains("did you mean 'azure'?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsInANamedAgreementFile_CarryThatFilesName()
    {
        var parsed = Worlds.Read(Worlds.Weekly(64), agreement: Worlds.Agreement.Replace("response-window: P5D", "response-window: five days", StringComparison.Ordinal));

        var error = Assert.Single(parsed.Errors);
        Assert.Equal("world/agreement.yaml", error.File);
        Assert.EndsWith("response-window", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void CapacityChanges_AreAddedToTheProvider_WithANewRegion()
    {
        var scenario = Worlds.Tiny(Worlds.Weekly(64, extra: "capacity: [{ provider: cheap, accelerator: H100, region: north, gpus: 500, from: 2025-02-01, ramp-until: 2025-03-01 }]"));

        var cheap = scenario.Providers.Single(p => p.Id == new ProviderId("cheap"));
        Assert.Equal(["west", "north"], cheap.Regions);
        Assert.Equal(250, cheap.Capacity[^1].ContributionAt(new DateTimeOffset(2025, 2, 15, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void BaseThatNamesItself_IsRefused()
    {
        var parsed = ScenarioReader.Read("kind: scenario\nbase: loop.yaml\n", "loop.yaml", _ => "kind: scenario\nbase: loop.yaml\n");

        Assert.Contains(parsed.Errors, e => e.Path == "base" && e.Message.Contains("cannot be its own base", StringComparison.Ordinal));
    }

    [Fact]
    public void Paths_AreResolvedRelativeToTheScenarioFile()
    {
        Assert.Equal("examples/agreements/a.yaml", ScenarioPaths.Resolve("examples/scenarios/default.yaml", "../agreements/a.yaml"));
        Assert.Equal("/srv/x/p.yaml", ScenarioPaths.Resolve("/srv/x/s.yaml", "./p.yaml"));
        Assert.Equal("../p.yaml", ScenarioPaths.Resolve("s.yaml", "../p.yaml"));
    }
}
