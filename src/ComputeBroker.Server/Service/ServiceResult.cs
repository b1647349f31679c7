using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Service;

/// <summary>A service call's answer: a value, or the engine's (or the service's) rejection. Nothing changed on a rejection.</summary>
public readonly record struct ServiceResult<T>(T? Value, Rejection? Rejection)
{
    public bool Ok => Rejection is null;

    public static ServiceResult<T> Success(T value) => new(value, null);

    public static ServiceResult<T> Fail(Rejection rejection) => new(default, rejection);

    public static ServiceResult<T> Fail(RejectionKind kind, string message, IReadOnlyList<Domain.FieldError>? errors = null) => new(default, new Rejection(kind, message, errors));

    public static implicit operator ServiceResult<T>(Rejection rejection) => Fail(rejection);
}

/// <summary>What a submission produced, and whether it replays an earlier one with the same idempotency key.</summary>
public sealed record SubmitOutcome(RequestView Request, bool Replayed);
