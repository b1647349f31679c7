using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using ComputeBroker.Storage.Integrity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary><c>/v1/audit</c>: verify now (optionally against a digest kept elsewhere), the last result, the current digest.</summary>
public static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/audit/verify", Verify).WithName("AuditVerify").WithSummary("Verify the log's hash chains and digest, and replay the invariants (body: an optional digest document)");
        v1.MapGet("/audit/last", Last).WithName("AuditLast").WithSummary("The last audit result of this server");
        v1.MapGet("/audit/status", Status).WithName("AuditStatus").WithSummary("The last audit result (null when none has run) and the current digest, in one call");
        v1.MapGet("/audit/digest", DigestNow).WithName("AuditDigest").WithSummary("The current digest: keep it outside the database to detect tampering later");
    }

    private static async Task<IResult> Verify(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin, RoleKind.Auditor) is { } forbidden)
        {
            return forbidden;
        }

        var text = await RequestText.ReadAsync(http.Request, ct);
        DigestDocument? expected = null;
        if (!string.IsNullOrWhiteSpace(text))
        {
            try
            {
                expected = DigestDocument.FromJson(text, "body");
            }
            catch (FormatException ex)
            {
                return Problems.Invalid(ex.Message, [new Domain.FieldError("digest", "must be a digest document from /v1/audit/digest or 'broker audit digest'")]);
            }
        }

        return Results.Ok(await broker.AuditAsync(expected, ct));
    }

    private static IResult Last(HttpContext http, BrokerService broker) =>
        http.Allow(RoleKind.Admin, RoleKind.Auditor) ?? (broker.LastAudit is { } last ? Results.Ok(last) : Problems.NotFound("no audit has run on this server yet; POST /v1/audit/verify"));

    private static async Task<IResult> Status(HttpContext http, BrokerService broker, CancellationToken ct) =>
        http.Allow(RoleKind.Admin, RoleKind.Auditor) ?? Results.Ok(new AuditStatus(broker.LastAudit, await Digest.CaptureAsync(broker.Store, broker.Clock, DigestDetail.RootOnly, ct)));

    private static async Task<IResult> DigestNow(HttpContext http, BrokerService broker, CancellationToken ct) =>
        http.Allow(RoleKind.Admin, RoleKind.Auditor) ?? Results.Ok(await Digest.CaptureAsync(broker.Store, broker.Clock, DigestDetail.RootOnly, ct));
}

/// <summary>What the dashboard's audit page shows: the last result of this server, if any, and the digest now.</summary>
public sealed record AuditStatus(AuditResult? Last, DigestDocument Digest);
