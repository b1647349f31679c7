using System.Globalization;
using System.Text.Json;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Serialization;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary><c>/v1/agreements</c> and <c>/v1/clauses/status</c>: apply, list, show, diff, status as of an instant.</summary>
public static class AgreementEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/agreements", Apply).WithName("ApplyAgreement").WithSummary("Apply an agreement document (YAML or JSON): a new agreement or an amendment");
        v1.MapGet("/agreements", List).WithName("ListAgreements").WithSummary("Agreements with their versions");
        v1.MapGet("/agreements/{id}", Show).WithName("ShowAgreement").WithSummary("An agreement with every version and clause");
        v1.MapGet("/agreements/{id}/diff", Diff).WithName("DiffAgreement").WithSummary("What changed between two versions, clause by clause");
        v1.MapGet("/clauses/status", Status).WithName("ClauseStatus").WithSummary("Every clause's status as of an instant, with trigger progress");
    }

    private static async Task<IResult> Apply(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin) is { } forbidden)
        {
            return forbidden;
        }

        var document = await RequestText.ReadAsync(http.Request, ct);
        if (string.IsNullOrWhiteSpace(document))
        {
            return Problems.Invalid("the body is empty; send the agreement document as YAML (Content-Type: application/yaml) or JSON");
        }

        var result = await broker.ApplyAgreementAsync(document, "body", http.Caller().KeyId, ct);
        return result.Ok
            ? Results.Created($"/v1/agreements/{Uri.EscapeDataString(result.Value!.Id.Value)}", View(result.Value))
            : Problems.From(result.Rejection!);
    }

    private static IResult List(HttpContext http, BrokerService broker)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        return Results.Ok(Visible(http, broker).Select(a => new
        {
            id = a.Id,
            customer = a.Customer,
            parties = a.Parties,
            versions = a.Versions.Select(v => new { number = v.Number, effectiveFrom = v.EffectiveFrom, note = v.Note, clauses = v.Clauses.Count }),
        }));
    }

    private static IResult Show(HttpContext http, BrokerService broker, string id)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        return Visible(http, broker).FirstOrDefault(a => a.Id.Value == id) is { } agreement
            ? Results.Ok(View(agreement))
            : Problems.NotFound($"agreement {id} not found");
    }

    private static IResult Diff(HttpContext http, BrokerService broker, string id, string? from, string? to)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        if (Visible(http, broker).FirstOrDefault(a => a.Id.Value == id) is not { } agreement)
        {
            return Problems.NotFound($"agreement {id} not found");
        }

        var versions = agreement.Versions.OrderBy(v => v.Number).ToArray();
        var a = from is null ? (versions.Length > 1 ? versions[^2] : versions[0]) : int.TryParse(from, CultureInfo.InvariantCulture, out var f) ? agreement.Version(f) : null;
        var b = to is null ? versions[^1] : int.TryParse(to, CultureInfo.InvariantCulture, out var t) ? agreement.Version(t) : null;
        if (a is null || b is null)
        {
            return Problems.Invalid($"from/to: agreement {id} has versions {string.Join(", ", versions.Select(v => v.Number))}", [new FieldError(a is null ? "from" : "to", "must name an existing version")]);
        }

        return Results.Ok(AgreementDiffer.Diff(agreement, a, b));
    }

    private static IResult Status(HttpContext http, BrokerService broker, string? asOf, string? agreement)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var at = broker.Clock.GetUtcNow();
        if (asOf is not null && !DateTimeOffset.TryParse(asOf, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at))
        {
            return Problems.Invalid($"asOf: '{asOf}' is not an ISO 8601 instant (e.g. 2026-01-01T00:00:00Z)", [new FieldError("asOf", "must be an ISO 8601 instant")]);
        }

        var visible = Visible(http, broker).Select(a => a.Id).ToHashSet();
        if (agreement is not null && !visible.Contains(new AgreementId(agreement)))
        {
            // As GET /v1/agreements/{id} answers: an agreement a customer is not party to is not found either.
            return Problems.NotFound($"agreement {agreement} not found");
        }

        var statuses = ClauseStatusReport.At(broker.Projection.Book, at, broker.Projection.Metric, broker.Projection.FiredAt)
            .Where(s => visible.Contains(s.Agreement) && (agreement is null || s.Agreement.Value == agreement));
        return Results.Ok(statuses);
    }

    private static IEnumerable<Agreement> Visible(HttpContext http, BrokerService broker)
    {
        var caller = http.Caller();
        return broker.Projection.Book.Agreements
            .Where(a => caller.Role.Kind != RoleKind.Customer || a.Customer == caller.Role.Subject)
            .OrderBy(a => a.Id.Value, StringComparer.Ordinal);
    }

    /// <summary>An agreement with each clause serialised as its own kind (not as the base type).</summary>
    private static object View(Agreement a) => new
    {
        id = a.Id,
        customer = a.Customer,
        parties = a.Parties,
        versions = a.Versions.Select(v => new
        {
            number = v.Number,
            effectiveFrom = v.EffectiveFrom,
            note = v.Note,
            clauses = v.Clauses.Select(c => JsonSerializer.SerializeToElement(c, c.GetType(), BrokerJson.Options)).ToArray(),
        }),
    };
}
