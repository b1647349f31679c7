using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public class DeliveriesSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("The broker's API. Default: BROKER_SERVER or http://127.0.0.1:5080. The key comes from BROKER_API_KEY.")]
    public string? Server { get; init; }

    [CommandOption("--json")]
    [Description("Print the API's JSON instead of a table.")]
    public bool Json { get; init; }
}

public sealed class DeliveriesListSettings : DeliveriesSettings
{
    [CommandOption("--provider <ID>")]
    [Description("Only this provider's webhooks (a provider key always sees only its own).")]
    public string? Provider { get; init; }

    [CommandOption("--state <STATE>")]
    [Description("Only webhooks in this state: pending, sending, delivered or failed.")]
    public string? State { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most N webhooks, newest first.")]
    [DefaultValue(50)]
    public int Limit { get; init; } = 50;
}

public sealed class DeliveryIdSettings : DeliveriesSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The delivery's id, from 'broker deliveries list'.")]
    public long Id { get; init; }
}

/// <summary><c>broker deliveries list</c>: the webhook delivery log.</summary>
public sealed class DeliveriesListCommand : AsyncCommand<DeliveriesListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DeliveriesListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var query = new List<string> { $"limit={settings.Limit.ToString(CultureInfo.InvariantCulture)}" };
        if (settings.Provider is not null)
        {
            query.Add("provider=" + Uri.EscapeDataString(settings.Provider));
        }

        if (settings.State is not null)
        {
            query.Add("state=" + Uri.EscapeDataString(settings.State));
        }

        var page = await client.GetAsync("/v1/deliveries?" + string.Join('&', query), cancellationToken);
        if (settings.Json)
        {
            AnsiConsole.WriteLine(JsonSerializer.Serialize(page, CliJson.Indented));
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("id", "provider", "type", "request", "state", "attempts", "last", "next attempt", "created");
        foreach (var d in page.GetProperty("items").EnumerateArray())
        {
            var state = d.GetProperty("state").GetString()!;
            var colour = state switch { "delivered" => "green", "failed" => "red", "sending" => "blue", _ => "yellow" };
            var last = Text(d, "lastStatus") ?? string.Empty;
            if (Text(d, "lastError") is { } error && !error.StartsWith(last, StringComparison.Ordinal))
            {
                last = (last + " " + error).Trim();
            }

            table.AddRow(
                Markup.Escape(d.GetProperty("id").ToString()),
                Markup.Escape(d.GetProperty("provider").GetString()!),
                Markup.Escape(d.GetProperty("type").GetString()!),
                Markup.Escape(Text(d, "requestId") ?? "-"),
                $"[{colour}]{state}[/]",
                d.GetProperty("attempts").ToString(),
                Markup.Escape(last),
                Markup.Escape(Text(d, "nextAttemptAt") ?? "-"),
                Markup.Escape(Text(d, "createdAt") ?? string.Empty));
        }

        AnsiConsole.Write(table);
        if (Text(page, "nextCursor") is not null)
        {
            AnsiConsole.MarkupLine("[grey]more deliveries: raise --limit or add --state / --provider[/]");
        }

        return ExitCodes.Ok;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : null;
}

/// <summary><c>broker deliveries show ID</c>: one webhook with its body and every attempt.</summary>
public sealed class DeliveriesShowCommand : AsyncCommand<DeliveryIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DeliveryIdSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var detail = await client.GetAsync($"/v1/deliveries/{settings.Id.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        if (settings.Json)
        {
            AnsiConsole.WriteLine(JsonSerializer.Serialize(detail, CliJson.Indented));
            return ExitCodes.Ok;
        }

        var d = detail.GetProperty("delivery");
        AnsiConsole.MarkupLineInterpolated($"[bold]{d.GetProperty("type").GetString()}[/] to {d.GetProperty("provider").GetString()}  id {d.GetProperty("webhookId").GetString()}  state {d.GetProperty("state").GetString()}");
        var table = new Table().AddColumns("attempt", "at", "ms", "status", "error", "outcome", "next attempt");
        foreach (var a in detail.GetProperty("attempts").EnumerateArray())
        {
            table.AddRow(a.GetProperty("attempt").ToString(), Markup.Escape(a.GetProperty("attemptedAt").ToString()), a.GetProperty("durationMs").ToString(),
                Markup.Escape(a.GetProperty("status").ToString()), Markup.Escape(a.GetProperty("error").ToString()), Markup.Escape(a.GetProperty("outcome").ToString()),
                Markup.Escape(a.GetProperty("nextAttemptAt").ToString()));
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(JsonSerializer.Serialize(detail.GetProperty("payload"), CliJson.Indented));
        return ExitCodes.Ok;
    }
}

/// <summary><c>broker deliveries redeliver ID</c>: send a webhook again now, with a fresh round of retries (admin).</summary>
public sealed class DeliveriesRedeliverCommand : AsyncCommand<DeliveryIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DeliveryIdSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var delivery = await client.PostAsync($"/v1/deliveries/{settings.Id.ToString(CultureInfo.InvariantCulture)}/redeliver", null, cancellationToken);
        if (settings.Json)
        {
            AnsiConsole.WriteLine(JsonSerializer.Serialize(delivery, CliJson.Indented));
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"delivery {settings.Id} ({delivery.GetProperty("type").GetString()} to {delivery.GetProperty("provider").GetString()}) is queued for redelivery now");
        }

        return ExitCodes.Ok;
    }
}
