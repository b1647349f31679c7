using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Providers;
using ComputeBroker.Server.Security;
using ComputeBroker.Server.Webhooks;
using ComputeBroker.Sourcing;
using ComputeBroker.Storage;
using Microsoft.Extensions.Logging;

namespace ComputeBroker.Server.Service;

/// <summary>
/// The durable broker: drives the pure <see cref="SourcingEngine"/> and <see cref="LedgerEngine"/> with
/// the service's clock, and makes every decision durable before anyone hears of it. Each decision loads
/// the stream (or uses the cached state), decides, and appends with the stream's expected version, so two
/// writers (threads or replicas) never both succeed; the loser reloads and decides again. Deadlines live in
/// a durable table written with each append and are fired by a runner that claims them (see
/// BrokerService.Deadlines.cs), so they survive restarts and fire exactly once in the log.
/// Simulated providers answer from inside the service. Thread-safe.
/// </summary>
public sealed partial class BrokerService : IAsyncDisposable
{
    private const int MaxAhead = 256;

    /// <summary>Events read from the log per query when catching up.</summary>
    private const int CatchUpBatch = 2000;

    private readonly IEventStore _store;
    private readonly CommitQueue _commits;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Scheduler _scheduler;
    private readonly ConcurrentDictionary<RequestId, RequestSlot> _slots = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _streamLocks = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _catchUpLock = new(1, 1);

    // Committed groups waiting for events another replica committed just before them (see ApplyInline), by first position;
    // under _catchUpLock.
    private readonly SortedList<long, (IReadOnlyList<RecordedEvent> Events, IReadOnlyList<object>? Decoded)> _ahead = [];
    private readonly SemaphoreSlim _waiverLock = new(1, 1);
    private readonly Dictionary<ProviderId, SimulatedProvider> _simulated;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _poll;
    private int _disposed;

    public BrokerService(IEventStore store, TimeProvider clock, ProviderCatalog catalog, BrokerPolicy policy, ILogger<BrokerService> logger, int seed = 1, DateTimeOffset? inventoryOrigin = null,
        IMeterFactory? meters = null)
    {
        _store = store;
        _commits = new CommitQueue(
            store,
            ApplyInline,
            ownThread: store.Provider == StorageProvider.Sqlite,
            meter: meters?.Create(CommitQueue.MeterName));
        _clock = clock;
        _logger = logger;
        Catalog = catalog;
        Engine = new SourcingEngine(policy);
        _scheduler = new Scheduler(clock, logger);
        _random = new Random(seed);
        var origin = inventoryOrigin ?? new DateTimeOffset(clock.GetUtcNow().UtcDateTime.Date.AddDays(-30), TimeSpan.Zero);
        var earliest = catalog.All.SelectMany(p => p.Capacity).Select(c => c.From).DefaultIfEmpty(origin).Min();
        origin = earliest < origin ? new DateTimeOffset(earliest.UtcDateTime.Date, TimeSpan.Zero) : origin;
        // Ten years of hourly inventory from the origin: enough for any request the service accepts.
        _simulated = catalog.All.Where(p => p.Connector == ConnectorKind.Simulated)
            .ToDictionary(p => p.Id, p => new SimulatedProvider(p, origin, 24 * 3653 + (int)(clock.GetUtcNow() - origin).TotalHours));
    }

    public SourcingEngine Engine { get; }

    public ProviderCatalog Catalog { get; }

    public BrokerProjection Projection { get; } = new();

    public TimeProvider Clock => _clock;

    public IEventStore Store => _store;

    /// <summary>The group commit's figures since start (see <see cref="CommitQueue.Statistics"/>).</summary>
    public CommitStatistics Commits => _commits.Statistics;

    /// <summary>Work waiting on the scheduler: the deadline runner's wake-up, and simulated providers' answers not yet given.</summary>
    internal int ScheduledWork => _scheduler.Pending;

    /// <summary>Webhook providers' outbox and delivery; null when the service runs without them. Set before <see cref="StartAsync"/>.</summary>
    public BrokerWebhooks? Webhooks { get; init; }

    /// <summary>
    /// Reads the log into the projection, restores simulated inventory, sets every open request's deadline row from the log
    /// where it is missing or older (rows the process had no time to write before it stopped, or a database written before
    /// the deadline table existed) and starts the runners; the first look for due deadlines is at once.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var deadlines = Deadlines ?? throw new InvalidOperationException("a started broker service fires deadlines: set Deadlines (DeadlineTable.OpenAsync on the event store's database) first");
        await CatchUpAsync(ct);
        RestoreInventory();
        await deadlines.ReconcileAsync(Projection.OpenDeadlines(), ct);
        _scheduler.Start();
        Webhooks?.Start();
        _poll = Task.Run(() => PollAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Brings the projection up to the end of the log (events written by other replicas included).</summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        // The log is read, and its events decoded, outside the lock: the commit queue folds every group under the same lock,
        // and each of a group's callers waits for its fold, so a catch-up holds it only to apply. Events this process has
        // committed and not folded yet may be read too: whichever of the two applies them second skips them. A batch
        // shorter than asked for is the end of the log as of that read, which is after this call began.
        while (true)
        {
            var batch = await _store.ReadAllAsync(Projection.Position + 1, CatchUpBatch, ct);
            var known = Projection.Position;
            var decoded = new List<(long Position, object Event)>(batch.Count);
            foreach (var stored in batch)
            {
                if (stored.Position > known)
                {
                    decoded.Add((stored.Position, EventCodec.Deserialize(stored.Stream.Value, stored.Type, stored.Json)));
                }
            }

            await _catchUpLock.WaitAsync(ct);
            try
            {
                foreach (var (position, e) in decoded)
                {
                    if (position > Projection.Position)
                    {
                        Projection.Apply(position, e);
                    }
                }

                FoldAhead();
            }
            finally
            {
                _catchUpLock.Release();
            }

            if (batch.Count < CatchUpBatch)
            {
                return;
            }
        }
    }

    // ---- requests -------------------------------------------------------------------------------------------

    public async Task<ServiceResult<SubmitOutcome>> SubmitAsync(CapacityRequest request, string? idempotencyKey, string bodyHash, CancellationToken ct)
    {
        string? idemStream = idempotencyKey is null ? null : StreamNames.Idempotency(request.Customer, idempotencyKey);
        if (idemStream is not null && await ReplayIdempotentAsync(idemStream, bodyHash, ct) is { } replay)
        {
            return replay;
        }

        // Waiver budgets are shared by requests, and the audit replays each decision on the budget the log gives at its
        // place in the log. So a request a waiver could cover is decided under one lock, on the log read to its end, and
        // committed (and folded into the projection) before the lock is released; closes that give budget back take the
        // same lock (DecideAsync). Either way round, no waiver event can come between a decision and its commit.
        var waiverSensitive = WaiverCouldCover(request);
        if (waiverSensitive)
        {
            await _waiverLock.WaitAsync(ct);
        }

        RequestState state;
        Decision decision;
        AppendResult result;
        bool webhooksWritten;
        try
        {
            if (waiverSensitive)
            {
                await CatchUpAsync(ct);
            }

            state = new RequestState();
            decision = Engine.Submit(state, request, _clock.GetUtcNow(), Projection.Book, Catalog, Projection.Waivers.Used);
            if (decision.Rejection is { } rejection)
            {
                return rejection;
            }

            var appends = new List<StreamAppend> { Append(StreamNames.Request(request.Id), StreamAppend.NoStream, decision.Events) };
            var decoded = new List<object>(decision.Events);
            if (idemStream is not null)
            {
                var used = new IdempotencyKeyUsed(request.Customer, idempotencyKey!, bodyHash, request.Id, _clock.GetUtcNow());
                appends.Add(Append(idemStream, StreamAppend.NoStream, [used]));
                decoded.Add(used);
            }

            var outgoing = Webhooks?.Outgoing(state, 0, decision.Events);
            var deadline = DeadlineOf(state, decision.Events.Count - 1);
            try
            {
                result = (await _commits.AppendAsync(appends, decoded, outgoing, ct)).EnsureCommitted();
                Committed(deadline);
                webhooksWritten = outgoing is not null;
            }
            catch (ConcurrencyConflictException) when (idemStream is not null)
            {
                return await ReplayIdempotentAsync(idemStream, bodyHash, ct)
                    ?? ServiceResult<SubmitOutcome>.Fail(RejectionKind.Conflict, $"request {request.Id} already exists; give each request a new id");
            }
            catch (ConcurrencyConflictException)
            {
                return ServiceResult<SubmitOutcome>.Fail(RejectionKind.Conflict, $"request {request.Id} already exists; give each request a new id");
            }

            await ApplyCommittedAsync(result, ct);
        }
        finally
        {
            if (waiverSensitive)
            {
                _waiverLock.Release();
            }
        }

        var slot = _slots.GetOrAdd(request.Id, _ => new RequestSlot());
        await slot.Gate.WaitAsync(ct);
        try
        {
            slot.State = state;
            slot.Version = decision.Events.Count - 1;
            await AfterCommitAsync(state, decision.Events, result, webhooksWritten, ct);
        }
        finally
        {
            slot.Gate.Release();
        }

        return ServiceResult<SubmitOutcome>.Success(new SubmitOutcome(RequestView.From(state), false));
    }

    /// <summary>True when a waiver of the request's agreements would cover it if its budget were untouched.</summary>
    private bool WaiverCouldCover(CapacityRequest request)
    {
        // The submission's own clause resolution with no budget used: a valid request that a waiver could cover then.
        var now = _clock.GetUtcNow();
        return CapacityRequestValidator.Validate(request, now).Count == 0
            && ClauseResolver.Resolve(Projection.Book, request, now, static (_, _) => 0).Resolution?.Waiver is not null;
    }

    public Task<ServiceResult<RequestView>> CancelAsync(RequestId id, string reason, CancellationToken ct) =>
        DecideAsync(id, s => Engine.Cancel(s, reason, _clock.GetUtcNow()), ct);

    /// <summary>A provider's answer to an offer; <paramref name="from"/> is the authenticated provider.</summary>
    public Task<ServiceResult<RequestView>> AnswerOfferAsync(OfferId offer, ProviderId from, OfferAnswer answer, CancellationToken ct)
    {
        if (Projection.Offer(offer) is not { } view || view.Provider != from)
        {
            return Task.FromResult(ServiceResult<RequestView>.Fail(RejectionKind.NotFound, $"offer {offer} not found for provider {from}"));
        }

        return DecideAsync(view.RequestId, s => Engine.AnswerOffer(s, offer, from, answer, _clock.GetUtcNow()), ct);
    }

    public Task<ServiceResult<RequestView>> AnswerQuoteAsync(RequestId request, ProviderId from, QuoteAnswer answer, CancellationToken ct) =>
        DecideAsync(request, s => Engine.AnswerQuote(s, from, answer, _clock.GetUtcNow()), ct);

    public Task<ServiceResult<RequestView>> AnswerReservationAsync(RequestId request, int award, ProviderId from, bool confirmed, string? reason, CancellationToken ct) =>
        DecideAsync(request, s => Engine.AnswerReservation(s, award, from, confirmed, reason, _clock.GetUtcNow()), ct);

    /// <summary>The request's events as stored, in order, with their stream versions.</summary>
    public async Task<IReadOnlyList<(long Version, SourcingEvent Event)>> TimelineAsync(RequestId id, CancellationToken ct)
    {
        var stored = await _store.ReadStreamAsync(new StreamId(StreamNames.Request(id)), 0, ct);
        return stored.Select(s => (s.Version, (SourcingEvent)EventCodec.Deserialize(s.Stream.Value, s.Type, s.Json))).ToArray();
    }

    // ---- agreements, ledger, keys -----------------------------------------------------------------------------

    /// <summary>
    /// Applies an agreement document. The first document of an agreement may hold any versions; later ones must
    /// repeat every applied version unchanged (history is never rewritten) and add versions that take effect
    /// after the latest one and not before now, so no request already submitted changes terms.
    /// </summary>
    public async Task<ServiceResult<Agreement>> ApplyAgreementAsync(string document, string name, string appliedBy, CancellationToken ct)
    {
        var parsed = DefinitionReader.ReadAgreement(document, name);
        if (!parsed.Ok)
        {
            return ServiceResult<Agreement>.Fail(RejectionKind.Invalid, string.Join("; ", parsed.Errors), parsed.Errors.Select(e => new FieldError(e.Path, e.Message)).ToArray());
        }

        var agreement = parsed.Value!;
        var stream = StreamNames.Agreement(agreement.Id);
        var gate = _streamLocks.GetOrAdd(stream, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await CatchUpAsync(ct);
            var existing = Projection.Book.Find(agreement.Id);
            var now = _clock.GetUtcNow();
            var newVersions = agreement.Versions.Select(v => v.Number).ToList();
            if (existing is not null)
            {
                if (existing.Customer != agreement.Customer)
                {
                    return ServiceResult<Agreement>.Fail(RejectionKind.Conflict, $"customer: agreement {agreement.Id} is with {existing.Customer}; an amendment cannot change the customer");
                }

                foreach (var old in existing.Versions)
                {
                    var same = agreement.Version(old.Number);
                    if (same is null || AgreementFingerprint.Of(same) != AgreementFingerprint.Of(old))
                    {
                        return ServiceResult<Agreement>.Fail(RejectionKind.Conflict, $"versions: version {old.Number} of agreement {agreement.Id} is already applied and cannot be changed or removed; add a new version instead");
                    }

                    newVersions.Remove(old.Number);
                }

                var latest = existing.Versions.Max(v => v.EffectiveFrom);
                foreach (var number in newVersions)
                {
                    var v = agreement.Version(number)!;
                    if (v.EffectiveFrom <= latest || v.EffectiveFrom < now)
                    {
                        return ServiceResult<Agreement>.Fail(RejectionKind.Conflict, $"versions: version {number} takes effect {v.EffectiveFrom:O}, before the latest applied version or before now ({now:O}); an amendment takes effect from now on");
                    }
                }

                if (newVersions.Count == 0)
                {
                    return ServiceResult<Agreement>.Success(existing);
                }
            }

            var expected = Projection.AgreementDocuments(agreement.Id).Count - 1;
            var result = (await _store.AppendAsync([Append(stream, expected, [new AgreementVersionApplied(agreement.Id, newVersions, document, now, appliedBy)])], ct)).EnsureCommitted();
            await ApplyCommittedAsync(result, ct);
            return ServiceResult<Agreement>.Success(agreement);
        }
        catch (ConcurrencyConflictException)
        {
            return ServiceResult<Agreement>.Fail(RejectionKind.Conflict, $"agreement {agreement.Id} was changed at the same time; read it again and retry");
        }
        finally
        {
            gate.Release();
        }
    }

    public Task<ServiceResult<IReadOnlyList<LedgerEvent>>> RecordReportAsync(string customer, DateTimeOffset start, DateTimeOffset end, Money revenue, Money profit, CancellationToken ct) =>
        DecideLedgerAsync(customer, (state, book, now) => LedgerEngine.RecordReport(state, book, customer, start, end, revenue, profit, now), ct);

    public Task<ServiceResult<IReadOnlyList<LedgerEvent>>> AdjustReportAsync(string customer, DateTimeOffset periodStart, Money revenueDelta, Money profitDelta, string reason, CancellationToken ct) =>
        DecideLedgerAsync(customer, (state, book, now) => LedgerEngine.Adjust(state, book, customer, periodStart, revenueDelta, profitDelta, reason, now), ct);

    /// <summary>Creates a key; the key itself is returned once and only its hash is stored.</summary>
    public async Task<(string Key, ApiKeyRecord Record)> CreateKeyAsync(Role role, string? note, CancellationToken ct)
    {
        var (key, record) = ApiKeys.Create(role, _clock.GetUtcNow(), note);
        await AppendServiceEventAsync(StreamNames.Keys, new KeyCreated(record.Id, role.ToString(), record.Hash, record.CreatedAt, note), ct);
        return (key, record);
    }

    /// <summary>Registers a key chosen by the operator (for automation: BROKER_ADMIN_KEY at first start). Only its hash is stored.</summary>
    public async Task<ApiKeyRecord> RegisterKeyAsync(string key, Role role, string? note, CancellationToken ct)
    {
        if (ApiKeys.IdOf(key) is not { } id)
        {
            throw new ArgumentException("a key has the form cbk_<10 hex>_<secret>; generate one with 'broker keys create' or leave BROKER_ADMIN_KEY unset", nameof(key));
        }

        var record = new ApiKeyRecord(id, role, ApiKeys.Hash(key), _clock.GetUtcNow(), note);
        await AppendServiceEventAsync(StreamNames.Keys, new KeyCreated(record.Id, role.ToString(), record.Hash, record.CreatedAt, note), ct);
        return record;
    }

    public async Task<bool> RevokeKeyAsync(string id, CancellationToken ct)
    {
        await CatchUpAsync(ct);
        if (Projection.Keys.Find(id) is not { RevokedAt: null })
        {
            return false;
        }

        await AppendServiceEventAsync(StreamNames.Keys, new KeyRevoked(id, _clock.GetUtcNow()), ct);
        return true;
    }

    // ---- internals --------------------------------------------------------------------------------------------

    private Task<ServiceResult<RequestView>> DecideAsync(RequestId id, Func<RequestState, Decision> decide, CancellationToken ct, bool view = true) =>
        DecideAsync(id, decide, null, ct, view);

    /// <param name="claim">For a claimed deadline's tick: a cached state older than the row is read again (another replica
    /// wrote since), and a tick that appends nothing releases the row (<see cref="ReleaseUnchangedAsync"/>).</param>
    /// <param name="view">False for the service's own decisions (deadlines, simulated providers), which do not read the request's view.</param>
    private async Task<ServiceResult<RequestView>> DecideAsync(RequestId id, Func<RequestState, Decision> decide, DeadlineClaim? claim, CancellationToken ct, bool view = true)
    {
        var slot = _slots.GetOrAdd(id, _ => new RequestSlot());
        await slot.Gate.WaitAsync(ct);
        try
        {
            if (claim is not null && slot.Version < claim.StreamVersion)
            {
                slot.State = null;
            }

            for (var attempt = 0; ; attempt++)
            {
                if (slot.State is null)
                {
                    var stored = await _store.ReadStreamAsync(new StreamId(StreamNames.Request(id)), 0, ct);
                    if (stored.Count == 0)
                    {
                        return ServiceResult<RequestView>.Fail(RejectionKind.NotFound, $"request {id} not found");
                    }

                    slot.State = RequestState.Replay(stored.Select(s => (SourcingEvent)EventCodec.Deserialize(s.Stream.Value, s.Type, s.Json)));
                    slot.Version = stored[^1].Version;
                }

                var state = slot.State;
                var dueBefore = state.NextDeadline;
                var decision = decide(state);
                if (decision.Rejection is { } rejection)
                {
                    return rejection;
                }

                if (decision.Events.Count == 0)
                {
                    if (claim is not null)
                    {
                        await ReleaseUnchangedAsync(id, state, slot.Version, ct);
                    }

                    return new ServiceResult<RequestView>(view ? RequestView.From(state) : null, null);
                }

                // A waived request's close gives budget back: it commits under the waiver lock (see SubmitAsync).
                var releasesWaiver = state.Clauses?.Waiver is not null && decision.Events.Any(e => e is RequestClosed);
                if (releasesWaiver)
                {
                    await _waiverLock.WaitAsync(ct);
                }

                try
                {
                    var outgoing = Webhooks?.Outgoing(state, slot.Version + 1, decision.Events);
                    var deadline = DeadlineOf(state, slot.Version + decision.Events.Count, claim is null ? dueBefore : null);
                    var result = (await _commits.AppendAsync([Append(StreamNames.Request(id), slot.Version, decision.Events)], decision.Events, outgoing, ct)).EnsureCommitted();
                    Committed(deadline);
                    slot.Version += decision.Events.Count;
                    await AfterCommitAsync(state, decision.Events, result, outgoing is not null, ct);
                    if (state.IsClosed)
                    {
                        _slots.TryRemove(id, out _);
                    }

                    return new ServiceResult<RequestView>(view ? RequestView.From(state) : null, null);
                }
                catch (ConcurrencyConflictException) when (attempt < 3)
                {
                    // Another writer (a replica, or a deadline on another node) got there first: decide again on its result.
                    slot.State = null;
                }
                catch
                {
                    slot.State = null;
                    throw;
                }
                finally
                {
                    if (releasesWaiver)
                    {
                        _waiverLock.Release();
                    }
                }
            }
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private async Task<ServiceResult<IReadOnlyList<LedgerEvent>>> DecideLedgerAsync(string customer, Func<LedgerState, ContractBook, DateTimeOffset, LedgerDecision> decide, CancellationToken ct)
    {
        if (Names.Problem(customer) is { } badCustomer)
        {
            // The customer names the ledger's stream.
            return ServiceResult<IReadOnlyList<LedgerEvent>>.Fail(RejectionKind.Invalid, $"customer: {badCustomer}", [new FieldError("customer", badCustomer)]);
        }

        var stream = StreamNames.Ledger(customer);
        var gate = _streamLocks.GetOrAdd(stream, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await CatchUpAsync(ct);
            var state = Projection.Ledger(customer);
            var expected = state.Version - 1;
            var decision = decide(state, Projection.Book, _clock.GetUtcNow());
            if (decision.Rejection is { } rejection)
            {
                return rejection;
            }

            var result = (await _store.AppendAsync([Append(stream, expected, decision.Events)], ct)).EnsureCommitted();
            await ApplyCommittedAsync(result, ct);
            return ServiceResult<IReadOnlyList<LedgerEvent>>.Success(decision.Events);
        }
        catch (ConcurrencyConflictException)
        {
            return ServiceResult<IReadOnlyList<LedgerEvent>>.Fail(RejectionKind.Conflict, $"the ledger of {customer} changed at the same time; retry");
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task AppendServiceEventAsync(string stream, object e, CancellationToken ct)
    {
        var gate = _streamLocks.GetOrAdd(stream, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var version = (await _store.ReadStreamAsync(new StreamId(stream), 0, ct)).Count - 1;
            var result = (await _store.AppendAsync([Append(stream, version, [e])], ct)).EnsureCommitted();
            await ApplyCommittedAsync(result, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ServiceResult<SubmitOutcome>?> ReplayIdempotentAsync(string stream, string bodyHash, CancellationToken ct)
    {
        var stored = await _store.ReadStreamAsync(new StreamId(stream), 0, ct);
        if (stored.Count == 0)
        {
            return null;
        }

        var used = (IdempotencyKeyUsed)EventCodec.Deserialize(stream, stored[0].Type, stored[0].Json);
        if (used.BodyHash != bodyHash)
        {
            return ServiceResult<SubmitOutcome>.Fail(RejectionKind.Conflict, $"Idempotency-Key '{used.Key}' was already used with a different body (request {used.Request}); use a new key for a new request");
        }

        await CatchUpAsync(ct);
        return Projection.Request(used.Request) is { } view
            ? ServiceResult<SubmitOutcome>.Success(new SubmitOutcome(view, true))
            : ServiceResult<SubmitOutcome>.Fail(RejectionKind.Conflict, $"Idempotency-Key '{used.Key}' is being used by request {used.Request}; retry shortly");
    }

    private async Task AfterCommitAsync(RequestState state, IReadOnlyList<SourcingEvent> events, AppendResult result, bool webhooksWritten, CancellationToken ct)
    {
        await ApplyCommittedAsync(result, ct);
        if (webhooksWritten)
        {
            Webhooks?.Delivery.Wake();
        }

        foreach (var e in events)
        {
            React(state, e);
        }

        if (!state.IsClosed && state.NextDeadline is { } deadline)
        {
            WakeAt(deadline);
        }
    }

    /// <summary>
    /// Folds a committed group into the projection right away when it follows on from what the projection has,
    /// using the events as decided (<paramref name="decoded"/>) rather than parsing the JSON just written. A group that
    /// comes back after events of another replica (PostgreSQL) waits in <see cref="_ahead"/> until a catch-up has read
    /// those. It waits for the catch-up lock rather than leave the group to be read back from the log: folding is
    /// in-memory, and a group skipped here sends each of its callers to the database.
    /// </summary>
    private void ApplyInline(IReadOnlyList<RecordedEvent> events, IReadOnlyList<object>? decoded)
    {
        if (events.Count == 0)
        {
            return;
        }

        _catchUpLock.Wait();
        try
        {
            if (events[0].Position == Projection.Position + 1)
            {
                Fold(events, decoded);
                FoldAhead();
            }
            else if (events[0].Position > Projection.Position + 1 && _ahead.Count < MaxAhead)
            {
                _ahead[events[0].Position] = (events, decoded);
            }
        }
        finally
        {
            _catchUpLock.Release();
        }
    }

    /// <summary>Folds committed events in order; the caller holds the catch-up lock.</summary>
    private void Fold(IReadOnlyList<RecordedEvent> events, IReadOnlyList<object>? decoded)
    {
        var usable = decoded is not null && decoded.Count == events.Count;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            Projection.Apply(e.Position, usable ? decoded![i] : EventCodec.Deserialize(e.Stream.Value, e.Type, e.Json));
        }
    }

    /// <summary>Folds the waiting groups that now follow on, and drops those the projection already has; under the catch-up lock.</summary>
    private void FoldAhead()
    {
        while (_ahead.Count > 0 && _ahead.Keys[0] <= Projection.Position + 1)
        {
            var (events, decoded) = _ahead.Values[0];
            _ahead.RemoveAt(0);
            if (events[0].Position == Projection.Position + 1)
            {
                Fold(events, decoded);
            }
        }
    }

    /// <summary>Folds just-written events into the projection, reading the log if other writers' events come first.</summary>
    private async Task ApplyCommittedAsync(AppendResult result, CancellationToken ct)
    {
        if (result.Events.Count > 0 && result.Events[^1].Position <= Projection.Position)
        {
            return;
        }

        if (result.Events.Count == 0 || result.Events[0].Position != Projection.Position + 1)
        {
            await CatchUpAsync(ct);
            return;
        }

        await _catchUpLock.WaitAsync(ct);
        try
        {
            if (result.Events[0].Position == Projection.Position + 1)
            {
                foreach (var w in result.Events)
                {
                    Projection.Apply(w.Position, EventCodec.Deserialize(w.Stream.Value, w.Type, w.Json));
                }

                return;
            }
        }
        finally
        {
            _catchUpLock.Release();
        }

        await CatchUpAsync(ct);
    }

    /// <summary>Simulated providers hear of offers, quote requests, awards and releases after the events are durable.</summary>
    private void React(RequestState state, SourcingEvent e)
    {
        var request = state.Request!;
        switch (e)
        {
            case OfferMade offer when _simulated.TryGetValue(offer.Provider, out var sim):
                Later(sim, async ct =>
                {
                    OfferAnswer answer;
                    lock (sim)
                    {
                        answer = sim.AnswerOffer(offer, request);
                    }

                    var result = await DecideAsync(offer.RequestId, s => Engine.AnswerOffer(s, offer.Offer, sim.Id, answer, _clock.GetUtcNow()), ct, view: false);
                    if (!result.Ok && answer is OfferAnswer.Accept accept)
                    {
                        lock (sim)
                        {
                            sim.Release(request.Id, accept.Gpus);
                        }
                    }
                });
                break;
            case QuotesRequested quotes:
                foreach (var id in quotes.Providers)
                {
                    if (_simulated.TryGetValue(id, out var quoter))
                    {
                        Later(quoter, async ct =>
                        {
                            QuoteAnswer answer;
                            lock (quoter)
                            {
                                answer = quoter.Quote(request, quotes.Gpus, _clock.GetUtcNow(), Engine.Policy.QuoteValidity);
                            }

                            await DecideAsync(quotes.RequestId, s => Engine.AnswerQuote(s, quoter.Id, answer, _clock.GetUtcNow()), ct, view: false);
                        });
                    }
                }

                break;
            case AwardMade award when _simulated.TryGetValue(award.Provider, out var sim):
                Later(sim, async ct =>
                {
                    bool reserved;
                    lock (sim)
                    {
                        lock (_randomGate)
                        {
                            reserved = sim.Reserve(request, award.Gpus, _random);
                        }
                    }

                    var result = await DecideAsync(award.RequestId, s => Engine.AnswerReservation(s, award.Award, sim.Id, reserved, reserved ? null : "capacity no longer free", _clock.GetUtcNow()), ct, view: false);
                    if (!result.Ok && reserved)
                    {
                        lock (sim)
                        {
                            sim.Release(request.Id, award.Gpus);
                        }
                    }
                });
                break;
            case AllocationReleased released when _simulated.TryGetValue(released.Provider, out var sim):
                lock (sim)
                {
                    sim.Release(released.RequestId, released.Gpus);
                }

                break;
            case RequestClosed:
                foreach (var sim in _simulated.Values)
                {
                    lock (sim)
                    {
                        sim.Forget(state.Id);
                    }
                }

                break;
        }
    }

    private void Later(SimulatedProvider sim, Func<CancellationToken, Task> answer)
    {
        TimeSpan latency;
        bool answers;
        lock (_randomGate)
        {
            answers = sim.Answers(_random);
            latency = sim.NextLatency(_random);
        }

        if (answers)
        {
            _scheduler.At(_clock.GetUtcNow() + latency, answer);
        }
    }

    /// <summary>After a restart the simulated providers' timelines hold again what the log says is allocated.</summary>
    private void RestoreInventory()
    {
        foreach (var (request, allocation) in Projection.HeldAllocations())
        {
            if (_simulated.TryGetValue(allocation.Provider, out var sim))
            {
                sim.Reserve(request, allocation.Gpus, new Random(0));
            }
        }
    }

    private async Task PollAsync(CancellationToken ct)
    {
        // Other replicas' writes reach this replica's projection within a second, and so do the deadlines this process was
        // not told of (other replicas', or written before a restart): the first look is at once.
        var reconciled = TimeProvider.System.GetUtcNow();
        for (var first = true; !ct.IsCancellationRequested; first = false)
        {
            try
            {
                if (!first)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                    await CatchUpAsync(ct);
                    reconciled = await ReconcileDeadlinesAsync(reconciled, ct);
                }

                await RunDueAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPollFailed(ex);
            }
        }
    }

    private StreamAppend Append(string stream, long expectedVersion, IEnumerable<object> events)
    {
        var now = _clock.GetUtcNow();
        return new StreamAppend(new StreamId(stream), expectedVersion, events.Select(e => new EventData(EventCodec.TypeOf(e), EventCodec.Serialize(e), now)).ToArray());
    }

    /// <summary>Stops the runners and waits for writes in flight. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        // Called by the host's lifetime at stop and again by the container that owns the singleton.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_poll is not null)
        {
            await _poll;
        }

        await _scheduler.DisposeAsync();
        await _commits.DisposeAsync();
        await WriteDeadlinesAtStopAsync();
        _deadlineWriter?.Dispose();
        if (Webhooks is not null)
        {
            await Webhooks.DisposeAsync();
        }

        if (Deadlines is not null)
        {
            await Deadlines.DisposeAsync();
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deadline of request {Request} refused: {Reason}")]
    private partial void LogTickRefused(RequestId request, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Catching up with the log failed; retrying")]
    private partial void LogPollFailed(Exception ex);

    private sealed class RequestSlot
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public RequestState? State { get; set; }

        public long Version { get; set; } = -1;
    }
}
