using System.Globalization;
using ComputeBroker.Domain;
using ComputeBroker.Server.Hosting;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary>
/// <c>/v1/stats/placements</c> (GPUs placed per provider over time, for charts) and <c>/v1/clock</c> (the
/// broker's clock, so a client can count down to deadlines when the demo runs its clock faster than real time).
/// </summary>
public static class StatsEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/stats/placements", Placements).WithName("PlacementStats")
            .WithSummary("GPUs placed per provider per hour, day or week, and the first-refusal holder's cumulative share (bucket=auto|hour|day|week, limit=1..500)");
        v1.MapGet("/clock", Clock).WithName("Clock").WithSummary("The broker's current time and how many times faster than real time its clock runs");
    }

    private static IResult Placements(HttpContext http, BrokerService broker, string? bucket, string? limit)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor, RoleKind.Customer) is { } forbidden)
        {
            return forbidden;
        }

        var errors = new List<FieldError>();
        PlacementBucket? width = bucket switch
        {
            null or "auto" => null,
            "hour" => PlacementBucket.Hour,
            "day" => PlacementBucket.Day,
            "week" => PlacementBucket.Week,
            _ => Invalid(errors, new FieldError("bucket", $"'{bucket}' is not a bucket; use auto, hour, day or week")),
        };
        var points = 72;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out points) || points is < 1 or > 500))
        {
            errors.Add(new FieldError("limit", "must be a whole number of buckets between 1 and 500"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("the query has errors; fix the parameters listed", errors);
        }

        var caller = http.Caller();
        var customer = caller.Role.Kind == RoleKind.Customer ? caller.Role.Subject : null;
        return Results.Ok(broker.Projection.Placements(customer, width, points));
    }

    private static IResult Clock(BrokerService broker) =>
        Results.Ok(new { now = broker.Clock.GetUtcNow(), speed = broker.Clock is ScaledTimeProvider scaled ? scaled.Speed : 1.0 });

    private static PlacementBucket? Invalid(List<FieldError> errors, FieldError error)
    {
        errors.Add(error);
        return null;
    }
}
