using System.Globalization;
using System.Text.Json;
using ComputeBroker.Domain;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using ComputeBroker.Server.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary>
/// The webhook delivery log and endpoints: <c>/v1/deliveries</c> (admins and auditors see all, a provider its
/// own), manual redelivery (admins), and <c>/v1/webhook-endpoints</c> with each endpoint's status.
/// </summary>
public static class DeliveryEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/deliveries", List).WithName("ListDeliveries").WithSummary("Webhooks sent to providers, newest first (filter by provider and state)");
        v1.MapGet("/deliveries/{id:long}", Show).WithName("ShowDelivery").WithSummary("A webhook with its body and every delivery attempt");
        v1.MapPost("/deliveries/{id:long}/redeliver", Redeliver).WithName("RedeliverWebhook").WithSummary("Send a webhook again now, with a fresh round of retries");
        v1.MapGet("/webhook-endpoints", Endpoints).WithName("ListWebhookEndpoints").WithSummary("Webhook providers' endpoints: URL, enabled or disabled, rotation, backlog");
        v1.MapPost("/webhook-endpoints/{provider}/enable", Enable).WithName("EnableWebhookEndpoint").WithSummary("Enable an endpoint disabled by a 410 Gone answer; its waiting webhooks go at once");
    }

    private static async Task<IResult> List(HttpContext http, BrokerService broker, string? provider, string? state, string? cursor, string? limit, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new List<FieldError>();
        var pageSize = 50;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 500))
        {
            errors.Add(new FieldError("limit", "must be between 1 and 500"));
        }

        long? before = null;
        if (cursor is not null)
        {
            if (long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                before = id;
            }
            else
            {
                errors.Add(new FieldError("cursor", "is not a cursor this server returned; use the nextCursor of the previous page"));
            }
        }

        if (state is not null && !DeliveryStates.All.Contains(state))
        {
            errors.Add(new FieldError("state", $"'{state}' is not a delivery state; use {string.Join(", ", DeliveryStates.All)}"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("the query has errors; fix the parameters listed", errors);
        }

        if (OwnProvider(http) is { } own)
        {
            provider = own;
        }

        if (broker.Webhooks is not { } webhooks)
        {
            return Results.Ok(new Page<DeliveryView>([], null));
        }

        var items = await webhooks.Outbox.ListAsync(provider, state, before, pageSize + 1, ct);
        var page = items.Take(pageSize).ToArray();
        return Results.Ok(new Page<DeliveryView>(page, items.Count > pageSize ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null));
    }

    private static async Task<IResult> Show(HttpContext http, BrokerService broker, long id, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        var detail = broker.Webhooks is { } webhooks ? await webhooks.Outbox.FindAsync(id, ct) : null;
        if (detail is null || (OwnProvider(http) is { } own && detail.Delivery.Provider.Value != own))
        {
            return Problems.NotFound($"delivery {id} not found");
        }

        using var payload = JsonDocument.Parse(detail.Payload);
        return Results.Ok(new { delivery = detail.Delivery, payload = payload.RootElement.Clone(), attempts = detail.Attempts });
    }

    private static async Task<IResult> Redeliver(HttpContext http, BrokerService broker, long id, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin) is { } forbidden)
        {
            return forbidden;
        }

        if (broker.Webhooks is not { } webhooks || await webhooks.Outbox.FindAsync(id, ct) is null)
        {
            return Problems.NotFound($"delivery {id} not found");
        }

        if (!await webhooks.Outbox.RedeliverAsync(id, webhooks.Clock.GetUtcNow(), ct))
        {
            return Problems.Conflict($"delivery {id} is being attempted right now; wait for the attempt to be recorded and retry");
        }

        webhooks.Delivery.Wake();
        var detail = await webhooks.Outbox.FindAsync(id, ct);
        return Results.Accepted($"/v1/deliveries/{id}", detail!.Delivery);
    }

    private static async Task<IResult> Endpoints(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Provider) is { } forbidden)
        {
            return forbidden;
        }

        if (broker.Webhooks is not { } webhooks)
        {
            return Results.Ok(Array.Empty<object>());
        }

        var own = OwnProvider(http);
        var states = (await webhooks.Outbox.EndpointStatesAsync(ct)).ToDictionary(s => s.Provider);
        var views = new List<object>();
        foreach (var endpoint in webhooks.Endpoints.Where(e => own is null || e.Provider.Value == own))
        {
            var state = states.GetValueOrDefault(endpoint.Provider);
            var failed = await webhooks.Outbox.ListAsync(endpoint.Provider.Value, DeliveryStates.Failed, null, 501, ct);
            var pending = await webhooks.Outbox.ListAsync(endpoint.Provider.Value, DeliveryStates.Pending, null, 501, ct);
            views.Add(new
            {
                provider = endpoint.Provider,
                url = endpoint.Url,
                status = state is { Enabled: false } ? "disabled" : "enabled",
                disabledAt = state?.DisabledAt,
                disabledReason = state?.DisabledReason,
                secrets = endpoint.Secrets.Count,
                rotating = endpoint.Rotating,
                pending = pending.Count,
                failed = failed.Count,
            });
        }

        return Results.Ok(views);
    }

    private static async Task<IResult> Enable(HttpContext http, BrokerService broker, string provider, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin) is { } forbidden)
        {
            return forbidden;
        }

        if (broker.Webhooks is not { } webhooks || webhooks.Endpoint(new ProviderId(provider)) is null)
        {
            return Problems.NotFound($"provider {provider} has no webhook endpoint");
        }

        if (!await webhooks.Outbox.EnableEndpointAsync(new ProviderId(provider), webhooks.Clock.GetUtcNow(), ct))
        {
            return Problems.Conflict($"the webhook endpoint of {provider} is not disabled");
        }

        webhooks.Delivery.Wake();
        return Results.NoContent();
    }

    private static string? OwnProvider(HttpContext http) => http.Caller().Role.Kind == RoleKind.Provider ? http.Caller().Role.Subject : null;
}
