using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class ClauseStatusSettings : ClientSettings
{
    [CommandOption("--as-of <INSTANT>")]
    [Description("The instant to report for (past or future). Default: the broker's now.")]
    public string? AsOf { get; init; }

    [CommandOption("--agreement <ID>")]
    [Description("Only this agreement's clauses.")]
    public string? Agreement { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.Instant("--as-of", AsOf);
}

/// <summary>
/// <c>broker clauses status</c>: each clause of the version in force: its state, until when and how long
/// is left, when and by which trigger it was terminated, and each trigger's progress toward its threshold.
/// </summary>
public sealed class ClauseStatusCommand : AsyncCommand<ClauseStatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClauseStatusSettings settings, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (settings.AsOf is not null)
        {
            query.Add("asOf=" + Uri.EscapeDataString(Arguments.Iso(settings.AsOf)!));
        }

        if (settings.Agreement is not null)
        {
            query.Add("agreement=" + Uri.EscapeDataString(settings.Agreement));
        }

        using var client = new BrokerClient(settings.Server);
        var statuses = await client.GetAsync("/v1/clauses/status" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), cancellationToken);
        if (settings.Json)
        {
            Json(statuses);
            return ExitCodes.Ok;
        }

        var table = Table("agreement", "v", "clause", "kind", "state", "until (UTC)", "time left", "terminated", "trigger progress");
        foreach (var s in statuses.Items())
        {
            var terminated = s.At("terminatedAt") is { Length: > 0 } at ? $"{at} by {s.Text("terminatedBy")}" : string.Empty;
            var trigger = s.Prop("trigger");
            var progress = string.Empty;
            if (trigger.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                var fraction = decimal.TryParse(trigger.Text("fraction"), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : 0m;
                progress = $"{Bar(fraction)} {Esc(trigger.Text("metric"))} {Esc(trigger.Text("value"))} of {Esc(trigger.Text("threshold"))}"
                    + (trigger.At("firedAt") is { Length: > 0 } fired ? $" [red]fired {Esc(fired)}[/]" : string.Empty);
            }

            table.AddRow(
                Esc(s.Text("agreement")),
                Esc(s.Text("version")),
                Esc(s.Text("clause")),
                Esc(s.Text("kind")),
                State(s.Text("state")),
                Esc(s.At("until")),
                Esc(s.Duration("timeLeft")),
                Esc(terminated),
                progress);
        }

        var asOf = statuses.Items().FirstOrDefault().At("asOf");
        Write(table, settings.Agreement is null ? "no clauses: no agreement is applied yet" : $"no clauses for agreement {settings.Agreement}");
        if (asOf.Length > 0)
        {
            AnsiConsole.MarkupLine($"[grey]as of {Esc(asOf)} UTC[/]");
        }

        return ExitCodes.Ok;
    }
}
