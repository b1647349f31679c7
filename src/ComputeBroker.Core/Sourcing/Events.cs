using System.Text.Json.Serialization;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Sourcing;

/// <summary>A clause as recorded in an event: the agreement version it comes from and its id.</summary>
public sealed record ClauseRef(AgreementVersionRef Version, ClauseId Clause)
{
    public override string ToString() => $"{Version}:{Clause}";
}

/// <summary>What the offer asks: first refusal, the exclusive provider's offer, or the holder's chance to match.</summary>
public enum OfferKind
{
    FirstRefusal,
    Exclusive,
    Match,
}

/// <summary>How an allocation came about.</summary>
public enum AllocationSource
{
    /// <summary>The first-refusal holder or the exclusive provider accepted an offer.</summary>
    Offer,

    /// <summary>The holder matched the best third-party terms.</summary>
    Match,

    /// <summary>A market quote was awarded and its reservation confirmed.</summary>
    Market,
}

/// <summary>A request's terminal state.</summary>
public enum RequestOutcome
{
    Placed,
    PartiallyPlaced,
    Unfulfilled,
    Cancelled,
}

/// <summary>
/// Something that happened to one capacity request. The event log is the source of truth: a
/// request's state is the fold of its events (<see cref="RequestState"/>), and the audit verifier
/// replays them. Events are immutable and carry the instant they happened.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RequestSubmitted), "request.submitted")]
[JsonDerivedType(typeof(ClausesResolved), "clauses.resolved")]
[JsonDerivedType(typeof(OfferMade), "offer.made")]
[JsonDerivedType(typeof(OfferAccepted), "offer.accepted")]
[JsonDerivedType(typeof(OfferDeclined), "offer.declined")]
[JsonDerivedType(typeof(OfferExpired), "offer.expired")]
[JsonDerivedType(typeof(QuotesRequested), "quotes.requested")]
[JsonDerivedType(typeof(QuoteReceived), "quote.received")]
[JsonDerivedType(typeof(QuoteDeclined), "quote.declined")]
[JsonDerivedType(typeof(QuoteWindowClosed), "quotes.closed")]
[JsonDerivedType(typeof(AwardMade), "award.made")]
[JsonDerivedType(typeof(ReservationFailed), "reservation.failed")]
[JsonDerivedType(typeof(AllocationMade), "allocation.made")]
[JsonDerivedType(typeof(AllocationReleased), "allocation.released")]
[JsonDerivedType(typeof(RequestClosed), "request.closed")]
public abstract record SourcingEvent(RequestId RequestId, DateTimeOffset At)
{
    /// <summary>The short type name used in logs, timelines and webhooks.</summary>
    [JsonIgnore]
    public abstract string Type { get; }
}

public sealed record RequestSubmitted(RequestId RequestId, DateTimeOffset At, CapacityRequest Request) : SourcingEvent(RequestId, At)
{
    public override string Type => "request.submitted";
}

/// <summary>
/// The clauses that govern the request, resolved as of its submission instant, and the market it may use.
/// Later decisions read these terms, never the agreement again, so an amendment never changes a request in flight.
/// </summary>
public sealed record ClausesResolved(
    RequestId RequestId,
    DateTimeOffset At,
    SourcingRoute Route,
    IReadOnlyList<AgreementVersionRef> Versions,
    ClauseRef? Exclusivity,
    ClauseRef? FirstRefusal,
    ProviderId? Holder,
    FirstRefusalMode Mode,
    bool HolderMayAcceptPart,
    TimeSpan? MatchWindow,
    ClauseRef? Waiver,
    GpuCount WaiverGpus,
    IReadOnlyList<ProviderId> Market) : SourcingEvent(RequestId, At)
{
    public override string Type => "clauses.resolved";
}

public sealed record OfferMade(
    RequestId RequestId,
    DateTimeOffset At,
    OfferId Offer,
    OfferKind Kind,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Price,
    bool PartialAllowed,
    DateTimeOffset RespondBy) : SourcingEvent(RequestId, At)
{
    public override string Type => "offer.made";
}

public sealed record OfferAccepted(RequestId RequestId, DateTimeOffset At, OfferId Offer, ProviderId Provider, GpuCount Gpus) : SourcingEvent(RequestId, At)
{
    public override string Type => "offer.accepted";
}

public sealed record OfferDeclined(RequestId RequestId, DateTimeOffset At, OfferId Offer, ProviderId Provider, string Reason) : SourcingEvent(RequestId, At)
{
    public override string Type => "offer.declined";
}

public sealed record OfferExpired(RequestId RequestId, DateTimeOffset At, OfferId Offer, ProviderId Provider) : SourcingEvent(RequestId, At)
{
    public override string Type => "offer.expired";
}

public sealed record QuotesRequested(
    RequestId RequestId,
    DateTimeOffset At,
    IReadOnlyList<ProviderId> Providers,
    GpuCount Gpus,
    PricePerGpuHour Ceiling,
    DateTimeOffset Deadline) : SourcingEvent(RequestId, At)
{
    public override string Type => "quotes.requested";
}

public sealed record QuoteReceived(
    RequestId RequestId,
    DateTimeOffset At,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Price,
    DateTimeOffset Start,
    DateTimeOffset ValidUntil) : SourcingEvent(RequestId, At)
{
    public override string Type => "quote.received";
}

public sealed record QuoteDeclined(RequestId RequestId, DateTimeOffset At, ProviderId Provider, string Reason) : SourcingEvent(RequestId, At)
{
    public override string Type => "quote.declined";
}

/// <summary>The quote deadline passed (or every provider answered); <see cref="Silent"/> never answered.</summary>
public sealed record QuoteWindowClosed(RequestId RequestId, DateTimeOffset At, IReadOnlyList<ProviderId> Silent) : SourcingEvent(RequestId, At)
{
    public override string Type => "quotes.closed";
}

/// <summary>A quote is awarded: the provider is asked to reserve the GPUs by <see cref="RespondBy"/>.</summary>
public sealed record AwardMade(
    RequestId RequestId,
    DateTimeOffset At,
    int Award,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Price,
    DateTimeOffset Start,
    DateTimeOffset RespondBy) : SourcingEvent(RequestId, At)
{
    public override string Type => "award.made";
}

/// <summary>The provider could not reserve an award (or did not confirm it in time: reason <c>expired</c>).</summary>
public sealed record ReservationFailed(RequestId RequestId, DateTimeOffset At, int Award, ProviderId Provider, string Reason) : SourcingEvent(RequestId, At)
{
    public override string Type => "reservation.failed";
}

/// <summary>GPUs reserved with a provider for the request at a price. <see cref="Award"/> is set for market allocations.</summary>
public sealed record AllocationMade(
    RequestId RequestId,
    DateTimeOffset At,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Price,
    DateTimeOffset Start,
    AllocationSource Source,
    int? Award) : SourcingEvent(RequestId, At)
{
    public override string Type => "allocation.made";
}

/// <summary>An allocation given back to its provider because the request was cancelled.</summary>
public sealed record AllocationReleased(RequestId RequestId, DateTimeOffset At, ProviderId Provider, GpuCount Gpus) : SourcingEvent(RequestId, At)
{
    public override string Type => "allocation.released";
}

/// <summary>The request reached its terminal state. Exactly one per request.</summary>
public sealed record RequestClosed(
    RequestId RequestId,
    DateTimeOffset At,
    RequestOutcome Outcome,
    GpuCount Allocated,
    GpuCount Unfulfilled,
    string? Reason) : SourcingEvent(RequestId, At)
{
    public override string Type => "request.closed";
}
