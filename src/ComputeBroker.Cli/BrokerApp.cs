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
            config.AddCommand<ValidateCommand>("validate")
                .WithDescription("Check agreement, provider and request files and report every problem with its path and fix.")
                .WithExample("validate", "examples/agreements/microsoft-openai-2025-01.yaml", "examples/providers.yaml");
            config.AddBranch("deliveries", deliveries =>
            {
                deliveries.SetDescription("The webhook delivery log: what was sent to webhook providers, each attempt, and redelivery.");
                deliveries.AddCommand<DeliveriesListCommand>("list").WithDescription("List webhooks sent to providers, newest first.")
                    .WithExample("deliveries", "list", "--provider", "azure", "--state", "failed");
                deliveries.AddCommand<DeliveriesShowCommand>("show").WithDescription("Show one webhook: its body and every delivery attempt.");
                deliveries.AddCommand<DeliveriesRedeliverCommand>("redeliver").WithDescription("Send a webhook again now, with a fresh round of retries (admin key).");
            });
            config.AddCommand<ProviderSimCommand>("provider-sim")
                .WithDescription("Run a reference webhook provider: verifies the broker's signed webhooks and answers offers, quotes and reservations through the API.")
                .WithExample("provider-sim", "--listen", "http://127.0.0.1:7001", "--provider", "azure", "--secret", "whsec_...", "--server", "http://127.0.0.1:5080", "--key", "cbk_...");
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
