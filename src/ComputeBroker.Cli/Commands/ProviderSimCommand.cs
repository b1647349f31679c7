using System.ComponentModel;
using ComputeBroker.Cli.ProviderSim;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Server.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public sealed class ProviderSimSettings : CommandSettings
{
    [CommandOption("--listen <URL>")]
    [Description("Where to receive the broker's webhooks, e.g. http://127.0.0.1:7001 (the providers file's url: for this provider).")]
    public string? Listen { get; init; }

    [CommandOption("--provider <ID>")]
    [Description("The provider this process answers for, e.g. azure.")]
    public string? Provider { get; init; }

    [CommandOption("--secret <WHSEC>")]
    [Description("The webhook signing secret (whsec_...), or env:NAME. Repeat during a rotation to accept either secret. Default: BROKER_WEBHOOK_SECRET.")]
    public string[] Secrets { get; init; } = [];

    [CommandOption("--server <URL>")]
    [Description("The broker's API, where answers are sent. Default: BROKER_SERVER or http://127.0.0.1:5080.")]
    public string? Server { get; init; }

    [CommandOption("--key <KEY>")]
    [Description("The provider's API key (role provider:ID). Default: BROKER_API_KEY.")]
    public string? Key { get; init; }

    [CommandOption("--providers|--capacity <FILE>")]
    [Description("Providers file holding this provider's regions, prices and capacity (the inventory model). Default: the example providers.")]
    public string? Providers { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed for the inventory model's random draws (reservation failures).")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Listen) || !Uri.TryCreate(Listen, UriKind.Absolute, out var listen) || listen.Scheme is not ("http" or "https"))
        {
            return ValidationResult.Error("--listen: give the URL to receive webhooks on, e.g. http://127.0.0.1:7001");
        }

        return string.IsNullOrWhiteSpace(Provider) ? ValidationResult.Error("--provider: name the provider to answer for, e.g. azure") : ValidationResult.Success();
    }
}

/// <summary><c>broker provider-sim</c>: the reference webhook provider, as an external process.</summary>
public sealed class ProviderSimCommand : AsyncCommand<ProviderSimSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProviderSimSettings settings, CancellationToken cancellationToken)
    {
        var (text, name) = InputFiles.Read(settings.Providers, InputFiles.ExampleProviders);
        var providers = InputFiles.Require(DefinitionReader.ReadProviders(text, name));
        var definition = providers.Providers.FirstOrDefault(p => p.Id.Value == settings.Provider)
            ?? throw new UserInputException($"--provider: {name} has no provider '{settings.Provider}'; it has {string.Join(", ", providers.Providers.Select(p => p.Id))}");
        var references = settings.Secrets.Length > 0 ? settings.Secrets
            : Environment.GetEnvironmentVariable("BROKER_WEBHOOK_SECRET") is { Length: > 0 } fromEnv ? [fromEnv]
            : throw new UserInputException("--secret: give the whsec_ secret the broker signs with (or set BROKER_WEBHOOK_SECRET)");
        var secrets = new List<WebhookSecret>();
        foreach (var reference in references)
        {
            if (WebhookSigning.Check(reference) is { } problem)
            {
                throw new UserInputException($"--secret {problem}");
            }

            try
            {
                secrets.Add(WebhookSecret.Resolve(reference, Environment.GetEnvironmentVariable, "--secret"));
            }
            catch (InvalidOperationException ex)
            {
                throw new UserInputException(ex.Message);
            }
        }

        var key = settings.Key ?? Environment.GetEnvironmentVariable("BROKER_API_KEY")
            ?? throw new UserInputException($"--key: give the API key of provider:{definition.Id} (create one with POST /v1/keys, role provider:{definition.Id})");
        var server = settings.Server ?? Environment.GetEnvironmentVariable("BROKER_SERVER") ?? BrokerClient.DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri))
        {
            throw new UserInputException($"--server: '{server}' is not a URL (e.g. {BrokerClient.DefaultServer})");
        }

        await using var provider = new ReferenceProvider(definition, secrets, serverUri, key.Trim(), settings.Seed,
            line => AnsiConsole.MarkupLineInterpolated($"[grey]{DateTimeOffset.UtcNow:HH:mm:ss}[/] {definition.Id}: {line}"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(settings.Listen!);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await using var app = builder.Build();
        app.MapGet("/healthz", () => Results.Ok(new
        {
            provider = definition.Id,
            received = provider.Stats.Received,
            verified = provider.Stats.Verified,
            rejected = provider.Stats.Rejected,
            duplicates = provider.Stats.Duplicates,
            answered = provider.Stats.Answered,
            refused = provider.Stats.Refused,
        }));
        app.MapPost("/{**path}", (Delegate)((HttpContext http) => provider.ReceiveAsync(http)));
        await app.StartAsync(cancellationToken);
        AnsiConsole.MarkupLineInterpolated($"[bold]provider-sim[/] {definition.Id} listening on {settings.Listen} ({secrets.Count} secret(s)), answering through {serverUri}");
        await app.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
