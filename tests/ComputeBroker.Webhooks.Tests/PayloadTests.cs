using System.Text.Json;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Webhooks.Tests;

/// <summary>The documented payload schema, the stable ids, who hears of what, and the providers file's webhook keys.</summary>
public sealed class PayloadTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2025-03-01T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly ProviderId Azure = new("azure");
    private static readonly ProviderId Oracle = new("oracle");

    [Fact]
    public void OfferMade_ToAWebhookHolder_IsAnOfferCreatedWithTheDocumentedFields()
    {
        var (state, events) = Offered();

        var message = Assert.Single(new WebhookPayloads(new HashSet<ProviderId> { Azure }).For(state, 0, events, Now));

        Assert.Equal(WebhookEventTypes.OfferCreated, message.Type);
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        Assert.Equal(["type", "timestamp", "data"], root.EnumerateObject().Select(p => p.Name));
        var data = root.GetProperty("data");
        Assert.Equal(
            ["offerId", "requestId", "kind", "provider", "gpus", "price", "partialAllowed", "offeredAt", "respondBy", "request", "answer"],
            data.EnumerateObject().Select(p => p.Name));
        Assert.Equal("first-refusal", data.GetProperty("kind").GetString());
        Assert.Equal("12.00 USD", data.GetProperty("price").GetString());
        Assert.Equal("/v1/offers/r-1-o1/accept", data.GetProperty("answer").GetProperty("accept").GetString());
        Assert.Equal(["id", "workloadClass", "accelerator", "gpus", "regions", "earliestStart", "durationHours", "allOrNothing"],
            data.GetProperty("request").EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("openai", message.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public void WebhookIds_AreStableForTheSameEventAndDistinctPerProvider()
    {
        var (state, events) = Offered();
        var payloads = new WebhookPayloads(new HashSet<ProviderId> { Azure, Oracle });

        var once = payloads.For(state, 0, events, Now);
        var again = payloads.For(state, 0, events, Now.AddHours(1));

        Assert.Equal(once.Select(m => m.WebhookId), again.Select(m => m.WebhookId));
        Assert.NotEqual(WebhookPayloads.IdOf(new RequestId("r-1"), 3, Azure, "request.closed"), WebhookPayloads.IdOf(new RequestId("r-1"), 3, Oracle, "request.closed"));
        Assert.StartsWith("msg_", once[0].WebhookId, StringComparison.Ordinal);
    }

    [Fact]
    public void SimulatedProviders_HearNothingByWebhook()
    {
        var (state, events) = Offered();

        Assert.Empty(new WebhookPayloads(new HashSet<ProviderId> { Oracle }).For(state, 0, events, Now));
    }

    [Fact]
    public void ProvidersFile_WebhookKeys_AreReadAndChecked()
    {
        const string Head = "kind: providers\nproviders:\n  - ";
        var ok = DefinitionReader.ReadProviders(Head + $"{{ id: a, connector: webhook, url: 'http://127.0.0.1:7001/hooks', secret: {TestSecrets.Current}, previous-secret: env:OLD_SECRET }}", "p.yaml");
        var noSecret = DefinitionReader.ReadProviders(Head + "{ id: a, connector: webhook, url: 'https://a.example/hooks' }", "p.yaml");
        var badSecret = DefinitionReader.ReadProviders(Head + "{ id: a, connector: webhook, url: 'https://a.example/hooks', secret: whsec_short }", "p.yaml");
        var plainHttp = DefinitionReader.ReadProviders(Head + $"{{ id: a, connector: webhook, url: 'http://a.example/hooks', secret: {TestSecrets.Current} }}", "p.yaml");
        var onSimulated = DefinitionReader.ReadProviders(Head + $"{{ id: a, secret: {TestSecrets.Current} }}", "p.yaml");

        Assert.True(ok.Ok, string.Join("; ", ok.Errors));
        Assert.Equal(new WebhookSigning(TestSecrets.Current, "env:OLD_SECRET"), ok.Value!.Providers[0].Signing);
        Assert.Contains(noSecret.Errors, e => e.Path == "providers[0].secret");
        Assert.Contains(badSecret.Errors, e => e.Path == "providers[0].secret" && !e.Message.Contains("whsec_short", StringComparison.Ordinal));
        Assert.Contains(plainHttp.Errors, e => e.Path == "providers[0].url");
        Assert.Contains(onSimulated.Errors, e => e.Path == "providers[0].secret" && e.Message.Contains("only to webhook connectors", StringComparison.Ordinal));
    }

    private static (RequestState State, IReadOnlyList<SourcingEvent> Events) Offered()
    {
        var request = new CapacityRequest
        {
            Id = new RequestId("r-1"), Customer = "openai", WorkloadClass = "training", Accelerator = "H100", Gpus = new GpuCount(1024),
            EarliestStart = Now.AddDays(30), DurationHours = 240, MaxPrice = new PricePerGpuHour(Money.Usd(13m)), NeededBy = Now.AddDays(7),
        };
        var state = new RequestState();
        var events = new SourcingEvent[]
        {
            new RequestSubmitted(request.Id, Now, request),
            new OfferMade(request.Id, Now, new OfferId("r-1-o1"), OfferKind.FirstRefusal, Azure, request.Gpus, new PricePerGpuHour(Money.Usd(12m)), true, Now.AddDays(5)),
        };
        foreach (var e in events)
        {
            state.Apply(e);
        }

        return (state, events);
    }
}
