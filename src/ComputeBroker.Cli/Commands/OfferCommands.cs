using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class OfferListSettings : ClientSettings
{
    [CommandOption("--all")]
    [Description("Every offer, answered and expired ones too (default: open offers only).")]
    public bool All { get; init; }
}

/// <summary><c>broker offers list</c>: a provider key sees its own offers; admins and auditors see all.</summary>
public sealed class OfferListCommand : AsyncCommand<OfferListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OfferListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var offers = await client.GetAsync("/v1/offers" + (settings.All ? "?state=all" : string.Empty), cancellationToken);
        if (settings.Json)
        {
            Json(offers);
            return ExitCodes.Ok;
        }

        var table = Table("offer", "request", "kind", "provider", "GPUs", "price", "partial", "respond by (UTC)", "state", "answer");
        foreach (var o in offers.Items())
        {
            var answer = o.Text("acceptedGpus") is { Length: > 0 } accepted ? $"{accepted} GPUs accepted" : o.Text("reason");
            table.AddRow(
                Esc(o.Text("id")),
                Esc(o.Text("requestId")),
                Esc(o.Text("kind")),
                Esc(o.Text("provider")),
                Esc(o.Text("gpus")),
                Esc(o.Text("price")),
                o.Text("partialAllowed") == "true" ? "yes" : "no",
                Esc(o.At("respondBy")),
                State(o.Text("state")),
                Esc(answer));
        }

        Write(table, settings.All ? "no offers" : "no open offers (add --all for answered ones)");
        return ExitCodes.Ok;
    }
}

public sealed class OfferAcceptSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The offer's id (see 'broker offers list').")]
    public string Id { get; init; } = string.Empty;

    [CommandOption("--gpus <N>")]
    [Description("Accept part of the offer: this many GPUs (only if the offer allows partial acceptance). Default: all of it.")]
    public string? Gpus { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.WholeNumber("--gpus", Gpus);
}

/// <summary><c>broker offers accept ID [--gpus N]</c> (provider key).</summary>
public sealed class OfferAcceptCommand : AsyncCommand<OfferAcceptSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OfferAcceptSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        object body = Arguments.Number(settings.Gpus) is { } gpus ? new { gpus } : new { };
        var offer = await client.PostAsync($"/v1/offers/{Uri.EscapeDataString(settings.Id)}/accept", body, cancellationToken);
        if (settings.Json)
        {
            Json(offer);
            return ExitCodes.Ok;
        }

        Done($"offer {offer.Text("id")} {offer.Text("state")}: {offer.Text("acceptedGpus")} of {offer.Text("gpus")} GPUs at {offer.Text("price")}/GPU-h for request {offer.Text("requestId")}");
        return ExitCodes.Ok;
    }
}

public sealed class OfferDeclineSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The offer's id.")]
    public string Id { get; init; } = string.Empty;

    [CommandOption("--reason <TEXT>")]
    [Description("Why, for the customer's timeline (default: declined).")]
    public string? Reason { get; init; }
}

/// <summary><c>broker offers decline ID [--reason TEXT]</c> (provider key).</summary>
public sealed class OfferDeclineCommand : AsyncCommand<OfferDeclineSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OfferDeclineSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        object body = settings.Reason is { } reason ? new { reason } : new { };
        var offer = await client.PostAsync($"/v1/offers/{Uri.EscapeDataString(settings.Id)}/decline", body, cancellationToken);
        if (settings.Json)
        {
            Json(offer);
            return ExitCodes.Ok;
        }

        Done($"offer {offer.Text("id")} {offer.Text("state")} ({offer.Text("reason")}); request {offer.Text("requestId")} goes on without it");
        return ExitCodes.Ok;
    }
}
