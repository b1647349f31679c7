using ComputeBroker.Contracts;
using ComputeBroker.Domain;

namespace ComputeBroker.Sourcing;

/// <summary>Where a request is in the sourcing workflow.</summary>
public enum RequestPhase
{
    New,
    AwaitingOffer,
    AwaitingQuotes,
    AwaitingMatch,
    AwaitingReservations,
    Closed,
}

/// <summary>An offer waiting for its provider's answer.</summary>
public sealed record OpenOffer(OfferId Id, OfferKind Kind, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, bool PartialAllowed, DateTimeOffset RespondBy);

/// <summary>A quote received in the market round, and how much of it has been awarded so far.</summary>
public sealed class QuoteLine(ProviderId provider, GpuCount gpus, PricePerGpuHour price, DateTimeOffset start, DateTimeOffset validUntil)
{
    public ProviderId Provider { get; } = provider;

    public GpuCount Gpus { get; } = gpus;

    public PricePerGpuHour Price { get; } = price;

    public DateTimeOffset Start { get; } = start;

    public DateTimeOffset ValidUntil { get; } = validUntil;

    /// <summary>GPUs of this quote awarded so far (a failed reservation keeps them used: that capacity is gone).</summary>
    public int Awarded { get; internal set; }

    public int Left => Gpus.Value - Awarded;
}

/// <summary>An award waiting for the provider's reservation.</summary>
public sealed record PendingAward(int Award, ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, DateTimeOffset RespondBy);

/// <summary>A confirmed allocation.</summary>
public sealed record Allocation(ProviderId Provider, GpuCount Gpus, PricePerGpuHour Price, DateTimeOffset Start, AllocationSource Source, DateTimeOffset At);

/// <summary>
/// The state of one request: a left fold of its events (<see cref="Apply"/>). It holds nothing that
/// cannot be rebuilt from the events. Not thread-safe: one request is decided by one caller at a time.
/// </summary>
/// <remarks>
/// A broker keeps the state of every request it has seen, so a closed one keeps only what is read once it is closed (its
/// terms, clauses, allocations and outcome): the quotes, their answers and the pending awards served the decisions, and
/// nothing decides on a closed request. Collections are created on their first item for the same reason.
/// </remarks>
public sealed class RequestState
{
    private List<QuoteLine>? _quotes;
    private List<PendingAward>? _pendingAwards;
    private List<Allocation>? _allocations;
    private HashSet<ProviderId>? _quoteAnswered;

    public RequestId Id { get; private set; }

    public CapacityRequest? Request { get; private set; }

    public DateTimeOffset SubmittedAt { get; private set; }

    public RequestPhase Phase { get; private set; }

    public ClausesResolved? Clauses { get; private set; }

    public OpenOffer? OpenOffer { get; private set; }

    public int OffersMade { get; private set; }

    /// <summary>The price offered to the first-refusal holder or exclusive provider: no third party may be awarded more.</summary>
    public PricePerGpuHour? HolderOfferPrice { get; private set; }

    /// <summary>True once the holder declined, accepted part, or let its first-refusal offer expire.</summary>
    public bool HolderAnswered { get; private set; }

    public bool MatchOffered { get; private set; }

    public IReadOnlyList<ProviderId> QuoteProviders { get; private set; } = [];

    public PricePerGpuHour? QuoteCeiling { get; private set; }

    public DateTimeOffset? QuoteDeadline { get; private set; }

    public bool QuotesClosed { get; private set; }

    /// <summary>The quotes received while the request was open (none once it is closed).</summary>
    public IReadOnlyList<QuoteLine> Quotes => (IReadOnlyList<QuoteLine>?)_quotes ?? [];

    public IReadOnlyList<PendingAward> PendingAwards => (IReadOnlyList<PendingAward>?)_pendingAwards ?? [];

    public IReadOnlyList<Allocation> Allocations => (IReadOnlyList<Allocation>?)_allocations ?? [];

    public int AwardsMade { get; private set; }

    public GpuCount Allocated { get; private set; }

    public RequestClosed? Closed { get; private set; }

    public int EventCount { get; private set; }

    public bool IsClosed => Phase == RequestPhase.Closed;

    /// <summary>GPUs neither allocated nor awaiting a reservation.</summary>
    public GpuCount Unsourced
    {
        get
        {
            var pending = 0;
            foreach (var award in PendingAwards)
            {
                pending += award.Gpus.Value;
            }

            return new GpuCount(Request!.Gpus.Value - Allocated.Value - pending);
        }
    }

    /// <summary>Whether <paramref name="provider"/> quoted or declined while the request was open.</summary>
    public bool HasAnsweredQuote(ProviderId provider) => _quoteAnswered?.Contains(provider) == true;

    /// <summary>The earliest instant at which something will happen without an answer: a deadline.</summary>
    public DateTimeOffset? NextDeadline => Phase switch
    {
        RequestPhase.AwaitingOffer or RequestPhase.AwaitingMatch => OpenOffer?.RespondBy,
        RequestPhase.AwaitingQuotes => QuoteDeadline,
        RequestPhase.AwaitingReservations => _pendingAwards is not { Count: > 0 } pending ? null : pending.Min(a => a.RespondBy),
        _ => null,
    };

    public static RequestState Replay(IEnumerable<SourcingEvent> events)
    {
        var state = new RequestState();
        foreach (var e in events)
        {
            state.Apply(e);
        }

        return state;
    }

    public void Apply(SourcingEvent e)
    {
        EventCount++;
        switch (e)
        {
            case RequestSubmitted s:
                Id = s.RequestId;
                Request = s.Request;
                SubmittedAt = s.At;
                Phase = RequestPhase.New;
                break;
            case ClausesResolved c:
                Clauses = c;
                break;
            case OfferMade o:
                OffersMade++;
                OpenOffer = new OpenOffer(o.Offer, o.Kind, o.Provider, o.Gpus, o.Price, o.PartialAllowed, o.RespondBy);
                Phase = o.Kind == OfferKind.Match ? RequestPhase.AwaitingMatch : RequestPhase.AwaitingOffer;
                if (o.Kind == OfferKind.Match)
                {
                    MatchOffered = true;
                }
                else
                {
                    HolderOfferPrice = o.Price;
                }

                break;
            case OfferAccepted a:
                if (OpenOffer?.Kind == OfferKind.FirstRefusal && a.Gpus < OpenOffer.Gpus)
                {
                    HolderAnswered = true;
                }

                OpenOffer = null;
                break;
            case OfferDeclined:
            case OfferExpired:
                if (OpenOffer?.Kind == OfferKind.FirstRefusal)
                {
                    HolderAnswered = true;
                }

                OpenOffer = null;
                break;
            case QuotesRequested q:
                QuoteProviders = q.Providers;
                QuoteCeiling = q.Ceiling;
                QuoteDeadline = q.Deadline;
                Phase = RequestPhase.AwaitingQuotes;
                break;
            case QuoteReceived q:
                (_quoteAnswered ??= []).Add(q.Provider);
                (_quotes ??= []).Add(new QuoteLine(q.Provider, q.Gpus, q.Price, q.Start, q.ValidUntil));
                break;
            case QuoteDeclined d:
                (_quoteAnswered ??= []).Add(d.Provider);
                break;
            case QuoteWindowClosed:
                QuotesClosed = true;
                Phase = RequestPhase.AwaitingReservations;
                break;
            case AwardMade w:
                AwardsMade++;
                (_pendingAwards ??= []).Add(new PendingAward(w.Award, w.Provider, w.Gpus, w.Price, w.Start, w.RespondBy));
                if (FindQuote(w.Provider) is { } quote)
                {
                    quote.Awarded += w.Gpus.Value;
                }

                Phase = RequestPhase.AwaitingReservations;
                break;
            case ReservationFailed f:
                RemoveAward(f.Award);
                break;
            case AllocationMade m:
                if (m.Award is { } award)
                {
                    RemoveAward(award);
                }

                Allocated += m.Gpus;
                (_allocations ??= []).Add(new Allocation(m.Provider, m.Gpus, m.Price, m.Start, m.Source, m.At));
                break;
            case AllocationReleased r:
                Allocated -= r.Gpus;
                break;
            case RequestClosed c:
                Closed = c;
                OpenOffer = null;
                _pendingAwards = null;
                _quotes = null;
                _quoteAnswered = null;
                Phase = RequestPhase.Closed;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown sourcing event.");
        }
    }

    internal QuoteLine? FindQuote(ProviderId provider)
    {
        foreach (var quote in Quotes)
        {
            if (quote.Provider == provider)
            {
                return quote;
            }
        }

        return null;
    }

    private void RemoveAward(int award)
    {
        for (var i = 0; _pendingAwards is not null && i < _pendingAwards.Count; i++)
        {
            if (_pendingAwards[i].Award == award)
            {
                _pendingAwards.RemoveAt(i);
                return;
            }
        }
    }
}
