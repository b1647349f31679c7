using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class ReservationListSettings : ClientSettings
{
    [CommandOption("--all")]
    [Description("Every reservation, confirmed and failed ones too (default: open ones only).")]
    public bool All { get; init; }
}

/// <summary><c>broker reservations list</c>: awards waiting for the provider to reserve the capacity.</summary>
public sealed class ReservationListCommand : AsyncCommand<ReservationListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReservationListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var reservations = await client.GetAsync("/v1/reservations" + (settings.All ? "?state=all" : string.Empty), cancellationToken);
        if (settings.Json)
        {
            Json(reservations);
            return ExitCodes.Ok;
        }

        var table = Table("request", "award", "provider", "GPUs", "price", "start (UTC)", "respond by (UTC)", "state");
        foreach (var r in reservations.Items())
        {
            table.AddRow(
                Esc(r.Text("requestId")),
                Esc(r.Text("award")),
                Esc(r.Text("provider")),
                Esc(r.Text("gpus")),
                Esc(r.Text("price")),
                Esc(r.At("start")),
                Esc(r.At("respondBy")),
                State(r.Text("state")));
        }

        Write(table, settings.All ? "no reservations" : "no open reservations (add --all for answered ones)");
        return ExitCodes.Ok;
    }
}

public sealed class ReservationAnswerSettings : ClientSettings
{
    [CommandArgument(0, "<REQUEST>")]
    [Description("The request id.")]
    public string Request { get; init; } = string.Empty;

    [CommandArgument(1, "<AWARD>")]
    [Description("The award number (see 'broker reservations list').")]
    public string Award { get; init; } = string.Empty;

    [CommandOption("--reason <TEXT>")]
    [Description("A note for the timeline (why a reservation failed).")]
    public string? Reason { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.WholeNumber("AWARD", Award, required: true, example: "1");
}

/// <summary><c>broker reservations confirm REQUEST AWARD</c> (provider key).</summary>
public sealed class ReservationConfirmCommand : AsyncCommand<ReservationAnswerSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ReservationAnswerSettings settings, CancellationToken cancellationToken) =>
        ReservationAnswer.SendAsync(settings, "confirm", cancellationToken);
}

/// <summary><c>broker reservations fail REQUEST AWARD</c> (provider key): the award cannot be reserved.</summary>
public sealed class ReservationFailCommand : AsyncCommand<ReservationAnswerSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ReservationAnswerSettings settings, CancellationToken cancellationToken) =>
        ReservationAnswer.SendAsync(settings, "fail", cancellationToken);
}

internal static class ReservationAnswer
{
    public static async Task<int> SendAsync(ReservationAnswerSettings settings, string verb, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        object body = settings.Reason is { } reason ? new { reason } : new { };
        var path = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/v1/reservations/{Uri.EscapeDataString(settings.Request)}/{Arguments.Number(settings.Award)}/{verb}");
        var reservation = await client.PostAsync(path, body, cancellationToken);
        if (settings.Json)
        {
            Json(reservation);
            return ExitCodes.Ok;
        }

        Done($"reservation of request {settings.Request} award {settings.Award}: {(reservation.Text("state") is { Length: > 0 } state ? state : verb + "ed")}");
        return ExitCodes.Ok;
    }
}
