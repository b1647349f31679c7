using System.Text.RegularExpressions;
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
public static partial class BrokerApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped to a file or a pager: don't squeeze tables into the 80-column fallback width.
            AnsiConsole.Profile.Width = 180;
        }

        var arguments = JoinNegativeValues(args);
        if (MissingOptionValue.Find(arguments, typeof(BrokerApp).Assembly) is { } missing)
        {
            return HandleException(new UserInputException(missing), arguments);
        }

        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("broker");
            config.Settings.StrictParsing = true;
            config.SetExceptionHandler((ex, _) => HandleException(ex, arguments));
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
            ConfigureClientVerbs(config);
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

        return await app.RunAsync(arguments).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>--profit "-5 USD"</c> becomes <c>--profit=-5 USD</c>: the parser reads a separate value that starts
    /// with a dash and a digit as a number and drops the rest (" USD"), so negative money would never arrive.
    /// </summary>
    public static string[] JoinNegativeValues(string[] args)
    {
        var joined = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && !args[i].Contains('=', StringComparison.Ordinal)
                && i + 1 < args.Length && args[i + 1].Length > 1 && args[i + 1][0] == '-' && char.IsAsciiDigit(args[i + 1][1]))
            {
                joined.Add($"{args[i]}={args[i + 1]}");
                i++;
                continue;
            }

            joined.Add(args[i]);
        }

        return [.. joined];
    }

    /// <summary>The verbs that talk to a running broker (and the two that may work on its database directly).</summary>
    private static void ConfigureClientVerbs(IConfigurator config)
    {
        config.AddBranch("agreements", b =>
        {
            b.SetDescription("Apply, list, show and compare agreements (their versions and clauses).");
            b.AddExample("agreements", "apply", "examples/agreements/microsoft-openai-2025-10.yaml");
            b.AddCommand<AgreementApplyCommand>("apply")
                .WithDescription("Apply an agreement file: a new agreement, or a new version of one (an amendment).")
                .WithExample("agreements", "apply", "examples/agreements/microsoft-openai-2025-10.yaml");
            b.AddCommand<AgreementListCommand>("list")
                .WithDescription("List agreements with their versions.")
                .WithExample("agreements", "list");
            b.AddCommand<AgreementShowCommand>("show")
                .WithDescription("Show an agreement: every version and clause.")
                .WithExample("agreements", "show", "microsoft-openai");
            b.AddCommand<AgreementDiffCommand>("diff")
                .WithDescription("What changed between two versions, clause by clause: added, removed, changed (field before → after).")
                .WithExample("agreements", "diff", "microsoft-openai")
                .WithExample("agreements", "diff", "microsoft-openai", "1", "2");
        });
        config.AddCommand<ProvidersCommand>("providers")
            .WithDescription("List the providers the broker sources from, with their regions and list prices.")
            .WithExample("providers");
        config.AddBranch("requests", b =>
        {
            b.SetDescription("Submit, list, show (with the timeline) and cancel capacity requests.");
            b.AddExample("requests", "submit", "requests.yaml");
            b.AddCommand<RequestSubmitCommand>("submit")
                .WithDescription("Submit every request of a requests file; safe to re-run (idempotency key = the request's idempotency-key or id).")
                .WithExample("requests", "submit", "requests.yaml");
            b.AddCommand<RequestListCommand>("list")
                .WithDescription("List requests, newest first, with filters; --all follows the pages.")
                .WithExample("requests", "list", "--state", "awaiting-offer")
                .WithExample("requests", "list", "--customer", "openai", "--all", "--json");
            b.AddCommand<RequestShowCommand>("show")
                .WithDescription("Show a request and its timeline: at, event, who, detail.")
                .WithExample("requests", "show", "r-001");
            b.AddCommand<RequestCancelCommand>("cancel")
                .WithDescription("Cancel a request that is still in flight.")
                .WithExample("requests", "cancel", "r-001");
        });
        config.AddBranch("offers", b =>
        {
            b.SetDescription("For providers: list, accept and decline offers (first refusal, exclusivity).");
            b.AddExample("offers", "list");
            b.AddCommand<OfferListCommand>("list")
                .WithDescription("List open offers (a provider key sees its own); --all includes answered ones.")
                .WithExample("offers", "list")
                .WithExample("offers", "list", "--all");
            b.AddCommand<OfferAcceptCommand>("accept")
                .WithDescription("Accept an offer, all of it or --gpus N of it.")
                .WithExample("offers", "accept", "r-001-o1")
                .WithExample("offers", "accept", "r-001-o1", "--gpus", "16384");
            b.AddCommand<OfferDeclineCommand>("decline")
                .WithDescription("Decline an offer.")
                .WithExample("offers", "decline", "r-001-o1", "--reason", "no free H100 in eastus");
        });
        config.AddBranch("quotes", b =>
        {
            b.SetDescription("For providers: list quote requests, answer with a quote or decline.");
            b.AddExample("quotes", "list");
            b.AddCommand<QuoteListCommand>("list")
                .WithDescription("List open quote requests (a provider key sees its own); --all includes answered ones.")
                .WithExample("quotes", "list");
            b.AddCommand<QuoteSubmitCommand>("submit")
                .WithDescription("Quote for a request: GPUs and a price per GPU-hour.")
                .WithExample("quotes", "submit", "r-001", "--gpus", "8192", "--price", "3.10 USD")
                .WithExample("quotes", "submit", "r-001", "--gpus", "8192", "--price", "3.10 USD", "--valid-until", "2025-02-05T00:00:00Z");
            b.AddCommand<QuoteDeclineCommand>("decline")
                .WithDescription("Decline to quote for a request.")
                .WithExample("quotes", "decline", "r-001");
        });
        config.AddBranch("reservations", b =>
        {
            b.SetDescription("For providers: confirm or fail the reservation of an award.");
            b.AddExample("reservations", "list");
            b.AddCommand<ReservationListCommand>("list")
                .WithDescription("List awards waiting for their reservation; --all includes answered ones.")
                .WithExample("reservations", "list");
            b.AddCommand<ReservationConfirmCommand>("confirm")
                .WithDescription("Confirm that an award's capacity is reserved.")
                .WithExample("reservations", "confirm", "r-001", "1");
            b.AddCommand<ReservationFailCommand>("fail")
                .WithDescription("Report that an award cannot be reserved (the broker sources the GPUs elsewhere).")
                .WithExample("reservations", "fail", "r-001", "1", "--reason", "rack failed acceptance");
        });
        config.AddBranch("clauses", b =>
        {
            b.SetDescription("Clause status: in force until when, terminated by which trigger, trigger progress.");
            b.AddExample("clauses", "status");
            b.AddCommand<ClauseStatusCommand>("status")
                .WithDescription("Every clause's status as of now or --as-of, with trigger progress bars.")
                .WithExample("clauses", "status")
                .WithExample("clauses", "status", "--as-of", "2030-06-01", "--agreement", "microsoft-openai");
        });
        config.AddBranch("ledger", b =>
        {
            b.SetDescription("Financial reports, adjustments, revenue share statements and spend commitments.");
            b.AddExample("ledger", "statement", "--payee", "microsoft");
            b.AddCommand<LedgerReportCommand>("report")
                .WithDescription("Record a period's revenue and profit (once per period); prints the accruals and trigger firings.")
                .WithExample("ledger", "report", "--customer", "openai", "--from", "2025-01-01", "--to", "2025-02-01", "--revenue", "1000000000 USD", "--profit", "-200000000 USD");
            b.AddCommand<LedgerAdjustCommand>("adjust")
                .WithDescription("Correct a recorded period with explicit deltas and a reason.")
                .WithExample("ledger", "adjust", "--customer", "openai", "--period-start", "2025-01-01", "--revenue-delta", "-1000000 USD", "--profit-delta", "0 USD", "--reason", "restated after audit");
            b.AddCommand<LedgerStatementCommand>("statement")
                .WithDescription("A payee's revenue share statement; --csv FILE also writes it as CSV.")
                .WithExample("ledger", "statement", "--payee", "microsoft")
                .WithExample("ledger", "statement", "--payee", "microsoft", "--from", "2025-01-01", "--to", "2026-01-01", "--csv", "statement.csv");
            b.AddCommand<LedgerCommitmentsCommand>("commitments")
                .WithDescription("Spend commitments: spent, remaining, progress and projected shortfall.")
                .WithExample("ledger", "commitments", "--as-of", "2026-01-01");
        });
        config.AddBranch("audit", b =>
        {
            b.SetDescription("Verify the log (hash chains, digest, invariants) and take digests to keep elsewhere.");
            b.AddExample("audit", "verify", "--db", "broker.db", "--digest", "digest.json");
            b.AddCommand<AuditVerifyCommand>("verify")
                .WithDescription("Verify every hash chain, the digest if given, and the invariants; exit 1 naming each finding.")
                .WithExample("audit", "verify")
                .WithExample("audit", "verify", "--db", "broker.db", "--digest", "digest.json");
            b.AddCommand<AuditDigestCommand>("digest")
                .WithDescription("Take the log's digest now; keep the file outside the database.")
                .WithExample("audit", "digest", "--out", "digest.json")
                .WithExample("audit", "digest", "--db", "broker.db", "--out", "digest.json");
        });
        config.AddBranch("keys", b =>
        {
            b.SetDescription("API keys: create (shown once), list, revoke. --db works on the database directly (the first admin key).");
            b.AddExample("keys", "create", "--role", "admin", "--db", "broker.db");
            b.AddCommand<KeyCreateCommand>("create")
                .WithDescription("Create a key with a role: admin, auditor, customer:ID or provider:ID. The key is printed once.")
                .WithExample("keys", "create", "--role", "admin", "--db", "broker.db")
                .WithExample("keys", "create", "--role", "provider:azure", "--note", "Azure capacity desk");
            b.AddCommand<KeyListCommand>("list")
                .WithDescription("List keys: ids, roles, notes (never the keys).")
                .WithExample("keys", "list");
            b.AddCommand<KeyRevokeCommand>("revoke")
                .WithDescription("Revoke a key.")
                .WithExample("keys", "revoke", "1a2b3c4d5e");
        });
    }

    /// <summary>
    /// The parser's "Failed to convert 'abc' to Int32." names neither the option nor what it takes: the option is the
    /// argument before the value (or before its '='). Any other message is returned as it is.
    /// </summary>
    private static string Explain(string message, IReadOnlyList<string> args)
    {
        var failed = ConversionFailure().Match(message);
        if (!failed.Success)
        {
            return message;
        }

        var value = failed.Groups["value"].Value;
        string? option = null;
        for (var i = 0; i < args.Count && option is null; i++)
        {
            if (args[i] == value && i > 0 && args[i - 1].StartsWith('-'))
            {
                option = args[i - 1];
            }
            else if (args[i].StartsWith('-') && args[i].EndsWith("=" + value, StringComparison.Ordinal))
            {
                option = args[i][..^(value.Length + 1)];
            }
        }

        var kind = failed.Groups["type"].Value switch
        {
            "Int16" or "Int32" or "Int64" or "UInt16" or "UInt32" or "UInt64" => "a whole number",
            "Double" or "Single" or "Decimal" => "a number",
            "Boolean" => "true or false",
            _ => null, // an optional number is "Nullable`1" here: what it takes is in the command's help
        };
        return (option, kind) switch
        {
            (null, null) => message,
            (null, _) => $"'{value}' is not {kind}",
            (_, null) => $"{option}: '{value}' is not a value it takes; see the command's --help for what {option} takes",
            _ => $"{option}: '{value}' is not {kind}; give {option} {kind}",
        };
    }

    [GeneratedRegex(@"^Failed to convert '(?<value>.*)' to (?<type>[\w`]+)\.$", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();

    private static int HandleException(Exception ex, IReadOnlyList<string> args)
    {
        // Errors go to stderr, so '--json' output on stdout stays parseable and scripts see only data there;
        // redirected, each error stays one unwrapped line that a script can grep.
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        void Report(string colour, string label, string message)
        {
            if (Console.IsErrorRedirected)
            {
                Console.Error.WriteLine($"{label} {message}");
            }
            else
            {
                error.MarkupLine($"[{colour}]{label}[/] {Markup.Escape(message)}");
            }
        }

        switch (ex)
        {
            case UserInputException or CommandParseException or CommandRuntimeException:
                Report("red", "error:", Explain(ex.Message, args));
                return ExitCodes.UserError;
            case OperationCanceledException:
                Report("yellow", "cancelled", string.Empty);
                return ExitCodes.UserError;
            default:
                Report("red", "internal failure:", $"{ex.GetType().Name}: {ex.Message}");
                Report("grey", "note:", "this is a bug or an environment problem, not your input. Run again with BROKER_DEBUG=1 for the stack trace.");
                if (Environment.GetEnvironmentVariable("BROKER_DEBUG") == "1")
                {
                    error.WriteException(ex);
                }

                return ExitCodes.InternalFailure;
        }
    }
}
