using System.Globalization;
using ComputeBroker.Contracts;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Reporting;

/// <summary>One line of a request's timeline for people: when, what, who, and why.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string What, string? Who, string Detail)
{
    /// <summary>Describes an event in the words a capacity team or an auditor uses.</summary>
    public static TimelineEntry From(SourcingEvent e) => e switch
    {
        RequestSubmitted s => new(e.At, "submitted", s.Request.Customer,
            string.Create(CultureInfo.InvariantCulture, $"{s.Request.Gpus} x {s.Request.Accelerator} for {s.Request.WorkloadClass}, {s.Request.DurationHours} h from {s.Request.EarliestStart:yyyy-MM-dd}, max {s.Request.MaxPrice}{(s.Request.AllOrNothing ? ", all-or-nothing" : string.Empty)}")),
        ClausesResolved c => new(e.At, "clauses resolved", null, Resolution(c)),
        OfferMade o => new(e.At, o.Kind switch
        {
            OfferKind.Match => "match offered",
            OfferKind.Exclusive => "exclusive offer",
            _ => "first-refusal offer",
        }, o.Provider.Value, $"{o.Gpus} GPUs at {o.Price}, {(o.PartialAllowed ? "part allowed" : "all or nothing")}, respond by {o.RespondBy:yyyy-MM-dd HH:mm}"),
        OfferAccepted a => new(e.At, "offer accepted", a.Provider.Value, $"{a.Gpus} GPUs"),
        OfferDeclined d => new(e.At, "offer declined", d.Provider.Value, d.Reason),
        OfferExpired x => new(e.At, "offer expired", x.Provider.Value, "no answer by the deadline: counts as a decline"),
        QuotesRequested q => new(e.At, "quotes requested", null, $"{q.Gpus} GPUs from {string.Join(", ", q.Providers)}, ceiling {q.Ceiling}, deadline {q.Deadline:yyyy-MM-dd HH:mm}"),
        QuoteReceived q => new(e.At, "quote", q.Provider.Value, $"{q.Gpus} GPUs at {q.Price}, start {q.Start:yyyy-MM-dd}"),
        QuoteDeclined q => new(e.At, "quote declined", q.Provider.Value, q.Reason),
        QuoteWindowClosed w => new(e.At, "quotes closed", null, w.Silent.Count == 0 ? "every provider answered" : $"no answer from {string.Join(", ", w.Silent)}"),
        AwardMade a => new(e.At, "awarded", a.Provider.Value, $"award {a.Award}: {a.Gpus} GPUs at {a.Price}, reserve by {a.RespondBy:yyyy-MM-dd HH:mm}"),
        ReservationFailed f => new(e.At, "reservation failed", f.Provider.Value, $"award {f.Award}: {f.Reason}"),
        AllocationMade m => new(e.At, "allocated", m.Provider.Value, $"{m.Gpus} GPUs at {m.Price} ({m.Source switch { AllocationSource.Match => "matched", AllocationSource.Offer => "offer accepted", _ => "reservation confirmed" }})"),
        AllocationReleased r => new(e.At, "released", r.Provider.Value, $"{r.Gpus} GPUs given back"),
        RequestClosed c => new(e.At, c.Outcome switch
        {
            RequestOutcome.Placed => "placed",
            RequestOutcome.PartiallyPlaced => "partially placed",
            RequestOutcome.Unfulfilled => "unfulfilled",
            _ => "cancelled",
        }, null, $"{c.Allocated} allocated, {c.Unfulfilled} unfulfilled{(c.Reason is null ? string.Empty : $" ({c.Reason})")}"),
        _ => new(e.At, e.Type, null, string.Empty),
    };

    private static string Resolution(ClausesResolved c)
    {
        var versions = c.Versions.Count == 0 ? "no agreement in force" : string.Join(", ", c.Versions);
        return c.Route switch
        {
            SourcingRoute.Exclusive => $"exclusive to {c.Holder} ({c.Exclusivity?.Clause}, {versions})",
            SourcingRoute.FirstRefusal => $"first refusal: {c.Holder}{(c.Mode == FirstRefusalMode.Match ? " with match" : string.Empty)} ({c.FirstRefusal?.Clause}, {versions})",
            SourcingRoute.Waived => $"waiver {c.Waiver?.Clause} skips {c.Holder}; market: {string.Join(", ", c.Market)}",
            _ => $"open market: {string.Join(", ", c.Market)} ({versions})",
        };
    }
}
