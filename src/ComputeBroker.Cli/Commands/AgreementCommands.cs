using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ComputeBroker.Definitions;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class AgreementApplySettings : ClientSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The agreement document (YAML or JSON): a new agreement, or the same id with a new version (an amendment).")]
    public string File { get; init; } = string.Empty;

    protected override ValidationResult ValidateArguments() => Arguments.ExistingFile("FILE", File);
}

/// <summary><c>broker agreements apply FILE</c>: checks the document locally (every problem, with its path), then applies it.</summary>
public sealed class AgreementApplyCommand : AsyncCommand<AgreementApplySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AgreementApplySettings settings, CancellationToken cancellationToken)
    {
        var (text, name) = InputFiles.Read(settings.File, InputFiles.ExampleAgreement);
        InputFiles.Require(DefinitionReader.ReadAgreement(text, name));
        var contentType = text.TrimStart().StartsWith('{') ? "application/json" : "application/yaml";
        using var client = new BrokerClient(settings.Server);
        var agreement = await client.PostRawAsync("/v1/agreements", text, contentType, cancellationToken);
        if (settings.Json)
        {
            Json(agreement);
            return ExitCodes.Ok;
        }

        var latest = agreement.Prop("versions").Items().LastOrDefault();
        Done($"applied agreement {agreement.Text("id")}: {agreement.Prop("versions").GetArrayLength()} version(s), latest v{latest.Text("number")} effective {latest.At("effectiveFrom")} with {latest.Prop("clauses").GetArrayLength()} clauses");
        return ExitCodes.Ok;
    }
}

public sealed class AgreementListSettings : ClientSettings;

/// <summary><c>broker agreements list</c>.</summary>
public sealed class AgreementListCommand : AsyncCommand<AgreementListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AgreementListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var agreements = await client.GetAsync("/v1/agreements", cancellationToken);
        if (settings.Json)
        {
            Json(agreements);
            return ExitCodes.Ok;
        }

        var table = Table("id", "customer", "parties", "versions", "in force from", "clauses");
        foreach (var a in agreements.Items())
        {
            var latest = a.Prop("versions").Items().LastOrDefault();
            table.AddRow(
                Esc(a.Text("id")),
                Esc(a.Text("customer")),
                Esc(a.Text("parties")),
                Esc(string.Join(", ", a.Prop("versions").Items().Select(v => "v" + v.Text("number")))),
                Esc(latest.At("effectiveFrom")),
                Esc(latest.Text("clauses")));
        }

        Write(table, "no agreements yet; apply one with 'broker agreements apply FILE'");
        return ExitCodes.Ok;
    }
}

public sealed class AgreementShowSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The agreement's id, e.g. microsoft-openai.")]
    public string Id { get; init; } = string.Empty;
}

/// <summary><c>broker agreements show ID</c>: every version with its clauses.</summary>
public sealed class AgreementShowCommand : AsyncCommand<AgreementShowSettings>
{
    private static readonly string[] Shown = ["id", "kind"];

    public override async Task<int> ExecuteAsync(CommandContext context, AgreementShowSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var agreement = await client.GetAsync($"/v1/agreements/{Uri.EscapeDataString(settings.Id)}", cancellationToken);
        if (settings.Json)
        {
            Json(agreement);
            return ExitCodes.Ok;
        }

        AnsiConsole.MarkupLine($"[bold]{Esc(agreement.Text("id"))}[/]  customer {Esc(agreement.Text("customer"))}, parties {Esc(agreement.Text("parties"))}");
        foreach (var version in agreement.Prop("versions").Items())
        {
            AnsiConsole.Write(new Rule($"[bold]v{Esc(version.Text("number"))}[/] effective {Esc(version.At("effectiveFrom"))}") { Justification = Justify.Left });
            if (version.Text("note").Length > 0)
            {
                AnsiConsole.MarkupLine($"[grey]{Esc(version.Text("note"))}[/]");
            }

            var table = Table("clause", "kind", "terms");
            foreach (var clause in version.Prop("clauses").Items())
            {
                var terms = clause.EnumerateObject()
                    .Where(p => !Shown.Contains(p.Name, StringComparer.Ordinal) && p.Value.ValueKind != JsonValueKind.Null)
                    .Select(p => $"{p.Name}: {Compact(p.Value)}");
                table.AddRow(Esc(clause.Text("id")), Esc(clause.Text("kind")), Esc(string.Join("; ", terms)));
            }

            Write(table, "no clauses");
        }

        return ExitCodes.Ok;
    }

    private static string Compact(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}

public sealed class AgreementDiffSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The agreement's id.")]
    public string Id { get; init; } = string.Empty;

    [CommandArgument(1, "[V1]")]
    [Description("The version to compare from. Default: the one before the latest.")]
    public string? From { get; init; }

    [CommandArgument(2, "[V2]")]
    [Description("The version to compare to. Default: the latest.")]
    public string? To { get; init; }

    protected override ValidationResult ValidateArguments() =>
        From is not null && To is null
            ? ValidationResult.Error("V2: give both versions (e.g. 'agreements diff microsoft-openai 1 2') or neither (the latest against the one before)")
            : Arguments.All(Arguments.WholeNumber("V1", From, example: "1"), Arguments.WholeNumber("V2", To, example: "2"));
}

/// <summary><c>broker agreements diff ID [V1 V2]</c>: clause by clause, field by field.</summary>
public sealed class AgreementDiffCommand : AsyncCommand<AgreementDiffSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AgreementDiffSettings settings, CancellationToken cancellationToken)
    {
        var query = Arguments.Number(settings.From) is { } from && Arguments.Number(settings.To) is { } to
            ? string.Create(CultureInfo.InvariantCulture, $"?from={from}&to={to}")
            : string.Empty;
        using var client = new BrokerClient(settings.Server);
        var diff = await client.GetAsync($"/v1/agreements/{Uri.EscapeDataString(settings.Id)}/diff{query}", cancellationToken);
        if (settings.Json)
        {
            Json(diff);
            return ExitCodes.Ok;
        }

        AnsiConsole.MarkupLine($"[bold]{Esc(diff.Text("agreement"))}[/] v{Esc(diff.Text("from"))} ({Esc(diff.At("fromEffective"))}) → v{Esc(diff.Text("to"))} ({Esc(diff.At("toEffective"))})");
        var table = Table("clause", "kind", "change", "field", "before → after");
        var unchanged = 0;
        foreach (var clause in diff.Prop("clauses").Items())
        {
            var change = clause.Text("change");
            switch (change)
            {
                case "unchanged":
                    unchanged++;
                    continue;
                case "added":
                    table.AddRow(Esc(clause.Text("clause")), Esc(clause.Text("kind")), "[green]added[/]", string.Empty, string.Empty);
                    continue;
                case "removed":
                    table.AddRow(Esc(clause.Text("clause")), Esc(clause.Text("kind")), "[red]removed[/]", string.Empty, string.Empty);
                    continue;
            }

            var first = true;
            foreach (var field in clause.Prop("fields").Items())
            {
                table.AddRow(
                    first ? Esc(clause.Text("clause")) : string.Empty,
                    first ? Esc(clause.Text("kind")) : string.Empty,
                    first ? "[yellow]changed[/]" : string.Empty,
                    Esc(field.Text("field")),
                    $"{Esc(Value(field, "before"))} [grey]→[/] {Esc(Value(field, "after"))}");
                first = false;
            }
        }

        Write(table, "no clause changed");
        if (unchanged > 0)
        {
            AnsiConsole.MarkupLine($"[grey]{unchanged} clause(s) unchanged[/]");
        }

        return ExitCodes.Ok;
    }

    private static string Value(JsonElement field, string name) => field.Text(name) is { Length: > 0 } text ? text : "(none)";
}
