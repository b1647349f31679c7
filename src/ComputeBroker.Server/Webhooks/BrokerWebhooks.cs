using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Microsoft.Extensions.Logging;

namespace ComputeBroker.Server.Webhooks;

/// <summary>
/// The broker's webhook side in one place: the endpoints, the payload builder, the outbox and its delivery
/// worker. The broker service asks it for the outbox writes of each decision (<see cref="Outgoing"/>), which
/// run inside the decision's own append transaction. Thread-safe.
/// </summary>
public sealed class BrokerWebhooks : IAsyncDisposable
{
    private readonly WebhookOptions _options;

    private BrokerWebhooks(WebhookOutbox outbox, IReadOnlyList<WebhookEndpoint> endpoints, WebhookOptions options)
    {
        Outbox = outbox;
        Endpoints = endpoints;
        _options = options;
        Payloads = new WebhookPayloads(endpoints.Select(e => e.Provider).ToHashSet());
        Delivery = new WebhookDelivery(outbox, endpoints, options);
    }

    public WebhookOutbox Outbox { get; }

    public IReadOnlyList<WebhookEndpoint> Endpoints { get; }

    public WebhookPayloads Payloads { get; }

    public WebhookDelivery Delivery { get; }

    public TimeProvider Clock => _options.Clock;

    /// <summary>Resolves the webhook providers' endpoints and opens the outbox in the event store's database.</summary>
    public static async Task<BrokerWebhooks> OpenAsync(string database, IEnumerable<ProviderDefinition> providers, WebhookOptions options, CancellationToken ct)
    {
        var endpoints = WebhookEndpoint.From(providers, options.Environment);
        var outbox = await WebhookOutbox.OpenAsync(EventStoreLocation.Parse(database), options.Retry.MaxAttempts, ct);
        return new BrokerWebhooks(outbox, endpoints, options);
    }

    public BrokerWebhooks WithLogger(ILogger logger)
    {
        Delivery.Logger = logger;
        return this;
    }

    public WebhookEndpoint? Endpoint(ProviderId provider) => Endpoints.FirstOrDefault(e => e.Provider == provider);

    /// <summary>
    /// The outbox writes for a decision's events, to run inside the append's transaction; null when no webhook
    /// provider hears of them. <paramref name="state"/> is the request's state after the events.
    /// </summary>
    public Func<AppendTransaction, CancellationToken, Task>? Outgoing(RequestState state, long firstVersion, IReadOnlyList<SourcingEvent> events)
    {
        var messages = Payloads.For(state, firstVersion, events, _options.Clock.GetUtcNow());
        return messages.Count == 0 ? null : (transaction, ct) => Outbox.InsertAsync(transaction, messages, ct);
    }

    public void Start()
    {
        if (_options.RunWorker)
        {
            Delivery.Start();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Delivery.DisposeAsync();
        await Outbox.DisposeAsync();
    }
}
