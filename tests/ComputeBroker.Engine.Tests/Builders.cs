using System.Text.Json;
using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Engine.Tests;

/// <summary>
/// Test data with sensible defaults. Every builder returns an immutable record, so a test states
/// only what matters to it with a <c>with</c> expression:
/// <c>A.Request() with { Gpus = A.Gpus(3), AllOrNothing = true }</c>.
/// The defaults: customer <c>openai</c>, 8 H100 for 24 hours starting two days after
/// <see cref="T0"/>, at most 15 USD/GPU-h, needed by three days after <see cref="T0"/>; the
/// first-refusal holder is <c>azure</c> (list price 10), the third parties <c>coreweave</c>
/// and <c>oracle</c>.
/// </summary>
public static class A
{
    /// <summary>The instant most tests submit at. A Monday, on the hour.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public const string Customer = "openai";

    public static readonly AgreementId AgreementId = new("microsoft-openai");

    public static readonly ProviderId Azure = new("azure");
    public static readonly ProviderId Oracle = new("oracle");
    public static readonly ProviderId CoreWeave = new("coreweave");
    public static readonly ProviderId Stargate = new("stargate");

    public static DateTimeOffset At(double hours) => T0.AddHours(hours);

    public static GpuCount Gpus(int n) => new(n);

    public static PricePerGpuHour Usd(decimal perHour) => new(Money.Usd(perHour));

    public static ClauseId Clause(string id) => new(id);

    public static AgreementVersionRef V(int version, AgreementId? agreement = null) => new(agreement ?? AgreementId, version);

    public static ClauseRef Ref(string clause, int version = 1, AgreementId? agreement = null) => new(V(version, agreement), new ClauseId(clause));

    public static Func<AgreementId, ClauseId, int> NoWaiverUse { get; } = (_, _) => 0;

    public static CapacityRequest Request(string id = "r1") => new()
    {
        Id = new RequestId(id),
        Customer = Customer,
        WorkloadClass = "training",
        Accelerator = "H100",
        Gpus = Gpus(8),
        EarliestStart = At(48),
        DurationHours = 24,
        MaxPrice = Usd(15),
        NeededBy = At(72),
        IdempotencyKey = id,
    };

    public static Scope Scope(string[]? classes = null, string[]? accelerators = null, string[]? regions = null) =>
        new(classes ?? [], accelerators ?? [], regions ?? []);

    public static FirstRefusalClause FirstRefusal(string id = "fr", ProviderId? holder = null) => new(
        new ClauseId(id),
        From: null,
        Until: null,
        Holder: holder ?? Azure,
        Scope: Contracts.Scope.Everything,
        ResponseWindow: TimeSpan.FromDays(1),
        PartialAllowed: true,
        Mode: FirstRefusalMode.FirstOffer,
        MatchWindow: null);

    public static FirstRefusalClause MatchRight(string id = "fr", ProviderId? holder = null) =>
        FirstRefusal(id, holder) with { Mode = FirstRefusalMode.Match, MatchWindow = TimeSpan.FromHours(2) };

    public static ExclusivityClause Exclusivity(string id = "ex", ProviderId? provider = null) =>
        new(new ClauseId(id), null, null, provider ?? Stargate, Contracts.Scope.Everything);

    public static WaiverClause Waiver(string id = "waiver", ProviderId? grantedBy = null, int budget = 100, params ProviderId[] providers) =>
        new(new ClauseId(id), null, null, grantedBy ?? Azure, providers.Length == 0 ? [Oracle] : providers, Contracts.Scope.Everything, Gpus(budget));

    public static IpAccessClause IpAccess(string id = "ip") => new(new ClauseId(id), null, null, "microsoft");

    public static RevenueShareClause RevenueShare(string id = "rev") =>
        new(new ClauseId(id), null, null, "openai", "microsoft", 0.20m, RevenueShareBasis.Revenue, Money.Usd(1_000_000m));

    public static CommitmentClause Commitment(string id = "commit") =>
        new(new ClauseId(id), null, null, Azure, Money.Usd(250_000_000m), At(24 * 365));

    public static TriggerClause Trigger(string id = "agi", params string[] terminates) =>
        new(new ClauseId(id), null, null, TriggerMetric.CumulativeProfit, Money.Usd(100_000_000_000m), terminates.Select(c => new ClauseId(c)).ToArray());

    /// <summary>Version 1, in force since 30 days before <see cref="T0"/>.</summary>
    public static AgreementVersion Version(int number = 1, DateTimeOffset? effectiveFrom = null, params Clause[] clauses) =>
        new(number, effectiveFrom ?? T0.AddDays(-30), clauses);

    public static Agreement Agreement(params Clause[] clauses) =>
        new(AgreementId, Customer, ["openai", "microsoft"], [Version(1, null, clauses)]);

    public static ContractBook Book(params Clause[] clauses) => new([Agreement(clauses)]);

    public static ContractBook Book(params Agreement[] agreements) => new(agreements);

    /// <summary>A simulated provider selling H100 in eastus at <paramref name="price"/>, with <paramref name="capacity"/> GPUs from <see cref="T0"/> on.</summary>
    public static ProviderDefinition Provider(ProviderId id, decimal price = 10m, int capacity = 64) => new(
        id,
        id.Value,
        ConnectorKind.Simulated,
        ["eastus"],
        [new ProviderPrice("H100", null, Usd(price))],
        capacity == 0 ? [] : [new CapacityChange("H100", "eastus", T0, capacity)],
        AnswerPolicy.Prompt);

    /// <summary>azure at 10 (the holder), coreweave at 9 and oracle at 12, as simulated providers with 64 H100 each.</summary>
    public static ProviderCatalog Catalog(params ProviderDefinition[] providers) =>
        new(providers.Length > 0 ? providers : [Provider(Azure, 10m), Provider(CoreWeave, 9m), Provider(Oracle, 12m)]);

    public static QuoteAnswer.Quote Quote(int gpus, decimal price, DateTimeOffset? start = null, DateTimeOffset? validUntil = null) =>
        new(Gpus(gpus), Usd(price), start ?? At(48), validUntil ?? At(48));

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>An event as JSON, with its type: a faithful, comparable text form (records holding lists compare by reference).</summary>
    public static string Describe(SourcingEvent e) => JsonSerializer.Serialize(e, Json);
}

/// <summary>
/// Drives one request through the <see cref="SourcingEngine"/> by hand, with explicit instants and
/// no runtime, keeping every emitted event.
/// </summary>
public sealed class EngineDriver(ContractBook? book = null, ProviderCatalog? catalog = null, Func<AgreementId, ClauseId, int>? waiverUsed = null)
{
    public SourcingEngine Engine { get; } = new(BrokerPolicy.Default);

    public ContractBook Book { get; set; } = book ?? ContractBook.Empty;

    public ProviderCatalog Catalog { get; } = catalog ?? A.Catalog();

    public RequestState State { get; } = new();

    public List<SourcingEvent> Log { get; } = [];

    /// <summary>The events of the last decision.</summary>
    public IReadOnlyList<SourcingEvent> Last { get; private set; } = [];

    public Decision Submit(CapacityRequest? request = null, DateTimeOffset? now = null) =>
        Keep(Engine.Submit(State, request ?? A.Request(), now ?? A.T0, Book, Catalog, waiverUsed ?? A.NoWaiverUse));

    public Decision AnswerOffer(OfferAnswer answer, DateTimeOffset now, ProviderId? from = null, OfferId? offer = null) =>
        Keep(Engine.AnswerOffer(State, offer ?? State.OpenOffer!.Id, from ?? State.OpenOffer!.Provider, answer, now));

    public Decision Accept(int gpus, DateTimeOffset now) => AnswerOffer(new OfferAnswer.Accept(A.Gpus(gpus)), now);

    public Decision Decline(DateTimeOffset now, string reason = "no capacity") => AnswerOffer(new OfferAnswer.Decline(reason), now);

    public Decision AnswerQuote(ProviderId from, QuoteAnswer answer, DateTimeOffset now) => Keep(Engine.AnswerQuote(State, from, answer, now));

    public Decision Reserve(int award, ProviderId from, bool confirmed, DateTimeOffset now, string? reason = null) =>
        Keep(Engine.AnswerReservation(State, award, from, confirmed, reason, now));

    public Decision Cancel(DateTimeOffset now, string reason = "no longer needed") => Keep(Engine.Cancel(State, reason, now));

    public Decision Tick(DateTimeOffset now) => Keep(Engine.Tick(State, now));

    public T Single<T>() where T : SourcingEvent => Assert.Single(Log.OfType<T>());

    public IReadOnlyList<string> Types(IEnumerable<SourcingEvent>? events = null) => (events ?? Log).Select(e => e.Type).ToArray();

    private Decision Keep(Decision decision)
    {
        Last = decision.Events;
        Log.AddRange(decision.Events);
        return decision;
    }
}
