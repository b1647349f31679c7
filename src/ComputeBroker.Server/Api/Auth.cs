using ComputeBroker.Server.Security;
using ComputeBroker.Server.Service;
using Microsoft.AspNetCore.Http;

namespace ComputeBroker.Server.Api;

/// <summary>
/// API key authentication: <c>Authorization: Bearer cbk_...</c> or <c>X-Api-Key: cbk_...</c>. A missing,
/// unknown or revoked key gets 401; a key whose role may not use an endpoint gets 403; a resource owned by
/// someone else is 404, so its existence does not leak.
/// </summary>
public static class Auth
{
    private const string ItemKey = "broker.principal";

    public static Principal Caller(this HttpContext http) => (Principal)http.Items[ItemKey]!;

    /// <summary>Authenticates every <c>/v1</c> call before its handler runs.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var service = http.RequestServices.GetService(typeof(BrokerService)) as BrokerService;
        var presented = Presented(http.Request);
        if (presented is null)
        {
            return Problems.Unauthorized("send an API key as 'Authorization: Bearer cbk_...' (create one with 'broker keys create')");
        }

        if (service!.Projection.Keys.Authenticate(presented) is not { } principal)
        {
            return Problems.Unauthorized("the API key is unknown or revoked; check BROKER_API_KEY or create a new key with 'broker keys create'");
        }

        http.Items[ItemKey] = principal;
        return await next(context);
    }

    public static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        var apiKey = request.Headers["X-Api-Key"].ToString();
        return string.IsNullOrWhiteSpace(apiKey) ? null : apiKey.Trim();
    }

    /// <summary>Null when the caller's role is one of <paramref name="kinds"/>, else a 403 problem.</summary>
    public static IResult? Allow(this HttpContext http, params RoleKind[] kinds) =>
        kinds.Contains(http.Caller().Role.Kind)
            ? null
            : Problems.Forbidden($"a key with role {http.Caller().Role} may not do this; it needs {string.Join(" or ", kinds.Select(k => k.ToString().ToLowerInvariant()))}");
}
