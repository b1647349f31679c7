using System.ComponentModel;
using System.Text.Json;
using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Reporting;
using ComputeBroker.Runtime;
using ComputeBroker.Serialization;
using ComputeBroker.Sourcing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public sealed class DemoSettings : CommandSettings
{
    [CommandOption("--agreement <FILE>")]
    [Description("Agreement file (YAML or JSON). Default: the January 2025 example agreement.")]
    public string[] Agreements { get; init; } = [];

    [CommandOption("--providers <FILE>")]
    [Description("Providers file. Default: the example providers (azure, oracle, stargate, coreweave).")]
    public string? Providers { get; init; }

    [CommandOption("--requests <FILE>")]
    [Description("Requests file. Default: the example requests.")]
    public string? Requests { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed for the simulated providers' latencies and failures. Same seed, same run.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--json")]
    [Description("Print the events and the summary as JSON instead of tables.")]
    public bool Json { get; init; }
}

/// <summary><c>broker demo</c>: the example (or the user's files) end to end in memory, with every provider simulated.</summary>
public sealed class DemoCommand : Command<DemoSettings>
{
    public override int Execute(CommandContext context, DemoSettings settings, CancellationToken cancellationToken)
    {
        var agreementFiles = settings.Agreements.Length == 0 ? [null] : settings.Agreements.Cast<string?>().ToArray();
        var book = ContractBook.Empty;
        foreach (var file in agreementFiles)
        {
            var (text, name) = InputFiles.Read(file, InputFiles.ExampleAgreement);
            book = book.WithAgreement(InputFiles.Require(DefinitionReader.ReadAgreement(text, name)));
        }

        var (providersText, providersName) = InputFiles.Read(settings.Providers, InputFiles.ExampleProviders);
        var providers = InputFiles.Require(DefinitionReader.ReadProviders(providersText, providersName));
        var (requestsText, requestsName) = InputFiles.Read(settings.Requests, InputFiles.ExampleRequests);
        var requests = InputFiles.Require(DefinitionReader.ReadRequests(requestsText, requestsName));

        var result = DemoRunner.Run(book, providers.Providers, providers.Policy, requests.Select(r => (r.SubmitAt, r.Request)).ToArray(), settings.Seed);
        if (settings.Json)
        {
            var document = new
            {
                summary = result.Summary,
                requests = requests
                    .Where(r => result.ByRequest.ContainsKey(r.Request.Id))
                    .Select(r => new { id = r.Request.Id, events = result.ByRequest[r.Request.Id] }),
                rejected = result.Rejected.Select(r => new { id = r.Request.Id, kind = r.Rejection.Kind, message = r.Rejection.Message }),
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(document, CliJson.Indented));
            return result.Rejected.Count == 0 ? ExitCodes.Ok : ExitCodes.UserError;
        }

        foreach (var (_, request) in requests)
        {
            if (result.ByRequest.TryGetValue(request.Id, out var events))
            {
                RenderTimeline(events);
            }
        }

        foreach (var rejected in result.Rejected)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]refused[/] {rejected.Request.Id}: {rejected.Rejection.Message}");
        }

        RenderSummary(result.Summary);
        return result.Rejected.Count == 0 ? ExitCodes.Ok : ExitCodes.UserError;
    }

    private static void RenderTimeline(IReadOnlyList<SourcingEvent> events)
    {
        var submitted = (RequestSubmitted)events[0];
        var closed = events[^1] as RequestClosed;
        var colour = closed?.Outcome switch
        {
            RequestOutcome.Placed => "green",
            RequestOutcome.PartiallyPlaced => "yellow",
            _ => "red",
        };
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(submitted.RequestId.Value)}[/] [{colour}]{Markup.Escape(closed is null ? "in flight" : TimelineEntry.From(closed).What)}[/]") { Justification = Justify.Left });
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("at (UTC)").NoWrap())
            .AddColumn(new TableColumn("+elapsed").NoWrap().RightAligned())
            .AddColumn(new TableColumn("event").NoWrap())
            .AddColumn(new TableColumn("who").NoWrap())
            .AddColumn(new TableColumn("detail"));
        foreach (var e in events)
        {
            var entry = TimelineEntry.From(e);
            table.AddRow(
                Markup.Escape(e.At.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)),
                Markup.Escape(Durations.Humanize(e.At - submitted.At)),
                Markup.Escape(entry.What),
                Markup.Escape(entry.Who ?? string.Empty),
                Markup.Escape(entry.Detail));
        }

        AnsiConsole.Write(table);
    }

    private static void RenderSummary(SourcingSummary summary)
    {
        AnsiConsole.Write(new Rule("[bold]summary[/]") { Justification = Justify.Left });
        var outcomes = new Table().Border(TableBorder.Rounded).AddColumn("outcome").AddColumn(new TableColumn("requests").RightAligned());
        foreach (var (outcome, count) in summary.Outcomes.OrderBy(o => o.Key))
        {
            outcomes.AddRow(outcome.ToString(), count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var shares = new Table().Border(TableBorder.Rounded).AddColumn("provider").AddColumn(new TableColumn("GPUs placed").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var share in summary.Providers)
        {
            var name = share.Provider == summary.Holder ? $"{share.Provider} (holder)" : share.Provider.Value;
            shares.AddRow(Markup.Escape(name), share.Gpus.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), share.Share.ToString("P1", System.Globalization.CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(new Columns(outcomes, shares));
        var facts = new Grid().AddColumn().AddColumn();
        facts.AddRow("GPUs requested / placed / unfulfilled", $"{summary.GpusRequested:N0} / {summary.GpusPlaced:N0} / {summary.GpusUnfulfilled:N0}");
        facts.AddRow("first-refusal holder's share", summary.Holder is null ? "no first-refusal holder" : $"{summary.Holder}: {summary.HolderShare:P1}");
        facts.AddRow("time to capacity p50 / p90 / p99", $"{Durations.Humanize(summary.TimeToCapacityP50)} / {Durations.Humanize(summary.TimeToCapacityP90)} / {Durations.Humanize(summary.TimeToCapacityP99)}");
        AnsiConsole.Write(facts);
    }
}
