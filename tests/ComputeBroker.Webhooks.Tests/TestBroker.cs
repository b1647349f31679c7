using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;
using ComputeBroker.Server.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// The broker in-process, as 'broker serve' runs it (BrokerHost on a temporary SQLite file, on a free loopback
/// port), with a known admin key from BROKER_ADMIN_KEY and an HTTP client that uses it.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    public const string AdminKey = "cbk_00000000aa_webhooks-tests-admin-key";

    private readonly WebApplication _app;
    private readonly TempFile _file;

    private TestBroker(WebApplication app, TempFile file, Uri url)
    {
        _app = app;
        _file = file;
        Url = url;
        Admin = Client(AdminKey);
    }

    public Uri Url { get; }

    public HttpClient Admin { get; }

    public static async Task<TestBroker> StartAsync(string providersYaml, string agreementYaml, WebhookOptions? webhooks = null)
    {
        Environment.SetEnvironmentVariable("BROKER_ADMIN_KEY", AdminKey);
        var providers = DefinitionReader.ReadProviders(providersYaml, "providers.yaml");
        Assert.True(providers.Ok, string.Join("\n", providers.Errors));
        var file = TestSecrets.TempDatabase();
        var options = new ServeOptions
        {
            Database = file.Path,
            Urls = "http://127.0.0.1:0",
            Providers = providers.Value!.Providers,
            Policy = providers.Value.Policy,
            Agreements = [("agreement.yaml", agreementYaml)],
            Webhooks = webhooks ?? new WebhookOptions(),
        };
        var app = await BrokerHost.BuildAsync(options, CancellationToken.None);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestBroker(app, file, new Uri(address + "/"));
    }

    public HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<string> CreateKeyAsync(string role)
    {
        using var response = await Admin.PostAsJsonAsync("v1/keys", new { role });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    public async Task<string> SubmitAsync(string id, int gpus, TimeSpan neededIn, string workloadClass = "training")
    {
        var now = DateTimeOffset.UtcNow;
        using var response = await Admin.PostAsJsonAsync("v1/requests", new
        {
            id,
            customer = "openai",
            workloadClass,
            accelerator = "H100",
            gpus,
            earliestStart = now.AddDays(30).ToString("O", CultureInfo.InvariantCulture),
            durationHours = 240,
            maxPrice = "13.00 USD",
            neededBy = now.Add(neededIn).ToString("O", CultureInfo.InvariantCulture),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return id;
    }

    /// <summary>The broker service inside the host, for reading a request's view and timeline as stored.</summary>
    public BrokerService Service => _app.Services.GetRequiredService<BrokerService>();

    public RequestView Request(string id) => Service.Projection.Request(new RequestId(id)) ?? throw new InvalidOperationException($"no request {id}");

    public async Task<SourcingEvent[]> TimelineAsync(string id) =>
        (await Service.TimelineAsync(new RequestId(id), CancellationToken.None)).Select(t => t.Event).ToArray();

    /// <summary>Polls until the request is closed; fails with its state if it is not within <paramref name="timeout"/>.</summary>
    public async Task<RequestView> WaitClosedAsync(string id, TimeSpan timeout)
    {
        var until = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var view = Request(id);
            if (view.ClosedAt is not null)
            {
                return view;
            }

            Assert.True(DateTimeOffset.UtcNow < until, $"request {id} is still open after {timeout}: {view}");
            await Task.Delay(200);
        }
    }

    public async Task<JsonElement[]> DeliveriesAsync(string? provider = null)
    {
        var page = await Admin.GetFromJsonAsync<JsonElement>("v1/deliveries?limit=500" + (provider is null ? string.Empty : "&provider=" + provider));
        return page.GetProperty("items").EnumerateArray().ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _file.Dispose();
    }

    /// <summary>An agreement where <c>azure</c> holds first refusal on training requests, answering within <paramref name="responseWindow"/>.</summary>
    public static string Agreement(string responseWindow) => $"""
        kind: agreement
        id: test-agreement
        customer: openai
        parties: [openai, microsoft]
        versions:
          - version: 1
            effective: 2025-01-01T00:00:00Z
            clauses:
              - id: azure-first-refusal
                kind: first-refusal
                holder: azure
                scope:
                  workload-classes: [training]
                response-window: {responseWindow}
                partial: true
                mode: first-offer
        """;

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Broker-level tests share the machine's two cores; they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerCollection
{
    public const string Name = "broker";
}
