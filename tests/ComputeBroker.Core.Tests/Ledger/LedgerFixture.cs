using ComputeBroker.Contracts;
using ComputeBroker.Definitions;
using ComputeBroker.Domain;
using ComputeBroker.Ledger;
using ComputeBroker.Tests.Definitions;

namespace ComputeBroker.Tests.Ledger;

/// <summary>Agreements, dates and amounts for the money-side tests, written out so each test reads on its own.</summary>
internal static class LedgerFixture
{
    public const string Customer = "openai";

    public static readonly AgreementId MicrosoftOpenAi = new("microsoft-openai");

    public static readonly ClauseId RevenueShareId = new("revenue-share");

    public static readonly ClauseId IpAccessId = new("ip-access");

    public static readonly ClauseId TriggerId = new("agi-trigger");

    /// <summary>Midnight UTC of a date: periods, terms and effective instants are all written this way.</summary>
    public static DateTimeOffset Day(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    public static Money Usd(decimal amount) => Money.Usd(amount);

    public static Money Eur(decimal amount) => new(amount, new Currency("EUR"));

    public static RevenueShareClause Share(
        decimal rate = 0.20m,
        DateTimeOffset? from = null,
        DateTimeOffset? until = null,
        Money? cap = null,
        RevenueShareBasis basis = RevenueShareBasis.Revenue,
        string id = "revenue-share",
        string payee = "microsoft") =>
        new(new ClauseId(id), from, until, Customer, payee, rate, basis, cap);

    public static IpAccessClause IpAccess(DateTimeOffset? until = null) => new(IpAccessId, null, until, "microsoft");

    public static TriggerClause Trigger(Money threshold, TriggerMetric metric = TriggerMetric.CumulativeProfit, DateTimeOffset? until = null, params string[] terminates) =>
        new(TriggerId, null, until, metric, threshold, terminates.Select(t => new ClauseId(t)).ToArray());

    public static AgreementVersion Version(int number, DateTimeOffset effective, params Clause[] clauses) => new(number, effective, clauses);

    public static Agreement Agreement(params AgreementVersion[] versions) => new(MicrosoftOpenAi, Customer, [Customer, "microsoft"], versions);

    /// <summary>A book holding one agreement whose single version takes effect on 2025-01-01.</summary>
    public static ContractBook Book(params Clause[] clauses) => new([Agreement(Version(1, Day(2025, 1, 1), clauses))]);

    public static ContractBook Book(Agreement agreement) => new([agreement]);

    /// <summary>One of the shipped example agreements, read as the broker reads it.</summary>
    public static Agreement Example(string file) =>
        DefinitionAssert.Clean(DefinitionReader.ReadAgreement(ExampleFiles.Read($"examples/agreements/{file}"), file));

    public static ProvidersFile ExampleProviders() =>
        DefinitionAssert.Clean(DefinitionReader.ReadProviders(ExampleFiles.Read("examples/providers.yaml"), "providers.yaml"));
}

/// <summary>
/// A customer's ledger driven through <see cref="LedgerEngine"/> as the broker service drives it: every
/// accepted decision's events are kept in order, and a fired trigger's terminations go into the book
/// before the next decision.
/// </summary>
internal sealed class LedgerRun(ContractBook book)
{
    public LedgerState State { get; } = new();

    public ContractBook Book { get; private set; } = book;

    public List<LedgerEvent> Events { get; } = [];

    public IEnumerable<ShareAccrued> Accruals => Events.OfType<ShareAccrued>();

    public IEnumerable<TriggerFired> Fired => Events.OfType<TriggerFired>();

    /// <summary>Records a period; the customer reports it 15 days after the period ends.</summary>
    public IReadOnlyList<LedgerEvent> Record(DateTimeOffset start, DateTimeOffset end, Money revenue, Money profit) =>
        Accept(LedgerEngine.RecordReport(State, Book, LedgerFixture.Customer, start, end, revenue, profit, end.AddDays(15)));

    /// <summary>Records a period with a profit of zero.</summary>
    public IReadOnlyList<LedgerEvent> Record(DateTimeOffset start, DateTimeOffset end, Money revenue) =>
        Record(start, end, revenue, Money.Zero(revenue.Currency));

    public IReadOnlyList<LedgerEvent> Adjust(DateTimeOffset periodStart, Money revenueDelta, Money profitDelta, string reason = "restated") =>
        Accept(LedgerEngine.Adjust(State, Book, LedgerFixture.Customer, periodStart, revenueDelta, profitDelta, reason, State.Period(periodStart)!.End.AddDays(60)));

    public LedgerDecision TryRecord(DateTimeOffset start, DateTimeOffset end, Money revenue, Money profit) =>
        Keep(LedgerEngine.RecordReport(State, Book, LedgerFixture.Customer, start, end, revenue, profit, end.AddDays(15)));

    public LedgerDecision TryAdjust(DateTimeOffset periodStart, Money revenueDelta, Money profitDelta, string reason) =>
        Keep(LedgerEngine.Adjust(State, Book, LedgerFixture.Customer, periodStart, revenueDelta, profitDelta, reason, Day2099));

    /// <summary>The one accrual of the clause for the period that the last decision produced.</summary>
    public static ShareAccrued OnlyAccrual(IReadOnlyList<LedgerEvent> events) => Assert.Single(events.OfType<ShareAccrued>());

    private static readonly DateTimeOffset Day2099 = LedgerFixture.Day(2099, 1, 1);

    private IReadOnlyList<LedgerEvent> Accept(LedgerDecision decision)
    {
        Assert.False(decision.IsRejected, decision.Rejection?.Message);
        return Keep(decision).Events;
    }

    private LedgerDecision Keep(LedgerDecision decision)
    {
        Events.AddRange(decision.Events);
        foreach (var fired in decision.Events.OfType<TriggerFired>())
        {
            foreach (var termination in fired.Terminations)
            {
                Book = Book.WithTermination(termination);
            }
        }

        return decision;
    }
}
