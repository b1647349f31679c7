using System.Text.Json.Serialization;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Reporting;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Service;

/// <summary>An allocation as shown by the API.</summary>
public sealed record AllocationView(ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, AllocationSource Source, DateTimeOffset At);

/// <summary>A capacity request as shown by the API: its terms, where it is, and what it got.</summary>
public sealed record RequestView(
    RequestId Id,
    string Customer,
    string WorkloadClass,
    string Accelerator,
    GpuCount Gpus,
    IReadOnlyList<string> Regions,
    PricePerGpuHour MaxPrice,
    DateTimeOffset EarliestStart,
    int DurationHours,
    DateTimeOffset NeededBy,
    bool AllOrNothing,
    DateTimeOffset SubmittedAt,
    string State,
    SourcingRoute? Route,
    ProviderId? Holder,
    GpuCount Allocated,
    GpuCount? Unfulfilled,
    RequestOutcome? Outcome,
    string? Reason,
    DateTimeOffset? ClosedAt,
    DateTimeOffset? NextDeadline,
    IReadOnlyList<AllocationView> Allocations)
{
    public static RequestView From(RequestState s)
    {
        var r = s.Request!;
        return new RequestView(
            r.Id, r.Customer, r.WorkloadClass, r.Accelerator, r.Gpus, r.Regions, r.MaxPrice, r.EarliestStart, r.DurationHours, r.NeededBy, r.AllOrNothing,
            s.SubmittedAt,
            StateOf(s),
            s.Clauses?.Route,
            s.Clauses?.Holder,
            s.Allocated,
            s.Closed?.Unfulfilled,
            s.Closed?.Outcome,
            s.Closed?.Reason,
            s.Closed?.At,
            s.NextDeadline,
            s.Allocations.Select(a => new AllocationView(a.Provider, a.Gpus, a.Price, a.Start, a.Source, a.At)).ToArray());
    }

    /// <summary>Every state a listed request can be in (its open phases, then its outcomes), as <see cref="State"/> names them.</summary>
    public static readonly IReadOnlyList<string> States =
        [.. Enum.GetValues<RequestPhase>().Where(p => p is not (RequestPhase.New or RequestPhase.Closed)).Select(p => Kebab(p.ToString())), .. Names<RequestOutcome>()];

    /// <summary>The request's state as the API names it: its outcome once closed, else its phase (kebab-case).</summary>
    public static string StateOf(RequestState s) => s.Closed is { } c ? OutcomeNames[(int)c.Outcome] : PhaseNames[(int)s.Phase];

    /// <summary>The names <see cref="StateOf"/> gives requests still open: their phases.</summary>
    internal static IReadOnlyList<string> OpenStates => PhaseNames;

    // Views are built for every listed request and every overview: name each enum value once.
    private static readonly string[] OutcomeNames = Names<RequestOutcome>();
    private static readonly string[] PhaseNames = Names<RequestPhase>();

    private static string[] Names<T>()
        where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var names = new string[values.Max(v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)) + 1];
        foreach (var v in values)
        {
            names[Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)] = Kebab(v.ToString());
        }

        return names;
    }

    private static string Kebab(string pascal) => string.Concat(pascal.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "-" : string.Empty) + char.ToLowerInvariant(ch) : ch.ToString()));
}

/// <summary>One event of a request's timeline: the raw event, plus when, what, who and why in words.</summary>
public sealed record TimelineView(long Version, string Type, DateTimeOffset At, string What, string? Who, string Detail, SourcingEvent Event);

/// <summary>A request with its full timeline.</summary>
public sealed record RequestDetailView(RequestView Request, IReadOnlyList<TimelineView> Timeline);

/// <summary>An offer as a provider sees it, with the request's terms.</summary>
/// <remarks>
/// The broker keeps a view of every offer, quote request and reservation it ever made, so these views are values stored in
/// the projection's tables rather than objects of their own (the garbage collector copies every object a request leaves
/// behind, and a collection stops every thread), and the terms are read from the request itself instead of copied.
/// What it was last in answers comes last in the JSON.
/// </remarks>
public readonly record struct OfferView(
    OfferId Id,
    RequestId RequestId,
    OfferKind Kind,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Price,
    bool PartialAllowed,
    DateTimeOffset OfferedAt,
    DateTimeOffset RespondBy,
    [property: JsonIgnore] CapacityRequest Request,
    [property: JsonPropertyOrder(1)] string State,
    [property: JsonPropertyOrder(1)] GpuCount? AcceptedGpus,
    [property: JsonPropertyOrder(1)] string? Reason)
{
    public string WorkloadClass => Request.WorkloadClass;

    public string Accelerator => Request.Accelerator;

    public IReadOnlyList<string> Regions => Request.Regions;

    public DateTimeOffset EarliestStart => Request.EarliestStart;

    public int DurationHours => Request.DurationHours;
}

/// <summary>
/// The states of the provider lists' items (offers, quote requests, reservations), as their views name them: what the
/// lists' <c>state</c> filter takes, besides <c>all</c>.
/// </summary>
public static class ItemStates
{
    public static readonly IReadOnlyList<string> Offer = ["open", "accepted", "declined", "expired", "withdrawn"];

    public static readonly IReadOnlyList<string> QuoteRequest = ["open", "quoted", "declined", "expired", "withdrawn"];

    public static readonly IReadOnlyList<string> Reservation = ["open", "confirmed", "failed", "expired", "withdrawn"];
}

/// <summary>A quote request as a provider sees it, with the request's terms (read from the request, as for <see cref="OfferView"/>).</summary>
public readonly record struct QuoteRequestView(
    RequestId RequestId,
    ProviderId Provider,
    GpuCount Gpus,
    PricePerGpuHour Ceiling,
    DateTimeOffset RequestedAt,
    DateTimeOffset Deadline,
    [property: JsonIgnore] CapacityRequest Request,
    [property: JsonPropertyOrder(1)] string State)
{
    public string WorkloadClass => Request.WorkloadClass;

    public string Accelerator => Request.Accelerator;

    public IReadOnlyList<string> Regions => Request.Regions;

    public DateTimeOffset EarliestStart => Request.EarliestStart;

    public int DurationHours => Request.DurationHours;
}

/// <summary>An award waiting for (or given) the provider's reservation (a value, as <see cref="OfferView"/>).</summary>
public readonly record struct ReservationView(RequestId RequestId, int Award, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, DateTimeOffset RespondBy, string State);

/// <summary>The overview: requests by state, GPUs per provider, the holder's share, time to capacity.</summary>
public sealed record OverviewView(
    IReadOnlyDictionary<string, int> RequestsByState,
    SourcingSummary Summary,
    int OpenOffers,
    int OpenQuoteRequests,
    long GlobalPosition);

/// <summary>A page of items and the cursor for the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
