using System.ComponentModel;
using ComputeBroker.Server.Security;
using Spectre.Console;
using Spectre.Console.Cli;
using static ComputeBroker.Cli.Commands.Output;

namespace ComputeBroker.Cli.Commands;

public sealed class KeyCreateSettings : ClientSettings
{
    [CommandOption("--role <ROLE>")]
    [Description("What the key may do (required): admin, auditor, customer:ID or provider:ID.")]
    public string? Role { get; init; }

    [CommandOption("--note <TEXT>")]
    [Description("Who or what the key is for, shown in 'keys list'.")]
    public string? Note { get; init; }

    [CommandOption("--db <DB>")]
    [Description("Create the key directly in this database, with no server (how the first admin key is made).")]
    public string? Database { get; init; }

    protected override ValidationResult ValidateArguments()
    {
        if (Role is null)
        {
            return ValidationResult.Error("--role is required: admin, auditor, customer:ID or provider:ID, e.g. --role provider:azure");
        }

        if (!ComputeBroker.Server.Security.Role.TryParse(Role, out _, out var error))
        {
            return ValidationResult.Error($"--role: {error}");
        }

        return Arguments.All(
            Arguments.Database(Database),
            Database is not null && Server is not null
                ? ValidationResult.Error("--db and --server: give one; --db writes the key into the database directly, --server asks a running broker")
                : ValidationResult.Success());
    }
}

/// <summary><c>broker keys create --role ROLE</c>: the key is printed once; only its hash is stored.</summary>
public sealed class KeyCreateCommand : AsyncCommand<KeyCreateSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeyCreateSettings settings, CancellationToken cancellationToken)
    {
        if (!Role.TryParse(settings.Role, out var role, out var error))
        {
            throw new UserInputException($"--role: {error}"); // Validate() refused it already; kept for callers that skip validation
        }

        string id, key, roleText;
        if (settings.Database is { } db)
        {
            (key, var record) = await DirectDatabase.RunAsync(db, mustExist: false, service => service.CreateKeyAsync(role, settings.Note, cancellationToken), cancellationToken);
            (id, roleText) = (record.Id, record.Role.ToString());
        }
        else
        {
            using var client = new BrokerClient(settings.Server);
            var body = new Dictionary<string, string> { ["role"] = role.ToString() };
            if (settings.Note is not null)
            {
                body["note"] = settings.Note;
            }

            var created = await client.PostAsync("/v1/keys", body, cancellationToken);
            (id, key, roleText) = (created.Text("id"), created.Text("key"), created.Text("role"));
        }

        if (settings.Json)
        {
            Json(new { id, role = roleText, key, note = settings.Note });
            return ExitCodes.Ok;
        }

        AnsiConsole.MarkupLine($"[green]created[/] key {Esc(id)} with role {Esc(roleText)}");
        Console.Out.WriteLine(key);
        AnsiConsole.MarkupLine("[yellow]warning:[/] the key is shown this once and cannot be shown again (only its hash is stored); keep it now, e.g. export BROKER_API_KEY=<key>");
        return ExitCodes.Ok;
    }
}

public sealed class KeyListSettings : ClientSettings;

/// <summary><c>broker keys list</c>: ids, roles and notes (never the keys themselves).</summary>
public sealed class KeyListCommand : AsyncCommand<KeyListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeyListSettings settings, CancellationToken cancellationToken)
    {
        using var client = new BrokerClient(settings.Server);
        var keys = await client.GetAsync("/v1/keys", cancellationToken);
        if (settings.Json)
        {
            Json(keys);
            return ExitCodes.Ok;
        }

        var table = Table("id", "role", "created (UTC)", "note", "revoked (UTC)");
        foreach (var k in keys.Items())
        {
            table.AddRow(Esc(k.Text("id")), Esc(k.Text("role")), Esc(k.At("createdAt")), Esc(k.Text("note")), k.At("revokedAt") is { Length: > 0 } revoked ? $"[red]{Esc(revoked)}[/]" : string.Empty);
        }

        Write(table, "no keys");
        return ExitCodes.Ok;
    }
}

public sealed class KeyRevokeSettings : ClientSettings
{
    [CommandArgument(0, "<ID>")]
    [Description("The key's id (the part after cbk_, as 'keys list' shows it).")]
    public string Id { get; init; } = string.Empty;

    [CommandOption("--db <DB>")]
    [Description("Revoke directly in this database, with no server.")]
    public string? Database { get; init; }

    protected override ValidationResult ValidateArguments() => Arguments.All(
        Arguments.Database(Database),
        Database is not null && Server is not null
            ? ValidationResult.Error("--db and --server: give one; --db revokes in the database directly, --server asks a running broker")
            : ValidationResult.Success());
}

/// <summary><c>broker keys revoke ID</c>: the key stops working at once (a running server within a second with --db).</summary>
public sealed class KeyRevokeCommand : AsyncCommand<KeyRevokeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KeyRevokeSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Database is { } db)
        {
            if (!await DirectDatabase.RunAsync(db, mustExist: true, service => service.RevokeKeyAsync(settings.Id, cancellationToken), cancellationToken))
            {
                throw new UserInputException($"ID: no active key {settings.Id} in {db}; see the ids with 'broker keys list'");
            }
        }
        else
        {
            using var client = new BrokerClient(settings.Server);
            await client.DeleteAsync($"/v1/keys/{Uri.EscapeDataString(settings.Id)}", cancellationToken);
        }

        if (settings.Json)
        {
            Json(new { id = settings.Id, revoked = true });
            return ExitCodes.Ok;
        }

        Done($"revoked key {settings.Id}");
        return ExitCodes.Ok;
    }
}
