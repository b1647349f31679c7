using System.ComponentModel;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class LedgerReportSettings : ClientSettings
{
    [CommandOption("--customer <CUSTOMER>")]
    [Description("The customer reporting (required with an admin key; a customer key reports its own).")]
    public string? Customer { get; init; }

    [CommandOption("--from <DATE>")]
    [Description("Start of the period (required), e.g. 2025-01-01.")]
    public string? From { get; init; }

    [CommandOption("--to <DATE>")]
    [Description("End of the period, exclusive (required), e.g. 2025-02-01.")]
    public string? To { get; init; }

    [CommandOption("--revenue <MONEY>")]
    [Description("Revenue of the period (required), e.g. \"1250000000 USD\".")]
    public string? Revenue { get; init; }

    [CommandOption("--profit <MONEY>")]
    [Description("Profit of the period (required; may be negative), e.g. \"-50000000 USD\".")]
    public string? Profit { get; init; }

    protected override ValidationResult ValidateArguments()
    {
        var first = Arguments.All(
            Arguments.Instant("--from", From, required: true),
            Arguments.Instant("--to", To, required: true),
            Arguments.Money("--revenue", Revenue, required: true, "\"1250000000 USD\""),
            Arguments.Money("--profit", Profit, required: true, "\"-50000000 USD\""));
        if (!first.Successful)
        {
            return first;
        }

        return Arguments.TryParseInstant(From!, out var from) && Arguments.TryParseInstant(To!, out var to) && to <= from ? ValidationResult.Error($"--to ({To}) must be after --from ({From}); the period ends where the next begins") : ValidationResult.Success();
    }
}

/// <summary><c>broker ledger report</c>: records a period's revenue and profit; prints what it accrued and fired.</summary>
public sealed class LedgerReportCommand : AsyncCommand<LedgerReportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerReportSettings settings, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, string>
        {
            ["periodStart"] = Arguments.Iso(settings.From)!,
            ["periodEnd"] = Arguments.Iso(settings.To)!,
            ["revenue"] = Arguments.Canonical(settings.Revenue)!,
            ["profit"] = Arguments.Canonical(settings.Profit)!,
        };
        if (settings.Customer is not null)
        {
            body["customer"] = settings.Customer;
        }

        using var client = new BrokerClient(settings.Server);
        var events = await client.PostAsync("/v1/ledger/reports", body, cancellationToken);
        return LedgerEvents.Print(events, settings.Json);
    }
}

public sealed class LedgerAdjustSettings : ClientSettings
{
    [CommandOption("--customer <CUSTOMER>")]
    [Description("The customer (required with an admin key).")]
    public string? Customer { get; init; }

    [CommandOption("--period-start <DATE>")]
    [Description("Start of the recorded period to correct (required).")]
    public string? PeriodStart { get; init; }

    [CommandOption("--revenue-delta <MONEY>")]
    [Description("Change to the period's revenue (required), e.g. \"-1000000 USD\".")]
    public string? RevenueDelta { get; init; }

    [CommandOption("--profit-delta <MONEY>")]
    [Description("Change to the period's profit (required), e.g. \"0 USD\".")]
    public string? ProfitDelta { get; init; }

    [CommandOption("--reason <TEXT>")]
    [Description("Why the figures change (required; kept in the ledger).")]
    public string? Reason { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.Instant("--period-start", PeriodStart, required: true),
        Arguments.Money("--revenue-delta", RevenueDelta, required: true, "\"-1000000 USD\""),
        Arguments.Money("--profit-delta", ProfitDelta, required: true, "\"0 USD\""),
        Arguments.Required("--reason", Reason, "\"restated after audit\""));
}

/// <summary><c>broker ledger adjust</c>: corrects a recorded period with explicit deltas; nothing is overwritten.</summary>
public sealed class LedgerAdjustCommand : AsyncCommand<LedgerAdjustSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerAdjustSettings settings, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, string>
        {
            ["periodStart"] = Arguments.Iso(settings.PeriodStart)!,
            ["revenueDelta"] = Arguments.Canonical(settings.RevenueDelta)!,
            ["profitDelta"] = Arguments.Canonical(settings.ProfitDelta)!,
            ["reason"] = settings.Reason!,
        };
        if (settings.Customer is not null)
        {
            body["customer"] = settings.Customer;
        }

        using var client = new BrokerClient(settings.Server);
        var events = await client.PostAsync("/v1/ledger/adjustments", body, cancellationToken);
        return LedgerEvents.Print(events, settings.Json);
    }
}

internal static class LedgerEvents
{
    public static int Print(JsonElement events, bool json)
    {
        if (json)
        {
            Json(events);
            return ExitCodes.Ok;
        }

        var table = Table("event", "customer", "period", "detail");
        foreach (var e in events.Items())
        {
            var period = e.At("periodStart") is { Length: > 0 } start ? $"{start[..10]}" + (e.At("periodEnd") is { Length: > 0 } end ? $" to {end[..10]}" : string.Empty) : string.Empty;
            var detail = e.Text("type") switch
            {
                "report.recorded" => $"revenue {e.Text("revenue")}, profit {e.Text("profit")}",
                "report.adjusted" => $"revenue {e.Text("revenueDelta")}, profit {e.Text("profitDelta")}: {e.Text("reason")}",
                "share.accrued" => $"{e.Text("payer")} owes {e.Text("payee")} {e.Text("amount")} ({e.Text("clause")}, {e.Text("daysInForce")}/{e.Text("daysInPeriod")} days; cumulative {e.Text("cumulative")})",
                "trigger.fired" => $"{e.Text("trigger")} fired: {e.Text("metric")} {e.Text("value")} reached {e.Text("threshold")}; terminates {e.Text("terminates")} from {e.At("effectiveAt")}",
                _ => e.GetRawText(),
            };
            table.AddRow(Esc(e.Text("type")), Esc(e.Text("customer")), Esc(period), Esc(detail));
        }

        Write(table, "nothing recorded");
        return ExitCodes.Ok;
    }
}

public sealed class LedgerStatementSettings : ClientSettings
{
    [CommandOption("--payee <ID>")]
    [Description("Who is paid (required), e.g. microsoft.")]
    public string? Payee { get; init; }

    [CommandOption("--from <DATE>")]
    [Description("Only periods starting on or after this date.")]
    public string? From { get; init; }

    [CommandOption("--to <DATE>")]
    [Description("Only periods starting before this date.")]
    public string? To { get; init; }

    [CommandOption("--csv <FILE>")]
    [Description("Also write the statement as CSV to FILE.")]
    public string? Csv { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.Required("--payee", Payee, "microsoft"),
        Arguments.Instant("--from", From),
        Arguments.Instant("--to", To));
}

/// <summary><c>broker ledger statement --payee ID</c>: the revenue share statement, one line per clause and period.</summary>
public sealed class LedgerStatementCommand : AsyncCommand<LedgerStatementSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerStatementSettings settings, CancellationToken cancellationToken)
    {
        var query = "payee=" + Uri.EscapeDataString(settings.Payee!)
            + (settings.From is null ? string.Empty : "&from=" + Uri.EscapeDataString(Arguments.Iso(settings.From)!))
            + (settings.To is null ? string.Empty : "&to=" + Uri.EscapeDataString(Arguments.Iso(settings.To)!));
        using var client = new BrokerClient(settings.Server);
        var statement = await client.GetAsync("/v1/ledger/statement?" + query, cancellationToken);
        if (settings.Csv is { } file)
        {
            var csv = await client.GetTextAsync("/v1/ledger/statement?" + query + "&format=csv", cancellationToken);
            try
            {
                await File.WriteAllTextAsync(file, csv, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"--csv: cannot write {file} ({ex.Message}); choose a writable path");
            }
        }

        if (settings.Json)
        {
            Json(statement);
            return ExitCodes.Ok;
        }

        var table = Table("period", "payer", "agreement", "clause", "days", "basis", "accrued", "cumulative", "cap remaining");
        foreach (var l in statement.Prop("lines").Items())
        {
            table.AddRow(
                Esc($"{l.At("periodStart")[..10]} to {l.At("periodEnd")[..10]}"),
                Esc(l.Text("payer")),
                Esc(l.Text("agreement")),
                Esc(l.Text("clause")),
                Esc(l.Text("daysInForce")),
                Esc(l.Text("basis")),
                Esc(l.Text("accrued")),
                Esc(l.Text("cumulative")),
                Esc(l.Text("capRemaining")));
        }

        AnsiConsole.MarkupLine($"[bold]statement for {Esc(statement.Text("payee"))}[/]");
        Write(table, "no accruals for this payee in this range");
        if (statement.Prop("totals") is { ValueKind: JsonValueKind.Object } totals)
        {
            foreach (var total in totals.EnumerateObject())
            {
                AnsiConsole.MarkupLine($"total {Esc(total.Name)}: [bold]{Esc(AsText(total.Value))}[/]");
            }
        }

        if (settings.Csv is not null)
        {
            Done($"wrote {statement.Prop("lines").GetArrayLength()} line(s) to {settings.Csv}");
        }

        return ExitCodes.Ok;
    }
}

public sealed class LedgerCommitmentsSettings : ClientSettings
{
    [CommandOption("--as-of <INSTANT>")]
    [Description("The instant to report for. Default: the broker's now.")]
    public string? AsOf { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.Instant("--as-of", AsOf);
}

/// <summary><c>broker ledger commitments</c>: spend commitments, their progress and projected shortfall.</summary>
public sealed class LedgerCommitmentsCommand : AsyncCommand<LedgerCommitmentsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerCommitmentsSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var commitments = await client.GetAsync("/v1/ledger/commitments" + (settings.AsOf is null ? string.Empty : "?asOf=" + Uri.EscapeDataString(Arguments.Iso(settings.AsOf)!)), cancellationToken);
        if (settings.Json)
        {
            Json(commitments);
            return ExitCodes.Ok;
        }

        var table = Table("agreement", "clause", "provider", "commitment", "deadline (UTC)", "spent", "remaining", "progress", "projected shortfall");
        foreach (var c in commitments.Items())
        {
            var fraction = decimal.TryParse(c.Text("fraction"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : 0m;
            table.AddRow(
                Esc(c.Text("agreement")),
                Esc(c.Text("clause")),
                Esc(c.Text("provider")),
                Esc(c.Text("amount")),
                Esc(c.At("deadline")),
                Esc(c.Text("spent")),
                Esc(c.Text("remaining")),
                Bar(fraction, fullIsGood: true),
                Esc(c.Text("projectedShortfall")));
        }

        Write(table, "no spend commitments in the applied agreements");
        return ExitCodes.Ok;
    }
}
