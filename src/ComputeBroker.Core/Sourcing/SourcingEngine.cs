using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;

namespace ComputeBroker.Sourcing;

/// <summary>
/// The sourcing workflow of one capacity request as a pure decider: an input (a submission, a
/// provider's answer, a cancellation or the passing of time) and the request's state in; new
/// events out. It does no I/O and reads no clock: the caller passes <c>now</c>. Each method applies
/// the events it returns to the given state, so chained steps (an offer declined, then quotes
/// requested) see each other; a rejection leaves the state unchanged. Thread-safe: the engine
/// holds no mutable state.
/// </summary>
public sealed class SourcingEngine(BrokerPolicy policy)
{
    public BrokerPolicy Policy { get; } = policy;

    /// <summary>Validates and resolves a new request and makes its first move (an offer or quote requests).</summary>
    /// <param name="waiverUsed">GPUs already counted against each waiver's budget (see <see cref="WaiverLedger"/>).</param>
    public Decision Submit(
        RequestState state,
        CapacityRequest request,
        DateTimeOffset now,
        ContractBook book,
        ProviderCatalog providers,
        Func<AgreementId, ClauseId, int> waiverUsed)
    {
        if (state.Request is not null)
        {
            return Decision.Reject(RejectionKind.Conflict, $"request {state.Id} was already submitted");
        }

        var errors = CapacityRequestValidator.Validate(request, now);
        if (errors.Count > 0)
        {
            return Decision.Reject(RejectionKind.Invalid, $"request {request.Id} is not valid: {string.Join("; ", errors)}", errors);
        }

        var (resolution, conflict) = ClauseResolver.Resolve(book, request, now, waiverUsed);
        if (conflict is not null)
        {
            return Decision.Reject(RejectionKind.Conflict, conflict.Message);
        }

        var run = new Run(this, state, now);
        run.Emit(new RequestSubmitted(request.Id, now, request));
        var r = resolution!;
        var holder = r.FirstRefusal?.Clause.Holder;
        var market = r.Route == SourcingRoute.Exclusive ? [] : Market(providers, request, holder, r.Route == SourcingRoute.Waived ? r.Waiver!.Clause.Providers : null);
        if (r.Route == SourcingRoute.Waived && market.Length == 0)
        {
            // A waiver lets a request skip the holder; it does not oblige it to. When none of the providers it names sells
            // what the request asks for, the holder's first refusal applies as if there were no waiver (and its budget is
            // left untouched), instead of closing the request with nobody asked.
            r = r with { Route = SourcingRoute.FirstRefusal, Waiver = null };
            market = Market(providers, request, holder, null);
        }

        var fr = r.FirstRefusal?.Clause;
        run.Emit(new ClausesResolved(
            request.Id,
            now,
            r.Route,
            r.Versions,
            r.Exclusivity is { } e ? new ClauseRef(e.Version, e.Clause.Id) : null,
            r.FirstRefusal is { } f ? new ClauseRef(f.Version, f.Clause.Id) : null,
            r.Route == SourcingRoute.Exclusive ? r.Exclusivity!.Clause.Provider : holder,
            fr?.Mode ?? FirstRefusalMode.FirstOffer,
            fr is not null && fr.PartialAllowed && !request.AllOrNothing,
            fr?.MatchWindow,
            r.Waiver is { } w ? new ClauseRef(w.Version, w.Clause.Id) : null,
            r.Waiver is null ? GpuCount.None : request.Gpus,
            market));

        switch (r.Route)
        {
            case SourcingRoute.Exclusive:
                var exclusive = r.Exclusivity!.Clause.Provider;
                run.Offer(OfferKind.Exclusive, exclusive, request.Gpus, OfferPrice(providers.Find(exclusive), request), !request.AllOrNothing, Policy.ExclusiveResponseWindow);
                break;
            case SourcingRoute.FirstRefusal:
                run.Offer(OfferKind.FirstRefusal, fr!.Holder, request.Gpus, OfferPrice(providers.Find(fr.Holder), request), fr.PartialAllowed && !request.AllOrNothing, fr.ResponseWindow);
                break;
            default:
                run.RequestQuotes();
                break;
        }

        return run.Done();
    }

    /// <summary>A provider answers its open offer (first refusal, exclusive or match).</summary>
    public Decision AnswerOffer(RequestState state, OfferId offer, ProviderId from, OfferAnswer answer, DateTimeOffset now)
    {
        if (state.IsClosed)
        {
            return Decision.Reject(RejectionKind.Conflict, $"request {state.Id} is already closed ({state.Closed!.Outcome}); the answer changes nothing");
        }

        if (state.OpenOffer is not { } open || open.Id != offer)
        {
            return Decision.Reject(RejectionKind.Conflict, $"offer {offer} is not open: it was already answered, expired or withdrawn");
        }

        if (open.Provider != from)
        {
            return Decision.Reject(RejectionKind.NotFound, $"offer {offer} was not made to provider {from}");
        }

        if (now > open.RespondBy)
        {
            return Decision.Reject(RejectionKind.Conflict, $"offer {offer} expired at {open.RespondBy:O}; answers after the deadline change nothing");
        }

        var run = new Run(this, state, now);
        switch (answer)
        {
            case OfferAnswer.Accept accept:
                if (accept.Gpus.IsZero || accept.Gpus > open.Gpus)
                {
                    return Decision.Reject(RejectionKind.Invalid, $"gpus: accept between 1 and {open.Gpus} GPUs, or decline the offer", [new("gpus", $"must be between 1 and {open.Gpus}")]);
                }

                if (accept.Gpus < open.Gpus && !open.PartialAllowed)
                {
                    return Decision.Reject(RejectionKind.Invalid, $"gpus: offer {offer} does not allow partial acceptance; accept all {open.Gpus} GPUs or decline", [new("gpus", $"must be {open.Gpus}: partial acceptance is not allowed")]);
                }

                run.Emit(new OfferAccepted(state.Id, now, offer, from, accept.Gpus));
                run.Emit(new AllocationMade(state.Id, now, from, accept.Gpus, open.Price, state.Request!.EarliestStart, open.Kind == OfferKind.Match ? AllocationSource.Match : AllocationSource.Offer, null));
                break;
            case OfferAnswer.Decline decline:
                run.Emit(new OfferDeclined(state.Id, now, offer, from, string.IsNullOrWhiteSpace(decline.Reason) ? "declined" : decline.Reason));
                break;
        }

        run.AfterOffer(open.Kind);
        return run.Done();
    }

    /// <summary>A provider answers the quote request: a quote or a decline.</summary>
    public Decision AnswerQuote(RequestState state, ProviderId from, QuoteAnswer answer, DateTimeOffset now)
    {
        if (state.IsClosed)
        {
            return Decision.Reject(RejectionKind.Conflict, $"request {state.Id} is already closed ({state.Closed!.Outcome}); the quote changes nothing");
        }

        if (!state.QuoteProviders.Contains(from))
        {
            return Decision.Reject(RejectionKind.NotFound, $"provider {from} was not asked to quote for request {state.Id}");
        }

        if (state.Phase != RequestPhase.AwaitingQuotes || state.QuotesClosed || now > state.QuoteDeadline)
        {
            return Decision.Reject(RejectionKind.Conflict, $"the quote window for request {state.Id} closed at {state.QuoteDeadline:O}; the quote changes nothing");
        }

        if (state.HasAnsweredQuote(from))
        {
            return Decision.Reject(RejectionKind.Conflict, $"provider {from} already answered the quote request for {state.Id}; a second answer changes nothing");
        }

        var run = new Run(this, state, now);
        switch (answer)
        {
            case QuoteAnswer.Quote q:
                var currency = state.Request!.MaxPrice.Currency;
                if (q.Gpus.IsZero)
                {
                    return Decision.Reject(RejectionKind.Invalid, "gpus: a quote offers at least 1 GPU; to offer none, decline", [new("gpus", "must be at least 1")]);
                }

                if (q.Price.Currency != currency || q.Price.PerHour.Amount <= 0)
                {
                    return Decision.Reject(RejectionKind.Invalid, $"price: quote a positive price in {currency}, the request's currency", [new("price", $"must be a positive amount in {currency}")]);
                }

                if (q.ValidUntil <= now)
                {
                    return Decision.Reject(RejectionKind.Invalid, "valid-until: the quote must still be valid when it arrives", [new("valid-until", $"must be after {now:O}")]);
                }

                run.Emit(new QuoteReceived(state.Id, now, from, q.Gpus, q.Price, q.Start, q.ValidUntil));
                break;
            case QuoteAnswer.Decline d:
                run.Emit(new QuoteDeclined(state.Id, now, from, string.IsNullOrWhiteSpace(d.Reason) ? "declined" : d.Reason));
                break;
        }

        if (AllAnswered(state))
        {
            run.CloseQuotes([]);
        }

        return run.Done();
    }

    /// <summary>A provider confirms or fails the reservation of an award.</summary>
    public Decision AnswerReservation(RequestState state, int award, ProviderId from, bool confirmed, string? reason, DateTimeOffset now)
    {
        if (state.IsClosed)
        {
            return Decision.Reject(RejectionKind.Conflict, $"request {state.Id} is already closed ({state.Closed!.Outcome}); the reservation answer changes nothing");
        }

        var pending = state.PendingAwards.FirstOrDefault(a => a.Award == award);
        if (pending is null || pending.Provider != from)
        {
            return Decision.Reject(RejectionKind.NotFound, $"award {award} of request {state.Id} is not awaiting a reservation from provider {from}");
        }

        if (now > pending.RespondBy)
        {
            return Decision.Reject(RejectionKind.Conflict, $"award {award} of request {state.Id} expired at {pending.RespondBy:O}; the answer changes nothing");
        }

        var run = new Run(this, state, now);
        if (confirmed)
        {
            run.Emit(new AllocationMade(state.Id, now, from, pending.Gpus, pending.Price, pending.Start, AllocationSource.Market, award));
        }
        else
        {
            run.Emit(new ReservationFailed(state.Id, now, award, from, string.IsNullOrWhiteSpace(reason) ? "failed" : reason));
        }

        run.AfterReservation();
        return run.Done();
    }

    /// <summary>The customer cancels a request before it reaches a terminal state; confirmed allocations are released.</summary>
    public Decision Cancel(RequestState state, string reason, DateTimeOffset now)
    {
        if (state.Request is null)
        {
            return Decision.Reject(RejectionKind.NotFound, "the request was never submitted; there is nothing to cancel");
        }

        if (state.IsClosed)
        {
            return Decision.Reject(RejectionKind.Conflict, $"request {state.Id} is already closed ({state.Closed!.Outcome}) and cannot be cancelled");
        }

        var run = new Run(this, state, now);
        foreach (var allocation in state.Allocations.ToArray())
        {
            run.Emit(new AllocationReleased(state.Id, now, allocation.Provider, allocation.Gpus));
        }

        run.Emit(new RequestClosed(state.Id, now, RequestOutcome.Cancelled, GpuCount.None, state.Request!.Gpus, string.IsNullOrWhiteSpace(reason) ? "cancelled by the customer" : reason));
        return run.Done();
    }

    /// <summary>Fires every deadline of the request that has passed at <paramref name="now"/>, each exactly once.</summary>
    public Decision Tick(RequestState state, DateTimeOffset now)
    {
        var run = new Run(this, state, now);
        while (!state.IsClosed && state.NextDeadline is { } deadline && deadline <= now)
        {
            switch (state.Phase)
            {
                case RequestPhase.AwaitingOffer or RequestPhase.AwaitingMatch:
                    var open = state.OpenOffer!;
                    run.Emit(new OfferExpired(state.Id, now, open.Id, open.Provider));
                    run.AfterOffer(open.Kind);
                    break;
                case RequestPhase.AwaitingQuotes:
                    run.CloseQuotes(state.QuoteProviders.Where(p => !state.HasAnsweredQuote(p)).ToArray());
                    break;
                case RequestPhase.AwaitingReservations:
                    foreach (var award in state.PendingAwards.Where(a => a.RespondBy <= now).ToArray())
                    {
                        run.Emit(new ReservationFailed(state.Id, now, award.Award, award.Provider, "expired"));
                    }

                    run.AfterReservation();
                    break;
            }
        }

        return run.Done();
    }

    /// <summary>
    /// The providers asked to quote, in catalog order: those that sell the request's accelerator in its regions
    /// (in its currency), except the holder; with a waiver, only the providers it names.
    /// </summary>
    private static ProviderId[] Market(ProviderCatalog providers, CapacityRequest request, ProviderId? holder, IReadOnlyList<ProviderId>? waived)
    {
        var all = providers.All;
        List<ProviderId>? market = null;
        for (var i = 0; i < all.Count; i++)
        {
            var p = all[i];
            var eligible = waived is null ? p.Id != holder : waived.Contains(p.Id);
            if (eligible && ListPrice(p, request) is not null)
            {
                (market ??= new List<ProviderId>(all.Count)).Add(p.Id);
            }
        }

        return market is null ? [] : [.. market];
    }

    private static bool AllAnswered(RequestState state)
    {
        var providers = state.QuoteProviders;
        for (var i = 0; i < providers.Count; i++)
        {
            if (!state.HasAnsweredQuote(providers[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The price offered to a holder or exclusive provider: its list price, never above the request's maximum.</summary>
    private static PricePerGpuHour OfferPrice(ProviderDefinition? provider, CapacityRequest request) =>
        provider is not null && ListPrice(provider, request) is { } list
            ? PricePerGpuHour.Min(list, request.MaxPrice)
            : request.MaxPrice;

    /// <summary>A provider's list price in the request's currency; a price in another currency is not comparable and not used.</summary>
    private static PricePerGpuHour? ListPrice(ProviderDefinition provider, CapacityRequest request) =>
        provider.ListPrice(request) is { } price && price.Currency == request.MaxPrice.Currency ? price : null;

    private DateTimeOffset Bounded(DateTimeOffset now, TimeSpan window, CapacityRequest request)
    {
        var at = now + window;
        return at < request.NeededBy ? at : (request.NeededBy > now ? request.NeededBy : now);
    }

    /// <summary>One decision in progress: emits events, applying each to the state as it goes.</summary>
    private sealed class Run(SourcingEngine engine, RequestState state, DateTimeOffset now)
    {
        private readonly List<SourcingEvent> _events = new(8);

        private CapacityRequest Request => state.Request!;

        public void Emit(SourcingEvent e)
        {
            state.Apply(e);
            _events.Add(e);
        }

        public Decision Done() => Decision.Of(_events);

        public void Offer(OfferKind kind, ProviderId provider, GpuCount gpus, PricePerGpuHour price, bool partialAllowed, TimeSpan window) =>
            Emit(new OfferMade(state.Id, now, new OfferId($"{state.Id.Value}-o{state.OffersMade + 1}"), kind, provider, gpus, price, partialAllowed, engine.Bounded(now, window, Request)));

        /// <summary>What follows an offer's answer or expiry.</summary>
        public void AfterOffer(OfferKind kind)
        {
            if (kind == OfferKind.Match)
            {
                Award();
                return;
            }

            if (state.Unsourced.IsZero)
            {
                Close(null);
            }
            else if (kind == OfferKind.Exclusive)
            {
                Close("exclusive-provider-declined");
            }
            else
            {
                RequestQuotes();
            }
        }

        public void RequestQuotes()
        {
            var market = state.Clauses!.Market;
            if (market.Count == 0)
            {
                Close("no-eligible-providers");
                return;
            }

            // The ceiling rule: no third party is awarded better terms than the holder was offered.
            var ceiling = state.HolderOfferPrice ?? Request.MaxPrice;
            Emit(new QuotesRequested(state.Id, now, market, state.Unsourced, ceiling, engine.Bounded(now, engine.Policy.QuoteWindow, Request)));
        }

        public void CloseQuotes(IReadOnlyList<ProviderId> silent)
        {
            Emit(new QuoteWindowClosed(state.Id, now, silent));
            var plan = Plan();
            var clauses = state.Clauses!;
            if (clauses.Route == SourcingRoute.FirstRefusal && clauses.Mode == FirstRefusalMode.Match && !state.MatchOffered && plan.Count > 0)
            {
                var total = new GpuCount(plan.Sum(p => p.Gpus));
                Offer(OfferKind.Match, clauses.Holder!.Value, total, plan[0].Quote.Price, !Request.AllOrNothing, clauses.MatchWindow ?? TimeSpan.Zero);
                return;
            }

            Award(plan);
        }

        public void AfterReservation()
        {
            if (!state.Unsourced.IsZero)
            {
                Award();
                return;
            }

            if (state.PendingAwards.Count == 0)
            {
                Close(null);
            }
        }

        private void Award(List<(QuoteLine Quote, int Gpus)>? plan = null)
        {
            plan ??= Plan();
            foreach (var (quote, gpus) in plan)
            {
                Emit(new AwardMade(state.Id, now, state.AwardsMade + 1, quote.Provider, new GpuCount(gpus), quote.Price, quote.Start, engine.Bounded(now, engine.Policy.ReservationWindow, Request)));
            }

            if (state.PendingAwards.Count == 0)
            {
                Close(state.Quotes.Count == 0 ? "no-quotes" : Request.AllOrNothing ? "all-or-nothing-not-met" : "no-acceptable-quotes");
            }
        }

        /// <summary>
        /// Picks quotes for the unsourced GPUs: lowest price first (for one request the lowest price is the
        /// lowest total cost), then earliest start, then provider id; within the ceiling; split across
        /// providers unless the request is all-or-nothing.
        /// </summary>
        private List<(QuoteLine Quote, int Gpus)> Plan()
        {
            var plan = new List<(QuoteLine, int)>(4);
            var need = state.Unsourced.Value;
            if (need == 0)
            {
                return plan;
            }

            var ceiling = state.QuoteCeiling ?? Request.MaxPrice;
            var candidates = new List<QuoteLine>(state.Quotes.Count);
            foreach (var quote in state.Quotes)
            {
                if (quote.Left > 0 && quote.Price <= ceiling && quote.Price <= Request.MaxPrice && quote.ValidUntil >= now)
                {
                    candidates.Add(quote);
                }
            }

            candidates.Sort(static (a, b) =>
            {
                var c = a.Price.CompareTo(b.Price);
                if (c == 0)
                {
                    c = a.Start.CompareTo(b.Start);
                }

                return c != 0 ? c : string.CompareOrdinal(a.Provider.Value, b.Provider.Value);
            });

            foreach (var quote in candidates)
            {
                if (Request.AllOrNothing)
                {
                    if (quote.Left >= need)
                    {
                        plan.Add((quote, need));
                        break;
                    }

                    continue;
                }

                var take = Math.Min(need, quote.Left);
                plan.Add((quote, take));
                need -= take;
                if (need == 0)
                {
                    break;
                }
            }

            return plan;
        }

        private void Close(string? reason)
        {
            var requested = Request.Gpus;
            var outcome = state.Allocated == requested ? RequestOutcome.Placed
                : state.Allocated.IsZero ? RequestOutcome.Unfulfilled
                : RequestOutcome.PartiallyPlaced;
            Emit(new RequestClosed(state.Id, now, outcome, state.Allocated, requested - state.Allocated, outcome == RequestOutcome.Placed ? null : reason));
        }
    }
}
