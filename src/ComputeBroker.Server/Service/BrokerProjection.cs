using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Reporting;
using ComputeBroker.Server.Security;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Server.Service;

/// <summary>
/// Every view the API serves, folded from the event log in global order: requests, offers, quote
/// requests, reservations, provider shares, agreements, ledgers, keys. It holds nothing that the log
/// does not; a restart (or another replica) rebuilds it by reading the log from the start. Thread-safe:
/// writers hold the lock, readers get copies.
/// </summary>
public sealed class BrokerProjection
{
    private readonly Lock _gate = new();
    // Every request in the log's order (of first events), and each request's position in it.
    private readonly List<RequestState> _order = [];
    private readonly Dictionary<RequestId, int> _positionOf = [];
    private readonly Dictionary<string, List<int>> _orderByCustomer = new(StringComparer.Ordinal);
    private readonly Dictionary<OfferId, OfferView> _offers = [];
    private readonly List<OfferId> _offerOrder = [];
    private readonly Dictionary<(RequestId, ProviderId), QuoteRequestView> _quoteRequests = [];
    private readonly Dictionary<(RequestId, int), ReservationView> _reservations = [];
    private readonly Dictionary<string, LedgerState> _ledgers = new(StringComparer.Ordinal);
    private readonly Dictionary<AgreementId, List<string>> _agreementDocuments = [];
    private readonly List<LedgerEvent> _ledgerEvents = [];

    // Kept as events arrive so that neither the overview nor a request's close scans every request ever made: the positions in
    // the log's order (in _order) of the requests in each state.
    private readonly Dictionary<string, SortedSet<int>> _byState = new(StringComparer.Ordinal);
    private readonly Dictionary<RequestId, OpenItems> _openItems = [];
    private int _openOffers;
    private int _openQuoteRequests;
    private SourcingSummaryBuilder _summary = new();
    private SourcingSummary? _summaryCache;

    // What placement series are built from, kept as allocations, clauses and cancellations arrive, for everyone and per
    // customer: building one then reads hours, not requests, and the projection's lock is not held for a scan of the history.
    private readonly PlacementTally _placed = new();
    private readonly Dictionary<string, PlacementTally> _placedByCustomer = new(StringComparer.Ordinal);

    // Placement series already built, by what they were asked for, with the placements version they were built at: the
    // dashboard's overview asks every two seconds, per viewer.
    private readonly Dictionary<(string? Customer, PlacementBucket? Bucket, int Limit), (long Version, PlacementSeries Series)> _placementSeries = [];
    private long _placementsVersion;

    public long Position { get; private set; }

    public ContractBook Book { get; private set; } = ContractBook.Empty;

    public KeyRing Keys { get; } = new();

    public WaiverLedger Waivers { get; } = new();

    public CommitmentTracker Commitments { get; } = new();

    /// <summary>Applies one stored event; events at or below <see cref="Position"/> are ignored, so applying twice is harmless.</summary>
    public void Apply(long position, object e)
    {
        lock (_gate)
        {
            if (position <= Position)
            {
                return;
            }

            Position = position;
            switch (e)
            {
                case SourcingEvent s:
                    ApplySourcing(s);
                    break;
                case AgreementVersionApplied a:
                    ApplyAgreement(a);
                    break;
                case LedgerEvent l:
                    ApplyLedger(l);
                    break;
                case KeyCreated or KeyRevoked:
                    Keys.Apply(e);
                    break;
            }
        }
    }

    public RequestView? Request(RequestId id)
    {
        lock (_gate)
        {
            return _positionOf.TryGetValue(id, out var at) ? RequestView.From(_order[at]) : null;
        }
    }

    public string? CustomerOf(RequestId id)
    {
        lock (_gate)
        {
            return _positionOf.TryGetValue(id, out var at) ? _order[at].Request!.Customer : null;
        }
    }

    /// <summary>
    /// Requests newest first, in <paramref name="state"/> (any when null) and placed with <paramref name="provider"/> (any when
    /// null), one page after the cursor. With <paramref name="customer"/>, only that customer's requests are read (from their
    /// own index), so a customer's page costs the same however many requests others have made; without, a state that few
    /// requests are in (every open state, a rare outcome) is read from that state's index. Requests are filtered on their
    /// state and a view is built only for those listed.
    /// </summary>
    public Page<RequestView> Requests(string? state, string? provider, string? cursor, int limit, string? customer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        lock (_gate)
        {
            var start = Math.Min(Cursor.Decode(cursor) ?? _order.Count, _order.Count);
            var items = new List<RequestView>(limit);
            int? last = null;
            foreach (var index in Candidates(start, state, customer))
            {
                if (items.Count == limit)
                {
                    // The cursor is the position of the last request listed: the next page reads the ones below it, whoever asks.
                    return new Page<RequestView>(items, Cursor.Encode(last!.Value));
                }

                var request = _order[index];
                if ((state is null || RequestView.StateOf(request) == state)
                    && (provider is null || request.Allocations.Any(a => a.Provider.Value == provider)))
                {
                    items.Add(RequestView.From(request));
                    last = index;
                }
            }

            return new Page<RequestView>(items, null);
        }
    }

    /// <summary>The positions of the requests a list reads, newest first, below <paramref name="start"/>; the caller holds the lock.</summary>
    private IEnumerable<int> Candidates(int start, string? state, string? customer)
    {
        if (customer is not null)
        {
            // The customer's positions are ascending and distinct: the search finds the cursor's, or where it would be.
            var own = _orderByCustomer.GetValueOrDefault(customer) ?? [];
            var found = own.BinarySearch(start);
            for (var k = (found >= 0 ? found : ~found) - 1; k >= 0; k--)
            {
                yield return own[k];
            }

            yield break;
        }

        // A state's index is read newest first from its end, past the positions above the cursor: worth it when the state
        // holds few of the requests, where reading every request would read many for each one listed.
        if (state is not null && _byState.GetValueOrDefault(state) is var inState && (inState is null || inState.Count * 4 <= _order.Count))
        {
            foreach (var index in inState?.Reverse() ?? [])
            {
                if (index < start)
                {
                    yield return index;
                }
            }

            yield break;
        }

        for (var k = start - 1; k >= 0; k--)
        {
            yield return k;
        }
    }

    /// <summary>Every allocation still held (cancelled requests gave theirs back), with its request.</summary>
    public IReadOnlyList<(CapacityRequest Request, Allocation Allocation)> HeldAllocations()
    {
        lock (_gate)
        {
            return _order
                .Where(s => s.Closed?.Outcome != RequestOutcome.Cancelled)
                .SelectMany(s => s.Allocations.Select(a => (s.Request!, a)))
                .ToArray();
        }
    }

    /// <summary>Every open request's next deadline, with the stream version it is computed at (the request's last event).</summary>
    public IReadOnlyList<KnownDeadline> OpenDeadlines()
    {
        lock (_gate)
        {
            // The open requests are those in the open states' indexes.
            return RequestView.OpenStates
                .SelectMany(state => (IEnumerable<int>?)_byState.GetValueOrDefault(state) ?? [])
                .Select(index => _order[index])
                .Where(s => s.NextDeadline is not null)
                .Select(s => new KnownDeadline(s.Id, s.NextDeadline!.Value, s.EventCount - 1))
                .ToArray();
        }
    }

    /// <summary>Offers, soonest respond-by first. <paramref name="openOnly"/> reads only the open requests' offers, not the whole history.</summary>
    public IReadOnlyList<OfferView> Offers(Func<OfferView, bool> filter, bool openOnly = false)
    {
        lock (_gate)
        {
            var candidates = openOnly ? _openItems.Values.SelectMany(i => i.Offers).Select(id => _offers[id]).Where(o => o.State == "open") : _offers.Values;
            return candidates.Where(filter).OrderBy(o => o.RespondBy).ThenBy(o => o.Id.Value, StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>At most <paramref name="limit"/> offers, the last made first, reading back from the newest only as far as it needs.</summary>
    public IReadOnlyList<OfferView> LatestOffers(Func<OfferView, bool> filter, int limit)
    {
        lock (_gate)
        {
            var items = new List<OfferView>(Math.Min(limit, _offerOrder.Count));
            for (var i = _offerOrder.Count - 1; i >= 0 && items.Count < limit; i--)
            {
                var offer = _offers[_offerOrder[i]];
                if (filter(offer))
                {
                    items.Add(offer);
                }
            }

            return items;
        }
    }

    public OfferView? Offer(OfferId id)
    {
        lock (_gate)
        {
            return _offers.TryGetValue(id, out var offer) ? offer : null;
        }
    }

    /// <summary>Quote requests, soonest deadline first; <paramref name="openOnly"/> as for <see cref="Offers"/>.</summary>
    public IReadOnlyList<QuoteRequestView> QuoteRequests(Func<QuoteRequestView, bool> filter, bool openOnly = false)
    {
        lock (_gate)
        {
            var candidates = openOnly
                ? _openItems.SelectMany(p => p.Value.Quotes.Distinct().Select(provider => _quoteRequests[(p.Key, provider)])).Where(q => q.State == "open")
                : _quoteRequests.Values;
            return candidates.Where(filter).OrderBy(q => q.Deadline).ToArray();
        }
    }

    /// <summary>Reservations, soonest respond-by first; <paramref name="openOnly"/> as for <see cref="Offers"/>.</summary>
    public IReadOnlyList<ReservationView> Reservations(Func<ReservationView, bool> filter, bool openOnly = false)
    {
        lock (_gate)
        {
            var candidates = openOnly
                ? _openItems.SelectMany(p => p.Value.Awards.Select(award => _reservations[(p.Key, award)])).Where(r => r.State == "open")
                : _reservations.Values;
            return candidates.Where(filter).OrderBy(r => r.RespondBy).ToArray();
        }
    }

    public ReservationView? Reservation(RequestId request, int award)
    {
        lock (_gate)
        {
            return _reservations.TryGetValue((request, award), out var reservation) ? reservation : null;
        }
    }

    public QuoteRequestView? QuoteRequest(RequestId request, ProviderId provider)
    {
        lock (_gate)
        {
            return _quoteRequests.TryGetValue((request, provider), out var quote) ? quote : null;
        }
    }

    public OverviewView Overview()
    {
        lock (_gate)
        {
            var byState = _byState.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value.Count, StringComparer.Ordinal);
            _summaryCache ??= _summary.Build();
            return new OverviewView(byState, _summaryCache, _openOffers, _openQuoteRequests, Position);
        }
    }

    /// <summary>GPUs placed per provider over time, for the requests of <paramref name="customer"/> (all when null).</summary>
    /// <remarks>
    /// Built again only when what it reads has changed since (an allocation, a cancellation, a request's clauses): until then
    /// every caller asking the same gets the series already built.
    /// </remarks>
    public PlacementSeries Placements(string? customer, PlacementBucket? bucket, int limit)
    {
        lock (_gate)
        {
            if (_placementSeries.TryGetValue((customer, bucket, limit), out var built) && built.Version == _placementsVersion)
            {
                return built.Series;
            }

            if (_placementSeries.Count >= MaxPlacementSeries)
            {
                _placementSeries.Clear();
            }

            var tally = customer is null ? _placed : _placedByCustomer.GetValueOrDefault(customer) ?? new PlacementTally();
            var series = PlacementSeries.Build(tally, bucket, limit);
            _placementSeries[(customer, bucket, limit)] = (_placementsVersion, series);
            return series;
        }
    }

    public LedgerState Ledger(string customer)
    {
        lock (_gate)
        {
            // A copy, so a decision can fold new events into it without touching the projection.
            return LedgerState.Replay(_ledgerEvents.Where(e => e.Customer == customer));
        }
    }

    public IReadOnlyList<LedgerEvent> LedgerEvents()
    {
        lock (_gate)
        {
            return _ledgerEvents.ToArray();
        }
    }

    public IReadOnlyList<string> AgreementDocuments(AgreementId id)
    {
        lock (_gate)
        {
            return _agreementDocuments.TryGetValue(id, out var docs) ? docs.ToArray() : [];
        }
    }

    public Money? Metric(string customer, TriggerMetric metric)
    {
        lock (_gate)
        {
            if (!_ledgers.TryGetValue(customer, out var ledger) || ledger.Currency is null)
            {
                return null;
            }

            return metric == TriggerMetric.CumulativeProfit ? ledger.CumulativeProfit : ledger.CumulativeRevenue;
        }
    }

    public DateTimeOffset? FiredAt(AgreementId agreement, ClauseId trigger)
    {
        lock (_gate)
        {
            return _ledgers.Values.Select(l => l.FiredTrigger(agreement, trigger)).FirstOrDefault(t => t is not null)?.EffectiveAt;
        }
    }

    private void ApplySourcing(SourcingEvent e)
    {
        if (!_positionOf.TryGetValue(e.RequestId, out var position))
        {
            position = _order.Count;
            _positionOf[e.RequestId] = position;
            _order.Add(new RequestState());
        }

        var state = _order[position];

        if (e is RequestSubmitted submitted)
        {
            // A request's first event: the customer's positions stay ascending.
            if (!_orderByCustomer.TryGetValue(submitted.Request.Customer, out var positions))
            {
                _orderByCustomer[submitted.Request.Customer] = positions = [];
            }

            positions.Add(position);
        }

        var before = state.Request is null ? null : RequestView.StateOf(state);
        var holderBefore = e is ClausesResolved ? PlacementTally.HolderOf(state) : null;
        state.Apply(e);
        var after = RequestView.StateOf(state);
        if (!ReferenceEquals(before, after))
        {
            if (before is not null)
            {
                _byState[before].Remove(position);
            }

            if (!_byState.TryGetValue(after, out var inState))
            {
                _byState[after] = inState = [];
            }

            inState.Add(position);
        }

        if (e is AllocationMade or ClausesResolved or RequestClosed { Outcome: RequestOutcome.Cancelled })
        {
            Tally(state, e, holderBefore);
            _placementsVersion++;
        }

        Waivers.Apply(e);
        Commitments.Apply(e);
        var request = state.Request!;
        switch (e)
        {
            case OfferMade o:
                _offers[o.Offer] = new OfferView(o.Offer, o.RequestId, o.Kind, o.Provider, o.Gpus, o.Price, o.PartialAllowed, o.At, o.RespondBy, request, "open", null, null);
                _offerOrder.Add(o.Offer);
                Items(o.RequestId).Offers.Add(o.Offer);
                _openOffers++;
                break;
            case OfferAccepted a:
                Update(a.Offer, o => o with { State = "accepted", AcceptedGpus = a.Gpus });
                break;
            case OfferDeclined d:
                Update(d.Offer, o => o with { State = "declined", Reason = d.Reason });
                break;
            case OfferExpired x:
                Update(x.Offer, o => o with { State = "expired" });
                break;
            case QuotesRequested q:
                foreach (var provider in q.Providers)
                {
                    if (_quoteRequests.TryGetValue((q.RequestId, provider), out var earlier) && earlier.State == "open")
                    {
                        _openQuoteRequests--;
                    }

                    _quoteRequests[(q.RequestId, provider)] = new QuoteRequestView(q.RequestId, provider, q.Gpus, q.Ceiling, q.At, q.Deadline, request, "open");
                    Items(q.RequestId).Quotes.Add(provider);
                    _openQuoteRequests++;
                }

                break;
            case QuoteReceived qr:
                UpdateQuote(qr.RequestId, qr.Provider, "quoted");
                break;
            case QuoteDeclined qd:
                UpdateQuote(qd.RequestId, qd.Provider, "declined");
                break;
            case QuoteWindowClosed w:
                foreach (var provider in w.Silent)
                {
                    UpdateQuote(w.RequestId, provider, "expired");
                }

                break;
            case AwardMade award:
                _reservations[(award.RequestId, award.Award)] = new ReservationView(award.RequestId, award.Award, award.Provider, award.Gpus, award.Price, award.Start, award.RespondBy, "open");
                Items(award.RequestId).Awards.Add(award.Award);
                break;
            case ReservationFailed f when _reservations.TryGetValue((f.RequestId, f.Award), out var r):
                _reservations[(f.RequestId, f.Award)] = r with { State = f.Reason == "expired" ? "expired" : "failed" };
                break;
            case AllocationMade { Award: { } awardNo } m when _reservations.TryGetValue((m.RequestId, awardNo), out var r):
                _reservations[(m.RequestId, awardNo)] = r with { State = "confirmed" };
                break;
            case RequestClosed:
                if (_openItems.Remove(e.RequestId, out var items))
                {
                    Withdraw(e.RequestId, items);
                }

                _summary.Add(state);
                _summaryCache = null;
                break;
        }
    }

    /// <summary>Keeps the placement tallies (everyone's and the customer's) as a series built from the requests would read them.</summary>
    private void Tally(RequestState state, SourcingEvent e, ProviderId? holderBefore)
    {
        var customer = state.Request!.Customer;
        if (!_placedByCustomer.TryGetValue(customer, out var own))
        {
            _placedByCustomer[customer] = own = new PlacementTally();
        }

        foreach (var tally in (ReadOnlySpan<PlacementTally>)[_placed, own])
        {
            switch (e)
            {
                case AllocationMade:
                    tally.Add(state.Allocations[^1]);
                    break;
                case ClausesResolved:
                    if (holderBefore is { } earlier)
                    {
                        tally.RemoveHolder(earlier);
                    }

                    if (PlacementTally.HolderOf(state) is { } holder)
                    {
                        tally.AddHolder(holder);
                    }

                    break;
                case RequestClosed:
                    // Cancelled: the request gave back what it had, and no longer counts for its holder.
                    foreach (var allocation in state.Allocations)
                    {
                        tally.Remove(allocation);
                    }

                    if (PlacementTally.HolderOf(state) is { } cancelledHolder)
                    {
                        tally.RemoveHolder(cancelledHolder);
                    }

                    break;
            }
        }
    }

    private void ApplyAgreement(AgreementVersionApplied applied)
    {
        if (!_agreementDocuments.TryGetValue(applied.Agreement, out var docs))
        {
            _agreementDocuments[applied.Agreement] = docs = [];
        }

        docs.Add(applied.Document);
        Book = Book.WithAgreement(applied.ToAgreement());
    }

    private void ApplyLedger(LedgerEvent e)
    {
        if (!_ledgers.TryGetValue(e.Customer, out var ledger))
        {
            _ledgers[e.Customer] = ledger = new LedgerState();
        }

        ledger.Apply(e);
        _ledgerEvents.Add(e);
        if (e is TriggerFired fired)
        {
            foreach (var termination in fired.Terminations)
            {
                Book = Book.WithTermination(termination);
            }
        }
    }

    /// <summary>A closed request's offers, quote requests and reservations still open are withdrawn.</summary>
    private void Withdraw(RequestId request, OpenItems items)
    {
        foreach (var id in items.Offers)
        {
            Update(id, o => o.State == "open" ? o with { State = "withdrawn" } : o);
        }

        foreach (var provider in items.Quotes)
        {
            UpdateQuote(request, provider, "withdrawn", onlyIfOpen: true);
        }

        foreach (var award in items.Awards)
        {
            if (_reservations.TryGetValue((request, award), out var reservation) && reservation.State == "open")
            {
                _reservations[(request, award)] = reservation with { State = "withdrawn" };
            }
        }
    }

    private OpenItems Items(RequestId request)
    {
        if (!_openItems.TryGetValue(request, out var items))
        {
            _openItems[request] = items = new OpenItems();
        }

        return items;
    }

    private void Update(OfferId id, Func<OfferView, OfferView> change)
    {
        if (_offers.TryGetValue(id, out var offer))
        {
            var changed = change(offer);
            _openOffers += (changed.State == "open" ? 1 : 0) - (offer.State == "open" ? 1 : 0);
            _offers[id] = changed;
        }
    }

    private void UpdateQuote(RequestId request, ProviderId provider, string state, bool onlyIfOpen = false)
    {
        if (_quoteRequests.TryGetValue((request, provider), out var quote) && (!onlyIfOpen || quote.State == "open"))
        {
            _openQuoteRequests += (state == "open" ? 1 : 0) - (quote.State == "open" ? 1 : 0);
            _quoteRequests[(request, provider)] = quote with { State = state };
        }
    }

    /// <summary>What a request has made that its close withdraws if still open: offers, quote requests, awards.</summary>
    private sealed class OpenItems
    {
        public List<OfferId> Offers { get; } = [];

        public List<ProviderId> Quotes { get; } = [];

        public List<int> Awards { get; } = [];
    }

    /// <summary>Placement series kept at most (customers × buckets × limits asked); past it they are built afresh.</summary>
    private const int MaxPlacementSeries = 64;

    /// <summary>Opaque page cursors: a position in the submission order.</summary>
    private static class Cursor
    {
        public static string Encode(int index) => Convert.ToBase64String(BitConverter.GetBytes(index));

        public static int? Decode(string? cursor)
        {
            if (string.IsNullOrEmpty(cursor))
            {
                return null;
            }

            try
            {
                var bytes = Convert.FromBase64String(cursor);
                return bytes.Length == 4 ? BitConverter.ToInt32(bytes) : throw new FormatException();
            }
            catch (FormatException)
            {
                throw new InvalidCursorException(cursor);
            }
        }
    }
}

/// <summary>A page cursor the server did not hand out.</summary>
public sealed class InvalidCursorException(string cursor) : Exception($"cursor '{cursor}' is not one this server returned; use the nextCursor of the previous page");
