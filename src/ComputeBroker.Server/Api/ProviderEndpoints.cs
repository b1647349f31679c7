using ComputeBroker.Domain;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using ComputeBroker.Sourcing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary>
/// What providers see and answer: <c>/v1/providers</c>, <c>/v1/offers</c>, <c>/v1/quote-requests</c>,
/// <c>/v1/reservations</c>. A provider key sees and answers only its own; admins and auditors read all.
/// </summary>
public static class ProviderEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/providers", Providers).WithName("ListProviders").WithSummary("The providers the broker sources from");
        v1.MapGet("/offers", Offers).WithName("ListOffers").WithSummary("Offers (a provider sees its own); state=open by default");
        v1.MapPost("/offers/{id}/accept", Accept).WithName("AcceptOffer").WithSummary("Accept an offer, all of it or part (body: {\"gpus\": n})");
        v1.MapPost("/offers/{id}/decline", Decline).WithName("DeclineOffer").WithSummary("Decline an offer (body: {\"reason\": \"...\"})");
        v1.MapGet("/quote-requests", QuoteRequests).WithName("ListQuoteRequests").WithSummary("Quote requests (a provider sees its own); state=open by default");
        v1.MapPost("/quote-requests/{requestId}/quote", Quote).WithName("SubmitQuote").WithSummary("Answer a quote request with a quote");
        v1.MapPost("/quote-requests/{requestId}/decline", DeclineQuote).WithName("DeclineQuoteRequest").WithSummary("Decline a quote request");
        v1.MapGet("/reservations", Reservations).WithName("ListReservations").WithSummary("Awards waiting for the provider's reservation");
        v1.MapPost("/reservations/{requestId}/{award:int}/confirm", Confirm).WithName("ConfirmReservation").WithSummary("Confirm the reservation of an award");
        v1.MapPost("/reservations/{requestId}/{award:int}/fail", Fail).WithName("FailReservation").WithSummary("Report that an award cannot be reserved");
    }

    private static IResult Providers(BrokerService broker) =>
        Results.Ok(broker.Catalog.All.Select(p => new
        {
            id = p.Id,
            name = p.Name,
            connector = p.Connector,
            regions = p.Regions,
            prices = p.Prices.Select(x => new { accelerator = x.Accelerator, region = x.Region, price = x.Price }),
        }));

    private static IResult Offers(HttpContext http, BrokerService broker, string? state, string? provider, string? limit)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        if (!TryLimit(limit, out var count))
        {
            return LimitProblem();
        }

        var own = OwnProvider(http) ?? provider;
        state ??= "open";
        if (StateProblem(state, "an offer", [.. ItemStates.Offer, "answered"]) is { } wrong)
        {
            return wrong;
        }

        if (state == "answered")
        {
            // The history: every offer no longer open, the last made first, read back only as far as the page needs.
            return Results.Ok(broker.Projection.LatestOffers(o => (own is null || o.Provider.Value == own) && o.State != "open", count ?? int.MaxValue));
        }

        return Results.Ok(Take(broker.Projection.Offers(o => (own is null || o.Provider.Value == own) && (state == "all" || o.State == state), openOnly: state == "open"), count));
    }

    private static async Task<IResult> Accept(HttpContext http, BrokerService broker, string id, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        var (body, error) = JsonBody.Parse(await RequestText.ReadAsync(http.Request, ct));
        if (body is null)
        {
            return Problems.Invalid(error!);
        }

        body.RejectUnknown("gpus");
        var offer = broker.Projection.Offer(new OfferId(id));
        var gpus = body.Int("gpus", required: false, min: 1) ?? offer?.Gpus.Value;
        if (!body.Ok)
        {
            return Problems.Invalid("the body has errors; fix the fields listed", body.Errors);
        }

        var result = await broker.AnswerOfferAsync(new OfferId(id), new ProviderId(OwnProvider(http)!), new OfferAnswer.Accept(new GpuCount(gpus ?? 0)), ct);
        return result.Ok ? Results.Ok(broker.Projection.Offer(new OfferId(id))) : Problems.FromBody(result.Rejection!);
    }

    private static async Task<IResult> Decline(HttpContext http, BrokerService broker, string id, CancellationToken ct)
    {
        var (reason, problem) = await ProviderReasonAsync(http, ct);
        if (problem is not null)
        {
            return problem;
        }

        reason ??= "declined";

        var result = await broker.AnswerOfferAsync(new OfferId(id), new ProviderId(OwnProvider(http)!), new OfferAnswer.Decline(reason), ct);
        return result.Ok ? Results.Ok(broker.Projection.Offer(new OfferId(id))) : Problems.FromBody(result.Rejection!);
    }

    private static IResult QuoteRequests(HttpContext http, BrokerService broker, string? state, string? provider, string? limit)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        if (!TryLimit(limit, out var count))
        {
            return LimitProblem();
        }

        var own = OwnProvider(http) ?? provider;
        state ??= "open";
        if (StateProblem(state, "a quote request", ItemStates.QuoteRequest) is { } wrong)
        {
            return wrong;
        }

        return Results.Ok(Take(broker.Projection.QuoteRequests(q => (own is null || q.Provider.Value == own) && (state == "all" || q.State == state), openOnly: state == "open"), count));
    }

    private static async Task<IResult> Quote(HttpContext http, BrokerService broker, string requestId, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        var (body, error) = JsonBody.Parse(await RequestText.ReadAsync(http.Request, ct));
        if (body is null)
        {
            return Problems.Invalid(error!);
        }

        body.RejectUnknown("gpus", "price", "start", "validUntil");
        var gpus = body.Int("gpus", min: 1);
        var price = body.Money("price");
        var start = body.Instant("start", required: false);
        var validUntil = body.Instant("validUntil", required: false);
        if (!body.Ok)
        {
            return Problems.Invalid("the body has errors; fix the fields listed", body.Errors);
        }

        var provider = new ProviderId(OwnProvider(http)!);
        var request = broker.Projection.Request(new RequestId(requestId));
        var now = broker.Clock.GetUtcNow();
        var answer = new QuoteAnswer.Quote(new GpuCount(gpus!.Value), new PricePerGpuHour(price!.Value), start ?? request?.EarliestStart ?? now, validUntil ?? now + broker.Engine.Policy.QuoteValidity);
        var result = await broker.AnswerQuoteAsync(new RequestId(requestId), provider, answer, ct);
        return result.Ok ? Results.Ok(QuoteOf(broker, requestId, provider)) : Problems.FromBody(result.Rejection!);
    }

    private static async Task<IResult> DeclineQuote(HttpContext http, BrokerService broker, string requestId, CancellationToken ct)
    {
        var (reason, problem) = await ProviderReasonAsync(http, ct);
        if (problem is not null)
        {
            return problem;
        }

        reason ??= "declined";

        var provider = new ProviderId(OwnProvider(http)!);
        var result = await broker.AnswerQuoteAsync(new RequestId(requestId), provider, new QuoteAnswer.Decline(reason), ct);
        return result.Ok ? Results.Ok(QuoteOf(broker, requestId, provider)) : Problems.FromBody(result.Rejection!);
    }

    private static IResult Reservations(HttpContext http, BrokerService broker, string? state, string? limit)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        if (!TryLimit(limit, out var count))
        {
            return LimitProblem();
        }

        var own = OwnProvider(http);
        state ??= "open";
        if (StateProblem(state, "a reservation", ItemStates.Reservation) is { } wrong)
        {
            return wrong;
        }

        return Results.Ok(Take(broker.Projection.Reservations(r => (own is null || r.Provider.Value == own) && (state == "all" || r.State == state), openOnly: state == "open"), count));
    }

    /// <summary>The optional <c>limit</c> of a list: none, or a whole number from 1 to <see cref="MaxLimit"/>; false for anything else.</summary>
    private static bool TryLimit(string? text, out int? limit)
    {
        limit = null;
        if (text is null)
        {
            return true;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit)
        {
            limit = n;
            return true;
        }

        return false;
    }

    /// <summary>A problem for a <c>state</c> none of the list's items can be in; null for one of <paramref name="states"/> or <c>all</c>.</summary>
    private static IResult? StateProblem(string state, string item, IReadOnlyList<string> states) =>
        state == "all" || states.Contains(state) ? null : Problems.UnknownState(state, item, [.. states, "all"]);

    private static IResult LimitProblem() =>
        Problems.Invalid($"limit: give how many items to list, between 1 and {MaxLimit}", [new FieldError("limit", $"must be between 1 and {MaxLimit}")]);

    private static IReadOnlyList<T> Take<T>(IReadOnlyList<T> items, int? count) =>
        count is { } n && n < items.Count ? items.Take(n).ToArray() : items;

    private const int MaxLimit = 1000;

    private static Task<IResult> Confirm(HttpContext http, BrokerService broker, string requestId, int award, CancellationToken ct) =>
        AnswerReservation(http, broker, requestId, award, true, ct);

    private static Task<IResult> Fail(HttpContext http, BrokerService broker, string requestId, int award, CancellationToken ct) =>
        AnswerReservation(http, broker, requestId, award, false, ct);

    private static async Task<IResult> AnswerReservation(HttpContext http, BrokerService broker, string requestId, int award, bool confirmed, CancellationToken ct)
    {
        var (reason, problem) = await ProviderReasonAsync(http, ct);
        if (problem is not null)
        {
            return problem;
        }

        var result = await broker.AnswerReservationAsync(new RequestId(requestId), award, new ProviderId(OwnProvider(http)!), confirmed, reason, ct);
        return result.Ok
            ? Results.Ok(broker.Projection.Reservation(new RequestId(requestId), award))
            : Problems.FromBody(result.Rejection!);
    }

    private static QuoteRequestView? QuoteOf(BrokerService broker, string requestId, ProviderId provider) =>
        broker.Projection.QuoteRequest(new RequestId(requestId), provider);

    /// <summary>The checks every provider answer without terms shares: a provider key, and a body with at most a reason.</summary>
    private static async Task<(string? Reason, IResult? Problem)> ProviderReasonAsync(HttpContext http, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Provider) is { } forbidden)
        {
            return (null, forbidden);
        }

        var (body, error) = JsonBody.Parse(await RequestText.ReadAsync(http.Request, ct));
        if (body is null)
        {
            return (null, Problems.Invalid(error!));
        }

        body.RejectUnknown("reason");
        var reason = body.String("reason", required: false);
        return body.Ok ? (reason, null) : (null, Problems.Invalid("the body has errors; fix the fields listed", body.Errors));
    }

    private static string? OwnProvider(HttpContext http) => http.Caller().Role.Kind == RoleKind.Provider ? http.Caller().Role.Subject : null;
}
