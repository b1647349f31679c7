using System.ComponentModel;
using System.Text.Json;
using ComputeBroker.Storage.Integrity;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class AuditVerifySettings : ClientSettings
{
    [CommandOption("--digest <FILE>")]
    [Description("A digest kept outside the database (from 'broker audit digest --out'): also check that nothing it covers was changed, deleted or added.")]
    public string? Digest { get; init; }

    [CommandOption("--db <DB>")]
    [Description("Verify this database directly, with no server: a SQLite file or a PostgreSQL connection string.")]
    public string? Database { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.ExistingFile("--digest", Digest),
        Arguments.Database(Database),
        Database is not null && Server is not null
            ? ValidationResult.Error("--db and --server: give one; --db verifies the database directly, --server asks a running broker")
            : ValidationResult.Success());
}

/// <summary>
/// <c>broker audit verify</c>: recomputes every hash chain (and the digest, if given) and replays the
/// invariants. Exit 1 when anything fails, naming each finding and each violation.
/// </summary>
public sealed class AuditVerifyCommand : AsyncCommand<AuditVerifySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AuditVerifySettings settings, CancellationToken cancellationToken)
    {
        DigestDocument? expected = null;
        if (settings.Digest is { } file)
        {
            try
            {
                expected = await DigestDocument.ReadAsync(file, cancellationToken);
            }
            catch (FormatException ex)
            {
                throw new UserInputException($"--digest: {ex.Message}; give a file written by 'broker audit digest --out FILE'");
            }
        }

        JsonElement result;
        if (settings.Database is { } db)
        {
            var audit = await DirectDatabase.RunAsync(db, mustExist: true, service => service.AuditAsync(expected, cancellationToken), cancellationToken);
            result = JsonSerializer.SerializeToElement(audit, CliJson.Indented);
        }
        else
        {
            using var client = new BrokerClient(settings.Server);
            result = expected is null
                ? await client.PostAsync("/v1/audit/verify", null, cancellationToken)
                : await client.PostRawAsync("/v1/audit/verify", expected.ToJson(), "application/json", cancellationToken);
        }

        var passed = result.Text("passed") == "true";
        if (settings.Json)
        {
            Json(result);
        }
        else
        {
            Render(result, passed, settings.Database);
        }

        return passed ? ExitCodes.Ok : ExitCodes.UserError;
    }

    private static void Render(JsonElement result, bool passed, string? db)
    {
        var integrity = result.Prop("integrity");
        var where = db is null ? "the broker's log" : db;
        AnsiConsole.MarkupLine(passed
            ? $"[green]passed[/] {Esc(where)}: {Esc(result.Text("eventsChecked"))} events in {Esc(integrity.Text("streamCount"))} streams verified"
            : $"[red]FAILED[/] {Esc(where)}: {Esc(result.Text("eventsChecked"))} events in {Esc(integrity.Text("streamCount"))} streams checked");
        var facts = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        facts.AddRow("hash chains", integrity.Text("passed") == "true" ? "[green]intact[/]" : $"[red]{integrity.Prop("findings").GetArrayLength()} finding(s)[/]");
        facts.AddRow("digest", integrity.Text("digestChecked") == "true" ? (integrity.Prop("findings").Items().Any(f => f.Text("kind") == "digest-mismatch") ? "[red]does not match[/]" : "[green]matches[/]") : "[grey]not checked (pass --digest FILE)[/]");
        facts.AddRow("workflow invariants", result.Prop("violations").GetArrayLength() == 0 ? "[green]hold[/]" : $"[red]{result.Prop("violations").GetArrayLength()} violation(s)[/]");
        facts.AddRow("ledger invariants", result.Prop("ledgerViolations").GetArrayLength() == 0 ? "[green]hold[/]" : $"[red]{result.Prop("ledgerViolations").GetArrayLength()} violation(s)[/]");
        facts.AddRow("root", Esc(integrity.Text("root")));
        facts.AddRow("last position", Esc(integrity.Text("lastPosition")));
        AnsiConsole.Write(facts);

        var findings = Table("kind", "stream", "version", "position", "message");
        foreach (var f in integrity.Prop("findings").Items())
        {
            findings.AddRow($"[red]{Esc(f.Text("kind"))}[/]", Esc(f.Text("stream") is { Length: > 0 } s ? s : "(store)"), Esc(f.Text("version")), Esc(f.Text("position")), Esc(f.Text("message")));
        }

        if (findings.Rows.Count > 0)
        {
            AnsiConsole.Write(findings);
        }

        var violations = Table("invariant", "subject", "event", "message");
        foreach (var v in result.Prop("violations").Items())
        {
            violations.AddRow($"[red]{Esc(v.Text("invariant"))}[/]", Esc("request " + v.Text("request")), Esc($"#{v.Text("eventIndex")} {v.Text("eventType")}"), Esc(v.Text("message")));
        }

        foreach (var v in result.Prop("ledgerViolations").Items())
        {
            violations.AddRow($"[red]{Esc(v.Text("invariant"))}[/]", Esc("ledger " + v.Text("customer")), Esc($"#{v.Text("eventIndex")} {v.Text("eventType")}"), Esc(v.Text("message")));
        }

        if (violations.Rows.Count > 0)
        {
            AnsiConsole.Write(violations);
        }
    }
}

public sealed class AuditDigestSettings : ClientSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Write the digest to FILE (atomically). Keep it outside the database: another disk, a WORM bucket, the auditor's mailbox.")]
    public string? Out { get; init; }

    [CommandOption("--db <DB>")]
    [Description("Take the digest from this database directly, with no server; it then also records every stream's head, so a later mismatch names the stream.")]
    public string? Database { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.Database(Database),
        Database is not null && Server is not null
            ? ValidationResult.Error("--db and --server: give one; --db reads the database directly, --server asks a running broker")
            : ValidationResult.Success());
}

/// <summary><c>broker audit digest</c>: the digest of the log now, printed or written to a file.</summary>
public sealed class AuditDigestCommand : AsyncCommand<AuditDigestSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AuditDigestSettings settings, CancellationToken cancellationToken)
    {
        DigestDocument digest;
        if (settings.Database is { } db)
        {
            digest = await DirectDatabase.RunAsync(db, mustExist: true, service => Digest.CaptureAsync(service.Store, TimeProvider.System, DigestDetail.WithStreamHeads, cancellationToken), cancellationToken);
        }
        else
        {
            using var client = new BrokerClient(settings.Server);
            digest = DigestDocument.FromJson(await client.GetTextAsync("/v1/audit/digest", cancellationToken), "the server's digest");
        }

        if (settings.Out is { } file)
        {
            try
            {
                await digest.WriteAsync(file, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"--out: cannot write {file} ({ex.Message}); choose a writable path");
            }
        }

        if (settings.Json || settings.Out is null)
        {
            Console.Out.WriteLine(digest.ToJson());
        }
        else
        {
            Done($"wrote digest {digest.Root} ({digest.EventCount} events, {digest.StreamCount} streams, up to position {digest.GlobalPosition}) to {settings.Out}");
            AnsiConsole.MarkupLine($"[grey]check later with: broker audit verify --digest {Esc(settings.Out)}[/]");
        }

        return ExitCodes.Ok;
    }
}
