using System.Security.Cryptography;
using System.Text;
using ComputeBroker.Domain;
using ComputeBroker.Reporting;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary><c>/v1/requests</c>: submit (idempotent), list, show with timeline, cancel.</summary>
public static class RequestEndpoints
{
    /// <summary>The most a request may cost at its maximum price (10^18): far beyond any real order, far below decimal overflow.</summary>
    private const decimal MaxRequestCost = 1_000_000_000_000_000_000m;

    private static readonly string[] SubmitFields =
        ["id", "customer", "workloadClass", "accelerator", "gpus", "earliestStart", "durationHours", "regions", "maxPrice", "neededBy", "allOrNothing"];

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/requests", Submit).WithName("SubmitRequest").WithSummary("Submit a capacity request (send an Idempotency-Key to make retries safe)");
        v1.MapGet("/requests", List).WithName("ListRequests").WithSummary("List requests, newest first, with filters and pagination");
        v1.MapGet("/requests/{id}", Show).WithName("ShowRequest").WithSummary("A request with its event timeline");
        v1.MapPost("/requests/{id}/cancel", Cancel).WithName("CancelRequest").WithSummary("Cancel a request before it reaches a terminal state");
        v1.MapGet("/overview", Overview).WithName("Overview").WithSummary("Requests by state, provider shares, time to capacity");
    }

    private static async Task<IResult> Submit(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var text = await RequestText.ReadAsync(http.Request, ct);
        var (body, error) = JsonBody.Parse(text);
        if (body is null)
        {
            return Problems.Invalid(error!);
        }

        body.RejectUnknown(SubmitFields);
        var caller = http.Caller();
        var customer = body.String("customer", required: caller.Role.Kind == RoleKind.Admin);
        if (caller.Role.Kind == RoleKind.Customer)
        {
            if (customer is not null && customer != caller.Role.Subject)
            {
                body.Error("customer", $"a key for customer {caller.Role.Subject} submits only its own requests; omit the field or use '{caller.Role.Subject}'");
            }

            customer = caller.Role.Subject;
        }

        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 255)
        {
            body.Error("Idempotency-Key", "must be at most 255 characters");
        }

        var id = body.String("id", required: false);
        var workloadClass = body.String("workloadClass");
        var accelerator = body.String("accelerator");
        var gpus = body.Int("gpus", min: 1);
        var earliestStart = body.Instant("earliestStart");
        var durationHours = body.Int("durationHours", min: 1);
        var regions = body.Strings("regions");
        var maxPrice = body.Money("maxPrice");
        var neededBy = body.Instant("neededBy");
        var allOrNothing = body.Bool("allOrNothing");
        if (earliestStart is { } start && durationHours is { } hours && (DateTimeOffset.MaxValue - start).TotalHours < hours)
        {
            // The request's end (and every instant computed from it) must be a date the broker can represent.
            body.Error("durationHours", $"the request would end after {DateTimeOffset.MaxValue:yyyy-MM-dd}; give an earlier earliestStart or fewer hours");
        }

        if (maxPrice is { } price && gpus is { } count && durationHours is { } duration && Math.Abs(price.Amount) > MaxRequestCost / count / duration)
        {
            // Spend is added up across allocations in the projection; a cost that overflows there would stop the broker.
            body.Error("maxPrice", $"maxPrice × gpus × durationHours must be at most {MaxRequestCost:0} {price.Currency}; give a realistic maximum price");
        }

        if (!body.Ok)
        {
            return Problems.Invalid("the request body has errors; fix the fields listed", body.Errors);
        }

        var request = new CapacityRequest
        {
            Id = new RequestId(id ?? $"r-{Guid.CreateVersion7():N}"),
            Customer = customer!,
            WorkloadClass = workloadClass!,
            Accelerator = accelerator!,
            Gpus = new GpuCount(gpus!.Value),
            EarliestStart = earliestStart!.Value,
            DurationHours = durationHours!.Value,
            Regions = regions,
            MaxPrice = new PricePerGpuHour(maxPrice!.Value),
            NeededBy = neededBy!.Value,
            AllOrNothing = allOrNothing,
            IdempotencyKey = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey,
        };
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var result = await broker.SubmitAsync(request, request.IdempotencyKey, bodyHash, ct);
        if (!result.Ok)
        {
            return result.Rejection!.Message.StartsWith("Idempotency-Key", StringComparison.Ordinal)
                ? Problems.UnprocessableIdempotency(result.Rejection.Message)
                : Problems.FromBody(result.Rejection);
        }

        if (result.Value!.Replayed)
        {
            http.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return Results.Created($"/v1/requests/{Uri.EscapeDataString(result.Value.Request.Id.Value)}", result.Value.Request);
    }

    private static IResult List(HttpContext http, BrokerService broker, string? customer, string? state, string? provider, string? cursor, string? limit)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var pageSize = 50;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 500))
        {
            return Problems.Invalid("limit: give a page size between 1 and 500", [new FieldError("limit", "must be between 1 and 500")]);
        }

        if (state is not null && !RequestView.States.Contains(state))
        {
            return Problems.UnknownState(state, "a request", RequestView.States);
        }

        var caller = http.Caller();
        if (caller.Role.Kind == RoleKind.Customer)
        {
            customer = caller.Role.Subject;
        }

        try
        {
            // The customer, when there is one, is read from its own index by the projection, not filtered here.
            var page = broker.Projection.Requests(state, provider, cursor, pageSize, customer);
            return Results.Ok(page);
        }
        catch (InvalidCursorException ex)
        {
            return Problems.Invalid(ex.Message, [new FieldError("cursor", "is not a cursor this server returned")]);
        }
    }

    private static async Task<IResult> Show(HttpContext http, BrokerService broker, string id, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var requestId = new RequestId(id);
        var view = broker.Projection.Request(requestId);
        if (view is null || (http.Caller().Role.Kind == RoleKind.Customer && view.Customer != http.Caller().Role.Subject))
        {
            return Problems.NotFound($"request {id} not found");
        }

        var timeline = await broker.TimelineAsync(requestId, ct);
        var entries = timeline.Select(t =>
        {
            var entry = TimelineEntry.From(t.Event);
            return new TimelineView(t.Version, t.Event.Type, t.Event.At, entry.What, entry.Who, entry.Detail, t.Event);
        }).ToArray();
        return Results.Ok(new RequestDetailView(view, entries));
    }

    private static async Task<IResult> Cancel(HttpContext http, BrokerService broker, string id, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var requestId = new RequestId(id);
        if (broker.Projection.CustomerOf(requestId) is not { } customer || (http.Caller().Role.Kind == RoleKind.Customer && customer != http.Caller().Role.Subject))
        {
            return Problems.NotFound($"request {id} not found");
        }

        var result = await broker.CancelAsync(requestId, $"cancelled by {http.Caller().Role}", ct);
        return result.Ok ? Results.Ok(result.Value) : Problems.From(result.Rejection!);
    }

    private static IResult Overview(HttpContext http, BrokerService broker) =>
        http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) ?? Results.Ok(broker.Projection.Overview());
}
