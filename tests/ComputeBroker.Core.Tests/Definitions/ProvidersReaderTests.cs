using ComputeBroker.Definitions;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using static ComputeBroker.Tests.Definitions.DefinitionAssert;

namespace ComputeBroker.Tests.Definitions;

public sealed class ProvidersReaderTests
{
    private const string File = "providers.yaml";

    private static string Providers(params string[] providers) =>
        "kind: providers\nproviders:\n" + string.Concat(providers.Select(p => $"  - {p}\n"));

    private static Parsed<ProvidersFile> Read(params string[] providers) => DefinitionReader.ReadProviders(Providers(providers), File);

    [Fact]
    public void ReadProviders_MinimalProvider_TakesTheDocumentedDefaults()
    {
        var file = Clean(Read("{ id: azure }"));

        Assert.Equal(BrokerPolicy.Default, file.Policy);
        var azure = Assert.Single(file.Providers);
        Assert.Equal("azure", azure.Name);
        Assert.Equal(ConnectorKind.Simulated, azure.Connector);
        Assert.Same(AnswerPolicy.Prompt, azure.Policy);
        Assert.Empty(azure.Regions);
        Assert.Null(azure.WebhookUrl);
    }

    [Fact]
    public void ReadProviders_PolicyGivesSomeWindows_KeepsDefaultsForTheOthers()
    {
        var file = Clean(DefinitionReader.ReadProviders("kind: providers\npolicy:\n  quote-window: PT2H\n  quote-validity: P2D\nproviders:\n  - { id: azure }\n", File));

        Assert.Equal(BrokerPolicy.Default with { QuoteWindow = TimeSpan.FromHours(2), QuoteValidity = TimeSpan.FromDays(2) }, file.Policy);
    }

    [Fact]
    public void ReadProviders_PolicyWindowZero_AsksForAPositiveDuration()
    {
        var parsed = DefinitionReader.ReadProviders("kind: providers\npolicy: { quote-window: PT0S }\nproviders:\n  - { id: azure }\n", File);

        ErrorAt(parsed, "policy.quote-window", "'PT0S' is zero; give a positive duration");
    }

    [Fact]
    public void ReadProviders_WebhookWithoutUrl_AsksForHttpsUrl()
    {
        var parsed = Read("{ id: acme, connector: webhook }");

        ErrorAt(parsed, "providers[0].url", "is missing; add the https:// URL");
    }

    [Fact]
    public void ReadProviders_WebhookWithHttpUrl_IsRefused()
    {
        var parsed = Read("{ id: acme, connector: webhook, url: 'http://acme.example/hooks' }");

        ErrorAt(parsed, "providers[0].url", "'http://acme.example/hooks' is not an https:// URL");
    }

    [Fact]
    public void ReadProviders_WebhookWithHttpsUrl_KeepsTheUrl()
    {
        var file = Clean(Read("{ id: acme, connector: webhook, url: 'https://acme.example/hooks', secret: env:ACME_WEBHOOK_SECRET }"));

        Assert.Equal(ConnectorKind.Webhook, file.Providers[0].Connector);
        Assert.Equal(new Uri("https://acme.example/hooks"), file.Providers[0].WebhookUrl);
    }

    [Fact]
    public void ReadProviders_UrlOnSimulatedProvider_IsRefused()
    {
        var parsed = Read("{ id: acme, url: 'https://acme.example/hooks' }");

        ErrorAt(parsed, "providers[0].url", "applies only to webhook connectors");
    }

    [Fact]
    public void ReadProviders_UnknownConnector_SuggestsTheClosest()
    {
        var parsed = Read("{ id: acme, connector: simulate }");

        ErrorAt(parsed, "providers[0].connector", "unknown connector 'simulate'; did you mean 'simulated'?");
    }

    [Fact]
    public void ReadProviders_CapacityRegionNotAmongRegions_SuggestsTheRegion()
    {
        var parsed = Read("{ id: azure, regions: [eastus, westus3], capacity: [{ accelerator: H100, region: eastsu, gpus: 100, from: 2025-01-01 }] }");

        ErrorAt(parsed, "providers[0].capacity[0].region", "'eastsu' is not one of the provider's regions [eastus, westus3]; did you mean 'eastus'?");
    }

    [Fact]
    public void ReadProviders_PriceRegionNotAmongRegions_IsRefused()
    {
        var parsed = Read("{ id: azure, regions: [eastus], prices: [{ accelerator: H100, region: abilene, price: 12.29 USD }] }");

        ErrorAt(parsed, "providers[0].prices[0].region", "add it to the provider's regions or fix the name");
    }

    [Fact]
    public void ReadProviders_PriceWithCommaDecimal_ShowsTheMoneyFormat()
    {
        var parsed = Read("{ id: azure, prices: [{ accelerator: H100, price: '12,29 USD' }] }");

        ErrorAt(parsed, "providers[0].prices[0].price", "'12,29' in '12,29 USD' is not a decimal number (write it as '12.29 USD')");
    }

    [Fact]
    public void ReadProviders_SameAcceleratorPricedTwice_IsRefused()
    {
        var parsed = Read("{ id: azure, prices: [{ accelerator: H100, price: 12.29 USD }, { accelerator: H100, price: 11 USD }] }");

        ErrorAt(parsed, "providers[0].prices[1].accelerator", "H100 is already priced at providers[0].prices[0]");
    }

    [Fact]
    public void ReadProviders_DuplicateProviderId_NamesTheFirst()
    {
        var parsed = Read("{ id: azure }", "{ id: oracle }", "{ id: azure }");

        ErrorAt(parsed, "providers[2].id", "duplicate provider id 'azure' (also providers[0])");
    }

    [Fact]
    public void ReadProviders_RampUntilBeforeFrom_IsRefused()
    {
        var parsed = Read("{ id: stargate, capacity: [{ accelerator: GB200, region: abilene, gpus: 64000, from: 2026-06-01, ramp-until: 2025-06-01 }] }");

        ErrorAt(parsed, "providers[0].capacity[0].ramp-until", "2025-06-01 is not after from 2026-06-01");
    }

    [Fact]
    public void ReadProviders_CapacityGpusNotANumber_SaysSo()
    {
        var parsed = Read("{ id: azure, capacity: [{ accelerator: H100, region: eastus, gpus: lots, from: 2025-01-01 }] }");

        ErrorAt(parsed, "providers[0].capacity[0].gpus", "'lots' is not a whole number");
    }

    [Fact]
    public void ReadProviders_LatencyRange_MapsToMinAndMax()
    {
        var file = Clean(Read("{ id: azure, answers: { latency: { min: PT5M, max: PT2H }, reliability: 98%, decline-classes: [api], accept-partial: false, reservation-failure-rate: 0.02 } }"));

        Assert.Equal(new AnswerPolicy(TimeSpan.FromMinutes(5), TimeSpan.FromHours(2), 0.98, ["api"], false, 0.02) with { DeclineClasses = file.Providers[0].Policy.DeclineClasses }, file.Providers[0].Policy);
        Assert.Equal(["api"], file.Providers[0].Policy.DeclineClasses);
    }

    [Fact]
    public void ReadProviders_SingleLatency_IsBothMinAndMax()
    {
        var policy = Clean(Read("{ id: azure, answers: { latency: PT10M } }")).Providers[0].Policy;

        Assert.Equal(TimeSpan.FromMinutes(10), policy.MinLatency);
        Assert.Equal(TimeSpan.FromMinutes(10), policy.MaxLatency);
        Assert.Equal(1.0, policy.Reliability);
    }

    [Fact]
    public void ReadProviders_LatencyMaxBelowMin_IsRefused()
    {
        var parsed = Read("{ id: azure, answers: { latency: { min: PT2H, max: PT5M } } }");

        ErrorAt(parsed, "providers[0].answers.latency.max", "PT5M is shorter than min PT2H");
    }

    [Fact]
    public void ReadProviders_ReliabilityAboveOne_IsRefused()
    {
        var parsed = Read("{ id: azure, answers: { reliability: 1.5 } }");

        ErrorAt(parsed, "providers[0].answers.reliability", "'1.5' is not a rate between 0 and 1");
    }

    [Fact]
    public void ReadProviders_MisspeltAnswersKey_SuggestsTheKnownKey()
    {
        var parsed = Read("{ id: azure, answers: { acept-partial: true } }");

        ErrorAt(parsed, "providers[0].answers.acept-partial", "did you mean 'accept-partial'?");
    }

    [Fact]
    public void ReadProviders_NoProviders_AsksForOne()
    {
        var parsed = DefinitionReader.ReadProviders("kind: providers\nproviders: []\n", File);

        ErrorAt(parsed, "providers", "is empty; add at least one provider");
    }
}
