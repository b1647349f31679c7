using System.ComponentModel;
using System.Data.Common;
using ComputeBroker.Definitions;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeBroker.Cli.Commands;

public sealed class ServeSettings : CommandSettings
{
    [CommandOption("--db <DB>")]
    [Description("A SQLite file (default broker.db; broker-demo.db with --demo) or a PostgreSQL connection string (postgres://user:pass@host/db or Host=...;Database=...).")]
    public string? Database { get; init; }

    public string DatabaseOrDefault => Database ?? (Demo ? "broker-demo.db" : "broker.db");

    [CommandOption("--urls <URLS>")]
    [Description("Where to listen.")]
    [DefaultValue("http://127.0.0.1:5080")]
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    [CommandOption("--providers <FILE>")]
    [Description("Providers file. Default: the example providers.")]
    public string? Providers { get; init; }

    [CommandOption("--agreement <FILE>")]
    [Description("Agreement file(s) to apply at start (skipped if already applied).")]
    public string[] Agreements { get; init; } = [];

    [CommandOption("--demo")]
    [Description("Load the example agreement and providers, create an admin key if none exists, run the clock 3600x faster (1 s = 1 h) and submit example requests continuously.")]
    public bool Demo { get; init; }

    [CommandOption("--speed <N>")]
    [Description("Run the broker's clock N times faster than real time (demo default 3600); it continues from the log's last event if that is later than now.")]
    public double? Speed { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed for simulated providers and demo traffic.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    public override ValidationResult Validate()
    {
        if (Speed is < 1)
        {
            return ValidationResult.Error($"--speed must be at least 1 (real time), not {Speed}");
        }

        if (UrlsProblem(Urls) is { } urls)
        {
            return ValidationResult.Error($"--urls: {urls}");
        }

        return EventStoreLocation.TryParse(DatabaseOrDefault, out _, out var error) ? ValidationResult.Success() : ValidationResult.Error($"--db: {error}");
    }

    /// <summary>
    /// What is wrong with <paramref name="urls"/> (addresses separated by ';', as the web server reads them), or null: each
    /// is checked the way the server will parse it, plus its port's range, before anything is opened or created.
    /// </summary>
    private static string? UrlsProblem(string urls)
    {
        const string Example = "e.g. --urls http://127.0.0.1:5080 or --urls \"http://0.0.0.0:5080;https://0.0.0.0:5443\"";
        foreach (var url in urls.Split(';', StringSplitOptions.TrimEntries))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                return $"'{url}' is not an address to listen on; give scheme, host and port, {Example}";
            }

            if (address.Scheme is not ("http" or "https"))
            {
                return $"'{url}': the scheme must be http or https, {Example}";
            }

            if (!address.IsUnixPipe && address.Port is < 0 or > 65535)
            {
                return $"'{url}': port {address.Port} is not a TCP port (0 to 65535), {Example}";
            }
        }

        return null;
    }
}

/// <summary><c>broker serve</c>: the durable broker service.</summary>
public sealed class ServeCommand : AsyncCommand<ServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellationToken)
    {
        var (providersText, providersName) = InputFiles.Read(settings.Providers, InputFiles.ExampleProviders);
        var providers = InputFiles.Require(DefinitionReader.ReadProviders(providersText, providersName));
        var agreements = settings.Agreements.Select(f => InputFiles.Read(f, InputFiles.ExampleAgreement)).Select(t => (t.Name, t.Text)).ToList();
        if (settings.Demo && agreements.Count == 0)
        {
            var example = InputFiles.Read(null, InputFiles.ExampleAgreement);
            agreements.Add((example.Name, example.Text));
        }

        foreach (var (name, text) in agreements)
        {
            InputFiles.Require(DefinitionReader.ReadAgreement(text, name));
        }

        var speed = settings.Speed ?? (settings.Demo ? 3600 : 1);
        TimeProvider clock = speed > 1 ? new ScaledTimeProvider(TimeProvider.System.GetUtcNow(), speed) : TimeProvider.System;
        var options = new ServeOptions
        {
            Database = settings.DatabaseOrDefault,
            Urls = settings.Urls,
            Providers = providers.Providers,
            Policy = providers.Policy,
            Agreements = agreements,
            Clock = clock,
            DemoTraffic = settings.Demo,
            CreateAdminKeyIfMissing = settings.Demo,
            Seed = settings.Seed,
            AdminKeyFile = settings.Demo && EventStoreLocation.Parse(settings.DatabaseOrDefault).Provider == StorageProvider.Sqlite
                ? settings.DatabaseOrDefault + ".admin-key"
                : null,
        };

        WebApplication built;
        try
        {
            built = await BrokerHost.BuildAsync(options, cancellationToken);
        }
        catch (DbException e)
        {
            // A server that is not there, a password refused, a file that cannot be opened: the --db the user gave.
            throw new UserInputException($"--db: cannot open {EventStoreLocation.Parse(settings.DatabaseOrDefault)}: {e.Message}; check that the database server runs and the address, user and password");
        }

        await using var app = built;
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            throw new UserInputException($"--urls: {e.Message.TrimEnd('.')}; stop what listens there, or give another port, e.g. --urls http://127.0.0.1:5081");
        }

        // Only now that it listens: an address it could not take is reported above instead.
        AnsiConsole.MarkupLineInterpolated($"[bold]ComputeBroker[/] serving on [link]{settings.Urls}[/]  (log: {EventStoreLocation.Parse(settings.DatabaseOrDefault)})");
        AnsiConsole.MarkupLineInterpolated($"  dashboard [link]{settings.Urls.Split(';')[0]}/[/]   API reference [link]{settings.Urls.Split(';')[0]}/docs[/]   OpenAPI {settings.Urls.Split(';')[0]}/openapi/v1.json");
        if (speed > 1)
        {
            AnsiConsole.MarkupLineInterpolated($"  clock runs {speed:N0}x real time: one real second is {TimeSpan.FromSeconds(speed)} of broker time");
        }

        AnsiConsole.MarkupLine("  press Ctrl+C to stop");
        await app.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
