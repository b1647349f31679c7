using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class QuoteListSettings : ClientSettings
{
    [CommandOption("--all")]
    [Description("Every quote request, answered and closed ones too (default: open ones only).")]
    public bool All { get; init; }
}

/// <summary><c>broker quotes list</c>: the quote requests a provider is asked to answer.</summary>
public sealed class QuoteListCommand : AsyncCommand<QuoteListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, QuoteListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var quotes = await client.GetAsync("/v1/quote-requests" + (settings.All ? "?state=all" : string.Empty), cancellationToken);
        if (settings.Json)
        {
            Json(quotes);
            return ExitCodes.Ok;
        }

        var table = Table("request", "provider", "GPUs", "ceiling", "class", "accelerator", "regions", "start", "hours", "deadline (UTC)", "state");
        foreach (var q in quotes.Items())
        {
            table.AddRow(
                Esc(q.Text("requestId")),
                Esc(q.Text("provider")),
                Esc(q.Text("gpus")),
                Esc(q.Text("ceiling")),
                Esc(q.Text("workloadClass")),
                Esc(q.Text("accelerator")),
                Esc(q.Text("regions") is { Length: > 0 } regions ? regions : "any"),
                Esc(q.At("earliestStart")),
                Esc(q.Text("durationHours")),
                Esc(q.At("deadline")),
                State(q.Text("state")));
        }

        Write(table, settings.All ? "no quote requests" : "no open quote requests (add --all for answered ones)");
        return ExitCodes.Ok;
    }
}

public sealed class QuoteSubmitSettings : ClientSettings
{
    [CommandArgument(0, "<REQUEST>")]
    [Description("The request id of the quote request.")]
    public string Request { get; init; } = string.Empty;

    [CommandOption("--gpus <N>")]
    [Description("GPUs quoted (required).")]
    public string? Gpus { get; init; }

    [CommandOption("--price <MONEY>")]
    [Description("Price per GPU-hour (required), e.g. \"3.10 USD\".")]
    public string? Price { get; init; }

    [CommandOption("--start <INSTANT>")]
    [Description("When the capacity is available. Default: the request's earliest start.")]
    public string? Start { get; init; }

    [CommandOption("--valid-until <INSTANT>")]
    [Description("Until when the quote holds. Default: the broker's quote validity.")]
    public string? ValidUntil { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.WholeNumber("--gpus", Gpus, required: true),
        Arguments.Money("--price", Price, required: true),
        Arguments.Instant("--start", Start),
        Arguments.Instant("--valid-until", ValidUntil));
}

/// <summary><c>broker quotes submit REQUEST --gpus N --price "3.10 USD"</c> (provider key).</summary>
public sealed class QuoteSubmitCommand : AsyncCommand<QuoteSubmitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, QuoteSubmitSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var body = new Dictionary<string, object>
        {
            ["gpus"] = Arguments.Number(settings.Gpus)!.Value,
            ["price"] = Arguments.Canonical(settings.Price)!,
        };
        if (settings.Start is not null)
        {
            body["start"] = Arguments.Iso(settings.Start)!;
        }

        if (settings.ValidUntil is not null)
        {
            body["validUntil"] = Arguments.Iso(settings.ValidUntil)!;
        }

        var quote = await client.PostAsync($"/v1/quote-requests/{Uri.EscapeDataString(settings.Request)}/quote", body, cancellationToken);
        if (settings.Json)
        {
            Json(quote);
            return ExitCodes.Ok;
        }

        Done($"quoted {settings.Gpus} GPUs at {Arguments.Canonical(settings.Price)}/GPU-h for request {settings.Request}; quote request is {quote.Text("state")}");
        return ExitCodes.Ok;
    }
}

public sealed class QuoteDeclineSettings : ClientSettings
{
    [CommandArgument(0, "<REQUEST>")]
    [Description("The request id of the quote request.")]
    public string Request { get; init; } = string.Empty;

    [CommandOption("--reason <TEXT>")]
    [Description("Why, for the customer's timeline (default: declined).")]
    public string? Reason { get; init; }
}

/// <summary><c>broker quotes decline REQUEST</c> (provider key).</summary>
public sealed class QuoteDeclineCommand : AsyncCommand<QuoteDeclineSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, QuoteDeclineSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        object body = settings.Reason is { } reason ? new { reason } : new { };
        var quote = await client.PostAsync($"/v1/quote-requests/{Uri.EscapeDataString(settings.Request)}/decline", body, cancellationToken);
        if (settings.Json)
        {
            Json(quote);
            return ExitCodes.Ok;
        }

        Done($"declined to quote for request {settings.Request}; quote request is {quote.Text("state")}");
        return ExitCodes.Ok;
    }
}
