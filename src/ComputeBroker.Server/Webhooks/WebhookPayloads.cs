using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ComputeBroker.Domain;
using ComputeBroker.Serialization;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Webhooks;

/// <summary>The webhook event types a provider receives. The schema of each is in <c>docs/webhooks.md</c>.</summary>
public static class WebhookEventTypes
{
    /// <summary>A first-refusal or exclusive offer: accept (all or part) or decline by <c>respondBy</c>.</summary>
    public const string OfferCreated = "offer.created";

    /// <summary>The holder may match the best third-party terms by <c>respondBy</c> (an offer of kind <c>match</c>).</summary>
    public const string MatchRequested = "match.requested";

    /// <summary>An offer's deadline passed without an answer; answering it now gets 409.</summary>
    public const string OfferExpired = "offer.expired";

    /// <summary>Quote for the GPUs by <c>deadline</c>, or decline.</summary>
    public const string QuoteRequested = "quote.requested";

    /// <summary>A quote was awarded: confirm or fail the reservation by <c>respondBy</c>.</summary>
    public const string ReservationRequested = "reservation.requested";

    /// <summary>An award was not confirmed in time; the GPUs went elsewhere.</summary>
    public const string ReservationExpired = "reservation.expired";

    /// <summary>A request the provider took part in was placed (wholly or partly); <c>allocations</c> lists the provider's own.</summary>
    public const string RequestPlaced = "request.placed";

    /// <summary>A request the provider took part in closed without a placement (unfulfilled or cancelled); release anything held for it.</summary>
    public const string RequestClosed = "request.closed";

    public static IReadOnlyList<string> All { get; } =
        [OfferCreated, MatchRequested, OfferExpired, QuoteRequested, ReservationRequested, ReservationExpired, RequestPlaced, RequestClosed];
}

/// <summary>One webhook waiting in the outbox: to whom, its id (the same on every retry), type and exact body.</summary>
public sealed record OutboxMessage(ProviderId Provider, string WebhookId, string Type, RequestId? Request, string Payload, DateTimeOffset CreatedAt);

/// <summary>The body of every webhook: <c>{"type": ..., "timestamp": ..., "data": {...}}</c>, as Standard Webhooks recommends.</summary>
public sealed record WebhookEnvelope<T>(string Type, DateTimeOffset Timestamp, T Data);

/// <summary>The request's terms as a provider sees them (not the customer's maximum price nor its identity).</summary>
public sealed record RequestTerms(RequestId Id, string WorkloadClass, string Accelerator, GpuCount Gpus, IReadOnlyList<string> Regions, DateTimeOffset EarliestStart, int DurationHours, bool AllOrNothing)
{
    public static RequestTerms Of(CapacityRequest r) => new(r.Id, r.WorkloadClass, r.Accelerator, r.Gpus, r.Regions, r.EarliestStart, r.DurationHours, r.AllOrNothing);
}

/// <summary>The API calls that answer a webhook, relative to the broker's base URL; POST each with the provider's key.</summary>
public sealed record AnswerLinks(string? Accept = null, string? Decline = null, string? Quote = null, string? Confirm = null, string? Fail = null);

public sealed record OfferData(OfferId OfferId, RequestId RequestId, OfferKind Kind, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, bool PartialAllowed, DateTimeOffset OfferedAt, DateTimeOffset RespondBy, RequestTerms Request, AnswerLinks Answer);

public sealed record OfferExpiredData(OfferId OfferId, RequestId RequestId, ProviderId Provider, DateTimeOffset ExpiredAt);

public sealed record QuoteRequestData(RequestId RequestId, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Ceiling, DateTimeOffset RequestedAt, DateTimeOffset Deadline, RequestTerms Request, AnswerLinks Answer);

public sealed record ReservationData(RequestId RequestId, int Award, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, DateTimeOffset RespondBy, RequestTerms Request, AnswerLinks Answer);

public sealed record ReservationExpiredData(RequestId RequestId, int Award, ProviderId Provider, DateTimeOffset ExpiredAt);

public sealed record AllocationData(GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, AllocationSource Source);

public sealed record RequestClosedData(RequestId RequestId, ProviderId Provider, RequestOutcome Outcome, GpuCount Gpus, IReadOnlyList<AllocationData> Allocations, string? Reason, DateTimeOffset ClosedAt);

/// <summary>
/// Turns a decision's events into the webhooks the webhook providers must hear of. Pure: the events and the
/// request's state after them in, messages out. Each message's id is derived from the request, the event's
/// version, the provider and the type, so the same decision always yields the same ids (and the outbox's
/// unique index refuses a second copy). Thread-safe.
/// </summary>
public sealed class WebhookPayloads(IReadOnlySet<ProviderId> webhookProviders)
{
    public bool IsWebhook(ProviderId provider) => webhookProviders.Contains(provider);

    /// <param name="state">The request's state after the events.</param>
    /// <param name="firstVersion">The stream version of <paramref name="events"/>[0].</param>
    public IReadOnlyList<OutboxMessage> For(RequestState state, long firstVersion, IReadOnlyList<SourcingEvent> events, DateTimeOffset createdAt)
    {
        if (webhookProviders.Count == 0)
        {
            return [];
        }

        var messages = new List<OutboxMessage>();
        var terms = new Lazy<RequestTerms>(() => RequestTerms.Of(state.Request!));
        for (var i = 0; i < events.Count; i++)
        {
            var version = firstVersion + i;
            switch (events[i])
            {
                case OfferMade o when IsWebhook(o.Provider):
                    var offerLinks = new AnswerLinks(Accept: $"/v1/offers/{Escape(o.Offer.Value)}/accept", Decline: $"/v1/offers/{Escape(o.Offer.Value)}/decline");
                    Add(o.Kind == OfferKind.Match ? WebhookEventTypes.MatchRequested : WebhookEventTypes.OfferCreated, o.Provider, version, o,
                        new OfferData(o.Offer, o.RequestId, o.Kind, o.Provider, o.Gpus, o.Price, o.PartialAllowed, o.At, o.RespondBy, terms.Value, offerLinks));
                    break;
                case OfferExpired x when IsWebhook(x.Provider):
                    Add(WebhookEventTypes.OfferExpired, x.Provider, version, x, new OfferExpiredData(x.Offer, x.RequestId, x.Provider, x.At));
                    break;
                case QuotesRequested q:
                    foreach (var provider in q.Providers.Where(IsWebhook))
                    {
                        var request = Escape(q.RequestId.Value);
                        Add(WebhookEventTypes.QuoteRequested, provider, version, q,
                            new QuoteRequestData(q.RequestId, provider, q.Gpus, q.Ceiling, q.At, q.Deadline, terms.Value,
                                new AnswerLinks(Decline: $"/v1/quote-requests/{request}/decline", Quote: $"/v1/quote-requests/{request}/quote")));
                    }

                    break;
                case AwardMade a when IsWebhook(a.Provider):
                    var reservation = $"/v1/reservations/{Escape(a.RequestId.Value)}/{a.Award}";
                    Add(WebhookEventTypes.ReservationRequested, a.Provider, version, a,
                        new ReservationData(a.RequestId, a.Award, a.Provider, a.Gpus, a.Price, a.Start, a.RespondBy, terms.Value,
                            new AnswerLinks(Confirm: reservation + "/confirm", Fail: reservation + "/fail")));
                    break;
                case ReservationFailed { Reason: "expired" } f when IsWebhook(f.Provider):
                    Add(WebhookEventTypes.ReservationExpired, f.Provider, version, f, new ReservationExpiredData(f.RequestId, f.Award, f.Provider, f.At));
                    break;
                case RequestClosed c:
                    var placed = c.Outcome is RequestOutcome.Placed or RequestOutcome.PartiallyPlaced;
                    foreach (var provider in Participants(state).Where(IsWebhook))
                    {
                        // Cancelled requests released their allocations: the provider holds nothing for them any more.
                        var own = c.Outcome == RequestOutcome.Cancelled
                            ? []
                            : state.Allocations.Where(a => a.Provider == provider).Select(a => new AllocationData(a.Gpus, a.Price, a.Start, a.Source)).ToArray();
                        Add(placed && own.Length > 0 ? WebhookEventTypes.RequestPlaced : WebhookEventTypes.RequestClosed, provider, version, c,
                            new RequestClosedData(c.RequestId, provider, c.Outcome, new GpuCount(own.Sum(a => a.Gpus.Value)), own, c.Reason, c.At));
                    }

                    break;
            }
        }

        return messages;

        void Add<T>(string type, ProviderId provider, long version, SourcingEvent e, T data)
        {
            var payload = JsonSerializer.Serialize(new WebhookEnvelope<T>(type, e.At, data), BrokerJson.Options);
            messages.Add(new OutboxMessage(provider, IdOf(e.RequestId, version, provider, type), type, e.RequestId, payload, createdAt));
        }
    }

    /// <summary>Every provider that was asked anything about the request: the holder or exclusive provider if it got an offer, every quoter, every allocation's provider.</summary>
    public static IEnumerable<ProviderId> Participants(RequestState state)
    {
        var seen = new HashSet<ProviderId>();
        if (state.OffersMade > 0 && state.Clauses?.Holder is { } holder)
        {
            seen.Add(holder);
        }

        seen.UnionWith(state.QuoteProviders);
        seen.UnionWith(state.Allocations.Select(a => a.Provider));
        return seen.OrderBy(p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>A stable webhook id: <c>msg_</c> and 26 hex digits of SHA-256 over the event's identity.</summary>
    public static string IdOf(RequestId request, long version, ProviderId provider, string type) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Value}\n{version}\n{provider.Value}\n{type}")))[..26];

    private static string Escape(string value) => Uri.EscapeDataString(value);
}
