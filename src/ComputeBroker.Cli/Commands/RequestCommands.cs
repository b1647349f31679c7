using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ComputeBroker.Definitions;
using ComputeBroker.Server.Service;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class RequestSubmitSettings : ClientSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("A requests file (kind: requests). Each request is sent with Idempotency-Key = its idempotency-key, else its id, so running the same file again is safe.")]
    public string File { get; init; } = string.Empty;

    protected override ValidationResult ValidateArguments() => Arguments.ExistingFile("FILE", File);
}

/// <summary>
/// <c>broker requests submit FILE</c>: submits every request of a requests file. A request the broker
/// already has (same idempotency key, same terms) is answered from its record, so re-running is safe.
/// The file's <c>submit-at</c> is for demos and simulations; the broker stamps its own clock.
/// </summary>
public sealed class RequestSubmitCommand : AsyncCommand<RequestSubmitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RequestSubmitSettings settings, CancellationToken cancellationToken)
    {
        var (text, name) = InputFiles.Read(settings.File, InputFiles.ExampleRequests);
        var requests = InputFiles.Require(DefinitionReader.ReadRequests(text, name));
        using var client = new BrokerClient(settings.Server);
        var submitted = new List<JsonElement>();
        var table = Table("id", "state", "route", "holder", "GPUs", "allocated", "note");
        var failures = 0;
        foreach (var (_, request) in requests)
        {
            var body = new
            {
                id = request.Id.Value,
                customer = request.Customer,
                workloadClass = request.WorkloadClass,
                accelerator = request.Accelerator,
                gpus = request.Gpus.Value,
                earliestStart = request.EarliestStart.ToString("O", CultureInfo.InvariantCulture),
                durationHours = request.DurationHours,
                regions = request.Regions,
                maxPrice = request.MaxPrice.PerHour.ToString(),
                neededBy = request.NeededBy.ToString("O", CultureInfo.InvariantCulture),
                allOrNothing = request.AllOrNothing,
            };
            try
            {
                var (view, replayed) = await client.PostIdempotentAsync("/v1/requests", body, request.IdempotencyKey ?? request.Id.Value, cancellationToken);
                submitted.Add(view);
                table.AddRow(
                    Esc(view.Text("id")),
                    State(view.Text("state")),
                    Esc(view.Text("route")),
                    Esc(view.Text("holder")),
                    Esc(view.Text("gpus")),
                    Esc(view.Text("allocated")),
                    replayed ? "[grey]already submitted (replayed)[/]" : "[green]submitted[/]");
            }
            catch (UserInputException ex)
            {
                // One refused request must not hide the others: report it, go on, and exit 1 at the end.
                failures++;
                table.AddRow(Esc(request.Id.Value), "[red]refused[/]", string.Empty, string.Empty, Esc(request.Gpus.Value.ToString(CultureInfo.InvariantCulture)), string.Empty, Esc(ex.Message));
                if (settings.Json)
                {
                    Console.Error.WriteLine($"error: {request.Id}: {ex.Message}");
                }
            }
        }

        if (settings.Json)
        {
            Json(submitted);
        }
        else
        {
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{submitted.Count} of {requests.Count} request(s) accepted by the broker" + (failures > 0 ? $", [red]{failures} refused[/]" : string.Empty));
        }

        return failures == 0 ? ExitCodes.Ok : ExitCodes.UserError;
    }
}

public sealed class RequestListSettings : ClientSettings
{
    [CommandOption("--state <STATE>")]
    [Description("Only requests in this state: awaiting-offer, awaiting-quotes, awaiting-match, awaiting-reservations, placed, partially-placed, unfulfilled, cancelled.")]
    public string? State { get; init; }

    [CommandOption("--customer <CUSTOMER>")]
    [Description("Only this customer's requests (a customer key sees only its own anyway).")]
    public string? Customer { get; init; }

    [CommandOption("--limit <N>")]
    [Description("Page size, 1 to 500 (server default 50).")]
    public string? Limit { get; init; }

    [CommandOption("--all")]
    [Description("Follow the pages to the end instead of printing the first page only.")]
    public bool All { get; init; }

    protected override ValidationResult ValidateArguments()
    {
        if (State is not null && !RequestView.States.Contains(State, StringComparer.Ordinal))
        {
            return ValidationResult.Error($"--state: '{State}' is not a request state; use one of {string.Join(", ", RequestView.States)}");
        }

        return Arguments.WholeNumber("--limit", Limit, max: 500, example: "100");
    }
}

/// <summary><c>broker requests list</c>: newest first; <c>--all</c> follows <c>nextCursor</c> to the last page.</summary>
public sealed class RequestListCommand : AsyncCommand<RequestListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RequestListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var query = new List<string>();
            Add(query, "state", settings.State);
            Add(query, "customer", settings.Customer);
            Add(query, "limit", Arguments.Number(settings.Limit)?.ToString(CultureInfo.InvariantCulture));
            Add(query, "cursor", cursor);
            var page = await client.GetAsync("/v1/requests" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), cancellationToken);
            items.AddRange(page.Prop("items").Items());
            cursor = page.Text("nextCursor") is { Length: > 0 } next ? next : null;
        }
        while (settings.All && cursor is not null);

        if (settings.Json)
        {
            Json(new { items, nextCursor = cursor });
            return ExitCodes.Ok;
        }

        var table = Table("id", "customer", "state", "class", "accelerator", "GPUs", "allocated", "route", "submitted (UTC)", "next deadline");
        foreach (var r in items)
        {
            table.AddRow(
                Esc(r.Text("id")),
                Esc(r.Text("customer")),
                State(r.Text("state")),
                Esc(r.Text("workloadClass")),
                Esc(r.Text("accelerator")),
                Esc(r.Text("gpus")),
                Esc(r.Text("allocated")),
                Esc(r.Text("route")),
                Esc(r.At("submittedAt")),
                Esc(r.At("nextDeadline")));
        }

        Write(table, "no requests match");
        if (cursor is not null)
        {
            AnsiConsole.MarkupLine($"[grey]{items.Count} shown; more on the next pages: add --all to list them all[/]");
        }

        return ExitCodes.Ok;
    }

    private static void Add(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }
}

public sealed class RequestIdSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The request's id.")]
    public string Id { get; init; } = string.Empty;
}

/// <summary><c>broker requests show ID</c>: the request's terms and state, and its timeline.</summary>
public sealed class RequestShowCommand : AsyncCommand<RequestIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RequestIdSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var detail = await client.GetAsync($"/v1/requests/{Uri.EscapeDataString(settings.Id)}", cancellationToken);
        if (settings.Json)
        {
            Json(detail);
            return ExitCodes.Ok;
        }

        var r = detail.Prop("request");
        AnsiConsole.Write(new Rule($"[bold]{Esc(r.Text("id"))}[/] {State(r.Text("state"))}") { Justification = Justify.Left });
        var facts = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        facts.AddRow("customer", Esc(r.Text("customer")));
        facts.AddRow("asks for", Esc($"{r.Text("gpus")} x {r.Text("accelerator")} ({r.Text("workloadClass")}) for {r.Text("durationHours")} h from {r.At("earliestStart")}, at most {r.Text("maxPrice")}/GPU-h"));
        facts.AddRow("regions", Esc(r.Text("regions") is { Length: > 0 } regions ? regions : "any"));
        facts.AddRow("needed by", Esc(r.At("neededBy")));
        facts.AddRow("route", Esc(string.Join(" ", new[] { r.Text("route"), r.Text("holder") is { Length: > 0 } h ? $"(holder {h})" : string.Empty }.Where(s => s.Length > 0))));
        facts.AddRow("allocated", Esc($"{r.Text("allocated")} of {r.Text("gpus")} GPUs" + (r.Text("unfulfilled") is { Length: > 0 } u ? $", {u} unfulfilled" : string.Empty)));
        if (r.Text("reason").Length > 0)
        {
            facts.AddRow("reason", Esc(r.Text("reason")));
        }

        if (r.At("nextDeadline").Length > 0)
        {
            facts.AddRow("next deadline", Esc(r.At("nextDeadline")));
        }

        AnsiConsole.Write(facts);
        var allocations = Table("provider", "GPUs", "price", "start", "source");
        foreach (var a in r.Prop("allocations").Items())
        {
            allocations.AddRow(Esc(a.Text("provider")), Esc(a.Text("gpus")), Esc(a.Text("price")), Esc(a.At("start")), Esc(a.Text("source")));
        }

        if (allocations.Rows.Count > 0)
        {
            AnsiConsole.Write(allocations);
        }

        var timeline = Table("at (UTC)", "event", "who", "detail");
        foreach (var e in detail.Prop("timeline").Items())
        {
            timeline.AddRow(Esc(e.At("at")), Esc(e.Text("what")), Esc(e.Text("who")), Esc(e.Text("detail")));
        }

        Write(timeline, "no events");
        return ExitCodes.Ok;
    }
}

/// <summary><c>broker requests cancel ID</c>.</summary>
public sealed class RequestCancelCommand : AsyncCommand<RequestIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RequestIdSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var view = await client.PostAsync($"/v1/requests/{Uri.EscapeDataString(settings.Id)}/cancel", null, cancellationToken);
        if (settings.Json)
        {
            Json(view);
            return ExitCodes.Ok;
        }

        Done($"request {view.Text("id")} is now {view.Text("state")}");
        return ExitCodes.Ok;
    }
}
