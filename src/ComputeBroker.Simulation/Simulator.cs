using System.Text;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Output;
using ComputeBroker.Simulation.Reporting;
using ComputeBroker.Simulation.Running;
using ComputeBroker.Simulation.Scenarios;

namespace ComputeBroker.Simulation;

/// <summary>How to run a simulation and where its files go.</summary>
public sealed record SimulationSettings
{
    public required string OutputDirectory { get; init; }

    public int Runs { get; init; } = 1;

    /// <summary>Overrides the scenarios' own base seed.</summary>
    public int? Seed { get; init; }

    /// <summary>Write every request's outcome (requests.csv per run).</summary>
    public bool RequestsCsv { get; init; } = true;

    /// <summary>Scale every scenario so that it produces about this many requests (arrivals and capacity scaled alike).</summary>
    public double? Requests { get; init; }

    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    public Action<double>? Progress { get; init; }

    public CancellationToken Cancellation { get; init; }
}

/// <summary>What a simulation produced: the summaries (in scenario order) and the files written.</summary>
public sealed record SimulationOutcome(IReadOnlyList<SetSummary> Sets, OutputLayout Layout, string SummaryJson);

/// <summary>
/// <c>broker simulate</c> without the console: runs the scenarios (one, a file's variants, or A and B) with
/// their seeds in parallel, then writes the CSV files, <c>summary.json</c> and <c>report.html</c>.
/// </summary>
public static class Simulator
{
    public static SimulationOutcome Run(IReadOnlyList<Scenario> scenarios, SimulationSettings settings)
    {
        if (scenarios.Count == 0)
        {
            throw new ArgumentException("Give at least one scenario.", nameof(scenarios));
        }

        if (settings.Requests is { } requests)
        {
            scenarios = scenarios.Select(s => s.Scaled(requests / Math.Max(1, s.ExpectedRequests()))).ToArray();
        }

        var layout = new OutputLayout(settings.OutputDirectory, scenarios, settings.Runs, settings.RequestsCsv);
        layout.Create();
        var results = SimulationBatch.Run(scenarios, new BatchOptions
        {
            Runs = settings.Runs,
            Seed = settings.Seed,
            RequestsCsvPath = (set, run, seed) => layout.RequestsPath(set, run, seed),
            MaxParallelism = settings.MaxParallelism,
            Progress = settings.Progress,
            Cancellation = settings.Cancellation,
        });

        var sets = results.Select(r => new SetSummary(r)).ToArray();
        for (var i = 0; i < sets.Length; i++)
        {
            SimulationFiles.WriteSeries(layout.Directory(i), sets[i]);
        }

        var json = SimulationFiles.SummaryJson(sets);
        var utf8 = new UTF8Encoding(false);
        File.WriteAllText(Path.Combine(layout.Root, "summary.json"), json, utf8);
        File.WriteAllText(layout.ReportPath, HtmlReport.Build(sets, layout), utf8);
        return new SimulationOutcome(sets, layout, json);
    }
}
