using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class ProvidersSettings : ClientSettings;

/// <summary><c>broker providers</c>: the providers the broker sources from, with their list prices.</summary>
public sealed class ProvidersCommand : AsyncCommand<ProvidersSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProvidersSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var providers = await client.GetAsync("/v1/providers", cancellationToken);
        if (settings.Json)
        {
            Json(providers);
            return ExitCodes.Ok;
        }

        var table = Table("id", "name", "connector", "regions", "list prices (per GPU-hour)");
        foreach (var p in providers.Items())
        {
            var prices = p.Prop("prices").Items()
                .Select(x => x.Text("region") is { Length: > 0 } region ? $"{x.Text("accelerator")} in {region}: {x.Text("price")}" : $"{x.Text("accelerator")}: {x.Text("price")}");
            table.AddRow(Esc(p.Text("id")), Esc(p.Text("name")), Esc(p.Text("connector")), Esc(p.Text("regions")), Esc(string.Join(Environment.NewLine, prices)));
        }

        Write(table, "the broker has no providers; start it with --providers FILE");
        return ExitCodes.Ok;
    }
}
