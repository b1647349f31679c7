using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using ComputeBroker.Definitions;
using ComputeBroker.Simulation;
using ComputeBroker.Simulation.Metrics;
using ComputeBroker.Simulation.Scenarios;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public sealed class SimulateSettings : CommandSettings
{
    [CommandArgument(0, "[SCENARIO]")]
    [Description("Scenario file (kind: scenario). Default: the built-in default scenario (examples/scenarios/default.yaml).")]
    public string? Scenario { get; init; }

    [CommandOption("-o|--out <DIR>")]
    [Description("Directory for report.html, the CSV files and summary.json. Created if missing.")]
    [DefaultValue("simulation-out")]
    public string Out { get; init; } = "simulation-out";

    [CommandOption("-n|--runs <N>")]
    [Description("Monte Carlo: runs per scenario, with seeds S, S+1, ..., in parallel on all cores. The report shows medians and p10-p90 bands.")]
    [DefaultValue(1)]
    public int Runs { get; init; } = 1;

    [CommandOption("-s|--seed <S>")]
    [Description("Base seed (default: the scenario's seed). Same scenario and seed, same files byte for byte.")]
    public int? Seed { get; init; }

    [CommandOption("--compare <SCENARIO>")]
    [Description("A second scenario run side by side with the first (e.g. other agreement terms), on the same seeds.")]
    public string? Compare { get; init; }

    [CommandOption("--requests <N>")]
    [Description("Scale arrivals and capacity alike so each run has about N requests (for load studies).")]
    public long? Requests { get; init; }

    [CommandOption("--no-request-rows")]
    [Description("Do not write requests.csv (one row per request); the summaries and the report are still written.")]
    public bool NoRequestRows { get; init; }

    [CommandOption("--parallel <N>")]
    [Description("Runs at once (default: one per core).")]
    public int? Parallel { get; init; }

    [CommandOption("--json")]
    [Description("Print the summary as JSON (the content of summary.json) instead of tables; no progress bar.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Runs < 1 ? ValidationResult.Error("--runs must be at least 1")
        : Parallel is < 1 ? ValidationResult.Error("--parallel must be at least 1")
        : Requests is < 1 ? ValidationResult.Error("--requests must be at least 1")
        : ValidationResult.Success();
}

/// <summary>
/// <c>broker simulate</c>: a what-if over years of virtual time on the same engine as the service, with an
/// HTML report, CSV files and, for long runs, a progress bar with the time left.
/// </summary>
public sealed class SimulateCommand : AsyncCommand<SimulateSettings>
{
    public const string DefaultScenario = "examples/scenarios/default.yaml";

    public override async Task<int> ExecuteAsync(CommandContext context, SimulateSettings settings, CancellationToken cancellationToken)
    {
        var scenarios = Load(settings.Scenario).Variants.ToList();
        if (settings.Compare is { } compare)
        {
            scenarios.AddRange(Load(compare).Variants);
        }

        var simulation = new SimulationSettings
        {
            OutputDirectory = settings.Out,
            Runs = settings.Runs,
            Seed = settings.Seed,
            Requests = settings.Requests,
            RequestsCsv = !settings.NoRequestRows,
            MaxParallelism = settings.Parallel ?? Environment.ProcessorCount,
            Cancellation = cancellationToken,
        };

        var stopwatch = Stopwatch.StartNew();
        SimulationOutcome outcome;
        if (settings.Json || Console.IsOutputRedirected)
        {
            outcome = await Task.Run(() => Simulator.Run(scenarios, simulation), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var label = scenarios.Count == 1 ? scenarios[0].Name : $"{scenarios.Count} scenarios";
            var runs = settings.Runs == 1 ? "1 run" : $"{settings.Runs} runs each";
            outcome = await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(Markup.Escape($"simulating {label}, {runs}"), maxValue: 1.0);
                    var result = await Task.Run(() => Simulator.Run(scenarios, simulation with { Progress = f => task.Value = Math.Min(f, 0.999) }), cancellationToken).ConfigureAwait(false);
                    task.Value = 1.0;
                    return result;
                }).ConfigureAwait(false);
        }

        if (settings.Json)
        {
            Console.Out.Write(outcome.SummaryJson);
            return ExitCodes.Ok;
        }

        Render(outcome, stopwatch.Elapsed);
        return ExitCodes.Ok;
    }

    /// <summary>Reads a scenario from disk, or the built-in default (and the files it names) from the embedded examples.</summary>
    public static ScenarioFile Load(string? path)
    {
        Parsed<ScenarioFile> parsed;
        if (path is null)
        {
            parsed = ScenarioReader.Read(Embedded(DefaultScenario)!, DefaultScenario, Embedded);
        }
        else
        {
            if (!File.Exists(path))
            {
                throw new UserInputException($"{path}: {InputFiles.WhyNotAFile(path)}");
            }

            parsed = ScenarioReader.ReadFile(path);
        }

        return InputFiles.Require(parsed);
    }

    private static string? Embedded(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void Render(SimulationOutcome outcome, TimeSpan elapsed)
    {
        var sets = outcome.Sets;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("measure");
        foreach (var set in sets)
        {
            table.AddColumn(new TableColumn(Markup.Escape(set.Runs > 1 ? $"{set.Name} (median)" : set.Name)).RightAligned());
        }

        void Row(string label, Func<SetSummary, string> value) =>
            table.AddRow([Markup.Escape(label), .. sets.Select(s => Markup.Escape(value(s)))]);

        string Scalar(SetSummary s, string key, string format) =>
            s.Scalar(key).P50 is var v && double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

        Row("requests", s => Scalar(s, "requests", "N0"));
        Row("GPUs demanded / placed / unfulfilled", s => $"{Scalar(s, "gpus_demanded", "N0")} / {Scalar(s, "gpus_placed", "N0")} / {Scalar(s, "gpus_unfulfilled", "N0")}");
        Row("holder's share of GPUs placed", s => s.Holder is { } h ? $"{h}: {(s.Scalar("holder_share").P50 * 100).ToString("0.0", CultureInfo.InvariantCulture)}%" : "no holder");
        Row("time to capacity p50 / p90 / p99 (h)", s => $"{Scalar(s, "ttc_p50_hours", "0.0")} / {Scalar(s, "ttc_p90_hours", "0.0")} / {Scalar(s, "ttc_p99_hours", "0.0")}");
        Row("holder accepted / part / declined / expired", s => $"{Scalar(s, "fr_accepted", "N0")} / {Scalar(s, "fr_partial", "N0")} / {Scalar(s, "fr_declined", "N0")} / {Scalar(s, "fr_expired", "N0")}");
        Row("delay the response window adds, p50 / p90 (h)", s => $"{Scalar(s, "window_delay_p50_hours", "0.0")} / {Scalar(s, "window_delay_p90_hours", "0.0")}");
        Row("revenue share paid (USD)", s => Scalar(s, "revenue_share", "N0"));
        Row("profit trigger", s => s.ProfitTrigger is null ? "none"
            : s.TriggerFiredAt is { } f ? $"fires {f.EffectiveAt:yyyy-MM-dd} ({s.TriggerFiredRuns}/{s.Runs} runs)"
            : "does not fire in the horizon");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"report: [link]{Path.GetFullPath(outcome.Layout.ReportPath)}[/] ({elapsed.TotalSeconds:0.0} s)");
    }
}
