using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation.Tests;

/// <summary>Same scenario and seed, same files byte for byte; whatever the parallelism; other seeds differ.</summary>
public sealed class DeterminismTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-sim-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void SameScenarioAndSeed_WriteTheSameFilesByteForByte()
    {
        var scenario = Worlds.Default();

        Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("a"), Seed = 11 });
        Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("b"), Seed = 11 });

        AssertSameFiles(Dir("a"), Dir("b"), ["report.html", "requests.csv", "monthly.csv", "quarterly.csv", "runs.csv", "summary.json"]);
    }

    [Fact]
    public void MonteCarlo_OnOneCoreOrTwo_WritesTheSameFiles()
    {
        var scenario = Worlds.Tiny(Worlds.Weekly(160, extra: "answers: { azure: { latency: { min: PT10M, max: P6D }, reliability: 0.8 } }", end: "2025-12-01")
            .Replace("every: P7D", "per-day: 2", StringComparison.Ordinal));

        var serial = Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("serial"), Runs = 4, MaxParallelism = 1 });
        Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("parallel"), Runs = 4, MaxParallelism = 2 });

        var files = Directory.GetFiles(Dir("serial")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Contains("requests-run-004-seed-4.csv", files);
        AssertSameFiles(Dir("serial"), Dir("parallel"), files!);
        Assert.Equal([1, 2, 3, 4], serial.Sets[0].Set.Runs.Select(r => r.Seed));
    }

    [Fact]
    public void DifferentSeeds_DrawDifferentRuns()
    {
        var scenario = Worlds.Default();

        Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("one"), Seed = 1 });
        Simulator.Run([scenario], new SimulationSettings { OutputDirectory = Dir("two"), Seed = 2 });

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(Dir("one"), "requests.csv")), File.ReadAllBytes(Path.Combine(Dir("two"), "requests.csv")));
    }

    [Fact]
    public void Variants_WithOneSeed_SeeTheSameDemand()
    {
        var variants = Worlds.Require(ScenarioReader.ReadFile(Worlds.Example("examples/scenarios/response-window.yaml"))).Variants;

        var outcome = Simulator.Run(variants, new SimulationSettings { OutputDirectory = Dir("variants"), Seed = 9 });

        string[] Demand(string folder) => File.ReadLines(Path.Combine(Dir("variants"), folder, "requests.csv"))
            .Select(l => string.Join(',', l.Split(',').Take(8)))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(Demand("3-day-window"), Demand("14-day-window"));
        Assert.Equal(2, outcome.Sets.Count);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    private static void AssertSameFiles(string a, string b, IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            var left = File.ReadAllBytes(Path.Combine(a, file));
            var right = File.ReadAllBytes(Path.Combine(b, file));
            Assert.True(left.AsSpan().SequenceEqual(right), $"{file} differs between the two runs");
        }
    }
}
