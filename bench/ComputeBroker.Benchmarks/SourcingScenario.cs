using ComputeBroker.Contracts;
using ComputeBroker.Domain;
using ComputeBroker.Providers;
using ComputeBroker.Sourcing;

namespace ComputeBroker.Benchmarks;

/// <summary>
/// The fixed, in-memory world the benchmarks run in: one agreement with a first-refusal clause,
/// the holder and four third-party providers with list prices, and pre-built requests and answers.
/// Everything here is built once, outside the measured code.
/// <para>
/// One request goes through: Submit (first-refusal route: offer to the holder) → the holder accepts
/// 16 of 64 GPUs → quotes requested for 48 from the four third parties → each quotes 12 (the fourth
/// answer closes the window and four awards of 12 are made) → four reservation confirmations → the
/// request closes Placed. 20 events per request.
/// </para>
/// </summary>
public sealed class SourcingScenario
{
    public const int RequestGpus = 64;
    public const int HolderAcceptsGpus = 16;
    public const int QuoteGpus = 12;
    public const int EventsPerRequest = 20;

    public static readonly DateTimeOffset SubmittedAt = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    /// <summary>When the holder answers its offer.</summary>
    public static readonly DateTimeOffset OfferAnsweredAt = SubmittedAt.AddMinutes(5);

    /// <summary>When the third parties answer the quote request.</summary>
    public static readonly DateTimeOffset QuotesAnsweredAt = SubmittedAt.AddMinutes(10);

    /// <summary>When the awarded providers confirm their reservations.</summary>
    public static readonly DateTimeOffset ReservationsAnsweredAt = SubmittedAt.AddMinutes(15);

    /// <summary>Every request's earliest start; the quotes offer the same start.</summary>
    public static readonly DateTimeOffset EarliestStart = SubmittedAt.AddDays(2);

    public static readonly ProviderId Holder = new("azure");

    /// <summary>The third parties, in the catalog's (id) order, each with the price it quotes.</summary>
    private static readonly (ProviderId Id, decimal ListPrice, decimal QuotePrice)[] ThirdParties =
    [
        (new("aws"), 3.10m, 2.95m),
        (new("coreweave"), 2.60m, 2.49m),
        (new("gcp"), 3.05m, 2.99m),
        (new("lambda"), 2.80m, 2.75m),
    ];

    /// <summary>GPUs already counted against waivers: none (the agreement has no waiver).</summary>
    public static readonly Func<AgreementId, ClauseId, int> NoWaiverUse = static (_, _) => 0;

    public SourcingScenario(int requestCount)
    {
        Engine = new SourcingEngine(BrokerPolicy.Default);
        Book = BuildBook();
        Catalog = BuildCatalog();
        Requests = new CapacityRequest[requestCount];
        for (var i = 0; i < requestCount; i++)
        {
            Requests[i] = NewRequest($"req-{i:D6}");
        }

        HolderAccept = new OfferAnswer.Accept(new GpuCount(HolderAcceptsGpus));
        QuoteAnswers = ThirdParties
            .Select(t => (t.Id, (QuoteAnswer)new QuoteAnswer.Quote(
                new GpuCount(QuoteGpus),
                new PricePerGpuHour(Money.Usd(t.QuotePrice)),
                EarliestStart,
                SubmittedAt.AddDays(1))))
            .ToArray();
    }

    public SourcingEngine Engine { get; }

    public ContractBook Book { get; }

    public ProviderCatalog Catalog { get; }

    /// <summary>Requests with distinct ids, built once.</summary>
    public CapacityRequest[] Requests { get; }

    /// <summary>The holder's answer to its first-refusal offer: accept part.</summary>
    public OfferAnswer HolderAccept { get; }

    /// <summary>Each third party's quote, in the order they answer.</summary>
    public (ProviderId Provider, QuoteAnswer Answer)[] QuoteAnswers { get; }

    public static CapacityRequest NewRequest(string id) => new()
    {
        Id = new RequestId(id),
        Customer = "acme-ai",
        WorkloadClass = "training",
        Accelerator = "H100",
        Gpus = new GpuCount(RequestGpus),
        EarliestStart = EarliestStart,
        DurationHours = 72,
        Regions = ["us-east"],
        MaxPrice = new PricePerGpuHour(Money.Usd(4.00m)),
        NeededBy = SubmittedAt.AddDays(7),
    };

    /// <summary>
    /// Runs one request through the whole workflow. When <paramref name="record"/> is given, every
    /// decided event is appended to it. Throws if the engine rejects any input, so a benchmark can
    /// never silently measure a short-circuited path.
    /// </summary>
    public RequestState Run(CapacityRequest request, List<SourcingEvent>? record = null)
    {
        var engine = Engine;
        var state = new RequestState();
        Take(engine.Submit(state, request, SubmittedAt, Book, Catalog, NoWaiverUse), record);

        var offer = state.OpenOffer!;
        Take(engine.AnswerOffer(state, offer.Id, offer.Provider, HolderAccept, OfferAnsweredAt), record);

        foreach (var (provider, answer) in QuoteAnswers)
        {
            Take(engine.AnswerQuote(state, provider, answer, QuotesAnsweredAt), record);
        }

        var pending = state.PendingAwards;
        while (pending.Count > 0)
        {
            var award = pending[0];
            Take(engine.AnswerReservation(state, award.Award, award.Provider, true, null, ReservationsAnsweredAt), record);
        }

        return state;
    }

    /// <summary>Checks that one run follows the intended path end to end; called in setup, never measured.</summary>
    public void Verify()
    {
        var events = new List<SourcingEvent>();
        var state = Run(NewRequest("verify"), events);
        var closed = state.Closed ?? throw new InvalidOperationException("scenario: the request did not close");
        var clauses = state.Clauses!;
        if (clauses.Route != SourcingRoute.FirstRefusal
            || closed.Outcome != RequestOutcome.Placed
            || closed.Allocated.Value != RequestGpus
            || state.AwardsMade != ThirdParties.Length
            || state.Allocations.Count != 1 + ThirdParties.Length
            || events.Count != EventsPerRequest)
        {
            throw new InvalidOperationException(
                $"scenario: expected route FirstRefusal, Placed {RequestGpus} GPUs, {ThirdParties.Length} awards and {EventsPerRequest} events; " +
                $"got route {clauses.Route}, {closed.Outcome} {closed.Allocated} GPUs, {state.AwardsMade} awards, {events.Count} events: " +
                string.Join(", ", events.Select(e => e.Type)));
        }
    }

    private static void Take(Decision decision, List<SourcingEvent>? record)
    {
        if (decision.Rejection is { } rejection)
        {
            throw new InvalidOperationException($"scenario: the engine rejected an input ({rejection.Kind}): {rejection.Message}");
        }

        record?.AddRange(decision.Events);
    }

    private static ContractBook BuildBook()
    {
        var firstRefusal = new FirstRefusalClause(
            new ClauseId("compute-rofr"),
            From: null,
            Until: null,
            Holder,
            new Scope(["training", "inference"], [], []),
            ResponseWindow: TimeSpan.FromDays(1),
            PartialAllowed: true,
            FirstRefusalMode.FirstOffer,
            MatchWindow: null);
        var ipAccess = new IpAccessClause(new ClauseId("ip-access"), null, null, "azure");
        var revenueShare = new RevenueShareClause(new ClauseId("rev-share"), null, null, "acme-ai", "azure", 0.2m, RevenueShareBasis.Revenue, null);
        var version = new AgreementVersion(1, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), [firstRefusal, ipAccess, revenueShare]);
        var agreement = new Agreement(new AgreementId("azure-acme"), "acme-ai", ["acme-ai", "azure"], [version]);
        return new ContractBook([agreement]);
    }

    private static ProviderCatalog BuildCatalog()
    {
        ProviderDefinition Provider(ProviderId id, decimal h100) => new(
            id,
            id.Value,
            ConnectorKind.Simulated,
            ["us-east", "eu-west"],
            [
                new ProviderPrice("H100", null, new PricePerGpuHour(Money.Usd(h100))),
                new ProviderPrice("A100", null, new PricePerGpuHour(Money.Usd(h100 / 2))),
            ],
            [],
            AnswerPolicy.Prompt);

        return new ProviderCatalog(
            ThirdParties.Select(t => Provider(t.Id, t.ListPrice)).Append(Provider(Holder, 3.20m)));
    }
}
