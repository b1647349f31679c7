using ComputeBroker.Domain;
using ComputeBroker.Sourcing;
using Microsoft.AspNetCore.Http;

namespace ComputeBroker.Server.Api;

/// <summary>
/// RFC 9457 problem details for every error the API returns. The <c>type</c> is a relative URI naming the
/// problem kind; <c>errors</c> maps each bad field to what to do about it.
/// </summary>
public static class Problems
{
    public static IResult From(Rejection rejection) => rejection.Kind switch
    {
        RejectionKind.Invalid => Invalid(rejection.Message, rejection.Errors),
        RejectionKind.NotFound => NotFound(rejection.Message),
        _ => Conflict(rejection.Message),
    };

    /// <summary>
    /// A rejection of a JSON body's content. The engine names fields as the YAML files and events spell them
    /// (<c>needed-by</c>); the errors name them as the JSON body does (<c>neededBy</c>), so a client can find the field it sent.
    /// </summary>
    public static IResult FromBody(Rejection rejection) =>
        From(rejection with { Errors = rejection.Errors?.Select(e => e with { Field = JsonFieldName(e.Field) }).ToArray() });

    public static IResult Invalid(string detail, IReadOnlyList<FieldError>? errors = null) =>
        Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: "The request is not valid",
            type: "/problems/invalid",
            extensions: errors is { Count: > 0 }
                ? new Dictionary<string, object?> { ["errors"] = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()) }
                : null);

    /// <summary>
    /// A list's <c>state</c> filter that none of its items can be in: a 400 naming the states it takes, where the list would
    /// otherwise come back empty, as if nothing were in that state.
    /// </summary>
    public static IResult UnknownState(string state, string item, IReadOnlyList<string> takes)
    {
        var names = string.Join(", ", takes);
        return Invalid($"state: '{state}' is not a state of {item}; use one of {names}", [new FieldError("state", $"must be one of {names}")]);
    }

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found", type: "/problems/not-found");

    public static IResult Conflict(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict with the current state", type: "/problems/conflict");

    public static IResult Forbidden(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden for this key's role", type: "/problems/forbidden");

    public static IResult Unauthorized(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Authentication required", type: "/problems/unauthorized");

    public static IResult UnprocessableIdempotency(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused with another body", type: "/problems/idempotency-key-reused");

    private static string JsonFieldName(string field)
    {
        var parts = field.Split('-');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
