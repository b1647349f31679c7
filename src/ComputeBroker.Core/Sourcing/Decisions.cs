using ComputeBroker.Domain;

namespace ComputeBroker.Sourcing;

/// <summary>Why the engine refused an input. Maps to an HTTP status in the service and an exit code in the CLI.</summary>
public enum RejectionKind
{
    /// <summary>The input is malformed (a field is wrong); nothing changed.</summary>
    Invalid,

    /// <summary>The input is well formed but too late or not possible in the request's state; nothing changed.</summary>
    Conflict,

    /// <summary>The thing the input refers to does not exist.</summary>
    NotFound,
}

/// <summary>A refused input: why, and a message that names the field or state and the fix.</summary>
public sealed record Rejection(RejectionKind Kind, string Message, IReadOnlyList<FieldError>? Errors = null);

/// <summary>The result of one decision: the new events (possibly none), or a rejection that changed nothing.</summary>
public readonly struct Decision
{
    private Decision(IReadOnlyList<SourcingEvent> events, Rejection? rejection)
    {
        Events = events;
        Rejection = rejection;
    }

    public IReadOnlyList<SourcingEvent> Events { get; }

    public Rejection? Rejection { get; }

    public bool IsRejected => Rejection is not null;

    public static Decision Of(IReadOnlyList<SourcingEvent> events) => new(events, null);

    public static Decision Reject(RejectionKind kind, string message, IReadOnlyList<FieldError>? errors = null) =>
        new([], new Rejection(kind, message, errors));
}

/// <summary>A provider's answer to an offer (first refusal, exclusive or match).</summary>
public abstract record OfferAnswer
{
    private OfferAnswer()
    {
    }

    /// <summary>Accept <see cref="Gpus"/> GPUs: all of the offer, or part of it where part is allowed.</summary>
    public sealed record Accept(GpuCount Gpus) : OfferAnswer;

    public sealed record Decline(string Reason) : OfferAnswer;
}

/// <summary>A provider's answer to a quote request.</summary>
public abstract record QuoteAnswer
{
    private QuoteAnswer()
    {
    }

    public sealed record Quote(GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, DateTimeOffset ValidUntil) : QuoteAnswer;

    public sealed record Decline(string Reason) : QuoteAnswer;
}

/// <summary>
/// The broker-wide windows that the agreements do not set. Respond-by instants never run past the
/// request's needed-by instant.
/// </summary>
public sealed record BrokerPolicy(TimeSpan ExclusiveResponseWindow, TimeSpan QuoteWindow, TimeSpan ReservationWindow, TimeSpan QuoteValidity)
{
    public static readonly BrokerPolicy Default = new(
        ExclusiveResponseWindow: TimeSpan.FromDays(2),
        QuoteWindow: TimeSpan.FromHours(4),
        ReservationWindow: TimeSpan.FromHours(1),
        QuoteValidity: TimeSpan.FromDays(1));
}
