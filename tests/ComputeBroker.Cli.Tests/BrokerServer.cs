using System.Runtime.CompilerServices;
using ComputeBroker.Definitions;
using ComputeBroker.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ComputeBroker.Cli.Tests;

/// <summary>
/// A real broker (<see cref="BrokerHost"/>) on loopback, on a SQLite file in its own temporary directory,
/// with a fake clock stopped at <see cref="Start"/> so that nothing moves unless a test answers or
/// advances it. The providers answer through the API (webhook connectors), so offers and quotes stay
/// open for the CLI to answer. BROKER_ADMIN_KEY makes <see cref="AdminKey"/> the first admin key.
/// </summary>
public sealed class BrokerServer : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The admin key every test server registers at first start (cbk_ + 10 characters + _ + secret).</summary>
    public const string AdminKey = "cbk_0a1b2c3d4e_cli-tests-admin-secret-not-for-production";

    public const string ProvidersYaml =
        """
        kind: providers
        providers:
          - id: azure
            name: Microsoft Azure
            connector: webhook
            url: https://127.0.0.1:9/azure
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
            regions: [eastus, westus3]
            prices:
              - { accelerator: H100, price: 12.29 USD }
          - id: coreweave
            name: CoreWeave
            connector: webhook
            url: https://127.0.0.1:9/coreweave
            secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
            regions: [us-east-04, eastus]
            prices:
              - { accelerator: H100, price: 3.00 USD }
        """;

    /// <summary>A second agreement with two versions (for diff) and a spend commitment (for the ledger).</summary>
    public const string AcmeAgreementYaml =
        """
        kind: agreement
        id: acme-coreweave
        customer: acme
        parties: [acme, coreweave]
        versions:
          - version: 1
            effective: 2025-01-01T00:00:00Z
            note: First contract.
            clauses:
              - id: coreweave-commitment
                kind: commitment
                provider: coreweave
                amount: 1000000 USD
                deadline: 2025-12-31
              - id: coreweave-exclusivity
                kind: exclusivity
                provider: coreweave
                until: 2025-06-01
                scope:
                  workload-classes: [inference]
          - version: 2
            effective: 2025-03-01T00:00:00Z
            note: A bigger commitment, no exclusivity, a revenue share.
            clauses:
              - id: coreweave-commitment
                kind: commitment
                provider: coreweave
                amount: 2500000 USD
                deadline: 2026-06-30
              - id: coreweave-share
                kind: revenue-share
                payer: acme
                payee: coreweave
                rate: 5%
                basis: revenue
        """;

    private readonly WebApplication _app;

    private BrokerServer(WebApplication app, string directory, string database, string url, FakeTimeProvider clock)
    {
        _app = app;
        Directory = directory;
        Database = database;
        Url = url;
        Clock = clock;
    }

    /// <summary>A temporary directory for this server's files; the CLI runs with it as working directory.</summary>
    public string Directory { get; }

    public string Database { get; }

    public string Url { get; }

    public FakeTimeProvider Clock { get; }

    /// <param name="directory">Where the database lives (a new temporary directory if null).</param>
    /// <param name="applyExampleAgreement">Apply the January 2025 example agreement at start.</param>
    public static async Task<BrokerServer> StartAsync(string? directory = null, bool applyExampleAgreement = true)
    {
        Environment.SetEnvironmentVariable("BROKER_ADMIN_KEY", AdminKey);
        directory ??= NewDirectory();
        var database = Path.Combine(directory, "broker.db");
        var providers = DefinitionReader.ReadProviders(ProvidersYaml, "test-providers.yaml");
        Assert.True(providers.Ok, string.Join("\n", providers.Errors));
        var clock = new FakeTimeProvider(Start);
        var agreements = applyExampleAgreement
            ? new[] { ("microsoft-openai-2025-01.yaml", File.ReadAllText(Repo.Path("examples/agreements/microsoft-openai-2025-01.yaml"))), ("acme-coreweave.yaml", AcmeAgreementYaml) }
            : [];
        var app = await BrokerHost.BuildAsync(
            new ServeOptions
            {
                Database = database,
                Urls = "http://127.0.0.1:0",
                Providers = providers.Value!.Providers,
                Policy = providers.Value.Policy,
                Agreements = agreements,
                Clock = clock,
            },
            CancellationToken.None);
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new BrokerServer(app, directory, database, url, clock);
    }

    public static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cb-cli-tests", Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Deletes a directory from <see cref="NewDirectory"/>; best effort, a leftover temp file fails no test.</summary>
    public static void DeleteDirectory(string directory)
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Runs the CLI against this server with the admin key.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunAsAsync(AdminKey, args);

    /// <summary>Runs the CLI against this server with <paramref name="key"/> (no key when null).</summary>
    public Task<CliResult> RunAsAsync(string? key, params string[] args) =>
        BrokerProcess.RunAsync(new Dictionary<string, string?> { ["BROKER_SERVER"] = Url, ["BROKER_API_KEY"] = key }, Directory, args);

    /// <summary>Creates a key with <c>broker keys create --json</c> (as admin) and returns it.</summary>
    public async Task<string> CreateKeyAsync(string role)
    {
        var result = await RunAsync("keys", "create", "--role", role, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json().GetProperty("key").GetString()!;
    }

    /// <summary>Writes a file into <see cref="Directory"/> and returns its path.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>Paths in the repository, found from this source file.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    private static string FindRoot([CallerFilePath] string source = "") =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(source)!, "..", ".."));
}

/// <summary>The server the client-verb tests share; each test uses its own request ids.</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public BrokerServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await BrokerServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        BrokerServer.DeleteDirectory(Server.Directory);
    }
}

[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "broker server";
}
