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

    public static IResult Invalid(string detail, IReadOnlyList<FieldError>? errors = null) =>
        Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: "The request is not valid",
            type: "/problems/invalid",
            extensions: errors is { Count: > 0 }
                ? new Dictionary<string, object?> { ["errors"] = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()) }
                : null);

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
}
