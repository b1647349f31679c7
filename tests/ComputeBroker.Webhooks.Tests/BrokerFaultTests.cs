using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Sourcing;
using Microsoft.AspNetCore.Http;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>
/// Faults never stall requests: whatever the holder's webhook endpoint does (errors, hangs, drops the connection,
/// refuses the signatures, is down), its offer expires on time, the request goes to the market and closes exactly
/// once, and the holder's late answer gets a 409 problem that changes nothing.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerFaultTests
{
    private static readonly WebhookOptions FastRetries = new()
    {
        Retry = new WebhookRetryPolicy(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), 50, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)),
        PollInterval = TimeSpan.FromMilliseconds(100),
        Seed = 7,
    };

    [Theory]
    [InlineData("500")]
    [InlineData("timeout")]
    [InlineData("drop")]
    [InlineData("bad-signature")]
    [InlineData("down")]
    public async Task HolderEndpointFault_OfferExpiresOnTimeAndTheMarketPlacesTheRequest(string fault)
    {
        await using var endpoint = await TestEndpoint.StartAsync();
        endpoint.Behaviour = fault switch
        {
            "500" => (_, http) => TestEndpoint.Status(http, 500),
            "timeout" => (_, http) => TestEndpoint.Hang(http),
            "drop" => (_, http) => TestEndpoint.Drop(http),
            _ => (_, http) => TestEndpoint.Status(http, 401), // a receiver that cannot verify the signatures refuses them
        };
        var url = fault == "down" ? $"http://127.0.0.1:{TestBroker.FreePort()}/hooks" : endpoint.Url.ToString();
        await using var broker = await TestBroker.StartAsync(Providers(url, fault == "bad-signature" ? TestSecrets.Other : TestSecrets.Current), TestBroker.Agreement("PT3S"), FastRetries);
        var azure = broker.Client(await broker.CreateKeyAsync("provider:azure"));

        var id = await broker.SubmitAsync($"r-{fault}", 256, TimeSpan.FromHours(1));
        var view = await broker.WaitClosedAsync(id, TimeSpan.FromSeconds(60));

        var timeline = await broker.TimelineAsync(id);
        var offer = timeline.OfType<OfferMade>().Single();
        var expired = timeline.OfType<OfferExpired>().Single();
        Assert.InRange(expired.At - offer.RespondBy, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Single(timeline.OfType<RequestClosed>());
        Assert.Equal("placed", view.State);
        Assert.Equal(["oracle"], view.Allocations.Select(a => a.Provider.Value));

        // The holder's answer after the deadline: a 409 problem, and nothing changes.
        using var late = await azure.PostAsJsonAsync($"v1/offers/{offer.Offer.Value}/accept", new { gpus = 256 });
        var problem = await late.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("/problems/conflict", problem.GetProperty("type").GetString());
        Assert.Equal(timeline.Length, (await broker.TimelineAsync(id)).Length);

        // Every webhook to the holder is kept, none lost: the offer and its expiry wait for a working endpoint.
        var deliveries = await broker.DeliveriesAsync("azure");
        Assert.Contains(deliveries, d => d.GetProperty("type").GetString() == WebhookEventTypes.OfferCreated);
        Assert.Contains(deliveries, d => d.GetProperty("type").GetString() == WebhookEventTypes.OfferExpired);
        Assert.All(deliveries, d => Assert.NotEqual(DeliveryStates.Delivered, d.GetProperty("state").GetString()));
        Assert.True(deliveries.Max(d => d.GetProperty("attempts").GetInt32()) >= 2, "the broker kept retrying while the offer was open");
    }

    private static string Providers(string azureUrl, string azureSecret) => $"""
        kind: providers
        policy:
          quote-window: PT10S
          reservation-window: PT10S
          quote-validity: P1D
        providers:
          - id: azure
            connector: webhook
            url: {azureUrl}
            secret: {azureSecret}
            regions: [eastus]
            prices:
              - {"{"} accelerator: H100, price: 12.00 USD {"}"}
            capacity:
              - {"{"} accelerator: H100, region: eastus, gpus: 4096, from: 2024-01-01 {"}"}
          - id: oracle
            connector: simulated
            regions: [us-chicago-1]
            prices:
              - {"{"} accelerator: H100, price: 10.00 USD {"}"}
            capacity:
              - {"{"} accelerator: H100, region: us-chicago-1, gpus: 4096, from: 2024-01-01 {"}"}
            answers:
              latency: PT1S
        """;
}
