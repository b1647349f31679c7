using ComputeBroker.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The user's error: a bad argument, file, or input refused by the broker.</summary>
    public const int UserError = 1;

    /// <summary>An internal failure: a bug or an environment problem, never the user's input.</summary>
    public const int InternalFailure = 2;
}

/// <summary>A mistake in what the user gave (arguments, files): reported in one clear line, exit code 1.</summary>
public sealed class UserInputException(string message) : Exception(message);

/// <summary>The <c>broker</c> command line.</summary>
public static class BrokerApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped to a file or a pager: don't squeeze tables into the 80-column fallback width.
            AnsiConsole.Profile.Width = 180;
        }

        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("broker");
            config.Settings.StrictParsing = true;
            config.SetExceptionHandler((ex, _) => HandleException(ex));
            config.AddCommand<DemoCommand>("demo")
                .WithDescription("Run the example agreement (or your own files) end to end in memory and print each request's timeline.")
                .WithExample("demo")
                .WithExample("demo", "--agreement", "my-agreement.yaml", "--providers", "providers.yaml", "--requests", "requests.yaml");
            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Run the durable broker service: HTTP API, dashboard, deadlines, simulated providers.")
                .WithExample("serve", "--demo")
                .WithExample("serve", "--db", "postgres://broker:secret@localhost/broker", "--urls", "http://0.0.0.0:5080");
            config.AddCommand<SimulateCommand>("simulate")
                .WithDescription("What-if simulation over years of virtual time on the same engine: HTML report, CSV files, Monte Carlo, comparisons.")
                .WithExample("simulate")
                .WithExample("simulate", "examples/scenarios/default.yaml", "--out", "out", "--runs", "8")
                .WithExample("simulate", "examples/scenarios/january-2025-terms.yaml", "--compare", "examples/scenarios/default.yaml")
                .WithExample("simulate", "examples/scenarios/response-window.yaml", "--runs", "4");
            config.AddCommand<ValidateCommand>("validate")
                .WithDescription("Check agreement, provider and request files and report every problem with its path and fix.")
                .WithExample("validate", "examples/agreements/microsoft-openai-2025-01.yaml", "examples/providers.yaml");
        });

        return await app.RunAsync(args).ConfigureAwait(false);
    }

    private static int HandleException(Exception ex)
    {
        switch (ex)
        {
            case UserInputException or CommandParseException or CommandRuntimeException:
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return ExitCodes.UserError;
            case OperationCanceledException:
                AnsiConsole.MarkupLine("[yellow]cancelled[/]");
                return ExitCodes.UserError;
            default:
                AnsiConsole.MarkupLineInterpolated($"[red]internal failure:[/] {ex.GetType().Name}: {ex.Message}");
                AnsiConsole.MarkupLine("[grey]This is a bug or an environment problem, not your input. Run again with BROKER_DEBUG=1 for the stack trace.[/]");
                if (Environment.GetEnvironmentVariable("BROKER_DEBUG") == "1")
                {
                    AnsiConsole.WriteException(ex);
                }

                return ExitCodes.InternalFailure;
        }
    }
}
