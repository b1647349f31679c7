using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ComputeBroker.Server.Api;

/// <summary><c>/v1/keys</c>: admins create (the key is shown once), list and revoke keys.</summary>
public static class KeyEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/keys", List).WithName("ListKeys").WithSummary("Keys (ids and roles; never the keys themselves)");
        v1.MapPost("/keys", Create).WithName("CreateKey").WithSummary("Create a key; the response holds the key, shown only this once");
        v1.MapDelete("/keys/{id}", Revoke).WithName("RevokeKey").WithSummary("Revoke a key");
        v1.MapGet("/whoami", (HttpContext http) => Results.Ok(new { keyId = http.Caller().KeyId, role = http.Caller().Role.ToString() }))
            .WithName("WhoAmI").WithSummary("The caller's key id and role");
    }

    private static IResult List(HttpContext http, BrokerService broker) =>
        http.Allow(RoleKind.Admin) ?? Results.Ok(broker.Projection.Keys.All.Select(k => new { id = k.Id, role = k.Role.ToString(), createdAt = k.CreatedAt, note = k.Note, revokedAt = k.RevokedAt }));

    private static async Task<IResult> Create(HttpContext http, BrokerService broker, CancellationToken ct)
    {
        if (http.Allow(RoleKind.Admin) is { } forbidden)
        {
            return forbidden;
        }

        var (body, error) = JsonBody.Parse(await RequestText.ReadAsync(http.Request, ct));
        if (body is null)
        {
            return Problems.Invalid(error!);
        }

        body.RejectUnknown("role", "note");
        var roleText = body.String("role");
        var note = body.String("note", required: false);
        Role? role = null;
        if (roleText is not null && !Role.TryParse(roleText, out role, out var roleError))
        {
            body.Error("role", roleError);
        }

        if (!body.Ok)
        {
            return Problems.Invalid("the body has errors; fix the fields listed", body.Errors);
        }

        var (key, record) = await broker.CreateKeyAsync(role!, note, ct);
        return Results.Created($"/v1/keys/{record.Id}", new { id = record.Id, role = record.Role.ToString(), key, note });
    }

    private static async Task<IResult> Revoke(HttpContext http, BrokerService broker, string id, CancellationToken ct) =>
        http.Allow(RoleKind.Admin) ?? (await broker.RevokeKeyAsync(id, ct) ? Results.NoContent() : Problems.NotFound($"no active key {id}"));
}
