using System.ComponentModel;
using System.Globalization;
using ComputeBroker.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.SimulationBench;

/// <summary>What to measure, once the command line has been checked.</summary>
internal sealed record Options(double Requests, int Runs, string? Scenario, bool Csv, bool Keep)
{
    /// <summary>The options were wrong: nothing was measured.</summary>
    public const int UserError = 1;

    /// <summary>
    /// Reads <paramref name="args"/>: the options when they are right; otherwise null, with the exit code (0 after
    /// <c>--help</c>, <see cref="UserError"/> after one line on <paramref name="error"/> naming the option and the fix).
    /// </summary>
    public static Options? Parse(string[] args, TextWriter error, out int exitCode)
    {
        if (MissingOptionValue.Find(args, typeof(Options).Assembly) is { } missing)
        {
            error.WriteLine($"error: {missing}");
            exitCode = UserError;
            return null;
        }

        Options? parsed = null;
        var app = new CommandApp<ReadCommand>();
        app.Configure(config =>
        {
            config.SetApplicationName("ComputeBroker.SimulationBench");
            config.Settings.StrictParsing = true;
            config.Settings.Registrar.RegisterInstance<Action<Options>>(options => parsed = options);
            config.SetExceptionHandler((ex, _) =>
            {
                error.WriteLine($"error: {ex.Message}");
                return UserError;
            });
        });
        exitCode = app.Run(args);
        return exitCode == 0 ? parsed : null;
    }

    /// <summary>Hands the checked settings back to <see cref="Parse"/>; the measurement itself runs after the parser is done.</summary>
    private sealed class ReadCommand(Action<Options> read) : Command<BenchSettings>
    {
        public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
        {
            read(settings.ToOptions());
            return 0;
        }
    }
}

/// <summary>The benchmark's options; numbers are read as text and checked here, so that a wrong one is reported with its option's name.</summary>
internal sealed class BenchSettings : CommandSettings
{
    [CommandOption("--requests <N>")]
    [Description("Simulated requests per run, about (the default scenario is scaled to it); underscores allowed, e.g. 1_000_000.")]
    [DefaultValue("1000000")]
    public string RequestsText { get; set; } = "1000000";

    [CommandOption("--runs <R>")]
    [Description("Runs in the parallel phase; default: one per core.")]
    public string? RunsText { get; set; }

    [CommandOption("--scenario <FILE>")]
    [Description("The scenario file to scale; default: examples/scenarios/default.yaml, found above the current directory.")]
    public string? Scenario { get; set; }

    [CommandOption("--no-csv")]
    [Description("Do not stream the outcomes to CSV files.")]
    public bool NoCsv { get; set; }

    [CommandOption("--keep")]
    [Description("Keep the CSV files (their folder is printed).")]
    public bool Keep { get; set; }

    public override ValidationResult Validate()
    {
        if (!TryRequests(out _))
        {
            return ValidationResult.Error($"--requests must be a number of requests of at least 1 (it was '{RequestsText}'), e.g. --requests 1_000_000");
        }

        if (RunsText is not null && !TryRuns(out _))
        {
            return ValidationResult.Error($"--runs must be a whole number from 1 to 256 (it was '{RunsText}'), e.g. --runs {Environment.ProcessorCount}");
        }

        if (Scenario is not null && !File.Exists(Scenario))
        {
            return ValidationResult.Error($"--scenario: no file '{Scenario}'; give the path of a scenario YAML file, e.g. --scenario examples/scenarios/default.yaml");
        }

        return ValidationResult.Success();
    }

    public Options ToOptions()
    {
        TryRequests(out var requests);
        var runs = Environment.ProcessorCount;
        if (RunsText is not null)
        {
            TryRuns(out runs);
        }

        return new Options(requests, runs, Scenario, Csv: !NoCsv, Keep);
    }

    private bool TryRequests(out double requests) =>
        double.TryParse(RequestsText.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out requests) && requests >= 1 && double.IsFinite(requests);

    private bool TryRuns(out int runs) =>
        int.TryParse(RunsText, NumberStyles.None, CultureInfo.InvariantCulture, out runs) && runs is >= 1 and <= 256;
}
