using System.Net.Http.Headers;
using ComputeBroker.Definitions;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ComputeBroker.Server.Tests.Infrastructure;

/// <summary>What an in-process broker runs on: its database, providers file, agreements applied at start, and clock.</summary>
public sealed record BrokerSetup(string Database, string ProvidersYaml, TimeProvider Clock)
{
    public IReadOnlyList<(string Name, string Text)> Agreements { get; init; } = [(Examples.JanuaryAgreementPath, Examples.JanuaryAgreement)];

    public int Seed { get; init; } = 1;
}

/// <summary>
/// The broker as <c>broker serve</c> builds it (<see cref="BrokerHost.BuildAsync"/>), listening on a free loopback
/// port, with real HTTP clients. Keys are created through the service itself, as <c>broker keys create</c> does.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SocketsHttpHandler _handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
    private bool _stopped;

    private TestBroker(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Service = app.Services.GetRequiredService<BrokerService>();
    }

    public Uri BaseAddress { get; }

    public BrokerService Service { get; }

    public static async Task<TestBroker> StartAsync(BrokerSetup setup)
    {
        var providers = DefinitionReader.ReadProviders(setup.ProvidersYaml, "providers.yaml");
        Assert.True(providers.Ok, string.Join('\n', providers.Errors));
        var options = new ServeOptions
        {
            Database = setup.Database,
            Urls = "http://127.0.0.1:0",
            Providers = providers.Value!.Providers,
            Policy = providers.Value.Policy,
            Agreements = setup.Agreements,
            Clock = setup.Clock,
            Seed = setup.Seed,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var app = await BrokerHost.BuildAsync(options, timeout.Token);
        try
        {
            await app.StartAsync(timeout.Token);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        // Port 0: Kestrel picked a free port; the bound address is the one to call.
        return new TestBroker(app, new Uri(app.Urls.Single()));
    }

    /// <summary>A client that sends <paramref name="apiKey"/> as a bearer token (none when null).</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient(_handler, disposeHandler: false) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>Creates a key for <paramref name="role"/> (admin, auditor, customer:ID, provider:ID) and returns the key itself.</summary>
    public async Task<(string Key, string Id)> CreateKeyAsync(string role)
    {
        Assert.True(Role.TryParse(role, out var parsed, out var error), error);
        var (key, record) = await Service.CreateKeyAsync(parsed, "test key", CancellationToken.None);
        return (key, record.Id);
    }

    /// <summary>Stops the host the way Ctrl+C stops <c>broker serve</c>: the service and the store are closed.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _handler.Dispose();
    }
}
